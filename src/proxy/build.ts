/**
 * Builders for PROXY protocol v1 lines and v2 binary headers, the sending
 * side of what parse-v1.ts and parse-v2.ts read.
 */
import { parseIPv6 } from '../addr/ip.js';
import { InvalidArgumentError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import { crc32c } from './crc32c.js';
import { ipv4Number } from './parse-v1.js';
import {
  ADDRESS_BLOCK_LENGTH,
  PP2_TYPE,
  type ProxyEndpoint,
  type ProxyFamily,
  type ProxySsl,
  type ProxyTlv,
  type ProxyTransport,
  UNIX_PATH_LENGTH,
  V2_HEADER_LENGTH,
  V2_SIGNATURE,
} from './types.js';

/** ProxyV1Options describes a v1 line; 'unspec' writes "PROXY UNKNOWN". */
export interface ProxyV1Options {
  /** family picks TCP4, TCP6 or UNKNOWN. */
  family: 'inet' | 'inet6' | 'unspec';
  /** source is the client; required unless family is unspec. */
  source?: ProxyEndpoint;
  /** destination is the address the client connected to; required unless family is unspec. */
  destination?: ProxyEndpoint;
}

/** ProxyV2Options describes a v2 header; `crc32c: true` appends a checksum TLV over the result. */
export interface ProxyV2Options {
  /**
   * command is PROXY (default: the addresses are the client's) or LOCAL (the proxy's own connection, a health
   * check).
   */
  command?: 'PROXY' | 'LOCAL';
  /** family defaults to the source address's family, or unspec without one. */
  family?: ProxyFamily;
  /** transport defaults to stream (unspec for the unspec family). */
  transport?: ProxyTransport;
  /** source is the client; required for PROXY unless family is unspec. */
  source?: ProxyEndpoint;
  /** destination is the address the client connected to; required for PROXY unless family is unspec. */
  destination?: ProxyEndpoint;
  /** tlvs are written in order after the addresses. */
  tlvs?: ProxyTlv[];
  /** crc32c appends a PP2_TYPE_CRC32C TLV computed over the whole header. */
  crc32c?: boolean;
}

const ZERO4 = new Uint8Array(4);
const FAMILY_NIBBLE = { unspec: 0, inet: 1, inet6: 2, unix: 3 } as const;
const TRANSPORT_NIBBLE = { unspec: 0, stream: 1, dgram: 2 } as const;

function checkPort(option: string, port: unknown): number {
  return checkInt(option, port, 0, 0xffff);
}

function ipv4(option: string, address: unknown): number {
  const v = typeof address === 'string' ? ipv4Number(address) : -1;
  if (v < 0) throw new InvalidArgumentError(option, `is not an IPv4 address: ${String(address)}`);
  return v;
}

function ipv6(option: string, address: unknown): Uint8Array {
  const ip = typeof address === 'string' && address.includes(':') ? parseIPv6(address) : null;
  if (ip === null) throw new InvalidArgumentError(option, `is not an IPv6 address: ${String(address)}`);
  return ip;
}

function endpoint(option: string, e: ProxyEndpoint | undefined): ProxyEndpoint {
  if (e === undefined || e === null || typeof e !== 'object') {
    throw new InvalidArgumentError(option, 'is required for this family');
  }
  return e;
}

/** buildProxyHeaderV1 returns "PROXY TCP4|TCP6 src dst sport dport\r\n" or "PROXY UNKNOWN\r\n". */
export function buildProxyHeaderV1(h: ProxyV1Options): Buffer {
  if (h.family === 'unspec') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  if (h.family !== 'inet' && h.family !== 'inet6') {
    throw new InvalidArgumentError('family', `must be inet, inet6 or unspec for v1, got ${String(h.family)}`);
  }
  const src = endpoint('source', h.source);
  const dst = endpoint('destination', h.destination);
  // Validate, but write the caller's text: v1 carries addresses as text.
  const check = h.family === 'inet' ? ipv4 : ipv6;
  check('source.address', src.address);
  check('destination.address', dst.address);
  const sp = checkPort('source.port', src.port);
  const dp = checkPort('destination.port', dst.port);
  const proto = h.family === 'inet' ? 'TCP4' : 'TCP6';
  return Buffer.from(`PROXY ${proto} ${src.address} ${dst.address} ${sp} ${dp}\r\n`, 'latin1');
}

/** inferFamily picks the family from the source address when the caller did not name one. */
function inferFamily(h: ProxyV2Options): ProxyFamily {
  if (h.family !== undefined) return h.family;
  const a = h.source?.address;
  if (a === undefined) return 'unspec';
  if (ipv4Number(a) >= 0) return 'inet';
  if (a.includes(':') && parseIPv6(a) !== null) return 'inet6';
  return 'unix';
}

function writeUnixPath(option: string, out: Buffer, off: number, path: unknown): void {
  const bytes = Buffer.from(typeof path === 'string' ? path : '', 'utf8');
  if (typeof path !== 'string' || bytes.length > UNIX_PATH_LENGTH || bytes.includes(0)) {
    throw new InvalidArgumentError(option, `must be a path of at most ${UNIX_PATH_LENGTH} bytes without NUL`);
  }
  bytes.copy(out, off);
  out.fill(0, off + bytes.length, off + UNIX_PATH_LENGTH); // zero padding terminates the path
}

function writeAddresses(h: ProxyV2Options, family: ProxyFamily, out: Buffer): void {
  const o = V2_HEADER_LENGTH;
  const src = endpoint('source', h.source);
  const dst = endpoint('destination', h.destination);
  if (family === 'unix') {
    writeUnixPath('source.address', out, o, src.address);
    writeUnixPath('destination.address', out, o + UNIX_PATH_LENGTH, dst.address);
    return;
  }
  const n = family === 'inet' ? 4 : 16;
  if (family === 'inet') {
    out.writeUInt32BE(ipv4('source.address', src.address), o);
    out.writeUInt32BE(ipv4('destination.address', dst.address), o + 4);
  } else {
    out.set(ipv6('source.address', src.address), o);
    out.set(ipv6('destination.address', dst.address), o + 16);
  }
  out.writeUInt16BE(checkPort('source.port', src.port), o + 2 * n);
  out.writeUInt16BE(checkPort('destination.port', dst.port), o + 2 * n + 2);
}

/**
 * buildProxyHeaderV2 returns a v2 header. LOCAL defaults to family unspec and
 * writes a zero address block for any other family (receivers ignore it);
 * PROXY requires both endpoints unless the family is unspec.
 */
export function buildProxyHeaderV2(h: ProxyV2Options = {}): Buffer {
  const command = h.command ?? 'PROXY';
  if (command !== 'PROXY' && command !== 'LOCAL') {
    throw new InvalidArgumentError('command', `must be PROXY or LOCAL, got ${String(command)}`);
  }
  const family = inferFamily(h);
  if (!(family in FAMILY_NIBBLE))
    throw new InvalidArgumentError('family', `unknown family ${String(family)}`);
  const transport = h.transport ?? (family === 'unspec' ? 'unspec' : 'stream');
  if (!(transport in TRANSPORT_NIBBLE)) {
    throw new InvalidArgumentError('transport', `unknown transport ${String(transport)}`);
  }
  // The spec defines only unspec/unspec and a real family with a real transport.
  if ((family === 'unspec') !== (transport === 'unspec')) {
    throw new InvalidArgumentError('transport', `${transport} is not defined with family ${family}`);
  }
  const tlvs = h.tlvs ?? [];
  if (h.crc32c && tlvs.some((t) => t.type === PP2_TYPE.CRC32C)) {
    throw new InvalidArgumentError('tlvs', 'already has a CRC32C TLV; drop it or the crc32c option');
  }
  const addrLen = ADDRESS_BLOCK_LENGTH[family];
  let len = addrLen + (h.crc32c ? 7 : 0);
  for (const t of tlvs) {
    if (!Number.isInteger(t.type) || t.type < 0 || t.type > 0xff || !Buffer.isBuffer(t.value)) {
      throw new InvalidArgumentError('tlvs', 'each TLV needs a type 0-255 and a Buffer value');
    }
    len += 3 + t.value.length;
  }
  if (len > 0xffff)
    throw new InvalidArgumentError('tlvs', `make the header ${len} bytes long; at most 65535 fit`);

  // Not zero-filled: every byte is written below (UNIX paths pad their own fields).
  const out = Buffer.allocUnsafe(V2_HEADER_LENGTH + len);
  V2_SIGNATURE.copy(out, 0);
  out[12] = 0x20 | (command === 'PROXY' ? 1 : 0);
  out[13] = (FAMILY_NIBBLE[family] << 4) | TRANSPORT_NIBBLE[transport];
  out.writeUInt16BE(len, 14);
  if (family !== 'unspec' && (command === 'PROXY' || h.source !== undefined)) writeAddresses(h, family, out);
  else out.fill(0, V2_HEADER_LENGTH, V2_HEADER_LENGTH + addrLen);
  let off = V2_HEADER_LENGTH + addrLen;
  for (const t of tlvs) off = writeTlv(out, off, t.type, t.value);
  if (h.crc32c) {
    // The checksum covers the whole header with its own value zeroed.
    off = writeTlv(out, off, PP2_TYPE.CRC32C, ZERO4);
    out.writeUInt32BE(crc32c(out), off - 4);
  }
  return out;
}

function writeTlv(out: Buffer, off: number, type: number, value: Uint8Array): number {
  out[off] = type;
  out.writeUInt16BE(value.length, off + 1);
  out.set(value, off + 3);
  return off + 3 + value.length;
}

/** tlvLength caps a TLV value at what its 16-bit length can say. */
function checkTlvValue(option: string, value: Buffer): Buffer {
  if (value.length > 0xffff) throw new InvalidArgumentError(option, 'is longer than 65535 bytes');
  return value;
}

/** buildSslTlv encodes a PP2_TYPE_SSL TLV with its sub-TLVs (version, CN, cipher, signature and key algorithms). */
export function buildSslTlv(ssl: ProxySsl): ProxyTlv {
  const subs: [number, string | undefined, BufferEncoding][] = [
    [PP2_TYPE.SSL_VERSION, ssl.version, 'latin1'],
    [PP2_TYPE.SSL_CN, ssl.cn, 'utf8'],
    [PP2_TYPE.SSL_CIPHER, ssl.cipher, 'latin1'],
    [PP2_TYPE.SSL_SIG_ALG, ssl.sigAlg, 'latin1'],
    [PP2_TYPE.SSL_KEY_ALG, ssl.keyAlg, 'latin1'],
  ];
  const parts: Buffer[] = [Buffer.from([ssl.client & 0xff, 0, 0, 0, 0])];
  parts[0]!.writeUInt32BE(ssl.verify >>> 0, 1);
  for (const [type, text, enc] of subs) {
    if (text === undefined) continue;
    const v = checkTlvValue('ssl', Buffer.from(text, enc));
    const head = Buffer.from([type, 0, 0]);
    head.writeUInt16BE(v.length, 1);
    parts.push(head, v);
  }
  return { type: PP2_TYPE.SSL, value: checkTlvValue('ssl', Buffer.concat(parts)) };
}
