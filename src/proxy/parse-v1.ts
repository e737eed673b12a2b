/**
 * parseV1 reads a PROXY protocol v1 line: "PROXY TCP4|TCP6 src dst sport dport\r\n"
 * or "PROXY UNKNOWN...\r\n", at most 107 bytes including the CRLF.
 */
import net from 'node:net';
import { parseIPv4, parseIPv6 } from '../addr/ip.js';
import { ProxyError } from '../errors.js';
import { formatIPv6 } from './address-text.js';
import { type ProxyHeader, type ProxyParseResult, V1_MAX_LENGTH } from './types.js';

const CR = 0x0d;
const LF = 0x0a;

/**
 * parseV1 returns the header when `buf` (which starts with "PROXY ") holds a
 * complete line, null when the CRLF may still come, and throws ProxyError
 * otherwise. The line is rejected as soon as 107 bytes hold no CRLF, so a peer
 * cannot make the reader buffer an endless line (CVE-2019-14243 class).
 */
export function parseV1(buf: Buffer): ProxyParseResult | null {
  const limit = Math.min(buf.length, V1_MAX_LENGTH);
  let end = -1;
  for (let i = 0; i < limit; i++) {
    const c = buf[i]!;
    if (c === LF) throw new ProxyError('v1-bad-line', 'PROXY v1 line ends in a bare LF; it must end in CRLF');
    if (c !== CR) continue;
    if (i + 1 >= buf.length) return null; // the LF may be in the next chunk
    if (buf[i + 1] !== LF) throw new ProxyError('v1-bad-line', 'PROXY v1 line has a CR not followed by LF');
    end = i;
    break;
  }
  if (end < 0) {
    if (buf.length >= V1_MAX_LENGTH) {
      throw new ProxyError('v1-too-long', `PROXY v1 line has no CRLF within ${V1_MAX_LENGTH} bytes`);
    }
    return null;
  }
  return { header: parseTcp4Fast(buf, end) ?? parseLine(buf.toString('latin1', 0, end)), length: end + 2 };
}

const SP = 0x20;

/**
 * parseTcp4Fast reads the common well-formed "PROXY TCP4 a.b.c.d e.f.g.h p q"
 * straight from the bytes, without building the line string or splitting it
 * (about 3× faster). It accepts a subset of what parseLine accepts, with the
 * same result, and returns null for anything else so parseLine decides — and
 * names the error.
 */
function parseTcp4Fast(buf: Buffer, end: number): ProxyHeader | null {
  if (buf[6] !== 0x54 || buf[7] !== 0x43 || buf[8] !== 0x50 || buf[9] !== 0x34 || buf[10] !== SP) return null;
  const src = readIPv4(buf, 11, end);
  if (src < 0) return null;
  const dstAt = skipField(buf, 11, end) + 1;
  const dst = readIPv4(buf, dstAt, end);
  if (dst < 0) return null;
  const spAt = skipField(buf, dstAt, end) + 1;
  const sport = readPort(buf, spAt, end, SP);
  if (sport < 0) return null;
  const dpAt = skipField(buf, spAt, end) + 1;
  const dport = readPort(buf, dpAt, end, CR);
  if (dport < 0) return null;
  return {
    version: 1,
    command: 'PROXY',
    family: 'inet',
    transport: 'stream',
    source: { address: ipv4Text(src), port: sport },
    destination: { address: ipv4Text(dst), port: dport },
    tlvs: [],
  };
}

/** skipField returns the index of the space that ends the field starting at `at`, or `end`. */
function skipField(buf: Buffer, at: number, end: number): number {
  let i = at;
  while (i < end && buf[i] !== SP) i++;
  return i;
}

/**
 * ipv4Number reads a strict dotted quad (as parseIPv4 accepts it) from a
 * string into an unsigned 32-bit value, or -1, without allocating.
 */
export function ipv4Number(s: string): number {
  let v = 0;
  let i = 0;
  for (let k = 0; k < 4; k++) {
    if (k > 0 && s.charCodeAt(i++) !== 0x2e) return -1;
    const at = i;
    let o = 0;
    while (i < s.length && i - at < 4) {
      const c = s.charCodeAt(i) - 0x30;
      if (c < 0 || c > 9) break;
      if (i > at && o === 0) return -1; // leading zero
      o = o * 10 + c;
      i++;
    }
    if (i === at || i - at > 3 || o > 255) return -1;
    v = v * 256 + o;
  }
  return i === s.length ? v : -1;
}

function ipv4Text(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
}

/** readDecimal reads 1..maxDigits digits without a leading zero at `at`; returns value*8+digits, or -1. */
function readDecimal(buf: Buffer, at: number, end: number, maxDigits: number): number {
  let v = 0;
  let i = at;
  while (i < end && i - at <= maxDigits) {
    const c = buf[i]! - 0x30;
    if (c < 0 || c > 9) break;
    if (i > at && v === 0) return -1; // leading zero
    v = v * 10 + c;
    i++;
  }
  const n = i - at;
  return n === 0 || n > maxDigits ? -1 : v * 8 + n;
}

/** readIPv4 reads a strict dotted quad ending in a space, as an unsigned 32-bit value, or -1. */
function readIPv4(buf: Buffer, at: number, end: number): number {
  let v = 0;
  let i = at;
  for (let k = 0; k < 4; k++) {
    const d = readDecimal(buf, i, end, 3);
    if (d < 0 || d >> 3 > 255) return -1;
    i += d & 7;
    if (buf[i] !== (k === 3 ? SP : 0x2e)) return -1;
    i++;
    v = v * 256 + (d >> 3);
  }
  return v;
}

/** readPort reads a strict decimal port followed by `terminator` (SP, or the CR at `end`), or -1. */
function readPort(buf: Buffer, at: number, end: number, terminator: number): number {
  const d = readDecimal(buf, at, end, 5);
  if (d < 0) return -1;
  const v = d >> 3;
  const next = at + (d & 7);
  if (v > 0xffff || buf[next] !== terminator) return -1;
  return terminator === CR && next !== end ? -1 : v;
}

function parseLine(line: string): ProxyHeader {
  const parts = line.split(' ');
  const proto = parts[1];
  if (proto === 'UNKNOWN') {
    // The spec: the receiver must ignore anything after UNKNOWN up to the CRLF.
    return { version: 1, command: 'PROXY', family: 'unspec', transport: 'unspec', tlvs: [] };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') {
    throw new ProxyError(
      'v1-bad-protocol',
      `PROXY v1 protocol ${JSON.stringify(proto ?? '')} is not TCP4, TCP6 or UNKNOWN`,
    );
  }
  if (parts.length !== 6) {
    throw new ProxyError(
      'v1-bad-format',
      `PROXY v1 ${proto} line needs exactly "PROXY ${proto} src dst sport dport" separated by single spaces`,
    );
  }
  const inet = proto === 'TCP4';
  const src = address(parts[2]!, inet);
  const dst = address(parts[3]!, inet);
  return {
    version: 1,
    command: 'PROXY',
    family: inet ? 'inet' : 'inet6',
    transport: 'stream',
    source: { address: src, port: port(parts[4]!) },
    destination: { address: dst, port: port(parts[5]!) },
    tlvs: [],
  };
}

/**
 * address checks a v1 address against the declared family. IPv4 is strict
 * dotted decimal without leading zeros (`010.0.0.1` is octal to inet_aton and
 * decimal to others, so it is refused); IPv6 is normalised to RFC 5952 text so
 * v1 and v2 report the same string for the same address.
 */
function address(text: string, inet: boolean): string {
  if (inet) {
    if (parseIPv4(text) !== null) return text;
    if (net.isIPv6(text)) {
      throw new ProxyError(
        'family-mismatch',
        `PROXY v1 TCP4 line carries the IPv6 address ${JSON.stringify(text)}`,
      );
    }
    throw new ProxyError(
      'bad-address',
      `PROXY v1 address ${JSON.stringify(text)} is not a valid IPv4 address`,
    );
  }
  // net.isIPv6 accepts zone ids ("fe80::1%eth0"), which the header cannot carry; parseIPv6 does not.
  const ip = net.isIPv6(text) ? parseIPv6(text) : null;
  if (ip !== null) return formatIPv6(ip);
  if (parseIPv4(text) !== null) {
    throw new ProxyError(
      'family-mismatch',
      `PROXY v1 TCP6 line carries the IPv4 address ${JSON.stringify(text)}`,
    );
  }
  throw new ProxyError('bad-address', `PROXY v1 address ${JSON.stringify(text)} is not a valid IPv6 address`);
}

/** port accepts plain decimal 0-65535: no sign, no leading zeros, no spaces, at most 5 digits. */
function port(text: string): number {
  const ok = text.length >= 1 && text.length <= 5 && /^(0|[1-9][0-9]*)$/.test(text);
  const n = ok ? Number(text) : -1;
  if (n < 0 || n > 0xffff) {
    throw new ProxyError('bad-port', `PROXY v1 port ${JSON.stringify(text)} is not a decimal number 0-65535`);
  }
  return n;
}
