/**
 * parseV2 reads a PROXY protocol v2 binary header: 12-byte signature,
 * version/command, family/transport, 16-bit length, address block, TLVs.
 */
import { ipString } from '../addr/ip.js';
import { ProxyError } from '../errors.js';
import { crc32cUpdate } from './crc32c.js';
import { decodeTlvs } from './tlv.js';
import {
  ADDRESS_BLOCK_LENGTH,
  type ProxyFamily,
  type ProxyHeader,
  type ProxyParseResult,
  type ProxyTransport,
  UNIX_PATH_LENGTH,
  V2_HEADER_LENGTH,
} from './types.js';

const ZERO4 = new Uint8Array(4);

// Module-local copies of the imported constants: the hot path reads them on
// every header, and a loader that compiles imports to getters (tsx) would make
// each read a call.
const HEADER_LENGTH = V2_HEADER_LENGTH;
const BLOCK_LENGTH = ADDRESS_BLOCK_LENGTH;
const PATH_LENGTH = UNIX_PATH_LENGTH;

/** OCTET holds the decimal text of every byte, so an IPv4 address is four lookups and a concatenation. */
const OCTET: readonly string[] = Array.from({ length: 256 }, (_, i) => String(i));

/**
 * FAMILIES maps the fam byte to family and transport. The spec lists exactly
 * these seven values and says receivers must drop anything else.
 */
const FAMILIES: readonly (readonly [ProxyFamily, ProxyTransport] | undefined)[] = (() => {
  const t: (readonly [ProxyFamily, ProxyTransport] | undefined)[] = new Array(256).fill(undefined);
  t[0x00] = ['unspec', 'unspec'];
  t[0x11] = ['inet', 'stream'];
  t[0x12] = ['inet', 'dgram'];
  t[0x21] = ['inet6', 'stream'];
  t[0x22] = ['inet6', 'dgram'];
  t[0x31] = ['unix', 'stream'];
  t[0x32] = ['unix', 'dgram'];
  return t;
})();

/**
 * parseV2 returns the header when `buf` (which starts with the v2 signature)
 * holds all of it, null when bytes are missing, and throws ProxyError as soon
 * as the bytes present rule a valid header out. Nothing is allocated from the
 * length field until that many bytes have actually arrived.
 */
export function parseV2(buf: Buffer): ProxyParseResult | null {
  if (buf.length <= 12) return null;
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) {
    throw new ProxyError('v2-version', `PROXY v2 header has version ${verCmd >> 4}; only 2 is defined`);
  }
  const cmd = verCmd & 0x0f;
  if (cmd > 1)
    throw new ProxyError('v2-command', `PROXY v2 command ${cmd} is neither LOCAL (0) nor PROXY (1)`);
  if (buf.length <= 13) return null;
  const ft = FAMILIES[buf[13]!];
  if (ft === undefined) {
    throw new ProxyError(
      'v2-family',
      `PROXY v2 family/transport byte 0x${buf[13]!.toString(16)} is not defined`,
    );
  }
  const family = ft[0];
  const transport = ft[1];
  if (buf.length < HEADER_LENGTH) return null;
  const len = (buf[14]! << 8) | buf[15]!;
  // LOCAL keeps the same layout (TLVs follow the family's address block); only the addresses are ignored.
  const addrLen = BLOCK_LENGTH[family];
  if (len < addrLen) {
    throw new ProxyError(
      'address-block-short',
      `PROXY v2 ${family} header needs a ${addrLen}-byte address block but its length is ${len}`,
    );
  }
  const total = HEADER_LENGTH + len;
  if (buf.length < total) return null;

  const header: ProxyHeader = {
    version: 2,
    command: cmd === 1 ? 'PROXY' : 'LOCAL',
    family,
    transport,
    tlvs: [],
  };
  if (cmd === 1 && family !== 'unspec') readAddresses(buf, header);

  const tlvStart = HEADER_LENGTH + addrLen;
  if (tlvStart < total) {
    const crc32cAt = decodeTlvs(buf, tlvStart, total, header);
    if (crc32cAt >= 0) checkCrc(buf, crc32cAt, total, header.crc32c!);
  }
  return { header, length: total };
}

/**
 * checkCrc recomputes the CRC32C over the whole header with the checksum
 * field taken as zero (spec 2.2.3), without copying the header.
 */
function checkCrc(buf: Buffer, at: number, total: number, expected: number): void {
  let crc = crc32cUpdate(0, buf, 0, at);
  crc = crc32cUpdate(crc, ZERO4);
  crc = crc32cUpdate(crc, buf, at + 4, total);
  if (crc !== expected) {
    throw new ProxyError(
      'crc32c-mismatch',
      `PROXY v2 CRC32C is 0x${expected.toString(16).padStart(8, '0')} but the header sums to 0x${crc.toString(16).padStart(8, '0')}`,
    );
  }
}

function readAddresses(buf: Buffer, h: ProxyHeader): void {
  const o = HEADER_LENGTH;
  if (h.family === 'inet') {
    h.source = { address: formatIPv4(buf, o), port: (buf[o + 8]! << 8) | buf[o + 9]! };
    h.destination = { address: formatIPv4(buf, o + 4), port: (buf[o + 10]! << 8) | buf[o + 11]! };
  } else if (h.family === 'inet6') {
    h.source = { address: formatIPv6(buf.subarray(o, o + 16)), port: buf.readUInt16BE(o + 32) };
    h.destination = { address: formatIPv6(buf.subarray(o + 16, o + 32)), port: buf.readUInt16BE(o + 34) };
  } else {
    h.source = { address: readUnixPath(buf, o), port: 0 };
    h.destination = { address: readUnixPath(buf, o + PATH_LENGTH), port: 0 };
  }
}

function formatIPv4(buf: Uint8Array, off: number): string {
  return `${OCTET[buf[off]!]}.${OCTET[buf[off + 1]!]}.${OCTET[buf[off + 2]!]}.${OCTET[buf[off + 3]!]}`;
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

/** readUnixPath returns the path in a 108-byte sun_path field: up to the first NUL, or all 108 bytes. */
function readUnixPath(buf: Buffer, off: number): string {
  const field = buf.subarray(off, off + PATH_LENGTH);
  const nul = field.indexOf(0);
  return field.toString('utf8', 0, nul < 0 ? PATH_LENGTH : nul);
}
