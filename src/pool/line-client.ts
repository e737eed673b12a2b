import { ConnectionError } from '../errors.js';
import type { Conn } from '../tcp/index.js';
import type { Pool } from './pool.js';
import { createTcpPool, type TcpPoolOptions } from './tcp.js';

/** LineRequestOptions bound one request. */
export interface LineRequestOptions {
  /** signal cancels this request; it then rejects with `AbortError`. */
  signal?: AbortSignal;
  /** timeout covers waiting for a connection and for the reply line. Default 30 s. */
  timeout?: number;
}

/**
 * LineClient speaks the classic line protocol — write a line, read the reply
 * line — over pooled connections, so many concurrent requests share a few
 * sockets. Give it an address (it then owns a pool of `pool.max`, 4 by
 * default) or a Pool<Conn> of your own.
 */
export class LineClient implements AsyncDisposable {
  /** pool is where connections come from: the one given, or the one this client made. */
  readonly pool: Pool<Conn>;
  readonly #owned: boolean;
  readonly #maxLineBytes: number;

  constructor(target: string | Pool<Conn>, options: { pool?: TcpPoolOptions; maxLineBytes?: number } = {}) {
    this.#owned = typeof target === 'string';
    this.pool = typeof target === 'string' ? createTcpPool(target, { max: 4, ...options.pool }) : target;
    this.#maxLineBytes = options.maxLineBytes ?? 1024 * 1024;
  }

  /**
   * request sends `line` and resolves with the reply line. A connection that
   * fails mid-request is destroyed, never reused; the error is the
   * connection's (NETKIT_CONNECTION_RESET, NETKIT_TIMEOUT, …).
   */
  request(line: string, options: LineRequestOptions = {}): Promise<string> {
    const timeout = options.timeout ?? 30_000;
    const deadline = timeout > 0 ? Date.now() + timeout : null;
    const acquire = { ...(options.signal ? { signal: options.signal } : {}), timeout };
    return this.pool.use(async (conn) => {
      conn.setReadDeadline(deadline);
      await conn.write(`${line}\n`);
      const reply = await conn.readLine({
        ...(options.signal ? { signal: options.signal } : {}),
        maxBytes: this.#maxLineBytes,
      });
      if (reply === null) {
        throw new ConnectionError(
          'NETKIT_CONNECTION_CLOSED',
          'line client: the server closed the connection without replying',
        );
      }
      conn.setReadDeadline(null);
      return reply;
    }, acquire);
  }

  /** close drains the pool when this client made it. */
  async close(): Promise<void> {
    if (this.#owned) await this.pool.drain();
  }

  /** [Symbol.asyncDispose] runs close(), so `await using` drains an owned pool at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
