/**
 * Framing by an arbitrary delimiter of one or more bytes (`\0`, `\r\n\r\n`,
 * a magic marker...). Frames are the bytes between delimiters; the
 * delimiter is never part of a frame.
 */
import { FrameError, InvalidArgumentError } from '../errors.js';
import { asBuffer, ChunkList } from './chunks.js';
import { StickyFailureDecoder } from './decoder-base.js';
import { byteLimit, checkEncodeSize, oneOf, optionsObject, tooLargeAdvice } from './options.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type FrameCallback,
  type FrameEncoder,
  TRAILING_POLICIES,
  type TrailingPolicy,
} from './types.js';

const DEFAULTS = Object.freeze({
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  trailing: 'emit' as TrailingPolicy,
});

/** DelimiterDecoderOptions configures a DelimiterDecoder. */
export interface DelimiterDecoderOptions {
  /** delimiter ends each frame: bytes, or a string taken as UTF-8; at least one byte. */
  delimiter: Uint8Array | string;
  /** maxFrameBytes is the longest frame delivered, delimiter excluded (default 16 MiB). */
  maxFrameBytes?: number;
  /** trailing says whether bytes after the last delimiter are emitted at end of stream or are an error (default 'emit'). */
  trailing?: TrailingPolicy;
}

/** DelimiterEncoderOptions configures a DelimiterEncoder. */
export interface DelimiterEncoderOptions {
  /** delimiter is written after each frame: bytes, or a string taken as UTF-8; at least one byte. */
  delimiter: Uint8Array | string;
  /** maxFrameBytes is the longest payload accepted (default 16 MiB). */
  maxFrameBytes?: number;
}

function delimiterBytes(value: unknown): Buffer {
  let bytes: Buffer;
  if (typeof value === 'string') bytes = Buffer.from(value, 'utf8');
  else if (value instanceof Uint8Array)
    bytes = Buffer.from(value); // a private copy: the caller may reuse theirs
  else throw new InvalidArgumentError('delimiter', 'must be a Uint8Array or a string');
  if (bytes.length === 0) throw new InvalidArgumentError('delimiter', 'must be at least one byte long');
  return bytes;
}

/**
 * DelimiterDecoder splits a byte stream at each occurrence of a delimiter.
 *
 * Multi-byte delimiters are found even when split across chunks. Each chunk
 * is scanned once with `indexOf`; a delimiter straddling two chunks is found
 * by searching only the last delimiter.length-1 held bytes joined to the
 * first bytes of the new chunk. A frame longer than maxFrameBytes is
 * rejected (NETKIT_FRAME_TOO_LARGE) as soon as the bytes held without a
 * delimiter exceed maxFrameBytes + delimiter.length - 1.
 *
 * Emitted frames may share memory with the pushed chunks; see FrameDecoder.
 */
export class DelimiterDecoder extends StickyFailureDecoder {
  /** delimiter is the byte sequence ending each frame (a private copy). */
  readonly delimiter: Buffer;
  /** maxFrameBytes is the longest frame delivered. */
  readonly maxFrameBytes: number;
  /** trailing is the end-of-stream policy for bytes after the last delimiter. */
  readonly trailing: TrailingPolicy;
  /** Longest run without a complete delimiter that may still end an acceptable frame. */
  private readonly maxRaw: number;
  /** Scratch space for the straddling-delimiter search: up to 2 × (delimiter.length - 1) bytes. */
  private readonly bridge: Buffer;
  private readonly pending = new ChunkList();

  constructor(options: DelimiterDecoderOptions) {
    super();
    const o = optionsObject(options);
    this.delimiter = delimiterBytes(o.delimiter);
    this.maxFrameBytes = byteLimit('maxFrameBytes', o.maxFrameBytes, DEFAULTS.maxFrameBytes);
    this.trailing = oneOf('trailing', o.trailing, TRAILING_POLICIES, DEFAULTS.trailing);
    this.maxRaw = this.maxFrameBytes + this.delimiter.length - 1;
    this.bridge = Buffer.alloc(2 * (this.delimiter.length - 1));
  }

  /** buffered is the number of bytes held after the last delimiter. */
  override get buffered(): number {
    return this.pending.length;
  }

  /** finish delivers the bytes after the last delimiter as a final frame (or fails, with trailing 'error'); see FrameDecoder.end. */
  protected override finish(onFrame: FrameCallback): void {
    const held = this.pending.length;
    if (held === 0) return;
    if (this.trailing === 'error') {
      throw new FrameError(
        'NETKIT_FRAME_TRUNCATED',
        `stream ended inside a frame: ${held} bytes without a trailing delimiter; the peer must end every frame with the delimiter, or use trailing 'emit'`,
      );
    }
    if (held > this.maxFrameBytes) throw this.tooLarge(held, true);
    onFrame(this.pending.take(held, undefined));
  }

  /** scan calls onFrame for each complete frame; see FrameDecoder.push. */
  protected override scan(chunk: Buffer, onFrame: FrameCallback): void {
    const n = chunk.length;
    if (n === 0) return;
    const delim = this.delimiter;
    const d = delim.length;
    let start = 0;
    const held = this.pending.length;
    if (held > 0) {
      start = this.finishHeld(chunk, held, onFrame);
      if (start < 0) return;
    }
    // Common case: whole frames inside this chunk are emitted as zero-copy views.
    let at = chunk.indexOf(delim, start);
    while (at !== -1) {
      if (at - start > this.maxFrameBytes) throw this.tooLarge(at - start, true);
      onFrame(chunk.subarray(start, at));
      start = at + d;
      at = chunk.indexOf(delim, start);
    }
    if (start < n) {
      const rest = n - start;
      if (rest > this.maxRaw) throw this.tooLarge(rest - (d - 1), false);
      this.pending.append(start === 0 ? chunk : chunk.subarray(start));
    }
  }

  /**
   * finishHeld completes the held frame if this chunk ends it, returning
   * where the chunk's own frames start; or holds the whole chunk and
   * returns -1. The held bytes contain no complete delimiter, so the first
   * one either straddles the boundary or lies wholly in the chunk.
   */
  private finishHeld(chunk: Buffer, held: number, onFrame: FrameCallback): number {
    const delim = this.delimiter;
    const d = delim.length;
    if (d > 1) {
      const tl = Math.min(d - 1, held);
      const hl = Math.min(d - 1, chunk.length);
      this.pending.lastBytes(tl, this.bridge);
      chunk.copy(this.bridge, tl, 0, hl);
      const p = this.bridge.subarray(0, tl + hl).indexOf(delim);
      if (p !== -1 && p < tl) {
        // The delimiter starts inside the held bytes: the frame is all held.
        const frameLen = held - tl + p;
        if (frameLen > this.maxFrameBytes) throw this.tooLarge(frameLen, true);
        onFrame(this.pending.take(frameLen, undefined));
        return p + d - tl;
      }
    }
    const at = chunk.indexOf(delim);
    if (at === -1) {
      this.pending.append(chunk);
      const total = this.pending.length;
      if (total > this.maxRaw) throw this.tooLarge(total - (d - 1), false);
      return -1;
    }
    // Decide from the length before allocating the joined frame.
    if (held + at > this.maxFrameBytes) throw this.tooLarge(held + at, true);
    onFrame(this.pending.take(held, chunk.subarray(0, at)));
    return at + d;
  }

  private tooLarge(size: number, complete: boolean): FrameError {
    const what = complete ? `frame of ${size} bytes` : `frame of at least ${size} bytes (no delimiter yet)`;
    return new FrameError(
      'NETKIT_FRAME_TOO_LARGE',
      `${what} exceeds maxFrameBytes (${this.maxFrameBytes}); ${tooLargeAdvice('maxFrameBytes')}`,
      { limit: this.maxFrameBytes, size },
    );
  }

  protected override discard(): void {
    this.pending.clear();
  }
}

/**
 * DelimiterEncoder appends the delimiter to each payload.
 *
 * It refuses (NETKIT_FRAME_INVALID) any payload that would not decode back
 * to itself: one containing the delimiter, and also one whose end joins the
 * delimiter into an earlier match (payload `xab` with delimiter `aba` is
 * sent as `xababa`, which a reader splits after `x`).
 */
export class DelimiterEncoder implements FrameEncoder {
  /** delimiter is the byte sequence written after each frame (a private copy). */
  readonly delimiter: Buffer;
  /** maxFrameBytes is the longest payload accepted. */
  readonly maxFrameBytes: number;

  constructor(options: DelimiterEncoderOptions) {
    const o = optionsObject(options);
    this.delimiter = delimiterBytes(o.delimiter);
    this.maxFrameBytes = byteLimit('maxFrameBytes', o.maxFrameBytes, DEFAULTS.maxFrameBytes);
  }

  /** encode returns payload followed by the delimiter; see FrameEncoder.encode. */
  encode(payload: Uint8Array): Buffer {
    const p = asBuffer(payload);
    const n = p.length;
    checkEncodeSize(n, this.maxFrameBytes);
    const out = Buffer.allocUnsafe(n + this.delimiter.length);
    out.set(p, 0);
    out.set(this.delimiter, n);
    const at = out.indexOf(this.delimiter);
    if (at !== n) {
      throw new FrameError(
        'NETKIT_FRAME_INVALID',
        `payload contains the delimiter at offset ${at}, so it would arrive split; escape it or use a length-prefixed format`,
      );
    }
    return out;
  }
}
