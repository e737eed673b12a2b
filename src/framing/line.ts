/**
 * Newline-delimited framing, compatible with Go's bufio.Scanner using
 * bufio.ScanLines: a line ends at `\n`; one `\r` right before it is dropped
 * (when stripCR); a final line without `\n` is still delivered at end of
 * stream, also with its trailing `\r` dropped, exactly as Go's dropCR does.
 */
import { FrameError } from '../errors.js';
import { asBuffer, ChunkList } from './chunks.js';
import { StickyFailureDecoder } from './decoder-base.js';
import { bool, byteLimit, oneOf, optionsObject, tooLargeAdvice } from './options.js';
import {
  DEFAULT_MAX_LINE_BYTES,
  type FrameCallback,
  type FrameEncoder,
  TRAILING_POLICIES,
  type TrailingPolicy,
} from './types.js';

const LF = 0x0a;
const CR = 0x0d;

const DEFAULTS = Object.freeze({
  maxLineBytes: DEFAULT_MAX_LINE_BYTES,
  stripCR: true,
  trailing: 'emit' as TrailingPolicy,
  eol: '\n' as LineEnding,
});

/** LineDecoderOptions configures a LineDecoder. */
export interface LineDecoderOptions {
  /** maxLineBytes is the longest line delivered, counted after stripping `\r` (default 1 MiB). */
  maxLineBytes?: number;
  /** stripCR drops one `\r` before each `\n` (and at the end of a final line), like Go (default true). */
  stripCR?: boolean;
  /** trailing says whether a final unterminated line is emitted or is an error (default 'emit'). */
  trailing?: TrailingPolicy;
}

/**
 * LineDecoder splits a byte stream into lines, without their `\n`.
 *
 * Empty lines are emitted as empty Buffers; a lone `\r` inside a line is
 * content; bytes are never decoded, so a UTF-8 character split across
 * chunks arrives intact. A line longer than maxLineBytes is rejected with
 * NETKIT_FRAME_TOO_LARGE as soon as the bytes buffered without a newline
 * prove it (more than maxLineBytes, plus one for a `\r` when stripCR), so a
 * peer that never sends `\n` cannot make us buffer more than that.
 *
 * Emitted lines may share memory with the pushed chunks; see FrameDecoder.
 */
export class LineDecoder extends StickyFailureDecoder {
  /** maxLineBytes is the longest line delivered. */
  readonly maxLineBytes: number;
  /** stripCR says whether a `\r` before `\n` is dropped. */
  readonly stripCR: boolean;
  /** trailing is the end-of-stream policy for an unterminated line. */
  readonly trailing: TrailingPolicy;
  /** Longest run of bytes without `\n` that may still become an acceptable line. */
  private readonly maxRaw: number;
  private readonly pending = new ChunkList();

  constructor(options?: LineDecoderOptions) {
    super();
    const o = optionsObject(options);
    this.maxLineBytes = byteLimit('maxLineBytes', o.maxLineBytes, DEFAULTS.maxLineBytes);
    this.stripCR = bool('stripCR', o.stripCR, DEFAULTS.stripCR);
    this.trailing = oneOf('trailing', o.trailing, TRAILING_POLICIES, DEFAULTS.trailing);
    this.maxRaw = this.maxLineBytes + (this.stripCR ? 1 : 0);
  }

  /** buffered is the number of bytes of the current unterminated line. */
  override get buffered(): number {
    return this.pending.length;
  }

  /** finish delivers a final unterminated line (or fails, with trailing 'error'); see FrameDecoder.end. */
  protected override finish(onFrame: FrameCallback): void {
    const held = this.pending.length;
    if (held === 0) return;
    if (this.trailing === 'error') {
      throw new FrameError(
        'NETKIT_FRAME_TRUNCATED',
        `stream ended inside a line: ${held} bytes without a trailing newline; the peer must end every line with \\n, or use trailing 'emit'`,
      );
    }
    if (held > this.maxRaw) throw this.tooLarge(held, false);
    this.deliver(this.pending.take(held, undefined), onFrame);
  }

  /** scan calls onFrame for each complete line; see FrameDecoder.push. */
  protected override scan(chunk: Buffer, onFrame: FrameCallback): void {
    const n = chunk.length;
    if (n === 0) return;
    let start = 0;
    // Only the new chunk is ever searched: rescanning held bytes would make
    // a long line arriving in small pieces cost O(n²).
    let nl = chunk.indexOf(LF);
    const held = this.pending.length;
    if (held > 0) {
      if (nl === -1) {
        this.pending.append(chunk);
        if (this.pending.length > this.maxRaw) throw this.tooLarge(this.pending.length, false);
        return;
      }
      // Decide from the length before allocating the joined line.
      if (held + nl > this.maxRaw) {
        const last = nl > 0 ? chunk[nl - 1] : this.pending.lastByte();
        throw this.tooLarge(held + nl - (this.stripCR && last === CR ? 1 : 0), true);
      }
      this.deliver(this.pending.take(held, chunk.subarray(0, nl)), onFrame);
      start = nl + 1;
      nl = start < n ? chunk.indexOf(LF, start) : -1;
    }
    // Common case: whole lines inside this chunk are emitted as zero-copy views.
    while (nl !== -1) {
      let end = nl;
      if (this.stripCR && end > start && chunk[end - 1] === CR) end--;
      if (end - start > this.maxLineBytes) throw this.tooLarge(end - start, true);
      onFrame(chunk.subarray(start, end));
      start = nl + 1;
      // A chunk usually ends with its last line's \n: no search past the end
      // (each indexOf is a call into C++).
      nl = start < n ? chunk.indexOf(LF, start) : -1;
    }
    if (start < n) {
      const rest = n - start;
      if (rest > this.maxRaw) throw this.tooLarge(rest, false);
      this.pending.append(start === 0 ? chunk : chunk.subarray(start));
    }
  }

  /** deliver strips a trailing `\r`, enforces the limit and emits `line`. */
  private deliver(line: Buffer, onFrame: FrameCallback): void {
    let len = line.length;
    if (this.stripCR && len > 0 && line[len - 1] === CR) len--;
    if (len > this.maxLineBytes) throw this.tooLarge(len, true);
    onFrame(len === line.length ? line : line.subarray(0, len));
  }

  private tooLarge(size: number, complete: boolean): FrameError {
    const what = complete ? `line of ${size} bytes` : `line of at least ${size} bytes (no newline yet)`;
    return new FrameError(
      'NETKIT_FRAME_TOO_LARGE',
      `${what} exceeds maxLineBytes (${this.maxLineBytes}); ${tooLargeAdvice('maxLineBytes')}`,
      { limit: this.maxLineBytes, size },
    );
  }

  protected override discard(): void {
    this.pending.clear();
  }
}

/** LineEnding is the terminator a LineEncoder writes. */
export type LineEnding = '\n' | '\r\n';

/** LineEncoderOptions configures a LineEncoder. */
export interface LineEncoderOptions {
  /** maxLineBytes is the longest payload accepted, without the terminator (default 1 MiB). */
  maxLineBytes?: number;
  /** eol is the terminator written after each line (default '\n'). */
  eol?: LineEnding;
}

/**
 * LineEncoder appends a line terminator to each payload.
 *
 * It refuses (NETKIT_FRAME_INVALID) a payload containing `\n`, which would
 * arrive as two lines, and, when eol is '\n', a payload ending in `\r`,
 * which Go's bufio.ScanLines and a stripCR LineDecoder would silently drop.
 */
export class LineEncoder implements FrameEncoder {
  /** maxLineBytes is the longest payload accepted. */
  readonly maxLineBytes: number;
  /** eol is the terminator written after each line. */
  readonly eol: LineEnding;
  private readonly eolBytes: Buffer;

  constructor(options?: LineEncoderOptions) {
    const o = optionsObject(options);
    this.maxLineBytes = byteLimit('maxLineBytes', o.maxLineBytes, DEFAULTS.maxLineBytes);
    this.eol = oneOf('eol', o.eol, ['\n', '\r\n'] as const, DEFAULTS.eol);
    this.eolBytes = Buffer.from(this.eol, 'latin1');
  }

  /** encode returns payload followed by the terminator; see FrameEncoder.encode. */
  encode(payload: Uint8Array): Buffer {
    const p = asBuffer(payload);
    const n = p.length;
    if (n > this.maxLineBytes) {
      throw new FrameError(
        'NETKIT_FRAME_TOO_LARGE',
        `line of ${n} bytes exceeds maxLineBytes (${this.maxLineBytes}); raise maxLineBytes or send it with a length-prefixed format`,
        { limit: this.maxLineBytes, size: n },
      );
    }
    const at = p.indexOf(LF);
    if (at !== -1) {
      throw new FrameError(
        'NETKIT_FRAME_INVALID',
        `line contains a newline at offset ${at}, so it would arrive as two lines; remove it or use a length-prefixed format`,
      );
    }
    if (this.eol === '\n' && n > 0 && p[n - 1] === CR) {
      throw new FrameError(
        'NETKIT_FRAME_INVALID',
        `line ends with \\r, which line readers strip before \\n; use eol '\\r\\n' or a length-prefixed format`,
      );
    }
    // TypedArray.set and index stores stay in JavaScript; Buffer.copy would
    // cross into C++ twice per line, which dominates for short lines.
    const out = Buffer.allocUnsafe(n + this.eolBytes.length);
    out.set(p, 0);
    if (this.eolBytes.length === 1) out[n] = LF;
    else {
      out[n] = CR;
      out[n + 1] = LF;
    }
    return out;
  }
}
