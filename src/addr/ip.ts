/**
 * IP literal parsing and printing, ported from Go's net package (ip.go,
 * parse.go) so that netkit accepts exactly the literals Go accepts and prints
 * them exactly as Go's `IP.String()` does. Node's `net.isIP` / `dns.lookup`
 * disagree with Go on several inputs (`127.1`, `0x7f.0.0.1`, `::1.2.3.4`), so
 * the address rules cannot lean on them.
 *
 * Like Go, every parsed address is 16 bytes; an IPv4 address is stored in its
 * IPv4-mapped form (`::ffff:a.b.c.d`), and "is IPv4" means `to4(ip) !== null`.
 *
 * Internal to `netkit/addr`; not re-exported from the package index.
 */

/** IPV6_LEN is the length of every parsed IP, as in Go's `IPv6len`. */
const IPV6_LEN = 16;

/** big is Go's `big` in parse.go: dtoi/xtoi give up at this value. */
const BIG = 0xffffff;

const HEX_DIGITS = '0123456789abcdef';

/** ParsedIP is a literal IP with its IPv6 zone (`''` when there is none). */
export interface ParsedIP {
  ip: Uint8Array;
  zone: string;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * dtoi is Go's `dtoi`: decimal digits at the start of `s`, returning the
 * value, the count of characters consumed and whether any were found. It
 * gives up at 0xFFFFFF, which is why Go rejects absurdly long octets.
 */
export function dtoi(s: string): [n: number, consumed: number, ok: boolean] {
  let n = 0;
  let i = 0;
  for (; i < s.length && isDigit(s.charCodeAt(i)); i++) {
    n = n * 10 + (s.charCodeAt(i) - 0x30);
    if (n >= BIG) return [BIG, i, false];
  }
  if (i === 0) return [0, 0, false];
  return [n, i, true];
}

/** xtoi is Go's `xtoi`: like dtoi, for hexadecimal digits (any case). */
function xtoi(s: string): [n: number, consumed: number, ok: boolean] {
  let n = 0;
  let i = 0;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isDigit(c)) n = n * 16 + (c - 0x30);
    else if (c >= 0x61 && c <= 0x66) n = n * 16 + (c - 0x61 + 10);
    else if (c >= 0x41 && c <= 0x46) n = n * 16 + (c - 0x41 + 10);
    else break;
    if (n >= BIG) return [0, i, false];
  }
  if (i === 0) return [0, 0, false];
  return [n, i, true];
}

/** ipv4 builds Go's 16-byte IPv4-mapped form of a.b.c.d (Go's `IPv4`). */
export function ipv4(a: number, b: number, c: number, d: number): Uint8Array {
  const ip = new Uint8Array(IPV6_LEN);
  ip[10] = 0xff;
  ip[11] = 0xff;
  ip[12] = a;
  ip[13] = b;
  ip[14] = c;
  ip[15] = d;
  return ip;
}

/**
 * parseIPv4 is Go's `parseIPv4`: exactly four decimal octets, each at most
 * 255, with no leading zeros (Go 1.17+ rejects `01.2.3.4`), and nothing else.
 */
export function parseIPv4(s: string): Uint8Array | null {
  const p = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) {
    if (s.length === 0) return null; // missing octets
    if (i > 0) {
      if (s.charCodeAt(0) !== 0x2e) return null;
      s = s.slice(1);
    }
    const [n, c, ok] = dtoi(s);
    if (!ok || n > 0xff) return null;
    if (c > 1 && s.charCodeAt(0) === 0x30) return null; // leading zero
    s = s.slice(c);
    p[i] = n;
  }
  if (s.length !== 0) return null;
  return ipv4(p[0]!, p[1]!, p[2]!, p[3]!);
}

/**
 * parseIPv6 is Go's `parseIPv6` (RFC 4291 / RFC 5952 text, with an optional
 * trailing dotted IPv4 part). Like Go, a group may have extra leading zeros
 * (`0000000001::1` is `1::1`) as long as its value fits in 16 bits.
 */
export function parseIPv6(s: string): Uint8Array | null {
  const ip = new Uint8Array(IPV6_LEN);
  let ellipsis = -1;
  if (s.length >= 2 && s.charCodeAt(0) === 0x3a && s.charCodeAt(1) === 0x3a) {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return ip;
  }
  let i = 0;
  while (i < IPV6_LEN) {
    const [n, c, ok] = xtoi(s);
    if (!ok || n > 0xffff) return null;
    if (c < s.length && s.charCodeAt(c) === 0x2e) {
      // A trailing IPv4 part is only allowed in the last 4 bytes.
      if (ellipsis < 0 && i !== IPV6_LEN - 4) return null;
      if (i + 4 > IPV6_LEN) return null;
      const ip4 = parseIPv4(s);
      if (ip4 === null) return null;
      ip.set(ip4.subarray(12), i);
      s = '';
      i += 4;
      break;
    }
    ip[i] = n >> 8;
    ip[i + 1] = n & 0xff;
    i += 2;
    s = s.slice(c);
    if (s.length === 0) break;
    if (s.charCodeAt(0) !== 0x3a || s.length === 1) return null;
    s = s.slice(1);
    if (s.charCodeAt(0) === 0x3a) {
      if (ellipsis >= 0) return null; // a second "::"
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return null;
  if (i < IPV6_LEN) {
    if (ellipsis < 0) return null;
    const n = IPV6_LEN - i;
    ip.copyWithin(ellipsis + n, ellipsis, i);
    ip.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) {
    return null; // "::" must stand for at least one zero group
  }
  return ip;
}

/**
 * splitHostZone is Go's `splitHostZone`: the zone starts after the last
 * '%', but only when that '%' is not the first character.
 */
export function splitHostZone(s: string): { host: string; zone: string } {
  const i = s.lastIndexOf('%');
  if (i > 0) return { host: s.slice(0, i), zone: s.slice(i + 1) };
  return { host: s, zone: '' };
}

/**
 * parseIPZone is Go's `parseIPZone`: the first '.' or ':' decides between
 * IPv4 (no zone allowed, so `1.2.3.4%eth0` is not a literal) and IPv6 with an
 * optional `%zone` (which may be empty: `fe80::1%` has zone '').
 */
export function parseIPZone(s: string): ParsedIP | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      const ip = parseIPv4(s);
      return ip === null ? null : { ip, zone: '' };
    }
    if (c === 0x3a) {
      const { host, zone } = splitHostZone(s);
      const ip = parseIPv6(host);
      return ip === null ? null : { ip, zone };
    }
  }
  return null;
}

/** parseIP is Go's `ParseIP`: a literal IPv4 or IPv6 address without zone. */
export function parseIP(s: string): Uint8Array | null {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) return parseIPv4(s);
    if (c === 0x3a) return parseIPv6(s);
  }
  return null;
}

/**
 * to4 is Go's `IP.To4`: the 4-byte form when `ip` is IPv4 or IPv4-mapped
 * IPv6, else null. Go's address-family decisions all go through it.
 */
export function to4(ip: Uint8Array): Uint8Array | null {
  if (ip.length === 4) return ip;
  if (ip.length !== IPV6_LEN) return null;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return null;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return null;
  return ip.subarray(12, 16);
}

/** isIPv4 is Go's `ipv4only` test: true for IPv4 and IPv4-mapped IPv6. */
export function isIPv4(ip: Uint8Array): boolean {
  return to4(ip) !== null;
}

/** isIPv6Unspecified reports whether `ip` equals Go's `IPv6unspecified` (`::`). */
export function isIPv6Unspecified(ip: Uint8Array): boolean {
  return ip.length === IPV6_LEN && ip.every((b) => b === 0);
}

function appendHex(v: number): string {
  return v === 0 ? '0' : v.toString(16);
}

/**
 * ipString is Go's `IP.String`: dotted decimal for IPv4 and IPv4-mapped
 * addresses (so `::ffff:127.0.0.1` prints as `127.0.0.1`), otherwise RFC 5952
 * with the first longest run of two or more zero groups shortened to `::`.
 * An empty IP prints as '' (Go's `ipEmptyString`), not `<nil>`.
 */
export function ipString(ip: Uint8Array): string {
  if (ip.length === 0) return '';
  const p4 = to4(ip);
  if (p4 !== null) return `${p4[0]}.${p4[1]}.${p4[2]}.${p4[3]}`;
  if (ip.length !== IPV6_LEN) {
    return `?${Array.from(ip, (b) => HEX_DIGITS[b >> 4]! + HEX_DIGITS[b & 0xf]!).join('')}`;
  }
  let e0 = -1;
  let e1 = -1;
  for (let i = 0; i < IPV6_LEN; i += 2) {
    let j = i;
    while (j < IPV6_LEN && ip[j] === 0 && ip[j + 1] === 0) j += 2;
    if (j > i && j - i > e1 - e0) {
      e0 = i;
      e1 = j;
      i = j;
    }
  }
  if (e1 - e0 <= 2) {
    e0 = -1;
    e1 = -1;
  }
  let out = '';
  for (let i = 0; i < IPV6_LEN; i += 2) {
    if (i === e0) {
      out += '::';
      i = e1;
      if (i >= IPV6_LEN) break;
    } else if (i > 0) {
      out += ':';
    }
    out += appendHex((ip[i]! << 8) | ip[i + 1]!);
  }
  return out;
}
