/**
 * Uvarint length-prefixed framing: each frame is its length as an unsigned
 * varint followed by that many bytes. The varint is exactly Go's
 * encoding/binary Uvarint/PutUvarint (little-endian base-128, high bit =
 * "more bytes follow", at most 10 bytes), the same prefix protobuf's
 * delimited streams (Go's protodelim) use, so Go peers interoperate.
 */
import { FrameError } from '../errors.js';
import { asBuffer } from './chunks.js';
import { StickyFailureDecoder } from './decoder-base.js';
import { byteLimit, checkEncodeSize, optionsObject, tooLargeAdvice } from './options.js';
import { DEFAULT_MAX_FRAME_BYTES, type FrameCallback, type FrameEncoder } from './types.js';

/** MAX_VARINT_LEN64 is Go's binary.MaxVarintLen64: the longest 64-bit uvarint. */
const MAX_VARINT_LEN64 = 10;

const DEFAULTS = Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
});

/** UvarintOptions configures a UvarintDecoder or UvarintEncoder. */
export interface UvarintOptions {
  /** maxFrameBytes is the longest frame body accepted, prefix excluded (default 16 MiB). */
  maxFrameBytes?: number;
}

function overflow(): FrameError {
  // Go's binary.ReadUvarint reports errOverflow at the same byte.
  return new FrameError(
    'NETKIT_FRAME_INVALID',
    'varint overflows a 64-bit integer; the peer is not sending uvarint-prefixed frames',
  );
}

/** Exact value of the varint at buf[pos..pos+count), for error reports beyond 2^53. */
function exactUvarint(buf: Buffer, pos: number, count: number): bigint {
  let x = 0n;
  for (let i = count - 1; i >= 0; i--) x = (x << 7n) | BigInt(buf[pos + i]! & 0x7f);
  return x;
}

/**
 * UvarintDecoder reassembles uvarint-prefixed frames from a byte stream.
 *
 * Like Go's binary.ReadUvarint it accepts non-minimal encodings, and fails
 * with NETKIT_FRAME_INVALID on the 10th byte if the value cannot fit in 64
 * bits. A frame over maxFrameBytes is rejected from the prefix alone,
 * before allocating. Frames wholly inside a chunk are zero-copy views; a
 * frame spanning chunks is allocated once at its exact length.
 *
 * Emitted frames may share memory with the pushed chunks; see FrameDecoder.
 */
export class UvarintDecoder extends StickyFailureDecoder {
  /** maxFrameBytes is the longest frame body accepted. */
  readonly maxFrameBytes: number;
  /** A varint split across chunks is gathered here. */
  private readonly header = Buffer.alloc(MAX_VARINT_LEN64);
  private headerLen = 0;
  private body: Buffer | null = null;
  private filled = 0;
  /** Set by parse: the decoded value, exact below 2^53 and >= 2^53 otherwise. */
  private value = 0;

  constructor(options?: UvarintOptions) {
    super();
    const o = optionsObject(options);
    this.maxFrameBytes = byteLimit('maxFrameBytes', o.maxFrameBytes, DEFAULTS.maxFrameBytes);
  }

  /** buffered is the number of bytes received of the incomplete frame, prefix included. */
  override get buffered(): number {
    return this.body === null ? this.headerLen : this.headerLen + this.filled;
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
      // Go's binary.ReadUvarint returns io.ErrUnexpectedEOF here.
      throw new FrameError(
        'NETKIT_FRAME_TRUNCATED',
        `stream ended inside a varint length prefix after ${this.headerLen} bytes; the peer closed early or the framing does not match`,
      );
    }
  }

  /** scan calls onFrame for each complete frame; see FrameDecoder.push. */
  protected override scan(chunk: Buffer, onFrame: FrameCallback): void {
    const n = chunk.length;
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
      this.headerLen = 0;
      onFrame(body);
    } else if (this.headerLen > 0) {
      // Gather the rest of a split varint, one byte at a time (at most 10).
      while (pos < n && this.headerLen < MAX_VARINT_LEN64) {
        const b = chunk[pos++]!;
        this.header[this.headerLen++] = b;
        if (b < 0x80) break;
      }
      if (this.parse(this.header, 0, this.headerLen) === 0) return;
      const len = this.value;
      if (len > this.maxFrameBytes) throw this.tooLarge(this.header, 0, this.headerLen);
      if (n - pos < len) {
        this.startBody(chunk, pos, len);
        return;
      }
      this.headerLen = 0;
      onFrame(chunk.subarray(pos, pos + len));
      pos += len;
    }
    // Common case: whole frames inside this chunk are emitted as zero-copy views.
    while (pos < n) {
      const used = this.parse(chunk, pos, n);
      if (used === 0) {
        // An unfinished varint is at most 9 bytes here (10 would have ended or overflowed).
        chunk.copy(this.header, 0, pos);
        this.headerLen = n - pos;
        return;
      }
      const len = this.value;
      if (len > this.maxFrameBytes) throw this.tooLarge(chunk, pos, used);
      pos += used;
      if (n - pos < len) {
        this.headerLen = used;
        this.startBody(chunk, pos, len);
        return;
      }
      onFrame(chunk.subarray(pos, pos + len));
      pos += len;
    }
  }

  /**
   * parse decodes the varint at buf[pos..end) into this.value and returns
   * its length, or 0 if it is unfinished. It follows Go's ReadUvarint: the
   * 10th byte must be 0 or 1 and must not have the continuation bit.
   */
  private parse(buf: Buffer, pos: number, end: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_LEN64; i++) {
      if (pos + i >= end) return 0;
      const b = buf[pos + i]!;
      if (b < 0x80) {
        if (i === MAX_VARINT_LEN64 - 1 && b > 1) throw overflow();
        // Powers of two are exact; the sum rounds only above 2^53, where it
        // stays >= 2^53 and so over every limit.
        this.value = value + b * scale;
        return i + 1;
      }
      value += (b & 0x7f) * scale;
      scale *= 128;
    }
    throw overflow();
  }

  /** startBody allocates a spanning frame once, at its exact length, and copies in what arrived. */
  private startBody(chunk: Buffer, pos: number, len: number): void {
    const body = Buffer.allocUnsafe(len);
    chunk.copy(body, 0, pos);
    this.body = body;
    this.filled = chunk.length - pos;
  }

  private tooLarge(buf: Buffer, pos: number, count: number): FrameError {
    const size = Number.isSafeInteger(this.value) ? this.value : exactUvarint(buf, pos, count);
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

/** uvarintLength is the size of PutUvarint's encoding of `x` (a non-negative safe integer). */
function uvarintLength(x: number): number {
  let len = 1;
  while (x >= 0x80) {
    x = Math.floor(x / 128);
    len++;
  }
  return len;
}

/**
 * UvarintEncoder prepends each payload's length as a Go-compatible uvarint
 * (binary.PutUvarint). It refuses (NETKIT_FRAME_TOO_LARGE) a payload over
 * maxFrameBytes.
 */
export class UvarintEncoder implements FrameEncoder {
  /** maxFrameBytes is the longest payload accepted. */
  readonly maxFrameBytes: number;

  constructor(options?: UvarintOptions) {
    const o = optionsObject(options);
    this.maxFrameBytes = byteLimit('maxFrameBytes', o.maxFrameBytes, DEFAULTS.maxFrameBytes);
  }

  /** encode returns the varint length followed by the payload; see FrameEncoder.encode. */
  encode(payload: Uint8Array): Buffer {
    const p = asBuffer(payload);
    const n = p.length;
    checkEncodeSize(n, this.maxFrameBytes);
    const vlen = uvarintLength(n);
    const out = Buffer.allocUnsafe(vlen + n);
    let x = n;
    let i = 0;
    while (x >= 0x80) {
      out[i++] = (x % 128) | 0x80;
      x = Math.floor(x / 128);
    }
    out[i] = x;
    out.set(p, vlen);
    return out;
  }
}
