import type { Socket } from 'node:net';
import type { NetkitError } from '../errors.js';
import type { FrameDecoder } from '../framing/types.js';
import { resetSocket } from '../internal/reset.js';
import { Deadline, toEpochMs } from './deadline.js';
import { type Endpoint, endpoint, unixEndpoint } from './endpoint.js';
import { applyKeepAlive, type KeepAliveOptions } from './keepalive.js';
import { ReadBuffer, type ReadOptions } from './read-buffer.js';
import { asNetkitError, closedError, timeoutError } from './socket-errors.js';

export type { ReadOptions } from './read-buffer.js';

/** PeerClose says how the peer ended its side: `fin` (orderly), `rst` (reset), or null (not yet / we closed). */
export type PeerClose = 'fin' | 'rst' | null;

/** ConnSummary is what a finished connection reports, for logs and tests. */
export interface ConnSummary {
  /** localAddr is this end's address; undefined when Node reported none. */
  readonly localAddr: Endpoint | undefined;
  /** remoteAddr is the peer's address (the real client's, after a trusted PROXY header). */
  readonly remoteAddr: Endpoint | undefined;
  /** bytesRead counts bytes received from the peer. */
  readonly bytesRead: number;
  /** bytesWritten counts bytes handed to the kernel for the peer. */
  readonly bytesWritten: number;
  /** durationMs is the time from open to close. */
  readonly durationMs: number;
  /** peerClose says how the peer ended: FIN, RST, or null when this side closed first. */
  readonly peerClose: PeerClose;
  /** error is the failure that ended the connection, if any. */
  readonly error: NetkitError | undefined;
}

/** ConnOptions tunes a Conn. */
export interface ConnOptions {
  /** highWaterMark is how many unread bytes Conn buffers before pausing the socket. */
  highWaterMark?: number | undefined;
  /** unix names the ends of a Unix domain socket (Node reports no address for them). */
  unix?:
    | {
        /** local is this end's socket path (`@` when unnamed). */
        local: string;
        /** remote is the peer's socket path (`@` when unnamed). */
        remote: string;
      }
    | undefined;
}

const RESOLVED: Promise<void> = Promise.resolve();
const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

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
  /** localAddr is this end's address, read when the Conn was made; undefined when Node reported none. */
  readonly localAddr: Endpoint | undefined;
  /** remoteAddr is the peer's address: the real client's when a trusted PROXY header named one. */
  readonly remoteAddr: Endpoint | undefined;

  readonly #input: ReadBuffer;
  #error: NetkitError | undefined;
  #drainers: { resolve: () => void; reject: (e: Error) => void }[] = [];
  #writeShut = false;
  #peerClose: PeerClose = null;
  #localClose = false;
  readonly #openedAt = monotonicMs();
  readonly #closed: Promise<ConnSummary>;
  readonly #readDeadline = new Deadline(() => this.#input.fail(this.#timeout('read')));
  readonly #writeDeadline = new Deadline(() => this.#settleDrainers(this.#timeout('write')));

  /** Conn wraps a connected socket; dial() and listeners create these for you. */
  constructor(socket: Socket, options: ConnOptions = {}) {
    this.socket = socket;
    if (options.unix !== undefined) {
      this.localAddr = unixEndpoint(options.unix.local);
      this.remoteAddr = unixEndpoint(options.unix.remote);
    } else {
      this.localAddr = endpoint(socket.localAddress, socket.localPort);
      this.remoteAddr = endpoint(socket.remoteAddress, socket.remotePort);
    }
    this.#input = new ReadBuffer(socket, options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, {
      stopped: () => this.#readStopped(),
      expired: () => (this.#readDeadline.expired ? this.#timeout('read') : undefined),
    });
    socket.on('data', (chunk: Buffer) => this.#input.push(chunk));
    socket.on('end', () => this.#onEnd());
    socket.on('error', (err: NodeJS.ErrnoException) => this.#onError(err));
    socket.on('drain', () => this.#settleDrainers());
    this.#closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#readDeadline.clear();
        this.#writeDeadline.clear();
        // Built only for someone to hand it to: an Error captures a stack, and a server that
        // closes thousands of connections a second would build one per connection for nobody.
        if (this.#input.waiting || this.#drainers.length > 0) {
          const err = this.#error ?? this.#closedError('read');
          this.#input.fail(err);
          this.#settleDrainers(err);
        }
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
      durationMs: monotonicMs() - this.#openedAt,
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
    return this.#input.read(options);
  }

  /**
   * readLine reads one `\n`-terminated line and resolves with it as a string,
   * without the `\n` or a `\r` before it; null at end of stream. A final line
   * without `\n` is returned as is (Go's bufio.Scanner does the same). A line
   * longer than maxBytes rejects with NETKIT_FRAME_TOO_LARGE.
   */
  readLine(options: ReadOptions & { maxBytes?: number } = {}): Promise<string | null> {
    return this.#input.readLine(options);
  }

  /**
   * readFull reads exactly n bytes (Go's io.ReadFull). If the stream ends
   * first it rejects with NETKIT_FRAME_TRUNCATED; the bytes read are lost.
   */
  readFull(n: number, options?: ReadOptions): Promise<Buffer> {
    return this.#input.readFull(n, options);
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
    return this.#input.frames(decoder, options);
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
    return this.#input.consumeFrames(decoder, onFrame, options);
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
    resetSocket(this.socket);
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

  /**
   * [Symbol.asyncDispose] closes the connection gracefully, so `await using conn = await dial(…)` closes it
   * at scope exit.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onEnd(): void {
    if (this.#peerClose === null) this.#peerClose = 'fin';
    this.#input.end();
  }

  #onError(err: NodeJS.ErrnoException): void {
    if (err.code === 'ECONNRESET' || err.code === 'EPIPE') this.#peerClose = 'rst';
    if (!this.#error) this.#error = asNetkitError(err, this.remoteAddr?.address);
    this.#input.fail(this.#error);
    this.#settleDrainers(this.#error);
  }

  /** #settleDrainers lets writes waiting for 'drain' go on, or fails them with `err`. */
  #settleDrainers(err?: Error): void {
    const drainers = this.#drainers;
    this.#drainers = [];
    for (const d of drainers) {
      if (err) d.reject(err);
      else d.resolve();
    }
  }

  /** #readStopped is ReadHost.stopped, in Go's order: error, then EOF, then local close, then deadline. */
  #readStopped(): Error | null | undefined {
    if (this.#error) return this.#error;
    if (this.#input.ended) return null;
    if (this.#localClose || this.socket.destroyed) return this.#closedError('read');
    if (this.#readDeadline.expired) return this.#timeout('read');
    return undefined;
  }

  #timeout(op: 'read' | 'write'): Error {
    return timeoutError(op, this.remoteAddr?.address);
  }

  #closedError(op: string): Error {
    return closedError(op, this.remoteAddr?.address);
  }
}

/**
 * monotonicMs is a monotonic clock in milliseconds. It reads process.hrtime
 * rather than performance.now(): node:perf_hooks loads ten internal modules,
 * which every `netkit tcp connect` paid at start-up for two readings.
 */
function monotonicMs(): number {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}
