/**
 * The line echo (`netkit tcp serve --echo`) as a decoder of replies: what it
 * emits is wire bytes to write back, not lines.
 */
import { StickyFailureDecoder } from '../framing/decoder-base.js';
import type { LineDecoder, LineEncoder } from '../framing/index.js';
import type { FrameCallback } from '../framing/types.js';

const LF = 0x0a;
const CR = 0x0d;

/**
 * LineEchoDecoder turns received bytes into the bytes a line echo answers
 * with: each line decoded by `lines` and encoded again by `encoder`, errors
 * included (an oversize line fails with NETKIT_FRAME_TOO_LARGE, a line
 * ending in `\r` with NETKIT_FRAME_INVALID, as the encoder refuses it).
 *
 * When a chunk is nothing but whole lines — it follows a complete line,
 * ends with `\n`, holds no `\r`, and is no longer than maxLineBytes plus
 * its final `\n`, so no line in it can be over the limit — decoding and
 * re-encoding it would give back the same bytes, so the chunk itself is
 * emitted once: no view, copy or write per line. That is every chunk of a
 * ping-pong client, and saves the per-line work a plain node:net echo never
 * does. Every other chunk takes the line-by-line path.
 */
export class LineEchoDecoder extends StickyFailureDecoder {
  readonly #lines: LineDecoder;
  readonly #encoder: LineEncoder;
  /** #out is the onFrame of the push or end in progress, for #reply. */
  #out: FrameCallback | undefined;
  /** #reply is bound once, not per chunk: push is the hot path. */
  readonly #reply = (line: Buffer): void => this.#out!(this.#encoder.encode(line));

  constructor(lines: LineDecoder, encoder: LineEncoder) {
    super();
    this.#lines = lines;
    this.#encoder = encoder;
  }

  /** buffered is the number of bytes of the current unterminated line. */
  override get buffered(): number {
    return this.#lines.buffered;
  }

  /** scan emits the chunk itself when it echoes to itself, else each line's reply. */
  protected override scan(chunk: Buffer, onFrame: FrameCallback): void {
    const n = chunk.length;
    if (
      n !== 0 &&
      chunk[n - 1] === LF &&
      n - 1 <= this.#lines.maxLineBytes &&
      n - 1 <= this.#encoder.maxLineBytes &&
      this.#lines.buffered === 0 &&
      chunk.indexOf(CR) === -1
    ) {
      onFrame(chunk);
      return;
    }
    this.#out = onFrame;
    this.#lines.push(chunk, this.#reply);
  }

  /** finish answers a final unterminated line, as the line decoder delivers it. */
  protected override finish(onFrame: FrameCallback): void {
    this.#out = onFrame;
    this.#lines.end(this.#reply);
  }
}
