/**
 * CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the
 * v2 PP2_TYPE_CRC32C TLV. Node's zlib.crc32 is the IEEE polynomial, and
 * node:crypto has no CRC at all, so the Castagnoli variant is computed here
 * with the classic byte-at-a-time table (256 entries, built once).
 */

const TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * crc32cUpdate folds bytes [start, end) of `buf` into a running CRC. Start
 * from 0 and pass the result back in; the final value needs no extra step.
 */
export function crc32cUpdate(crc: number, buf: Uint8Array, start = 0, end = buf.length): number {
  let c = ~crc >>> 0;
  for (let i = start; i < end; i++) c = TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** crc32c returns the CRC32C of `buf` (or of a string's UTF-8 bytes). */
export function crc32c(buf: Uint8Array | string): number {
  const b = typeof buf === 'string' ? Buffer.from(buf, 'utf8') : buf;
  return crc32cUpdate(0, b);
}
