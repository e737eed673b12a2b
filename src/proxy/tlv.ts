/**
 * decodeTlvs reads the TLV area of a v2 header (spec section 2.2.x) into the
 * raw list and the typed fields of ProxyHeader.
 */
import { ProxyError } from '../errors.js';
import { PP2_TYPE, type ProxyHeader, type ProxySsl, UNIQUE_ID_MAX } from './types.js';

/**
 * decodeTlvs walks `area` (which the caller owns: values are views into it),
 * appending to `header.tlvs` and setting the typed fields. It returns the
 * offset of the 4 CRC32C bytes in `area`, or -1 when there is no checksum.
 * Every length is checked against the end before use, so a TLV claiming more
 * than is left is 'tlv-overflow', not a read past the header (CVE-2019-10097).
 */
export function decodeTlvs(area: Buffer, fields: ProxyHeader): number {
  const tlvs = fields.tlvs;
  let crc32cOffset = -1;
  for (let off = 0; off < area.length; ) {
    const type = area[off]!;
    const start = off + 3;
    const end = tlvEnd(area, off, area.length, 'TLV');
    off = end;
    const value = area.subarray(start, end);
    tlvs.push({ type, value });
    switch (type) {
      case PP2_TYPE.ALPN:
        // ALPN protocol ids are byte strings; latin1 keeps every byte.
        fields.alpn = value.toString('latin1');
        break;
      case PP2_TYPE.AUTHORITY:
        fields.authority = value.toString('utf8');
        break;
      case PP2_TYPE.CRC32C:
        if (value.length !== 4) {
          throw new ProxyError('tlv-bad-length', `PP2_TYPE_CRC32C must be 4 bytes, got ${value.length}`);
        }
        // Two checksums could hide an unchecked one; the spec defines one.
        if (crc32cOffset >= 0) throw new ProxyError('tlv-duplicate', 'PROXY v2 header has two CRC32C TLVs');
        crc32cOffset = start;
        fields.crc32c = value.readUInt32BE(0);
        break;
      case PP2_TYPE.UNIQUE_ID:
        if (value.length > UNIQUE_ID_MAX) {
          throw new ProxyError(
            'tlv-bad-length',
            `PP2_TYPE_UNIQUE_ID is ${value.length} bytes; the spec allows at most ${UNIQUE_ID_MAX}`,
          );
        }
        fields.uniqueId = value;
        break;
      case PP2_TYPE.SSL:
        fields.ssl = decodeSsl(area, start, end);
        break;
      case PP2_TYPE.NETNS:
        fields.netns = value.toString('latin1');
        break;
      default:
        // NOOP and unknown types: kept raw in `tlvs` only; the spec says to ignore what you do not know.
        break;
    }
  }
  return crc32cOffset;
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
