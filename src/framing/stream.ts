/**
 * Adapters from a FrameDecoder to Node.js streams and async iteration.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';
import type { FrameDecoder } from './types.js';

/**
 * decodeStream returns a Transform that takes bytes and emits frames as
 * object-mode Buffers. A decoder error (FrameError) destroys the stream
 * with that error, including NETKIT_FRAME_TRUNCATED when the input ends
 * inside a frame. Backpressure is respected: when the frame side is full,
 * the next chunk is not decoded until a reader drains it. Frames may share
 * memory with the written chunks; see FrameDecoder.
 *
 * @example
 * socket.pipe(decodeStream(createDecoder('len32'))).on('data', (frame) => ...);
 */
export function decodeStream(decoder: FrameDecoder): Transform {
  const t = new Transform({
    writableObjectMode: false,
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
      try {
        decoder.push(chunk, emit);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback();
    },
    flush(callback: TransformCallback): void {
      try {
        decoder.end(emit);
      } catch (err) {
        callback(err as Error);
        return;
      }
      callback();
    },
  });
  // One bound callback per stream, not per chunk or frame.
  const emit = (frame: Buffer): void => {
    t.push(frame);
  };
  return t;
}

/**
 * readFrames decodes any byte stream (a socket, a file stream, an async
 * generator of Uint8Arrays) into frames, for `for await` loops. Frames
 * completed before a decoding error are yielded first, then the error is
 * thrown; NETKIT_FRAME_TRUNCATED is thrown if the source ends inside a
 * frame. Leaving the loop early closes the source. Frames may share memory
 * with the source's chunks; see FrameDecoder.
 */
export async function* readFrames(
  source: AsyncIterable<Uint8Array>,
  decoder: FrameDecoder,
): AsyncGenerator<Buffer, void, undefined> {
  const ready: Buffer[] = [];
  const collect = (frame: Buffer): void => {
    ready.push(frame);
  };
  for await (const chunk of source) {
    if (!(chunk instanceof Uint8Array)) {
      throw new InvalidArgumentError(
        'source',
        `yielded ${typeof chunk} instead of bytes; do not call setEncoding on a stream you decode frames from`,
      );
    }
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let failure: unknown;
    let failed = false;
    try {
      decoder.push(buf, collect);
    } catch (err) {
      failed = true;
      failure = err;
    }
    for (let i = 0; i < ready.length; i++) yield ready[i]!;
    ready.length = 0;
    if (failed) throw failure;
  }
  decoder.end(collect);
  for (let i = 0; i < ready.length; i++) yield ready[i]!;
  ready.length = 0;
}
