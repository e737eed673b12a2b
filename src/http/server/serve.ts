import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { AbortError } from '../../errors.js';
import type { Endpoint } from '../../tcp/endpoint.js';
import { type BindOptions, listenFor } from '../../tcp/listen.js';
import type { Listener } from '../../tcp/listener.js';
import { acceptConnections } from './connections.js';
import { dispatch } from './dispatch.js';
import { createHandler, type HandlerState } from './handler.js';
import {
  HTTP_SERVER_DEFAULTS,
  type HttpServerOptions,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import { limitPipelining } from './pipeline.js';
import { createStaticHandler, resolveRoot } from './static.js';

/** HttpServerEvents are what an HttpServer emits. */
export interface HttpServerEvents {
  /**
   * handlerError: a handler of the user's (`handler`, `routes`) threw,
   * rejected, passed an error to `next`, or misused its response; the
   * client got 500, or, with the answer already under way, a cut connection.
   */
  handlerError: [err: Error, req: http.IncomingMessage];
}

/**
 * HttpServer is a running serveHttp() server. close() shuts it down
 * gracefully: it stops accepting, closes idle keep-alive connections, lets
 * in-flight requests finish (their responses carry `Connection: close`), and
 * destroys whatever is left after `shutdownTimeout` (5 s by default).
 * Events: `handlerError`.
 */
export class HttpServer extends EventEmitter<HttpServerEvents> implements AsyncDisposable {
  /** server is the node:http server; it never binds: the listener feeds it connections. */
  readonly server: http.Server;
  /** listener is where connections come from (its `tls` tells the certificate's fingerprint). */
  readonly listener: Listener;
  /** address is the bound address in Go's form (`127.0.0.1:8080`, `[::]:8080`), or the Unix socket's path. */
  readonly address: string;
  /**
   * url is `http://address/` (`https://` with TLS); for a Unix socket,
   * `http://unix:/path:/`, the form curl-like clients and `got` read.
   */
  readonly url: string;
  readonly #state: HandlerState;
  readonly #shutdownTimeout: number;
  readonly #sockets = new Set<net.Socket>();
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  /**
   * HttpServer runs `server` on `listener`; use serveHttp() to make one.
   *
   * @internal
   */
  constructor(
    server: http.Server,
    listener: Listener,
    state: HandlerState,
    options: Pick<ResolvedOptions, 'shutdownTimeout' | 'signal'>,
  ) {
    super();
    this.server = server;
    this.listener = listener;
    this.#state = state;
    state.onHandlerError = (err, req) => this.emit('handlerError', err, req);
    this.#shutdownTimeout = options.shutdownTimeout;
    this.address = listener.addr.address;
    const scheme = listener.tls ? 'https' : 'http';
    this.url =
      listener.addr.network === 'unix'
        ? `${scheme}://unix:${this.address}:/`
        : `${scheme}://${this.address}/`;
    server.on('connection', (socket: net.Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (this.#sockets.size === 0) this.#drained?.();
      });
    });
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
    void this.#acceptLoop();
  }

  /** closed is true once close() was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** connections is how many connections are open now. */
  get connections(): number {
    return this.#sockets.size;
  }

  /** close shuts down gracefully; resolves once every connection is gone. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state.closing = true;
      await this.listener.close();
      const drained = new Promise<void>((resolve) => {
        this.#drained = resolve;
        if (this.#sockets.size === 0) resolve();
      });
      // Stops node:http's timeout checks and closes idle keep-alive connections. It reports
      // "not running" since node:http never bound anything; the listener already let go.
      this.server.close(() => {});
      const force = setTimeout(() => {
        this.server.closeAllConnections();
        for (const s of this.#sockets) s.destroy();
      }, this.#shutdownTimeout);
      await drained;
      clearTimeout(force);
    })();
    return this.#closing;
  }

  /** destroy stops accepting and destroys every connection now, requests in flight included. */
  destroy(): void {
    this.#state.closing = true;
    void this.listener.close();
    this.server.close(() => {});
    this.server.closeAllConnections();
    for (const s of this.#sockets) s.destroy();
  }

  /** [Symbol.asyncDispose] is close(), for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** acceptLoop feeds node:http every connection the listener hands out, as https.Server does. */
  async #acceptLoop(): Promise<void> {
    for (;;) {
      let socket: net.Socket;
      try {
        socket = await this.listener.acceptSocket();
      } catch {
        return; // the listener closed
      }
      this.server.emit('connection', socket);
      // A socket that came through a PROXY header was paused with the bytes after it put back.
      socket.resume();
    }
  }
}

/**
 * ServerBase is what startHttpServer needs: timeouts, how to bind and a
 * signal; the rest is optional and off unless given (the pipelining bound
 * defaults to 32).
 */
export type ServerBase = Pick<
  ResolvedOptions,
  'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'shutdownTimeout' | 'signal'
> &
  BindOptions & {
    /** maxPendingRequests bounds unanswered pipelined requests per connection (default 32). */
    maxPendingRequests?: number | undefined;
    /** maxConnections caps open connections; past it new ones are reset (default: no cap). */
    maxConnections?: number | undefined;
    /** onRefuse is told about each connection refused at maxConnections. */
    onRefuse?: ((remote: Endpoint | undefined) => void) | undefined;
    /** idleTimeout destroys a connection with no traffic either way for this long (default: none). */
    idleTimeout?: number | undefined;
  };

/**
 * startHttpServer runs a node:http server for `handler` on `target` (a
 * Listener, or an address to listen on with `opts`' network, PROXY and TLS
 * options; ALPN `http/1.1`) with netkit's defences: header and request
 * timeouts (slowloris), 400/408 for malformed or slow requests, a bound on
 * pipelined requests read ahead, a connection cap, an idle timeout, no
 * crash on a late server error, and a graceful close. Every netkit HTTP
 * front end (the inspector, static files, JSON-RPC 2.0, the WebSocket
 * server) runs through it.
 */
export async function startHttpServer(
  target: Listener | string,
  makeHandler: (state: HandlerState) => http.RequestListener,
  opts: ServerBase,
): Promise<HttpServer> {
  const signal = opts.signal;
  if (signal?.aborted) throw new AbortError('listen', signal.reason);
  const listener = await listenFor(target, opts, HTTP_ALPN);
  const timeouts = [opts.headersTimeout, opts.requestTimeout].filter((t) => t > 0);
  // Node checks header and request timeouts on this interval, so it bounds their precision.
  const checkEvery = Math.max(10, Math.min(1000, Math.floor(Math.min(...timeouts, 4000) / 4)));
  const state: HandlerState = { closing: false, unix: listener.addr.network === 'unix' };
  const maxPending = opts.maxPendingRequests ?? HTTP_SERVER_DEFAULTS.maxPendingRequests;
  const server = http.createServer(
    { connectionsCheckingInterval: checkEvery },
    limitPipelining(makeHandler(state), maxPending),
  );
  server.headersTimeout = opts.headersTimeout;
  server.requestTimeout = opts.requestTimeout;
  server.keepAliveTimeout = opts.keepAliveTimeout;
  // node:http arms it on every connection while a request is in progress; keep-alive idling has its own.
  server.timeout = opts.idleTimeout ?? 0;
  acceptConnections(server, {
    maxConnections: opts.maxConnections ?? 0,
    onRefuse: opts.onRefuse,
    unix: state.unix,
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    // Slow or malformed requests: answer if possible, then destroy the socket.
    if (socket.writable && !socket.destroyed) {
      const line =
        err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? '408 Request Timeout'
          : err.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : '400 Bad Request';
      socket.end(`HTTP/1.1 ${line}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () =>
        socket.destroy(),
      );
    } else socket.destroy();
  });
  // node:http starts tracking connections and checking their timeouts when it hears it is listening.
  server.emit('listening');
  server.on('error', () => {});
  return new HttpServer(server, listener, state, opts);
}

/** HTTP_ALPN is what netkit's HTTP and WebSocket servers offer over TLS. */
export const HTTP_ALPN: readonly string[] = Object.freeze(['http/1.1']);

/**
 * serveHttp listens on `address` (Go's syntax: `:8080`, `127.0.0.1:0`) and
 * answers every request: `Hello, you've requested: /path` as text, or the
 * request inspector as JSON (`Accept: application/json`) or HTML
 * (`Accept: text/html`). Query parameters shape the response: `status`,
 * `delay`, `header` (repeatable) and `body`. With `dir`, it serves the files
 * under that directory instead. With `routes` and `handler`, the user's
 * handlers come first, in that order, and reach netkit's answer by calling
 * `next()`. Rejects with NETKIT_INVALID_ARGUMENT for a
 * bad option (or a `dir` that is not a directory), NETKIT_LISTEN_FAILED when the
 * address cannot be bound, or an address error.
 */
export async function serveHttp(
  address: Listener | string,
  options: HttpServerOptions = {},
): Promise<HttpServer> {
  const opts = resolveOptions(options);
  if (opts.signal?.aborted) throw new AbortError('listen', opts.signal.reason);
  const root = opts.dir === undefined ? undefined : await resolveRoot(opts.dir);
  return startHttpServer(
    address,
    (state) => {
      const builtin =
        root === undefined ? createHandler(opts, state) : createStaticHandler(root, opts, state);
      // Without handlers of the user's, nothing stands in front of the built-in answer (its fast path stays).
      if (opts.handler === undefined && opts.routes === undefined) return builtin;
      return dispatch(opts, builtin, state);
    },
    opts,
  );
}
