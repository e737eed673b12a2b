import { EventEmitter, setMaxListeners } from 'node:events';
import { TimeoutError } from '../errors.js';
import { SilentConnections, spokenBytes } from '../internal/silent.js';
import { checkInt, checkMs, checkSignal } from '../internal/validate.js';
import type { Conn, ConnSummary } from './conn.js';
import type { Endpoint } from './endpoint.js';
import type { Listener } from './listener.js';

/** HandlerContext is handed to each connection handler. */
export interface HandlerContext {
  /** signal aborts when graceful shutdown starts: finish the current request, then return. */
  readonly signal: AbortSignal;
}

/** Handler serves one connection; when it returns the connection is closed, when it throws it is destroyed. */
export type Handler = (conn: Conn, ctx: HandlerContext) => Promise<void> | void;

/** ServeOptions tunes serve(). Durations are milliseconds; 0 means none. */
export interface ServeOptions {
  /** maxConnections caps concurrent connections; past it new ones are reset at once. */
  maxConnections?: number;
  /** idleTimeout destroys a connection with no traffic either way for this long (reaps half-open peers). */
  idleTimeout?: number;
  /**
   * firstByteTimeout destroys a connection that has sent nothing this long
   * after it was accepted, for protocols where the client speaks first. It
   * also keeps such silent connections from locking real clients out: at
   * maxConnections, the oldest connection that has not sent a byte yet is
   * closed to admit the new one. 0 (the default) leaves silent clients alone.
   */
  firstByteTimeout?: number;
  /** shutdownTimeout is how long close() waits for handlers before destroying connections. */
  shutdownTimeout?: number;
  /** signal starts a graceful shutdown when aborted. */
  signal?: AbortSignal;
}

interface Tracked {
  done: Promise<void>;
  /** accepted is when the connection was accepted (Date.now()). */
  accepted: number;
  /** activity is bytes read plus written at the last sweep that saw them change. */
  activity: number;
  seen: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** SERVE_DEFAULTS are serve()'s defaults. */
export const SERVE_DEFAULTS = Object.freeze({
  /** Beyond it a new connection is reset (or a silent one evicted, with firstByteTimeout). */
  maxConnections: 10_000,
  /** 0: an idle connection is never closed for being idle. */
  idleTimeout: 0,
  /** 0: a client may connect and stay silent. */
  firstByteTimeout: 0,
  /** Handlers get 10 s to finish after shutdown() before their connections are destroyed. */
  shutdownTimeout: 10_000,
});

/** ServerEvents are what a Server emits, for logging and metrics. */
export interface ServerEvents {
  /** open: a connection was accepted and its handler is starting. */
  open: [conn: Conn];
  /** close: a connection ended; the summary says how. */
  close: [conn: Conn, summary: ConnSummary];
  /** refuse: a connection was reset at once because maxConnections were open. */
  refuse: [remote: Endpoint | undefined, reason: 'max-connections'];
  /** evict: a silent connection was closed at maxConnections to admit a new one (firstByteTimeout set). */
  evict: [conn: Conn];
  /** handlerError: the handler threw or rejected; the connection is destroyed. */
  handlerError: [err: Error, conn: Conn];
}

/**
 * Server runs a handler per connection accepted from a Listener, with a
 * connection cap, idle and first-byte timeouts, and graceful shutdown.
 * Create it with serve(). Events: `open`, `close` (with the summary: bytes,
 * FIN or RST, duration), `refuse`, `evict`, `handlerError`.
 */
export class Server extends EventEmitter<ServerEvents> implements AsyncDisposable {
  /** listener is where connections come from; shutdown() closes it first. */
  readonly listener: Listener;
  readonly #handler: Handler;
  readonly #max: number;
  readonly #idle: number;
  readonly #firstByte: number;
  readonly #shutdownTimeout: number;
  readonly #active = new Map<Conn, Tracked>();
  /** silent tracks connections that have not spoken yet (firstByteTimeout only). */
  readonly #silent = new SilentConnections<Conn>((c) => c.socket);
  #sweeper: NodeJS.Timeout | undefined;
  readonly #shutdown = new AbortController();
  readonly #done: Promise<void>;
  #forced = false;

  constructor(listener: Listener, handler: Handler, options: ServeOptions = {}) {
    super();
    // Every live connection's handler listens on the shutdown signal and lets go when it ends:
    // Node's default of 10 would warn of a leak at the 11th connection.
    setMaxListeners(0, this.#shutdown.signal);
    this.listener = listener;
    this.#handler = handler;
    this.#max = checkInt(
      'maxConnections',
      options.maxConnections ?? SERVE_DEFAULTS.maxConnections,
      1,
      1_000_000,
    );
    this.#idle = checkMs('idleTimeout', options.idleTimeout ?? SERVE_DEFAULTS.idleTimeout);
    this.#firstByte = checkMs(
      'firstByteTimeout',
      options.firstByteTimeout ?? SERVE_DEFAULTS.firstByteTimeout,
    );
    this.#shutdownTimeout = checkMs(
      'shutdownTimeout',
      options.shutdownTimeout ?? SERVE_DEFAULTS.shutdownTimeout,
    );
    const signal = checkSignal(options.signal);
    signal?.addEventListener('abort', () => void this.close(), { once: true });
    this.#done = this.#acceptLoop();
  }

  /** connections is how many connections are being served now. */
  get connections(): number {
    return this.#active.size;
  }

  /** closing is true once shutdown has begun. */
  get closing(): boolean {
    return this.#shutdown.signal.aborted;
  }

  /** done resolves when the listener is closed and every connection has finished. */
  get done(): Promise<void> {
    return this.#done;
  }

  /** address is the bound address in Go's form (`127.0.0.1:8330`), or the Unix socket's path. */
  get address(): string {
    return this.listener.addr.address;
  }

  /**
   * close shuts down gracefully: it stops accepting, tells handlers to
   * finish (their ctx.signal aborts), waits up to `timeout` ms
   * (shutdownTimeout by default) for them, then destroys what is left.
   * Resolves when everything is closed.
   */
  async close(options: { timeout?: number } = {}): Promise<void> {
    const timeout = checkMs('timeout', options.timeout ?? this.#shutdownTimeout);
    if (!this.#shutdown.signal.aborted) {
      this.#shutdown.abort();
      await this.listener.close();
    }
    let timer: NodeJS.Timeout | undefined;
    // Past the timeout, connections are destroyed and shutdown returns once their sockets are closed,
    // even if a handler is still busy (Go's Shutdown returns when its context expires, too).
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        const closing = [...this.#active.keys()].map((c) => c.closed);
        this.destroy();
        void Promise.all(closing).then(() => resolve());
      }, timeout);
    });
    try {
      await Promise.race([this.#done, forced]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** [Symbol.asyncDispose] runs close(), so `await using server = serve(…)` stops at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** destroy closes the listener and every connection now. */
  destroy(): void {
    this.#forced = true;
    if (!this.#shutdown.signal.aborted) this.#shutdown.abort();
    void this.listener.close();
    for (const conn of this.#active.keys()) conn.destroy();
  }

  async #acceptLoop(): Promise<void> {
    for await (const conn of this.listener) {
      if (this.#forced || (this.#active.size >= this.#max && !this.#evictSilent())) {
        // Refuse quickly with RST so the client fails fast instead of hanging in a queue.
        this.emit('refuse', conn.remoteAddr, 'max-connections');
        conn.reset();
        continue;
      }
      const tracked: Tracked = { done: RESOLVED, accepted: Date.now(), activity: 0, seen: Date.now() };
      this.#active.set(conn, tracked);
      if (this.#firstByte > 0) this.#silent.add(conn);
      tracked.done = this.#run(conn);
      if ((this.#idle > 0 || this.#firstByte > 0) && this.#sweeper === undefined) this.#startSweeper();
    }
    await Promise.all([...this.#active.values()].map((t) => t.done));
    clearInterval(this.#sweeper);
  }

  /**
   * evictSilent closes the oldest connection that has not sent a byte (see
   * SilentConnections). The evicted connection still counts until its socket
   * is closed, so the server may briefly hold a few more than maxConnections.
   */
  #evictSilent(): boolean {
    const conn = this.#silent.takeOldest((c) => this.#active.has(c));
    if (conn === undefined) return false;
    this.emit('evict', conn);
    conn.destroy(
      new TimeoutError(
        'NETKIT_TIMEOUT',
        'first byte',
        `sent nothing while the server was full (${this.#max} connections); closed to admit a new one`,
        this.#firstByte,
      ),
    );
    return true;
  }

  /**
   * The idle and first-byte timeouts are enforced by one sweep over all
   * connections, a few times per timeout, comparing byte counters: a
   * per-socket timer would be re-armed on every read and write, a cost paid
   * on every message.
   */
  #startSweeper(): void {
    const shortest = Math.min(...[this.#idle, this.#firstByte].filter((ms) => ms > 0));
    const every = Math.min(Math.max(shortest / 4, 25), 1000);
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const [conn, t] of this.#active) {
        if (this.#firstByte > 0 && spokenBytes(conn.socket) === 0 && now - t.accepted >= this.#firstByte) {
          conn.destroy(
            new TimeoutError(
              'NETKIT_TIMEOUT',
              'first byte',
              `sent nothing for ${this.#firstByte} ms after connecting; connection closed`,
              this.#firstByte,
            ),
          );
          continue;
        }
        if (this.#idle === 0) continue;
        const activity = conn.bytesRead + conn.bytesWritten;
        if (activity !== t.activity) {
          t.activity = activity;
          t.seen = now;
        } else if (now - t.seen >= this.#idle) {
          conn.destroy(
            new TimeoutError(
              'NETKIT_TIMEOUT',
              'idle',
              `no traffic for ${this.#idle} ms; connection closed`,
              this.#idle,
            ),
          );
        }
      }
    }, every);
    this.#sweeper.unref();
  }

  async #run(conn: Conn): Promise<void> {
    this.emit('open', conn);
    try {
      await this.#handler(conn, { signal: this.#shutdown.signal });
      await conn.close();
    } catch (err) {
      this.emit('handlerError', err as Error, conn);
      conn.destroy(err as Error);
    }
    const summary = await conn.closed;
    this.#active.delete(conn);
    this.#silent.delete(conn);
    this.emit('close', conn, summary);
  }
}

/**
 * serve runs `handler` for every connection `listener` accepts and returns
 * the Server at once; await `server.done` or call `server.close()`.
 */
export function serve(listener: Listener, handler: Handler, options: ServeOptions = {}): Server {
  return new Server(listener, handler, options);
}
