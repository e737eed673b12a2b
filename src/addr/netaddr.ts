/**
 * The resolved-address value (Go's `TCPAddr` / `UDPAddr`) and its text form.
 */
import { ipString, parseIP } from './ip.js';
import { joinHostPort } from './split.js';

/**
 * NetAddr is a resolved endpoint, like Go's `TCPAddr` / `UDPAddr`.
 *
 * `ip` is printed as Go's `IP.String()` does (IPv4-mapped IPv6 prints as
 * IPv4). It is '' when the host was empty (the unspecified address, as in
 * `:80`), and `family` is then 0; otherwise `family` is 4 when Go's `To4()`
 * succeeds (IPv4 and IPv4-mapped IPv6) and 6 otherwise. `zone` is the IPv6
 * scope (`eth0` in `[fe80::1%eth0]:80`), '' when there is none.
 */
export interface NetAddr {
  /** The address as Go's `IP.String()` prints it; '' for the unspecified address. */
  ip: string;
  /** The port, 0-65535. */
  port: number;
  /** The IPv6 scope (`eth0`), '' when there is none. */
  zone: string;
  /** 4 when Go's `To4()` succeeds, 6 otherwise, 0 when `ip` is ''. */
  family: 4 | 6 | 0;
}

/**
 * formatAddr prints an address as Go's `TCPAddr.String()` does:
 * `127.0.0.1:80`, `[::1]:80`, `[fe80::1%eth0]:80`, and `:80` when `ip` is ''.
 *
 * A parseable `ip` is first reprinted in Go's form, so `::ffff:10.0.0.1`
 * gives `10.0.0.1:80` and `0:0::1` gives `[::1]:80`; other text is used as
 * given. As in Go, a zone is appended with '%' whatever the family.
 */
export function formatAddr(a: { ip: string; port: number; zone?: string }): string {
  const parsed = a.ip === '' ? null : parseIP(a.ip);
  const ip = parsed === null ? a.ip : ipString(parsed);
  const zone = a.zone ?? '';
  return joinHostPort(zone !== '' ? `${ip}%${zone}` : ip, a.port);
}
