/**
 * Fixed-width length-prefixed framing: each frame is an unsigned 1, 2, 4 or
 * 8 byte length (big-endian by default, network byte order, as Go's
 * binary.BigEndian.PutUint32 writes it) followed by that many bytes.
 */
import { FrameError, InvalidArgumentError } from '../errors.js';
import { asBuffer } from './chunks.js';
import { StickyFailureDecoder } from './decoder-base.js';
import { byteLimit, checkEncodeSize, oneOf, optionsObject, tooLargeAdvice } from './options.js';
import { DEFAULT_MAX_FRAME_BYTES, type FrameCallback, type FrameEncoder } from './types.js';

/** PrefixBytes is the width of a length prefix in bytes. */
export type PrefixBytes = 1 | 2 | 4 | 8;

/** Endianness is the byte order of a length prefix: 'be' (network order) or 'le'. */
export type Endianness = 'be' | 'le';

const PREFIX_SIZES: readonly PrefixBytes[] = Object.freeze([1, 2, 4, 8] as const);
const ENDIANS: readonly Endianness[] = Object.freeze(['be', 'le'] as const);
const TWO_32 = 2 ** 32;

const DEFAULTS = Object.freeze({
  endian: 'be' as Endianness,
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
});

/** LengthPrefixOptions configures a LengthPrefixDecoder or LengthPrefixEncoder. */
export interface LengthPrefixOptions {
  /** prefixBytes is the width of the length prefix: 1, 2, 4 or 8 (required). */
  prefixBytes: PrefixBytes;
  /** endian is the byte order of the prefix (default 'be'; ignored for 1-byte prefixes). */
  endian?: Endianness;
  /** maxFrameBytes is the longest frame body accepted, prefix excluded (default 16 MiB). */
  maxFrameBytes?: number;
}

interface Resolved {
  prefixBytes: PrefixBytes;
  endian: Endianness;
  maxFrameBytes: number;
}

function resolve(options: LengthPrefixOptions): Resolved {
  const o = optionsObject(options);
  if (o.prefixBytes === undefined) throw new InvalidArgumentError('prefixBytes', 'is required: 1, 2, 4 or 8');
  return {
    prefixBytes: oneOf('prefixBytes', o.prefixBytes, PREFIX_SIZES, 4),
    endian: oneOf('endian', o.endian, ENDIANS, DEFAULTS.endian),
    maxFrameBytes: byteLimit('maxFrameBytes', o.maxFrameBytes, DEFAULTS.maxFrameBytes),
  };
}

/** Largest length a prefix of `bytes` bytes can express (2^64-1 is beyond any Buffer, so Infinity). */
function prefixCapacity(bytes: PrefixBytes): number {
  return bytes === 8 ? Number.POSITIVE_INFINITY : 2 ** (8 * bytes) - 1;
}

/**
 * LengthPrefixDecoder reassembles length-prefixed frames from a byte stream.
 *
 * A frame whose prefix exceeds maxFrameBytes is rejected from the prefix
 * alone, before any allocation, so a forged 0xFFFFFFFF prefix costs nothing.
 * 8-byte prefixes beyond 2^53 are compared exactly (they are always over
 * the limit) and reported as a bigint `size`. Frames wholly inside a chunk
 * are emitted as zero-copy views; a frame spanning chunks is allocated once
 * at its exact length and filled as bytes arrive.
 *
 * Emitted frames may share memory with the pushed chunks; see FrameDecoder.
 */
export class LengthPrefixDecoder extends StickyFailureDecoder {
  /** prefixBytes is the width of the length prefix. */
  readonly prefixBytes: PrefixBytes;
  /** endian is the byte order of the prefix. */
  readonly endian: Endianness;
  /** maxFrameBytes is the longest frame body accepted. */
  readonly maxFrameBytes: number;
  private readonly le: boolean;
  /** A prefix split across chunks is gathered here. */
  private readonly header = Buffer.alloc(8);
  private headerLen = 0;
  /** The frame being filled when it spans chunks, and how much of it has arrived. */
  private body: Buffer | null = null;
  private filled = 0;

  constructor(options: LengthPrefixOptions) {
    super();
    const r = resolve(options);
    this.prefixBytes = r.prefixBytes;
    this.endian = r.endian;
    this.maxFrameBytes = r.maxFrameBytes;
    this.le = r.endian === 'le';
  }

  /** buffered is the number of bytes received of the incomplete frame, prefix included. */
  override get buffered(): number {
    return this.body === null ? this.headerLen : this.prefixBytes + this.filled;
  }

  /** finish throws NETKIT_FRAME_TRUNCATED if the stream stopped inside a frame; see FrameDecoder.end. */
  protected override finish(_onFrame: FrameCallback): void {
    if (this.body !== null) {
      throw new FrameError(
        'NETKIT_FRAME_TRUNCATED',
        `stream ended inside a frame: got ${this.filled} of ${this.body.length} bytes; the peer closed early or the framing does not match`,
      );
    }
    if (this.headerLen > 0) {
      throw new FrameError(
        'NETKIT_FRAME_TRUNCATED',
        `stream ended inside a length prefix: got ${this.headerLen} of ${this.prefixBytes} bytes; the peer closed early or the framing does not match`,
      );
    }
  }

  /** scan calls onFrame for each complete frame; see FrameDecoder.push. */
  protected override scan(chunk: Buffer, onFrame: FrameCallback): void {
    const n = chunk.length;
    const P = this.prefixBytes;
    let pos = 0;
    if (this.body !== null) {
      const body = this.body;
      const need = body.length - this.filled;
      if (n < need) {
        chunk.copy(body, this.filled);
        this.filled += n;
        return;
      }
      chunk.copy(body, this.filled, 0, need);
      pos = need;
      this.body = null;
      this.filled = 0;
      onFrame(body);
    } else if (this.headerLen > 0) {
      const take = Math.min(P - this.headerLen, n);
      chunk.copy(this.header, this.headerLen, 0, take);
      this.headerLen += take;
      pos = take;
      if (this.headerLen < P) return;
      this.headerLen = 0;
      const len = this.readLength(this.header, 0);
      if (len > this.maxFrameBytes) throw this.tooLarge(this.header, 0, len);
      if (n - pos < len) {
        this.startBody(chunk, pos, len);
        return;
      }
      onFrame(chunk.subarray(pos, pos + len));
      pos += len;
    }
    // Common case: whole frames inside this chunk are emitted as zero-copy views.
    while (n - pos >= P) {
      const len = this.readLength(chunk, pos);
      if (len > this.maxFrameBytes) throw this.tooLarge(chunk, pos, len);
      pos += P;
      if (n - pos < len) {
        this.startBody(chunk, pos, len);
        return;
      }
      onFrame(chunk.subarray(pos, pos + len));
      pos += len;
    }
    if (pos < n) {
      chunk.copy(this.header, 0, pos);
      this.headerLen = n - pos;
    }
  }

  /** startBody allocates a spanning frame once, at its exact length, and copies in what arrived. */
  private startBody(chunk: Buffer, pos: number, len: number): void {
    const body = Buffer.allocUnsafe(len);
    chunk.copy(body, 0, pos);
    this.body = body;
    this.filled = chunk.length - pos;
  }

  /**
   * readLength reads the prefix at `pos`. An 8-byte value is exact below
   * 2^53; above, the float result is still >= 2^53, hence over any limit,
   * and tooLarge recomputes it exactly as a bigint.
   */
  private readLength(buf: Buffer, pos: number): number {
    switch (this.prefixBytes) {
      case 1:
        return buf[pos]!;
      case 2:
        return this.le ? buf.readUInt16LE(pos) : buf.readUInt16BE(pos);
      case 4:
        return this.le ? buf.readUInt32LE(pos) : buf.readUInt32BE(pos);
      default:
        return this.le
          ? buf.readUInt32LE(pos + 4) * TWO_32 + buf.readUInt32LE(pos)
          : buf.readUInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
    }
  }

  private tooLarge(buf: Buffer, pos: number, len: number): FrameError {
    let size: number | bigint = len;
    if (!Number.isSafeInteger(len)) size = this.le ? buf.readBigUInt64LE(pos) : buf.readBigUInt64BE(pos);
    return new FrameError(
      'NETKIT_FRAME_TOO_LARGE',
      `frame of ${size} bytes exceeds maxFrameBytes (${this.maxFrameBytes}); ${tooLargeAdvice('maxFrameBytes')}`,
      { limit: this.maxFrameBytes, size },
    );
  }

  protected override discard(): void {
    this.body = null;
    this.headerLen = 0;
    this.filled = 0;
  }
}

/**
 * LengthPrefixEncoder prepends a fixed-width length to each payload.
 *
 * It refuses (NETKIT_FRAME_TOO_LARGE) a payload over maxFrameBytes or over
 * what the prefix can express (255 for len8, 65535 for len16, 2^32-1 for
 * len32) instead of writing a wrapped-around length, which would desync
 * the peer's reader.
 */
export class LengthPrefixEncoder implements FrameEncoder {
  /** prefixBytes is the width of the length prefix. */
  readonly prefixBytes: PrefixBytes;
  /** endian is the byte order of the prefix. */
  readonly endian: Endianness;
  /** maxFrameBytes is the longest payload accepted. */
  readonly maxFrameBytes: number;
  private readonly capacity: number;

  constructor(options: LengthPrefixOptions) {
    const r = resolve(options);
    this.prefixBytes = r.prefixBytes;
    this.endian = r.endian;
    this.maxFrameBytes = r.maxFrameBytes;
    this.capacity = prefixCapacity(r.prefixBytes);
  }

  /** encode returns the prefix followed by the payload; see FrameEncoder.encode. */
  encode(payload: Uint8Array): Buffer {
    const p = asBuffer(payload);
    const n = p.length;
    const P = this.prefixBytes;
    if (n > this.capacity) {
      throw new FrameError(
        'NETKIT_FRAME_TOO_LARGE',
        `frame of ${n} bytes cannot be expressed by a ${P}-byte length prefix (at most ${this.capacity}); use a wider prefix or split the payload`,
        { limit: this.capacity, size: n },
      );
    }
    checkEncodeSize(n, this.maxFrameBytes);
    const out = Buffer.allocUnsafe(P + n);
    const le = this.endian === 'le';
    if (P === 8) {
      // writeUIntBE stops at 6 bytes; write the 64-bit length as two words.
      const hi = Math.floor(n / TWO_32);
      const lo = n % TWO_32;
      if (le) out.writeUInt32LE(hi, out.writeUInt32LE(lo, 0));
      else out.writeUInt32BE(lo, out.writeUInt32BE(hi, 0));
    } else if (le) out.writeUIntLE(n, 0, P);
    else out.writeUIntBE(n, 0, P);
    out.set(p, P);
    return out;
  }
}
