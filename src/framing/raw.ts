/**
 * The `none` format: no framing at all. Useful where a tool must handle
 * every format uniformly (a proxy, a hex dumper) but the protocol has no
 * message boundaries.
 */
import { asBuffer } from './chunks.js';
import { StickyFailureDecoder } from './decoder-base.js';
import type { FrameCallback, FrameEncoder } from './types.js';

/**
 * RawDecoder passes each non-empty chunk through unchanged, as one "frame".
 * Chunk boundaries are whatever the transport delivered, so they carry no
 * meaning; empty chunks are skipped. It never buffers and never throws on
 * its own (an exception from onFrame still makes it unusable, like every
 * FrameDecoder).
 */
export class RawDecoder extends StickyFailureDecoder {
  /** buffered is always 0: nothing is held. */
  override get buffered(): number {
    return 0;
  }

  /** scan emits `chunk` itself (not a copy) unless it is empty. */
  protected override scan(chunk: Buffer, onFrame: FrameCallback): void {
    if (chunk.length !== 0) onFrame(chunk);
  }

  /** finish does nothing: there is never a partial frame. */
  protected override finish(_onFrame: FrameCallback): void {}
}

/** RawEncoder returns each payload unchanged (viewed as a Buffer, not copied). */
export class RawEncoder implements FrameEncoder {
  /** encode returns `payload` itself, as a Buffer view. */
  encode(payload: Uint8Array): Buffer {
    return asBuffer(payload);
  }
}
