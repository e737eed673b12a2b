/**
 * decodeTlvs reads the TLV area of a v2 header (spec section 2.2.x) into the
 * raw list and the typed fields of ProxyHeader.
 */
import { ProxyError } from '../errors.js';
import { PP2_TYPE, type ProxyHeader, type ProxySsl, UNIQUE_ID_MAX } from './types.js';

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
 * decodeTlvs walks the TLV area `buf[from, to)`, appending to `header.tlvs`
 * and setting the typed fields. It returns the offset in `buf` of the 4
 * CRC32C bytes, or -1 when there is no checksum. Every length is checked
 * against the end before use, so a TLV claiming more than is left is
 * 'tlv-overflow', not a read past the header (CVE-2019-10097).
 */
export function decodeTlvs(buf: Buffer, from: number, to: number, fields: ProxyHeader): number {
  const tlvs = fields.tlvs;
  let crc32cOffset = -1;
  for (let off = from; off < to; ) {
    const type = buf[off]!;
    const start = off + 3;
    const end = tlvEnd(buf, off, to, 'TLV');
    off = end;
    // Strings are decoded from `buf`; only the raw value is copied, once, so it
    // stays the same if the caller reuses `buf`.
    const value = copyOut(buf, start, end);
    tlvs.push({ type, value });
    switch (type) {
      case ALPN:
        // ALPN protocol ids are byte strings; latin1 keeps every byte.
        fields.alpn = latin1(buf, start, end);
        break;
      case AUTHORITY:
        fields.authority = utf8(buf, start, end);
        break;
      case CRC32C:
        if (end - start !== 4) {
          throw new ProxyError('tlv-bad-length', `PP2_TYPE_CRC32C must be 4 bytes, got ${end - start}`);
        }
        // Two checksums could hide an unchecked one; the spec defines one.
        if (crc32cOffset >= 0) throw new ProxyError('tlv-duplicate', 'PROXY v2 header has two CRC32C TLVs');
        crc32cOffset = start;
        fields.crc32c = buf.readUInt32BE(start);
        break;
      case UNIQUE_ID:
        if (end - start > ID_MAX) {
          throw new ProxyError(
            'tlv-bad-length',
            `PP2_TYPE_UNIQUE_ID is ${end - start} bytes; the spec allows at most ${ID_MAX}`,
          );
        }
        fields.uniqueId = value;
        break;
      case SSL:
        fields.ssl = decodeSsl(buf, start, end);
        break;
      case NETNS:
        fields.netns = latin1(buf, start, end);
        break;
      default:
        // NOOP and unknown types: kept raw in `tlvs` only; the spec says to ignore what you do not know.
        break;
    }
  }
  return crc32cOffset;
}

/**
 * latin1 returns `buf[start, end)` as latin1 text. ALPN ids are mostly a few
 * bytes ("h2", "h3"), where String.fromCharCode costs a fraction of a call
 * into the native decoder; longer values take the native one.
 */
function latin1(buf: Buffer, start: number, end: number): string {
  const n = end - start;
  if (n === 2) return String.fromCharCode(buf[start]!, buf[start + 1]!);
  if (n > 8) return buf.toString('latin1', start, end);
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/**
 * utf8 returns `buf[start, end)` as UTF-8 text. A host name is short and
 * almost always ASCII, which String.fromCharCode builds eight bytes at a time
 * faster than a call into the native decoder; anything else takes that call.
 */
function utf8(buf: Buffer, start: number, end: number): string {
  if (end - start > 64) return buf.toString('utf8', start, end);
  let s = '';
  let i = start;
  for (; i + 8 <= end; i += 8) {
    // One test for eight bytes: a high bit anywhere means multi-byte UTF-8.
    const or =
      buf[i]! |
      buf[i + 1]! |
      buf[i + 2]! |
      buf[i + 3]! |
      buf[i + 4]! |
      buf[i + 5]! |
      buf[i + 6]! |
      buf[i + 7]!;
    if (or & 0x80) return buf.toString('utf8', start, end);
    s += String.fromCharCode(
      buf[i]!,
      buf[i + 1]!,
      buf[i + 2]!,
      buf[i + 3]!,
      buf[i + 4]!,
      buf[i + 5]!,
      buf[i + 6]!,
      buf[i + 7]!,
    );
  }
  for (; i < end; i++) {
    const a = buf[i]!;
    if (a & 0x80) return buf.toString('utf8', start, end);
    s += String.fromCharCode(a);
  }
  return s;
}

/**
 * copyOut returns a new Buffer holding `buf[start, end)`. Values are short
 * (a few to a few dozen bytes), where a byte loop beats Buffer#copy's
 * argument checks; long ones take the native copy.
 */
function copyOut(buf: Buffer, start: number, end: number): Buffer {
  const n = end - start;
  const out = Buffer.allocUnsafe(n);
  if (n > 64) buf.copy(out, 0, start, end);
  else for (let i = 0; i < n; i++) out[i] = buf[start + i]!;
  return out;
}

/** decodeSsl reads the SSL TLV: client (1 byte), verify (4 bytes), then sub-TLVs. */
function decodeSsl(area: Buffer, start: number, end: number): ProxySsl {
  if (end - start < 5) {
    throw new ProxyError('tlv-bad-length', `PP2_TYPE_SSL needs at least 5 bytes, got ${end - start}`);
  }
  const ssl: ProxySsl = { client: area[start]!, verify: area.readUInt32BE(start + 1) };
  for (let off = start + 5; off < end; ) {
    const sub = { type: area[off]!, start: off + 3, end: tlvEnd(area, off, end, 'SSL sub-TLV') };
    off = sub.end;
    const text = (enc: 'latin1' | 'utf8'): string => area.toString(enc, sub.start, sub.end);
    if (sub.type === PP2_TYPE.SSL_VERSION) ssl.version = text('latin1');
    else if (sub.type === PP2_TYPE.SSL_CN) ssl.cn = text('utf8');
    else if (sub.type === PP2_TYPE.SSL_CIPHER) ssl.cipher = text('latin1');
    else if (sub.type === PP2_TYPE.SSL_SIG_ALG) ssl.sigAlg = text('latin1');
    else if (sub.type === PP2_TYPE.SSL_KEY_ALG) ssl.keyAlg = text('latin1');
  }
  return ssl;
}

/** tlvEnd returns where the TLV at `off` ends, throwing 'tlv-overflow' when it runs past `to`. */
function tlvEnd(area: Buffer, off: number, to: number, what: string): number {
  if (to - off < 3) {
    throw new ProxyError('tlv-overflow', `PROXY v2 ${what} header at offset ${off} is cut short`);
  }
  const len = area.readUInt16BE(off + 1);
  if (off + 3 + len > to) {
    throw new ProxyError(
      'tlv-overflow',
      `PROXY v2 ${what} 0x${area[off]!.toString(16)} claims ${len} bytes but only ${to - off - 3} remain`,
    );
  }
  return off + 3 + len;
}
