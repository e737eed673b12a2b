import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  AbortError,
  ConnectionError,
  FrameError,
  InvalidArgumentError,
  type NetkitError,
  TimeoutError,
} from '../errors.js';
import type { FrameDecoder } from '../framing/types.js';
import { Deadline, toEpochMs } from './deadline.js';
import { type Endpoint, endpoint } from './endpoint.js';
import { FrameConsumer } from './frame-consumer.js';
import { type ChunkSink, FrameIterator, type SinkPort } from './frame-iterator.js';
import { applyKeepAlive, type KeepAliveOptions } from './keepalive.js';

/** PeerClose says how the peer ended its side: `fin` (orderly), `rst` (reset), or null (not yet / we closed). */
export type PeerClose = 'fin' | 'rst' | null;

/** ConnSummary is what a finished connection reports, for logs and tests. */
export interface ConnSummary {
  readonly localAddr: Endpoint | undefined;
  readonly remoteAddr: Endpoint | undefined;
  readonly bytesRead: number;
  readonly bytesWritten: number;
  readonly durationMs: number;
  readonly peerClose: PeerClose;
  /** error is the failure that ended the connection, if any. */
  readonly error: NetkitError | undefined;
}

/** ReadOptions lets one read be cancelled. */
export interface ReadOptions {
  signal?: AbortSignal;
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;
const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Conn is a TCP connection in Go's model: explicit reads that wait for data,
 * writes that wait while the kernel buffer is full (backpressure), half-close
 * with closeWrite(), and deadlines. It is safe to read and write
 * concurrently; reads complete in the order they were made.
 *
 * The socket always has an 'error' listener, so a peer reset never crashes
 * the process; it surfaces as NETKIT_CONNECTION_RESET from the next read or
 * write instead.
 */
export class Conn implements AsyncIterable<Buffer>, AsyncDisposable {
  /** socket is the underlying Node socket, for options netkit does not wrap. */
  readonly socket: Socket;
  readonly localAddr: Endpoint | undefined;
  readonly remoteAddr: Endpoint | undefined;

  #chunks: Buffer[] = [];
  #queued = 0;
  #eof = false;
  #error: NetkitError | undefined;
  #readers: Waiter<Buffer | null>[] = [];
  #sink: ChunkSink | null = null;
  #drainers: Waiter<void>[] = [];
  #paused = false;
  #writeShut = false;
  #peerClose: PeerClose = null;
  #localClose = false;
  readonly #hwm: number;
  readonly #openedAt = performance.now();
  readonly #closed: Promise<ConnSummary>;
  readonly #readDeadline = new Deadline(() => this.#expire('read'));
  readonly #writeDeadline = new Deadline(() => this.#expire('write'));

  /** Conn wraps a connected socket; dial() and listeners create these for you. */
  constructor(socket: Socket, options: { highWaterMark?: number } = {}) {
    this.socket = socket;
    this.#hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.localAddr = endpoint(socket.localAddress, socket.localPort);
    this.remoteAddr = endpoint(socket.remoteAddress, socket.remotePort);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => this.#onError(err));
    socket.on('drain', () => this.#settleDrainers());
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#readDeadline.clear();
        this.#writeDeadline.clear();
        this.#sink?.fail(this.#error ?? this.#closedError('read'));
        this.#settleAll(this.#error ?? this.#closedError('read'));
        resolve(this.summary());
      });
    });
    if (socket.isPaused()) socket.resume();
  }

  /** peerClose is how the peer ended: 'fin', 'rst', or null while it has not. */
  get peerClose(): PeerClose {
    return this.#peerClose;
  }

  /** bytesRead counts bytes received from the peer. */
  get bytesRead(): number {
    return this.socket.bytesRead;
  }

  /** bytesWritten counts bytes handed to the kernel (or queued for it). */
  get bytesWritten(): number {
    return this.socket.bytesWritten;
  }

  /** closed resolves with the connection's summary once the socket is fully closed. */
  get closed(): Promise<ConnSummary> {
    return this.#closed;
  }

  /** summary reports the connection's state now (see ConnSummary). */
  summary(): ConnSummary {
    return {
      localAddr: this.localAddr,
      remoteAddr: this.remoteAddr,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten,
      durationMs: performance.now() - this.#openedAt,
      peerClose: this.#peerClose,
      error: this.#error,
    };
  }

  /**
   * read waits for the next chunk of bytes and resolves with it, or with null
   * once the peer has sent FIN and everything before it was read. Rejects with
   * NETKIT_TIMEOUT past the read deadline, NETKIT_CONNECTION_RESET after a
   * reset, NETKIT_ABORTED when `signal` aborts.
   */
  read(options?: ReadOptions): Promise<Buffer | null> {
    if (this.#queued > 0) return Promise.resolve(this.#shift());
    if (this.#error) return Promise.reject(this.#error);
    if (this.#eof) return Promise.resolve(null);
    if (this.#localClose || this.socket.destroyed) return Promise.reject(this.#closedError('read'));
    if (this.#readDeadline.expired) return Promise.reject(this.#timeout('read'));
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('read', signal.reason));
    return new Promise((resolve, reject) => {
      const waiter: Waiter<Buffer | null> = { resolve, reject };
      if (signal) {
        const onAbort = () => {
          const i = this.#readers.indexOf(waiter);
          if (i >= 0) this.#readers.splice(i, 1);
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

  /**
   * readLine reads one `\n`-terminated line and resolves with it as a string,
   * without the `\n` or a `\r` before it; null at end of stream. A final line
   * without `\n` is returned as is (Go's bufio.Scanner does the same). A line
   * longer than maxBytes rejects with NETKIT_FRAME_TOO_LARGE.
   */
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

  /**
   * readFull reads exactly n bytes (Go's io.ReadFull). If the stream ends
   * first it rejects with NETKIT_FRAME_TRUNCATED; the bytes read are lost.
   */
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

  /**
   * frames reads the connection through `decoder` and yields one Buffer per
   * frame, for `for await`. Frames may share memory with the received chunks.
   * A decoder error (oversize, truncated), a reset, or the read deadline is
   * thrown from the loop after the frames decoded before it; the caller then
   * closes. One frames() loop at a time; leaving it early hands later bytes
   * back to read().
   */
  frames(decoder: FrameDecoder, options: ReadOptions = {}): AsyncIterableIterator<Buffer> {
    return this.#attach(
      'frames',
      (port) => new FrameIterator(decoder, port, { highWaterMark: this.#hwm, signal: options.signal }),
    );
  }

  /**
   * consumeFrames decodes the connection through `decoder` and calls
   * `onFrame` synchronously for each frame as bytes arrive; it resolves after
   * the last frame once the peer sent FIN, and rejects like frames() throws.
   * This is the fastest way to serve requests: answer with send() inside
   * `onFrame`. If answers pile up unread by the peer, reading pauses until
   * they drain. An exception from `onFrame` ends it with that error.
   */
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
            socket: this.socket,
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
      pause: () => this.socket.pause(),
      resume: () => {
        if (!this.#paused) this.socket.resume();
      },
      detach: () => {
        detached = true;
        if (sink !== undefined && this.#sink === sink) this.#sink = null;
      },
      expiredError: () => (this.#readDeadline.expired ? this.#timeout('read') : undefined),
    };
    sink = make(port);
    // Bytes that arrived before the loop began come first.
    while (this.#queued > 0 && !detached) sink.chunk(this.#shift());
    if (this.#error) sink.fail(this.#error);
    else if (this.#eof) sink.end();
    else if (this.#localClose || this.socket.destroyed) sink.fail(this.#closedError('read'));
    else {
      const expired = port.expiredError();
      if (expired) sink.fail(expired);
    }
    if (!detached) this.#sink = sink;
    return sink;
  }

  /** Conn is async-iterable over its raw chunks, ending at the peer's FIN. */
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const chunk = await this.read();
      if (chunk === null) return;
      yield chunk;
    }
  }

  /**
   * write sends data and resolves once the socket can take more: at once when
   * the kernel accepted it, else at the next 'drain'. Awaiting it is how a
   * writer honours backpressure. Rejects past the write deadline, after
   * closeWrite() or close(), or when the peer reset the connection.
   */
  write(data: string | Uint8Array): Promise<void> {
    if (this.#error) return Promise.reject(this.#error);
    if (this.#writeShut || this.socket.destroyed) return Promise.reject(this.#closedError('write'));
    if (this.#writeDeadline.expired) return Promise.reject(this.#timeout('write'));
    if (this.socket.write(data)) return RESOLVED;
    return new Promise((resolve, reject) => this.#drainers.push({ resolve, reject }));
  }

  /**
   * send writes without waiting, for synchronous code such as a
   * consumeFrames() callback: it returns false once the socket's buffer is
   * full (as Node's socket.write does) or when the connection can no longer
   * be written; it never throws or rejects. Failures show on the read side.
   */
  send(data: string | Uint8Array): boolean {
    if (this.#error || this.#writeShut || this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  /**
   * closeWrite half-closes: it flushes pending writes and sends FIN, while
   * reads go on until the peer closes its side (Go's TCPConn.CloseWrite).
   */
  closeWrite(): Promise<void> {
    if (this.#writeShut || this.socket.destroyed) return RESOLVED;
    this.#writeShut = true;
    return new Promise((resolve) => {
      this.socket.end(() => resolve());
      this.socket.once('close', () => resolve());
    });
  }

  /**
   * close ends the connection in both directions: pending writes are flushed
   * and FIN is sent, then the socket is destroyed; if the peer does not take
   * the remaining bytes within `lingerMs`, it is destroyed anyway. Resolves
   * once closed. Unread bytes are discarded (the kernel may answer them with RST, as in Go).
   */
  close(options: { lingerMs?: number } = {}): Promise<ConnSummary> {
    if (!this.socket.destroyed) {
      this.#localClose = true;
      this.#writeShut = true;
      const timer = setTimeout(() => this.socket.destroy(), options.lingerMs ?? 5000);
      timer.unref();
      this.socket.once('close', () => clearTimeout(timer));
      this.socket.end(() => this.socket.destroy());
    }
    return this.#closed;
  }

  /** destroy closes the socket now, discarding anything not yet written. */
  destroy(err?: Error): void {
    this.#localClose = true;
    if (err && !this.#error) this.#error = asNetkitError(err, this.remoteAddr?.address);
    this.socket.destroy();
  }

  /** reset closes the socket now and sends RST instead of FIN (SO_LINGER 0). */
  reset(): void {
    this.#localClose = true;
    if (!this.socket.destroyed) this.socket.resetAndDestroy();
  }

  /** setDeadline sets both read and write deadlines; see setReadDeadline. */
  setDeadline(t: Date | number | null): void {
    this.setReadDeadline(t);
    this.setWriteDeadline(t);
  }

  /**
   * setReadDeadline sets an absolute time (Date or epoch ms; null for none)
   * after which pending and future reads fail with NETKIT_TIMEOUT. Moving it
   * later makes reads work again; buffered data is kept (Go's semantics).
   */
  setReadDeadline(t: Date | number | null): void {
    this.#readDeadline.set(toEpochMs(t));
  }

  /** setWriteDeadline is setReadDeadline for writes waiting on backpressure. */
  setWriteDeadline(t: Date | number | null): void {
    this.#writeDeadline.set(toEpochMs(t));
  }

  /** setNoDelay turns Nagle's algorithm off (true, the default in Go and here) or on. */
  setNoDelay(noDelay = true): void {
    this.socket.setNoDelay(noDelay);
  }

  /** setKeepAlive configures TCP keep-alive probes; see KeepAliveOptions. */
  setKeepAlive(options: KeepAliveOptions): Promise<void> {
    return applyKeepAlive(this.socket, options);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onData(chunk: Buffer): void {
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
      this.socket.pause();
    }
  }

  #shift(): Buffer {
    const chunk = this.#chunks.shift()!;
    this.#queued -= chunk.length;
    if (this.#paused && this.#queued < this.#hwm / 2) {
      this.#paused = false;
      this.socket.resume();
    }
    return chunk;
  }

  #unshift(chunk: Buffer): void {
    this.#chunks.unshift(chunk);
    this.#queued += chunk.length;
  }

  #onEnd(): void {
    this.#eof = true;
    if (this.#peerClose === null) this.#peerClose = 'fin';
    this.#sink?.end();
    const readers = this.#readers;
    this.#readers = [];
    for (const r of readers) r.resolve(null);
  }

  #onError(err: NodeJS.ErrnoException): void {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.#peerClose = 'rst';
    if (!this.#error) this.#error = asNetkitError(err, this.remoteAddr?.address);
    this.#sink?.fail(this.#error);
    this.#settleAll(this.#error);
  }

  #settleDrainers(): void {
    const drainers = this.#drainers;
    this.#drainers = [];
    for (const d of drainers) d.resolve();
  }

  #settleAll(err: Error): void {
    const readers = this.#readers;
    const drainers = this.#drainers;
    this.#readers = [];
    this.#drainers = [];
    for (const r of readers) {
      if (this.#eof && !this.#error) r.resolve(null);
      else r.reject(err);
    }
    for (const d of drainers) d.reject(err);
  }

  #expire(op: 'read' | 'write'): void {
    const err = this.#timeout(op);
    if (op === 'read') this.#sink?.fail(err);
    const waiters = op === 'read' ? this.#readers : this.#drainers;
    if (op === 'read') this.#readers = [];
    else this.#drainers = [];
    for (const w of waiters) w.reject(err);
  }

  #timeout(op: 'read' | 'write'): TimeoutError {
    return new TimeoutError(
      'NETKIT_TIMEOUT',
      op,
      `${op} ${this.remoteAddr?.address ?? ''}: i/o timeout`.trim(),
    );
  }

  #closedError(op: string): ConnectionError {
    return new ConnectionError(
      'NETKIT_CONNECTION_CLOSED',
      `${op} ${this.remoteAddr?.address ?? ''}: use of closed network connection`,
      this.remoteAddr?.address,
    );
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

/** asNetkitError maps a socket error to netkit's codes, keeping the original as `cause`. */
export function asNetkitError(err: Error, address?: string): NetkitError {
  if ('code' in err && typeof err.code === 'string' && err.code.startsWith('NETKIT_')) {
    return err as NetkitError;
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || code === 'EPIPE') {
    return new ConnectionError(
      'NETKIT_CONNECTION_RESET',
      `${address ?? 'peer'}: connection reset by peer`,
      address,
      { cause: err },
    );
  }
  return new ConnectionError(
    'NETKIT_CONNECTION_CLOSED',
    `${address ?? 'connection'}: ${err.message}`,
    address,
    {
      cause: err,
    },
  );
}
