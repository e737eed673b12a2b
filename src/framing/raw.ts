/**
 * The `none` format: no framing at all. Useful where a tool must handle
 * every format uniformly (a proxy, a hex dumper) but the protocol has no
 * message boundaries.
 */
import { asBuffer } from './chunks.js';
import type { FrameCallback, FrameDecoder, FrameEncoder } from './types.js';

/**
 * RawDecoder passes each non-empty chunk through unchanged, as one "frame".
 * Chunk boundaries are whatever the transport delivered, so they carry no
 * meaning; empty chunks are skipped. It never buffers and never throws on
 * its own (an exception from onFrame still makes it unusable, like every
 * FrameDecoder).
 */
export class RawDecoder implements FrameDecoder {
  private failed = false;
  private failure: unknown;

  /** buffered is always 0: nothing is held. */
  get buffered(): number {
    return 0;
  }

  /** push emits `chunk` itself (not a copy) unless it is empty. */
  push(chunk: Buffer, onFrame: FrameCallback): void {
    if (this.failed) throw this.failure;
    if (chunk.length === 0) return;
    try {
      onFrame(chunk);
    } catch (err) {
      this.failed = true;
      this.failure = err;
      throw err;
    }
  }

  /** end does nothing: there is never a partial frame. */
  end(_onFrame: FrameCallback): void {
    if (this.failed) throw this.failure;
  }
}

/** RawEncoder returns each payload unchanged (viewed as a Buffer, not copied). */
export class RawEncoder implements FrameEncoder {
  /** encode returns `payload` itself, as a Buffer view. */
  encode(payload: Uint8Array): Buffer {
    return asBuffer(payload);
  }
}
