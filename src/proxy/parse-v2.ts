/**
 * parseV2 reads a PROXY protocol v2 binary header: 12-byte signature,
 * version/command, family/transport, 16-bit length, address block, TLVs.
 */
import { ProxyError } from '../errors.js';
import { crc32cUpdate } from './crc32c.js';
import { ProxyHeaderV2 } from './header-v2.js';
import { checkTlvs } from './tlv.js';
import {
  ADDRESS_BLOCK_LENGTH,
  type ProxyFamily,
  type ProxyParseResult,
  type ProxyTransport,
  V2_HEADER_LENGTH,
} from './types.js';

const ZERO4 = new Uint8Array(4);

// Module-local copies of the imported constants: the hot path reads them on
// every header, and a loader that compiles imports to getters (tsx) would make
// each read a call.
const HEADER_LENGTH = V2_HEADER_LENGTH;
const BLOCK_LENGTH = ADDRESS_BLOCK_LENGTH;
const Header = ProxyHeaderV2;

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

  // Everything that can make the header invalid is checked now; formatting
  // addresses and decoding TLVs waits until a caller asks (ProxyHeaderV2).
  const tlvStart = HEADER_LENGTH + addrLen;
  let crc32c: number | undefined;
  if (tlvStart < total) {
    const at = checkTlvs(buf, tlvStart, total);
    if (at >= 0) crc32c = checkCrc(buf, at, total);
  }
  const start = copyBody(buf, total);
  const header = new Header(
    cmd === 1 ? 'PROXY' : 'LOCAL',
    family,
    transport,
    body,
    start,
    start + addrLen,
    start + len,
    crc32c,
  );
  return { header, length: total };
}

// The bodies of parsed headers are copied into shared slabs, the way
// Buffer.allocUnsafe carves small Buffers out of one pool: a header then
// holds (slab, offset) and costs no typed array of its own, and one
// Int32Array view per slab lets the copy move four bytes per store. A slab
// stays alive while any header in it does, so at most SLAB_SIZE bytes are
// kept per live header; bodies over BIG_BODY get an array of their own.
const SLAB_SIZE = 8192;
const BIG_BODY = 1024;
/** LITTLE_ENDIAN says whether four bytes packed low byte first land in memory in order (x86, ARM). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
let slab = new Uint8Array(SLAB_SIZE);
let slab32 = new Int32Array(slab.buffer);
let slabUsed = 0;
/** body is the array the last copyBody call copied into. */
let body: Uint8Array = slab;

/**
 * copyBody copies the address block and TLVs (`buf[16, total)`) out of the
 * input, so the header stays the same when the caller reuses `buf`, and
 * returns where the copy starts in `body`. Copies start 4-byte aligned and
 * move four bytes per store: a byte-at-a-time loop was about half the cost
 * of a parse, and Buffer#copy or TypedArray#set cost as much (each makes a
 * view of the source first).
 */
function copyBody(buf: Buffer, total: number): number {
  const n = total - HEADER_LENGTH;
  if (n > BIG_BODY) {
    body = new Uint8Array(n);
    body.set(buf.subarray(HEADER_LENGTH, total));
    return 0;
  }
  if (slabUsed + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    slab32 = new Int32Array(slab.buffer);
    slabUsed = 0;
  }
  const at = slabUsed;
  let i = HEADER_LENGTH;
  let o = at;
  if (LITTLE_ENDIAN) {
    for (let w = at >> 2; i + 4 <= total; i += 4, o += 4, w++) {
      slab32[w] = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    }
  }
  for (; i < total; i++, o++) slab[o] = buf[i]!;
  slabUsed = (o + 3) & ~3;
  body = slab;
  return at;
}

/**
 * checkCrc recomputes the CRC32C over the whole header with the checksum
 * field taken as zero (spec 2.2.3), without copying the header, and returns
 * the checksum once it matches.
 */
function checkCrc(buf: Buffer, at: number, total: number): number {
  const expected = ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
  let crc = crc32cUpdate(0, buf, 0, at);
  crc = crc32cUpdate(crc, ZERO4);
  crc = crc32cUpdate(crc, buf, at + 4, total);
  if (crc !== expected) {
    throw new ProxyError(
      'crc32c-mismatch',
      `PROXY v2 CRC32C is 0x${expected.toString(16).padStart(8, '0')} but the header sums to 0x${crc.toString(16).padStart(8, '0')}`,
    );
  }
  return expected;
}
