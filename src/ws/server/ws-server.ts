import type { HttpServer } from '../../http/server/serve.js';
import type { Listener } from '../../tcp/listener.js';
import { CLOSE, type Sendable } from '../message.js';
import type { ResolvedWsOptions } from './options.js';
import type { WsPeer } from './peer.js';
import type { Rooms } from './rooms.js';

/**
 * WsServer is a running serveWs() server. close() shuts it down
 * gracefully: it stops accepting, sends every peer a close frame (1001,
 * going away), waits up to `shutdownTimeout` for the closing handshakes, then
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
  readonly #shutdownTimeout: number;
  readonly #onClose: (() => void)[] = [];
  #closing: Promise<void> | undefined;

  constructor(http: HttpServer, peers: Set<WsPeer>, rooms: Rooms, opts: ResolvedWsOptions) {
    this.#http = http;
    this.#peers = peers;
    this.#rooms = rooms;
    this.#shutdownTimeout = opts.shutdownTimeout;
    this.address = http.address;
    // The HTTP server's URL knows TLS and Unix sockets: `https://a/` becomes `wss://a/path`.
    this.url = `${http.url.replace(/^http/, 'ws').slice(0, -1)}${opts.path}`;
    this.pageUrl = opts.page ? http.url : undefined;
  }

  /** listener is where connections come from (its `tls` tells the certificate's fingerprint). */
  get listener(): Listener {
    return this.#http.listener;
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
          force = setTimeout(resolve, this.#shutdownTimeout);
        }),
      ]);
      clearTimeout(force);
      for (const p of this.#peers) p.terminate();
      await Promise.all([httpClosed, this.#rooms.close()]);
    })();
    return this.#closing;
  }

  /** destroy ends every connection now, without closing handshakes, and disconnects the bus. */
  destroy(): void {
    this.#closing ??= Promise.resolve();
    for (const fn of this.#onClose.splice(0)) fn();
    for (const p of this.#peers) p.terminate();
    this.#http.destroy();
    void this.#rooms.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
