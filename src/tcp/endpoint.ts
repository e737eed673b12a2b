import { isIPv6 } from 'node:net';

/** Endpoint is one end of a TCP connection or a listener's bound address. */
export interface Endpoint {
  /** ip is the textual IP address (IPv4-mapped IPv6 addresses are shown as IPv4, as Go does). */
  readonly ip: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** address is Go's `TCPAddr.String()`: `127.0.0.1:80`, `[::1]:80`. */
  readonly address: string;
}

const MAPPED = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

/** endpoint builds an Endpoint from what a Node socket reports; undefined when it reports nothing (closed). */
export function endpoint(ip: string | undefined, port: number | undefined): Endpoint | undefined {
  if (ip === undefined || port === undefined) return undefined;
  // A dual-stack listener reports IPv4 peers as ::ffff:a.b.c.d; Go prints them as a.b.c.d.
  const mapped = MAPPED.exec(ip);
  const plain = mapped ? mapped[1]! : ip;
  const v6 = isIPv6(plain);
  return Object.freeze({
    ip: plain,
    port,
    family: v6 ? 6 : 4,
    address: v6 ? `[${plain}]:${port}` : `${plain}:${port}`,
  });
}
