import type { Socket } from 'node:net';
import { AbortError } from '../errors.js';
import type { FrameDecoder } from '../framing/types.js';
import { Fifo } from '../internal/fifo.js';
import type { ChunkSink, SinkPort } from './frame-iterator.js';

/**
 * FrameConsumer calls a synchronous callback for every frame as chunks
 * arrive: no promise per message, which is what lets a request/response
 * server keep pace with a hand-written `socket.on('data')` loop.
 *
 * Replies must not pile up: one chunk can hold thousands of pipelined
 * requests. As soon as the replies written by the callback fill the socket's
 * send buffer (the peer is not reading them), the remaining frames wait —
 * they are views of the chunk, so waiting costs no copy — reading pauses,
 * and delivery resumes at 'drain'. Memory stays bounded by one chunk of
 * requests plus the socket's buffer.
 */
export class FrameConsumer implements ChunkSink {
  readonly #decoder: FrameDecoder;
  readonly #onFrame: (frame: Buffer) => void;
  readonly #port: SinkPort;
  readonly #socket: Socket;
  readonly #resolve: () => void;
  readonly #reject: (err: Error) => void;
  readonly #signal: AbortSignal | undefined;
  #blocked = false;
  readonly #backlog = new Fifo<Buffer>();
  #endPending = false;
  #finished = false;
  readonly #handle = (frame: Buffer): void => {
    if (this.#blocked) {
      this.#backlog.push(frame);
      return;
    }
    this.#onFrame(frame);
    if (this.#socket.writableNeedDrain) this.#block();
  };
  readonly #onDrain = (): void => this.#unblock();
  readonly #onAbort = (): void => this.fail(new AbortError('read', this.#signal?.reason));

  constructor(
    decoder: FrameDecoder,
    onFrame: (frame: Buffer) => void,
    port: SinkPort,
    options: { socket: Socket; resolve: () => void; reject: (err: Error) => void; signal?: AbortSignal },
  ) {
    this.#decoder = decoder;
    this.#onFrame = onFrame;
    this.#port = port;
    this.#socket = options.socket;
    this.#resolve = options.resolve;
    this.#reject = options.reject;
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.#onAbort();
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  chunk(data: Buffer): void {
    try {
      this.#decoder.push(data, this.#handle);
    } catch (err) {
      this.fail(err as Error);
    }
  }

  end(): void {
    if (this.#finished) return;
    try {
      this.#decoder.end(this.#handle);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    // Frames still waiting for the peer to read its answers come first.
    if (this.#blocked) this.#endPending = true;
    else this.#complete();
  }

  fail(err: Error): void {
    if (this.#finished) return;
    this.#finish();
    this.#reject(err);
  }

  #block(): void {
    this.#blocked = true;
    this.#port.pause();
    this.#socket.once('drain', this.#onDrain);
  }

  #unblock(): void {
    if (this.#finished) return;
    this.#blocked = false;
    for (let frame = this.#backlog.shift(); frame !== undefined; frame = this.#backlog.shift()) {
      try {
        this.#onFrame(frame);
      } catch (err) {
        this.fail(err as Error);
        return;
      }
      if (this.#socket.writableNeedDrain) {
        this.#block();
        return;
      }
    }
    if (this.#endPending) this.#complete();
    else this.#port.resume();
  }

  #complete(): void {
    this.#finish();
    this.#resolve();
  }

  #finish(): void {
    this.#finished = true;
    this.#backlog.clear();
    this.#port.detach();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#blocked) {
      this.#blocked = false;
      this.#socket.off('drain', this.#onDrain);
      this.#port.resume();
    }
  }
}
