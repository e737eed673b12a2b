/**
 * The failure contract every FrameDecoder shares: once push or end throws,
 * whether the decoder raised the error or onFrame did, the decoder is
 * unusable and every later call throws that same error. A decoder that
 * carried on would resume mid-frame and deliver garbage as frames.
 */
import type { FrameCallback, FrameDecoder } from './types.js';

/**
 * StickyFailureDecoder implements FrameDecoder.push and end on top of a
 * subclass's scan and finish, with the failure contract: the first error
 * either throws is remembered, the subclass drops what it holds (discard),
 * and every later push or end rethrows that error.
 *
 * Subclasses keep only their own parsing; they need no failure handling.
 */
export abstract class StickyFailureDecoder implements FrameDecoder {
  private failed = false;
  private failure: unknown;

  /** buffered is the number of bytes received that belong to the frame not yet complete. */
  abstract get buffered(): number;

  /** push feeds bytes and calls onFrame for each complete frame; see FrameDecoder.push. */
  push(chunk: Buffer, onFrame: FrameCallback): void {
    if (this.failed) throw this.failure;
    // The try/catch is written out here and in end rather than in a helper
    // taking a callback: push is the hot path and must not allocate a
    // closure per chunk.
    try {
      this.scan(chunk, onFrame);
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  /** end signals the end of the stream; see FrameDecoder.end. */
  end(onFrame: FrameCallback): void {
    if (this.failed) throw this.failure;
    try {
      this.finish(onFrame);
    } catch (err) {
      this.fail(err);
      throw err;
    }
  }

  /** scan parses `chunk`, calling onFrame for each complete frame; it may throw. */
  protected abstract scan(chunk: Buffer, onFrame: FrameCallback): void;

  /** finish handles the end of the stream: emits or rejects what is held; it may throw. */
  protected abstract finish(onFrame: FrameCallback): void;

  /** discard drops held bytes and partial frames after a failure, so a dead decoder pins no memory. */
  protected discard(): void {}

  private fail(err: unknown): void {
    this.failed = true;
    this.failure = err;
    this.discard();
  }
}
