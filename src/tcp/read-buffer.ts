import type { Socket } from 'node:net';
import { AbortError, FrameError, InvalidArgumentError } from '../errors.js';
import type { FrameDecoder } from '../framing/types.js';
import { Fifo } from '../internal/fifo.js';
import { FrameConsumer } from './frame-consumer.js';
import { type ChunkSink, FrameIterator, type SinkPort } from './frame-iterator.js';

/** ReadOptions lets one read be cancelled. */
export interface ReadOptions {
  /** signal cancels this read only; it then rejects with `AbortError` and the connection stays usable. */
  signal?: AbortSignal;
}

/**
 * ReadHost is what a ReadBuffer asks of its connection once no bytes are
 * buffered. The connection keeps its error, close and deadline state because
 * the write side shares them.
 */
export interface ReadHost {
  /**
   * stopped says whether a read that finds nothing buffered may wait:
   * undefined if it may, null at end of stream, else the error it fails with.
   */
  stopped(): Error | null | undefined;
  /** expired returns the timeout error once the read deadline has passed, else undefined. */
  expired(): Error | undefined;
}

interface Waiter {
  resolve: (v: Buffer | null) => void;
  reject: (e: Error) => void;
}

const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;

/**
 * ReadBuffer is a connection's read side. Each chunk from the socket goes to
 * the sink of a running frames() or consumeFrames() loop, else to the oldest
 * waiting read, else into a queue; past `highWaterMark` queued bytes the
 * socket is paused until reads drain half of them. Conn owns one and
 * forwards its read methods here.
 */
export class ReadBuffer {
  readonly #socket: Socket;
  readonly #hwm: number;
  readonly #host: ReadHost;
  readonly #chunks = new Fifo<Buffer>();
  #queued = 0;
  #paused = false;
  #eof = false;
  readonly #readers = new Fifo<Waiter>();
  #sink: ChunkSink | null = null;

  constructor(socket: Socket, highWaterMark: number, host: ReadHost) {
    this.#socket = socket;
    this.#hwm = highWaterMark;
    this.#host = host;
  }

  /** ended is true once the peer's FIN has arrived. */
  get ended(): boolean {
    return this.#eof;
  }

  /** push takes one chunk from the socket; it runs for every chunk, so it allocates nothing of its own. */
  push(chunk: Buffer): void {
    const sink = this.#sink;
    if (sink !== null) {
      sink.chunk(chunk);
      return;
    }
    const reader = this.#readers.shift();
    if (reader) {
      reader.resolve(chunk);
      return;
    }
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    // Backpressure: stop reading from the kernel while the application lags.
    if (this.#queued >= this.#hwm && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  /** end records the peer's FIN: the sink ends and waiting reads resolve with null. */
  end(): void {
    this.#eof = true;
    this.#sink?.end();
    for (const r of this.#readers.clear()) r.resolve(null);
  }

  /** waiting is true while a frames()/consumeFrames() loop or a read() waits on this buffer. */
  get waiting(): boolean {
    return this.#sink !== null || this.#readers.length > 0;
  }

  /**
   * fail hands `err` to the sink and to every waiting read. Later reads ask
   * the host again, so a deadline moved later makes reading work again.
   */
  fail(err: Error): void {
    this.#sink?.fail(err);
    for (const r of this.#readers.clear()) r.reject(err);
  }

  /** read is Conn.read: the next chunk, or null at end of stream. */
  read(options?: ReadOptions): Promise<Buffer | null> {
    if (this.#queued > 0) return Promise.resolve(this.#shift());
    const stopped = this.#host.stopped();
    if (stopped === null) return Promise.resolve(null);
    if (stopped !== undefined) return Promise.reject(stopped);
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('read', signal.reason));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal) {
        const onAbort = () => {
          this.#readers.remove(waiter);
          reject(new AbortError('read', signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.resolve = (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        };
        waiter.reject = (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        };
      }
      this.#readers.push(waiter);
    });
  }

  /** readLine is Conn.readLine: one line without its `\n` (or `\r\n`), or null at end of stream. */
  async readLine(options: ReadOptions & { maxBytes?: number } = {}): Promise<string | null> {
    const max = options.maxBytes ?? DEFAULT_MAX_LINE_BYTES;
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = await this.read(options);
      if (chunk === null) {
        return parts.length === 0 ? null : decodeLine(Buffer.concat(parts, total), max);
      }
      const i = chunk.indexOf(LF);
      const piece = i < 0 ? chunk : chunk.subarray(0, i);
      parts.push(piece);
      total += piece.length;
      if (i >= 0) {
        if (i + 1 < chunk.length) this.#unshift(chunk.subarray(i + 1));
        return decodeLine(Buffer.concat(parts, total), max);
      }
      if (total > max + 1) throw tooLong(total, max);
    }
  }

  /** readFull is Conn.readFull: exactly n bytes, or NETKIT_FRAME_TRUNCATED. */
  async readFull(n: number, options?: ReadOptions): Promise<Buffer> {
    const out = Buffer.allocUnsafe(n);
    let have = 0;
    while (have < n) {
      const chunk = await this.read(options);
      if (chunk === null) {
        throw new FrameError('NETKIT_FRAME_TRUNCATED', `stream ended after ${have} of ${n} bytes`, {
          size: have,
        });
      }
      const take = Math.min(chunk.length, n - have);
      chunk.copy(out, have, 0, take);
      have += take;
      if (take < chunk.length) this.#unshift(chunk.subarray(take));
    }
    return out;
  }

  /** frames is Conn.frames: a FrameIterator fed straight from the socket. */
  frames(decoder: FrameDecoder, options: ReadOptions = {}): AsyncIterableIterator<Buffer> {
    return this.#attach(
      'frames',
      (port) => new FrameIterator(decoder, port, { highWaterMark: this.#hwm, signal: options.signal }),
    );
  }

  /** consumeFrames is Conn.consumeFrames: a FrameConsumer fed straight from the socket. */
  consumeFrames(
    decoder: FrameDecoder,
    onFrame: (frame: Buffer) => void,
    options: ReadOptions = {},
  ): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#attach(
        'consumeFrames',
        (port) =>
          new FrameConsumer(decoder, onFrame, port, {
            socket: this.#socket,
            resolve,
            reject,
            signal: options.signal,
          }),
      );
    });
  }

  #attach<S extends ChunkSink>(what: string, make: (port: SinkPort) => S): S {
    if (this.#sink) {
      throw new InvalidArgumentError(
        what,
        'this connection is already read by frames() or consumeFrames(); finish that first',
      );
    }
    let detached = false;
    let sink: S | undefined;
    const port: SinkPort = {
      pause: () => this.#socket.pause(),
      resume: () => {
        if (!this.#paused) this.#socket.resume();
      },
      detach: () => {
        detached = true;
        if (sink !== undefined && this.#sink === sink) this.#sink = null;
      },
      expiredError: () => this.#host.expired(),
    };
    sink = make(port);
    // Bytes that arrived before the loop began come first.
    while (this.#queued > 0 && !detached) sink.chunk(this.#shift());
    const stopped = this.#host.stopped();
    if (stopped === null) sink.end();
    else if (stopped !== undefined) sink.fail(stopped);
    if (!detached) this.#sink = sink;
    return sink;
  }

  #shift(): Buffer {
    const chunk = this.#chunks.shift()!;
    this.#queued -= chunk.length;
    if (this.#paused && this.#queued < this.#hwm / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
    return chunk;
  }

  #unshift(chunk: Buffer): void {
    this.#chunks.unshift(chunk);
    this.#queued += chunk.length;
  }
}

function decodeLine(line: Buffer, max: number): string {
  let end = line.length;
  if (end > 0 && line[end - 1] === CR) end--;
  if (end > max) throw tooLong(end, max);
  return line.toString('utf8', 0, end);
}

function tooLong(size: number, max: number): FrameError {
  return new FrameError(
    'NETKIT_FRAME_TOO_LARGE',
    `line of ${size}+ bytes exceeds maxBytes (${max}); raise the limit or check the peer's framing`,
    { limit: max, size },
  );
}
