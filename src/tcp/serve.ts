import { EventEmitter } from 'node:events';
import { TimeoutError } from '../errors.js';
import { checkInt, checkMs, checkSignal } from '../internal/validate.js';
import type { Conn, ConnSummary } from './conn.js';
import type { Endpoint } from './endpoint.js';
import type { Listener } from './listen.js';

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
  /** shutdownTimeout is how long shutdown() waits for handlers before destroying connections. */
  shutdownTimeout?: number;
  /** signal starts a graceful shutdown when aborted. */
  signal?: AbortSignal;
}

interface Tracked {
  done: Promise<void>;
  /** activity is bytes read plus written at the last sweep that saw them change. */
  activity: number;
  seen: number;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** SERVE_DEFAULTS are serve()'s defaults. */
export const SERVE_DEFAULTS = Object.freeze({
  maxConnections: 10_000,
  idleTimeout: 0,
  shutdownTimeout: 10_000,
});

/** ServerEvents are what a Server emits, for logging and metrics. */
export interface ServerEvents {
  open: [conn: Conn];
  close: [conn: Conn, summary: ConnSummary];
  refuse: [remote: Endpoint | undefined, reason: 'max-connections'];
  handlerError: [err: Error, conn: Conn];
}

/**
 * Server runs a handler per connection accepted from a Listener, with a
 * connection cap, an idle timeout, and graceful shutdown. Create it with
 * serve(). Events: `open`, `close` (with the summary: bytes, FIN or RST,
 * duration), `refuse`, `handlerError`.
 */
export class Server extends EventEmitter<ServerEvents> {
  readonly listener: Listener;
  readonly #handler: Handler;
  readonly #max: number;
  readonly #idle: number;
  readonly #shutdownTimeout: number;
  readonly #active = new Map<Conn, Tracked>();
  #sweeper: NodeJS.Timeout | undefined;
  readonly #shutdown = new AbortController();
  readonly #done: Promise<void>;
  #forced = false;

  constructor(listener: Listener, handler: Handler, options: ServeOptions = {}) {
    super();
    this.listener = listener;
    this.#handler = handler;
    this.#max = checkInt(
      'maxConnections',
      options.maxConnections ?? SERVE_DEFAULTS.maxConnections,
      1,
      1_000_000,
    );
    this.#idle = checkMs('idleTimeout', options.idleTimeout ?? SERVE_DEFAULTS.idleTimeout);
    this.#shutdownTimeout = checkMs(
      'shutdownTimeout',
      options.shutdownTimeout ?? SERVE_DEFAULTS.shutdownTimeout,
    );
    const signal = checkSignal(options.signal);
    signal?.addEventListener('abort', () => void this.shutdown(), { once: true });
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

  /**
   * shutdown stops accepting, tells handlers to finish (their ctx.signal
   * aborts), waits up to `timeout` ms for them, then destroys what is left.
   * Resolves when everything is closed.
   */
  async shutdown(options: { timeout?: number } = {}): Promise<void> {
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

  /** destroy closes the listener and every connection now. */
  destroy(): void {
    this.#forced = true;
    if (!this.#shutdown.signal.aborted) this.#shutdown.abort();
    void this.listener.close();
    for (const conn of this.#active.keys()) conn.destroy();
  }

  async #acceptLoop(): Promise<void> {
    for await (const conn of this.listener) {
      if (this.#active.size >= this.#max || this.#forced) {
        // Refuse quickly with RST so the client fails fast instead of hanging in a queue.
        this.emit('refuse', conn.remoteAddr, 'max-connections');
        conn.reset();
        continue;
      }
      const tracked: Tracked = { done: RESOLVED, activity: 0, seen: Date.now() };
      this.#active.set(conn, tracked);
      tracked.done = this.#run(conn);
      if (this.#idle > 0 && this.#sweeper === undefined) this.#startSweeper();
    }
    await Promise.all([...this.#active.values()].map((t) => t.done));
    clearInterval(this.#sweeper);
  }

  /**
   * The idle timeout is enforced by one sweep over all connections, a few
   * times per timeout, comparing byte counters: a per-socket timer would be
   * re-armed on every read and write, a cost paid on every message.
   */
  #startSweeper(): void {
    const every = Math.min(Math.max(this.#idle / 4, 25), 1000);
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      for (const [conn, t] of this.#active) {
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
    this.emit('close', conn, summary);
  }
}

/**
 * serve runs `handler` for every connection `listener` accepts and returns
 * the Server at once; await `server.done` or call `server.shutdown()`.
 */
export function serve(listener: Listener, handler: Handler, options: ServeOptions = {}): Server {
  return new Server(listener, handler, options);
}
