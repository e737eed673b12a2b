import type { Listener } from '../../tcp/listener.js';
import { CLOSE, type Sendable } from '../message.js';
import type { ResolvedWsOptions } from './options.js';
import type { WsPeer } from './peer.js';
import type { Rooms } from './rooms.js';

/**
 * WsFront is where a WsServer's connections come from: the HTTP server
 * serveWs runs on its own listener, or the application's server that
 * attachWs mounts it on. close() stops it taking new connections.
 */
export interface WsFront {
  /** address is the bound address in Go's form, or '' while the server does not listen. */
  readonly address: string;
  /** url is `http://address/` (`https://` with TLS, `http://unix:/path:/` for a Unix socket), or ''. */
  readonly url: string;
  /** listener is the listener serveWs bound; undefined when attachWs mounted the server on the application's. */
  readonly listener: Listener | undefined;
  /** close stops taking new connections, and resolves once it has. */
  close(): Promise<void>;
  /** destroy stops taking new connections now. */
  destroy(): void;
}

/**
 * WsServer is a running serveWs() or attachWs() server. close() shuts it
 * down gracefully: it stops accepting, sends every peer a close frame
 * (1001, going away), waits up to `shutdownTimeout` for the closing
 * handshakes, then terminates whoever is left and disconnects the bus.
 * An attached server leaves the server it is attached to running.
 */
export class WsServer implements AsyncDisposable {
  readonly #front: WsFront;
  readonly #path: string;
  readonly #page: boolean;
  readonly #peers: Set<WsPeer>;
  readonly #rooms: Rooms;
  readonly #shutdownTimeout: number;
  readonly #onClose: (() => void)[] = [];
  readonly #onClosed: (() => void)[] = [];
  #closing: Promise<void> | undefined;

  /**
   * WsServer is made by serveWs() and attachWs(), which check its options.
   *
   * @internal
   */
  constructor(front: WsFront, peers: Set<WsPeer>, rooms: Rooms, opts: ResolvedWsOptions) {
    this.#front = front;
    this.#path = opts.path;
    this.#page = opts.page;
    this.#peers = peers;
    this.#rooms = rooms;
    this.#shutdownTimeout = opts.shutdownTimeout;
  }

  /**
   * address is the bound address in Go's form (`127.0.0.1:8080`). An
   * attached server reports the address of the server it is attached to,
   * '' while that one does not listen.
   */
  get address(): string {
    return this.#front.address;
  }

  /** url is the WebSocket endpoint, `ws://address/path` (`wss://` with TLS; `ws://unix:/socket:/path` for a Unix socket). */
  get url(): string {
    const base = this.#front.url;
    // The HTTP server's URL knows TLS and Unix sockets: `https://a/` becomes `wss://a/path`.
    return base === '' ? '' : `${base.replace(/^http/, 'ws').slice(0, -1)}${this.#path}`;
  }

  /** pageUrl is the browser page's URL when the page is served. */
  get pageUrl(): string | undefined {
    return this.#page ? this.#front.url : undefined;
  }

  /**
   * listener is where connections come from (its `tls` tells the
   * certificate's fingerprint); undefined for an attached server, whose
   * connections are the application server's.
   */
  get listener(): Listener | undefined {
    return this.#front.listener;
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

  /** onClosed registers cleanup run once close() has seen every connection gone, or at destroy(). */
  onClosed(fn: () => void): void {
    this.#onClosed.push(fn);
  }

  /** close shuts down gracefully; resolves once every connection is gone. Idempotent. */
  close(code: number = CLOSE.GOING_AWAY, reason = 'server shutting down'): Promise<void> {
    this.#closing ??= (async () => {
      for (const fn of this.#onClose) fn();
      const frontClosed = this.#front.close();
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
      await Promise.all([frontClosed, this.#rooms.close()]);
      for (const fn of this.#onClosed.splice(0)) fn();
    })();
    return this.#closing;
  }

  /** destroy ends every connection now, without closing handshakes, and disconnects the bus. */
  destroy(): void {
    this.#closing ??= Promise.resolve();
    for (const fn of this.#onClose.splice(0)) fn();
    for (const p of this.#peers) p.terminate();
    this.#front.destroy();
    void this.#rooms.close();
    for (const fn of this.#onClosed.splice(0)) fn();
  }

  /** [Symbol.asyncDispose] runs close(), so `await using server = await serveWs(…)` stops at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
