import { AbortError } from '../errors.js';
import type { FrameDecoder } from '../framing/types.js';
import { Fifo } from '../internal/fifo.js';

/**
 * ChunkSink receives a connection's bytes as they arrive, bypassing read().
 * Conn feeds one while frames() is iterating: this saves a promise per chunk
 * on the hottest path a server has (one message in, one message out).
 */
export interface ChunkSink {
  chunk(data: Buffer): void;
  /** end is the peer's FIN. */
  end(): void;
  /** fail is a reset, a local close, or the read deadline passing. */
  fail(err: Error): void;
}

/** SinkPort is what a sink may ask of its connection. */
export interface SinkPort {
  pause(): void;
  resume(): void;
  detach(): void;
  /** expiredError returns the timeout error when the read deadline has passed, else undefined. */
  expiredError(): Error | undefined;
}

interface Waiter {
  resolve: (r: IteratorResult<Buffer>) => void;
  reject: (e: Error) => void;
}

const DONE: IteratorResult<Buffer> = Object.freeze({ value: undefined, done: true });

/**
 * FrameIterator decodes a connection's bytes into frames and hands them to
 * `for await`. Frames decoded before a failure are delivered before the
 * failure is thrown. Past `highWaterMark` bytes of undelivered frames the
 * socket is paused, so a slow consumer holds bounded memory.
 */
export class FrameIterator implements AsyncIterableIterator<Buffer>, ChunkSink {
  readonly #decoder: FrameDecoder;
  readonly #port: SinkPort;
  readonly #hwm: number;
  readonly #signal: AbortSignal | undefined;
  readonly #frames = new Fifo<Buffer>();
  #bytes = 0;
  #paused = false;
  #waiter: Waiter | null = null;
  #ended = false;
  #error: Error | null = null;
  readonly #onFrame = (frame: Buffer): void => {
    this.#frames.push(frame);
    this.#bytes += frame.length;
  };
  readonly #onAbort = (): void => this.fail(new AbortError('read', this.#signal?.reason));

  constructor(
    decoder: FrameDecoder,
    port: SinkPort,
    options: { highWaterMark: number; signal?: AbortSignal },
  ) {
    this.#decoder = decoder;
    this.#port = port;
    this.#hwm = options.highWaterMark;
    this.#signal = options.signal;
    if (this.#signal?.aborted) this.#onAbort();
    else this.#signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  chunk(data: Buffer): void {
    try {
      this.#decoder.push(data, this.#onFrame);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    if (this.#bytes >= this.#hwm && !this.#paused) {
      this.#paused = true;
      this.#port.pause();
    }
    this.#deliver();
  }

  end(): void {
    if (this.#ended || this.#error) return;
    try {
      this.#decoder.end(this.#onFrame);
    } catch (err) {
      this.fail(err as Error);
      return;
    }
    this.#ended = true;
    this.#finish();
    this.#deliver();
  }

  fail(err: Error): void {
    if (this.#ended || this.#error) return;
    this.#error = err;
    this.#finish();
    this.#deliver();
  }

  next(): Promise<IteratorResult<Buffer>> {
    if (this.#frames.length > 0) return Promise.resolve({ value: this.#take(), done: false });
    if (this.#error) return Promise.reject(this.#throwOnce());
    if (this.#ended) return Promise.resolve(DONE);
    const expired = this.#port.expiredError();
    if (expired) {
      this.fail(expired);
      return Promise.reject(this.#throwOnce());
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<Buffer>> {
    if (!this.#ended && !this.#error) {
      this.#ended = true;
      this.#finish();
    }
    this.#frames.clear();
    this.#bytes = 0;
    const w = this.#waiter;
    this.#waiter = null;
    w?.resolve(DONE);
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Buffer> {
    return this;
  }

  #take(): Buffer {
    const frame = this.#frames.shift()!;
    this.#bytes -= frame.length;
    if (this.#paused && this.#bytes < this.#hwm / 2) {
      this.#paused = false;
      this.#port.resume();
    }
    return frame;
  }

  /** The error is thrown once; like any iterator that threw, this one is then done. */
  #throwOnce(): Error {
    const err = this.#error!;
    this.#error = null;
    this.#ended = true;
    return err;
  }

  #deliver(): void {
    const w = this.#waiter;
    if (w === null) return;
    if (this.#frames.length > 0) {
      this.#waiter = null;
      w.resolve({ value: this.#take(), done: false });
    } else if (this.#error) {
      this.#waiter = null;
      w.reject(this.#throwOnce());
    } else if (this.#ended) {
      this.#waiter = null;
      w.resolve(DONE);
    }
  }

  #finish(): void {
    this.#port.detach();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#paused) {
      this.#paused = false;
      this.#port.resume();
    }
  }
}
