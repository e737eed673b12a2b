import http from 'node:http';
import type net from 'node:net';
import { resolveTCPAddr } from '../../addr/index.js';
import { AbortError, ListenError } from '../../errors.js';
import type { ResolvedProxyOptions } from '../../proxy/accept.js';
import { type Endpoint, endpoint } from '../../tcp/endpoint.js';
import { acceptConnections } from './connections.js';
import { createHandler, type HandlerState } from './handler.js';
import {
  HTTP_SERVER_DEFAULTS,
  type HttpServerOptions,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import { limitPipelining } from './pipeline.js';
import { createStaticHandler, resolveRoot } from './static.js';

/**
 * HttpServer is a running serveHttp() server. close() shuts it down
 * gracefully: it stops accepting, closes idle keep-alive connections, lets
 * in-flight requests finish (their responses carry `Connection: close`), and
 * destroys whatever is left after `closeTimeout` (5 s by default).
 */
export class HttpServer implements AsyncDisposable {
  /** server is the underlying Node HTTP server. */
  readonly server: http.Server;
  /** address is the bound address in Go's form (`127.0.0.1:8080`, `[::]:8080`). */
  readonly address: string;
  /** url is `http://address/`. */
  readonly url: string;
  readonly #state: HandlerState;
  readonly #closeTimeout: number;
  #closing: Promise<void> | undefined;

  /** HttpServer wraps a listening server; use serveHttp() to make one. */
  constructor(
    server: http.Server,
    state: HandlerState,
    options: Pick<ResolvedOptions, 'closeTimeout' | 'signal'>,
  ) {
    this.server = server;
    this.#state = state;
    this.#closeTimeout = options.closeTimeout;
    const a = server.address() as net.AddressInfo;
    this.address = endpoint(a.address, a.port)!.address;
    this.url = `http://${this.address}/`;
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** closed is true once close() was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** close shuts down gracefully; resolves once every connection is gone. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#state.closing = true;
      const force = setTimeout(() => this.server.closeAllConnections(), this.#closeTimeout);
      this.server.close(() => {
        clearTimeout(force);
        resolve();
      });
      // Node closes idle keep-alive connections in close(); do it again for older releases.
      this.server.closeIdleConnections();
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * ServerBase is what startHttpServer needs: timeouts, the network and a
 * signal; the rest is optional and off unless given (the pipelining bound
 * defaults to 32).
 */
export type ServerBase = Pick<
  ResolvedOptions,
  'network' | 'headersTimeout' | 'requestTimeout' | 'keepAliveTimeout' | 'closeTimeout' | 'signal'
> & {
  proxy?: ResolvedProxyOptions | undefined;
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
 * startHttpServer binds a node:http server for `handler` on `address` (Go's
 * syntax) with netkit's defences: header and request timeouts (slowloris),
 * 400/408 for malformed or slow requests, a bound on pipelined requests read
 * ahead, a connection cap, an idle timeout, no crash on a late server error,
 * and a graceful close. Every netkit HTTP front end (the inspector, static
 * files, JSON-RPC 2.0, the WebSocket server) listens through it.
 */
export async function startHttpServer(
  address: string,
  makeHandler: (state: HandlerState) => http.RequestListener,
  opts: ServerBase,
): Promise<HttpServer> {
  const signal = opts.signal;
  if (signal?.aborted) throw new AbortError('listen', signal.reason);
  const target = await resolveTCPAddr(opts.network, address, { signal });
  const listenOpts: net.ListenOptions = { port: target.port };
  if (target.ip !== '') listenOpts.host = target.zone ? `${target.ip}%${target.zone}` : target.ip;
  else if (target.network === 'tcp4') listenOpts.host = '0.0.0.0';
  else if (target.network === 'tcp6') {
    listenOpts.host = '::';
    listenOpts.ipv6Only = true;
  }
  const timeouts = [opts.headersTimeout, opts.requestTimeout].filter((t) => t > 0);
  // Node checks header and request timeouts on this interval, so it bounds their precision.
  const checkEvery = Math.max(10, Math.min(1000, Math.floor(Math.min(...timeouts, 4000) / 4)));
  const state: HandlerState = { closing: false };
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
    proxy: opts.proxy,
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new ListenError(
          'NETKIT_LISTEN_FAILED',
          `listen ${opts.network} ${address}: ${err.code === 'EADDRINUSE' ? 'bind: address already in use' : err.message}`,
          address,
          { cause: err },
        ),
      );
    });
    server.listen(listenOpts, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  // A listening server can still fail (EMFILE on accept); never let that crash the process.
  server.on('error', () => {});
  return new HttpServer(server, state, opts);
}

/**
 * serveHttp listens on `address` (Go's syntax: `:8080`, `127.0.0.1:0`) and
 * answers every request: `Hello, you've requested: /path` as text, or the
 * request inspector as JSON (`Accept: application/json`) or HTML
 * (`Accept: text/html`). Query parameters shape the response: `status`,
 * `delay`, `header` (repeatable) and `body`. With `dir`, it serves the files
 * under that directory instead. Rejects with NETKIT_INVALID_ARGUMENT for a
 * bad option (or a `dir` that is not a directory), NETKIT_LISTEN_FAILED when the
 * address cannot be bound, or an address error.
 */
export async function serveHttp(address: string, options: HttpServerOptions = {}): Promise<HttpServer> {
  const opts = resolveOptions(options);
  if (opts.signal?.aborted) throw new AbortError('listen', opts.signal.reason);
  const root = opts.dir === undefined ? undefined : await resolveRoot(opts.dir);
  return startHttpServer(
    address,
    (state) => (root === undefined ? createHandler(opts, state) : createStaticHandler(root, opts, state)),
    opts,
  );
}
