/**
 * Text forms of the addresses a PROXY v2 header carries as bytes: IPv4
 * dotted quads, RFC 5952 IPv6, and NUL-terminated UNIX paths.
 */
import { ipString } from '../addr/ip.js';

/** OCTET holds the decimal text of every byte. */
const OCTET: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** OCTET_DOT holds the same followed by a dot, so a dotted quad takes three concatenations, not six. */
const OCTET_DOT: readonly string[] = OCTET.map((s) => `${s}.`);

/** formatIPv4 prints the four bytes at `off` as a dotted quad. */
export function formatIPv4(b: Uint8Array, off: number): string {
  return OCTET_DOT[b[off]!]! + OCTET_DOT[b[off + 1]!]! + OCTET_DOT[b[off + 2]!]! + OCTET[b[off + 3]!]!;
}

/**
 * formatIPv6 prints 16 bytes as RFC 5952 text. IPv4-mapped addresses print as
 * `::ffff:1.2.3.4`, the way Node reports such peers, rather than as bare IPv4
 * (Go's choice in ipString), so an inet6 header never shows an IPv4 string.
 */
export function formatIPv6(ip: Uint8Array): string {
  let mapped = ip[10] === 0xff && ip[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = ip[i] === 0;
  if (mapped) return `::ffff:${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
  return ipString(ip);
}

/** readUnixPath returns the path in the `size`-byte sun_path field at `off`: up to the first NUL, or all of it. */
export function readUnixPath(b: Uint8Array, off: number, size: number): string {
  let n = 0;
  while (n < size && b[off + n] !== 0) n++;
  return Buffer.from(b.buffer, b.byteOffset + off, n).toString('utf8');
}
