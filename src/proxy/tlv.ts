/**
 * The TLV area of a v2 header (spec section 2.2.x): checkTlvs walks it at
 * parse time and refuses anything malformed; decodeTlvList and
 * decodeTlvFields turn it into the raw list and the typed fields when a
 * caller first asks for them.
 */
import { ProxyError } from '../errors.js';
import { PP2_TYPE, type ProxySsl, type ProxyTlv, UNIQUE_ID_MAX } from './types.js';

// Module-local copies of the TLV type numbers: read for every TLV, and a
// loader that compiles imports to getters (tsx) would make each read a call.
const ALPN = PP2_TYPE.ALPN;
const AUTHORITY = PP2_TYPE.AUTHORITY;
const CRC32C = PP2_TYPE.CRC32C;
const UNIQUE_ID = PP2_TYPE.UNIQUE_ID;
const SSL = PP2_TYPE.SSL;
const NETNS = PP2_TYPE.NETNS;
const ID_MAX = UNIQUE_ID_MAX;

/**
 * checkTlvs walks the TLV area `buf[from, to)` and throws ProxyError for
 * anything the decoders would trip over, so a header that parses can be
 * decoded later without an error. It returns the offset in `buf` of the 4
 * CRC32C bytes, or -1 when there is no checksum. Every length is checked
 * against the end before use, so a TLV claiming more than is left is
 * 'tlv-overflow', not a read past the header (CVE-2019-10097).
 */
export function checkTlvs(buf: Uint8Array, from: number, to: number): number {
  let crc32cOffset = -1;
  for (let off = from; off < to; ) {
    const type = buf[off]!;
    const start = off + 3;
    const end = tlvEnd(buf, off, to, 'TLV');
    off = end;
    if (type === CRC32C) {
      if (end - start !== 4) {
        throw new ProxyError('tlv-bad-length', `PP2_TYPE_CRC32C must be 4 bytes, got ${end - start}`);
      }
      // Two checksums could hide an unchecked one; the spec defines one.
      if (crc32cOffset >= 0) throw new ProxyError('tlv-duplicate', 'PROXY v2 header has two CRC32C TLVs');
      crc32cOffset = start;
    } else if (type === UNIQUE_ID) {
      if (end - start > ID_MAX) {
        throw new ProxyError(
          'tlv-bad-length',
          `PP2_TYPE_UNIQUE_ID is ${end - start} bytes; the spec allows at most ${ID_MAX}`,
        );
      }
    } else if (type === SSL) {
      checkSsl(buf, start, end);
    }
    // NOOP and unknown types need no check; the spec says to ignore what you do not know.
  }
  return crc32cOffset;
}

/** checkSsl checks the SSL TLV's fixed 5 bytes and walks its sub-TLVs. */
function checkSsl(buf: Uint8Array, start: number, end: number): void {
  if (end - start < 5) {
    throw new ProxyError('tlv-bad-length', `PP2_TYPE_SSL needs at least 5 bytes, got ${end - start}`);
  }
  for (let off = start + 5; off < end; ) off = tlvEnd(buf, off, end, 'SSL sub-TLV');
}

/** tlvEnd returns where the TLV at `off` ends, throwing 'tlv-overflow' when it runs past `to`. */
function tlvEnd(buf: Uint8Array, off: number, to: number, what: string): number {
  if (to - off < 3) {
    throw new ProxyError('tlv-overflow', `PROXY v2 ${what} header at offset ${off} is cut short`);
  }
  const len = (buf[off + 1]! << 8) | buf[off + 2]!;
  if (off + 3 + len > to) {
    throw new ProxyError(
      'tlv-overflow',
      `PROXY v2 ${what} 0x${buf[off]!.toString(16)} claims ${len} bytes but only ${to - off - 3} remain`,
    );
  }
  return off + 3 + len;
}

/** decodeTlvList returns every TLV of a checked area in wire order, each value a copy of its bytes. */
export function decodeTlvList(raw: Uint8Array, from: number, to: number): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  for (let off = from; off < to; ) {
    const end = off + 3 + ((raw[off + 1]! << 8) | raw[off + 2]!);
    tlvs.push({ type: raw[off]!, value: copyOut(raw, off + 3, end) });
    off = end;
  }
  return tlvs;
}

/** TlvFields holds the TLVs ProxyHeader has a field for, decoded; absent ones stay undefined. */
export class TlvFields {
  alpn: string | undefined = undefined;
  authority: string | undefined = undefined;
  uniqueId: Buffer | undefined = undefined;
  netns: string | undefined = undefined;
  ssl: ProxySsl | undefined = undefined;
}

/**
 * decodeTlvFields decodes the known TLVs of a checked area. A type that
 * repeats keeps its last value, as a field assigned in wire order would.
 */
export function decodeTlvFields(raw: Uint8Array, from: number, to: number): TlvFields {
  const f = new TlvFields();
  for (let off = from; off < to; ) {
    const type = raw[off]!;
    const start = off + 3;
    const end = start + ((raw[off + 1]! << 8) | raw[off + 2]!);
    off = end;
    if (type === ALPN)
      f.alpn = latin1(raw, start, end); // ALPN ids are byte strings; latin1 keeps every byte.
    else if (type === AUTHORITY) f.authority = utf8(raw, start, end);
    else if (type === UNIQUE_ID) f.uniqueId = copyOut(raw, start, end);
    else if (type === SSL) f.ssl = decodeSsl(raw, start, end);
    else if (type === NETNS) f.netns = latin1(raw, start, end);
  }
  return f;
}

/** view returns a Buffer over `raw[start, end)` for the native decoders, without copying. */
function view(raw: Uint8Array, start: number, end: number): Buffer {
  return Buffer.from(raw.buffer, raw.byteOffset + start, end - start);
}

/**
 * latin1 returns `raw[start, end)` as latin1 text. ALPN ids are mostly a few
 * bytes ("h2", "h3"), where String.fromCharCode costs a fraction of a call
 * into the native decoder; longer values take the native one.
 */
function latin1(raw: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 2) return String.fromCharCode(raw[start]!, raw[start + 1]!);
  if (n > 8) return view(raw, start, end).toString('latin1');
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(raw[i]!);
  return s;
}

/**
 * utf8 returns `raw[start, end)` as UTF-8 text. A host name is short and
 * almost always ASCII, which String.fromCharCode builds eight bytes at a time
 * faster than a call into the native decoder; anything else takes that call.
 */
function utf8(raw: Uint8Array, start: number, end: number): string {
  if (end - start > 64) return view(raw, start, end).toString('utf8');
  let s = '';
  let i = start;
  for (; i + 8 <= end; i += 8) {
    // One test for eight bytes: a high bit anywhere means multi-byte (or invalid) UTF-8.
    const or =
      raw[i]! |
      raw[i + 1]! |
      raw[i + 2]! |
      raw[i + 3]! |
      raw[i + 4]! |
      raw[i + 5]! |
      raw[i + 6]! |
      raw[i + 7]!;
    if (or & 0x80) return view(raw, start, end).toString('utf8');
    s += String.fromCharCode(
      raw[i]!,
      raw[i + 1]!,
      raw[i + 2]!,
      raw[i + 3]!,
      raw[i + 4]!,
      raw[i + 5]!,
      raw[i + 6]!,
      raw[i + 7]!,
    );
  }
  for (; i < end; i++) {
    const a = raw[i]!;
    if (a & 0x80) return view(raw, start, end).toString('utf8');
    s += String.fromCharCode(a);
  }
  return s;
}

/** copyOut returns a new Buffer holding `raw[start, end)`. */
function copyOut(raw: Uint8Array, start: number, end: number): Buffer {
  const out = Buffer.allocUnsafe(end - start);
  out.set(raw.subarray(start, end));
  return out;
}

/** decodeSsl reads a checked SSL TLV: client (1 byte), verify (4 bytes), then sub-TLVs. */
function decodeSsl(raw: Uint8Array, start: number, end: number): ProxySsl {
  const verify =
    ((raw[start + 1]! << 24) | (raw[start + 2]! << 16) | (raw[start + 3]! << 8) | raw[start + 4]!) >>> 0;
  const ssl: ProxySsl = { client: raw[start]!, verify };
  for (let off = start + 5; off < end; ) {
    const type = raw[off]!;
    const s = off + 3;
    const e = s + ((raw[off + 1]! << 8) | raw[off + 2]!);
    off = e;
    if (type === PP2_TYPE.SSL_VERSION) ssl.version = view(raw, s, e).toString('latin1');
    else if (type === PP2_TYPE.SSL_CN) ssl.cn = view(raw, s, e).toString('utf8');
    else if (type === PP2_TYPE.SSL_CIPHER) ssl.cipher = view(raw, s, e).toString('latin1');
    else if (type === PP2_TYPE.SSL_SIG_ALG) ssl.sigAlg = view(raw, s, e).toString('latin1');
    else if (type === PP2_TYPE.SSL_KEY_ALG) ssl.keyAlg = view(raw, s, e).toString('latin1');
  }
  return ssl;
}
