import type { HttpServer } from '../../http/server/serve.js';
import { CLOSE, type Sendable } from '../message.js';
import type { ResolvedWsOptions } from './options.js';
import type { WsPeer } from './peer.js';
import type { Rooms } from './rooms.js';

/**
 * WsServer is a running serveWs() server. close() shuts it down
 * gracefully: it stops accepting, sends every peer a close frame (1001,
 * going away), waits up to `closeTimeout` for the closing handshakes, then
 * terminates whoever is left and disconnects the bus.
 */
export class WsServer implements AsyncDisposable {
  /** address is the bound address in Go's form (`127.0.0.1:8080`). */
  readonly address: string;
  /** url is the WebSocket endpoint, `ws://address/path` (`wss://` with TLS; `ws://unix:/socket:/path` for a Unix socket). */
  readonly url: string;
  /** pageUrl is the browser page's URL when the page is served. */
  readonly pageUrl: string | undefined;
  readonly #http: HttpServer;
  readonly #peers: Set<WsPeer>;
  readonly #rooms: Rooms;
  readonly #closeTimeout: number;
  readonly #onClose: (() => void)[] = [];
  #closing: Promise<void> | undefined;

  constructor(http: HttpServer, peers: Set<WsPeer>, rooms: Rooms, opts: ResolvedWsOptions) {
    this.#http = http;
    this.#peers = peers;
    this.#rooms = rooms;
    this.#closeTimeout = opts.closeTimeout;
    this.address = http.address;
    // The HTTP server's URL knows TLS and Unix sockets: `https://a/` becomes `wss://a/path`.
    this.url = `${http.url.replace(/^http/, 'ws').slice(0, -1)}${opts.path}`;
    this.pageUrl = opts.page ? http.url : undefined;
  }

  /** connections is the number of open WebSocket connections. */
  get connections(): number {
    return this.#peers.size;
  }

  /** peers are the open connections. */
  get peers(): Iterable<WsPeer> {
    return this.#peers.values();
  }

  /** closed is true once close() was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** broadcast sends a message to a room (broadcast mode), here and through the bus; returns local receivers. */
  broadcast(room: string, data: Sendable, options: { binary?: boolean } = {}): number {
    const buf =
      typeof data === 'string' ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.length);
    return this.#rooms.publish(room, buf, options.binary ?? typeof data !== 'string');
  }

  /** onClose registers cleanup run when close() starts. */
  onClose(fn: () => void): void {
    this.#onClose.push(fn);
  }

  /** close shuts down gracefully; resolves once every connection is gone. Idempotent. */
  close(code: number = CLOSE.GOING_AWAY, reason = 'server shutting down'): Promise<void> {
    this.#closing ??= (async () => {
      for (const fn of this.#onClose) fn();
      const httpClosed = this.#http.close();
      const gone = [...this.#peers].map((p) => {
        p.close(code, reason);
        return p.closed;
      });
      let force: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(gone),
        new Promise<void>((resolve) => {
          force = setTimeout(resolve, this.#closeTimeout);
        }),
      ]);
      clearTimeout(force);
      for (const p of this.#peers) p.terminate();
      await Promise.all([httpClosed, this.#rooms.close()]);
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
