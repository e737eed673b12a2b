import { InvalidArgumentError } from '../../errors.js';
import { checkFunction, checkInt, checkMs, checkSignal, checkString } from '../../internal/validate.js';
import { type ResolvedProxyOptions, resolveProxyOptions } from '../../proxy/accept.js';
import { TrustList } from '../../proxy/trust.js';
import type { Endpoint } from '../../tcp/endpoint.js';
import type { BindOptions } from '../../tcp/listen.js';
import { checkTlsServer } from '../../tls/server.js';
import type { RequestInfo } from '../inspect.js';
import { compileRoutes, type HttpHandler, type HttpRoutes, type Route } from './routes.js';

/** HttpServerOptions tunes serveHttp(). Durations are milliseconds; 0 means none. */
export interface HttpServerOptions extends BindOptions {
  /** maxBodyBytes caps a request body; a larger one gets 413 and the connection is closed. */
  maxBodyBytes?: number;
  /** headersTimeout destroys a connection whose request headers are not complete in time (slowloris). */
  headersTimeout?: number;
  /** requestTimeout destroys a connection whose whole request is not received in time. */
  requestTimeout?: number;
  /** keepAliveTimeout closes an idle keep-alive connection. */
  keepAliveTimeout?: number;
  /** shutdownTimeout is how long close() waits for in-flight requests before destroying connections. */
  shutdownTimeout?: number;
  /**
   * maxPendingRequests is how many requests one connection may have read and
   * not yet answered (HTTP pipelining); beyond it the server stops reading
   * from that connection until answers go out. Default 32.
   */
  maxPendingRequests?: number;
  /**
   * maxConnections caps open connections; past it new ones are reset (RST) at
   * once, as tcp.serve() does. Default 1,000: each connection may hold a body
   * of maxBodyBytes and maxPendingRequests requests.
   */
  maxConnections?: number;
  /** onRefuse is told about each connection refused at maxConnections (for logging). */
  onRefuse?: (remote: Endpoint | undefined) => void;
  /**
   * idleTimeout destroys a connection with no traffic either way for this
   * long while a request is in progress (a client that stopped reading, a
   * half-open peer); longer than the longest `?delay=` (30 s). Default 60 s.
   */
  idleTimeout?: number;
  /** signal closes the server (gracefully) when aborted. */
  signal?: AbortSignal;
  /** onRequest is called with every request once its body is read (for logging; with `dir`, bodies are not read and show as empty). */
  onRequest?: (info: RequestInfo) => void;
  /**
   * onRequestText is called with every request as formatRequest() prints it
   * (a text log). Where onRequest is not set, a request without a body gets
   * its text built straight from the parsed request, with no RequestInfo in
   * between: about a quarter less than onRequest plus formatRequest costs.
   */
  onRequestText?: (text: string) => void;
  /**
   * dir serves the files under this directory (GET and HEAD only) instead of
   * the greeting and inspector; serveHttp() rejects if it is not a directory.
   */
  dir?: string;
  /** trust lists proxies (CIDR) whose X-Forwarded-For / Forwarded headers are believed. Default: proxy.trust. */
  trust?: readonly string[];
  /**
   * handler is a request handler of your own (`(req, res, next)`, node:http
   * style: an Express app, Koa's `app.callback()`), run before netkit's
   * built-in answer; calling `next()` hands the request on to it. A throw,
   * a rejection or `next(err)` gives 500 and a `handlerError` event.
   */
  handler?: HttpHandler;
  /**
   * routes maps patterns in Go's ServeMux syntax without wildcards
   * (`/health`, `GET /items/` for a subtree, `POST /hook`) to handlers, run
   * before `handler`; the most specific pattern wins.
   */
  routes?: HttpRoutes;
}

/** HTTP_SERVER_DEFAULTS are serveHttp()'s defaults. */
export const HTTP_SERVER_DEFAULTS = Object.freeze({
  /** network is `tcp`: IPv4 and IPv6. */
  network: 'tcp',
  /** maxBodyBytes is 1 MiB. */
  maxBodyBytes: 1024 * 1024,
  /** headersTimeout is 10 s. */
  headersTimeout: 10_000,
  /** requestTimeout is 30 s. */
  requestTimeout: 30_000,
  /** keepAliveTimeout is 5 s. */
  keepAliveTimeout: 5_000,
  /** shutdownTimeout is 5 s. */
  shutdownTimeout: 5_000,
  /** maxPendingRequests is 32 per connection. */
  maxPendingRequests: 32,
  /** maxConnections is 1,000. */
  maxConnections: 1_000,
  /** idleTimeout is 60 s, longer than the longest `?delay=`. */
  idleTimeout: 60_000,
});

/** MAX_DELAY_MS caps the `?delay=` query parameter. */
export const MAX_DELAY_MS = 30_000;

/** ResolvedOptions are options after defaults and validation. */
export interface ResolvedOptions extends BindOptions {
  maxBodyBytes: number;
  headersTimeout: number;
  requestTimeout: number;
  keepAliveTimeout: number;
  shutdownTimeout: number;
  maxPendingRequests: number;
  maxConnections: number;
  onRefuse: HttpServerOptions['onRefuse'];
  idleTimeout: number;
  signal: AbortSignal | undefined;
  onRequest: ((info: RequestInfo) => void) | undefined;
  onRequestText: ((text: string) => void) | undefined;
  dir: string | undefined;
  proxy: ResolvedProxyOptions | undefined;
  tls: BindOptions['tls'];
  trust: TrustList | undefined;
  handler: HttpHandler | undefined;
  routes: readonly Route[] | undefined;
}

/** resolveOptions applies defaults and throws InvalidArgumentError for a bad option. */
export function resolveOptions(options: HttpServerOptions = {}): ResolvedOptions {
  const d = HTTP_SERVER_DEFAULTS;
  const network = options.network ?? d.network;
  checkString('network', network);
  const proxy = resolveProxyOptions(options.proxy);
  const r: ResolvedOptions = {
    network,
    maxBodyBytes: checkInt('maxBodyBytes', options.maxBodyBytes ?? d.maxBodyBytes, 0, 2 ** 31 - 1),
    headersTimeout: checkMs('headersTimeout', options.headersTimeout ?? d.headersTimeout),
    requestTimeout: checkMs('requestTimeout', options.requestTimeout ?? d.requestTimeout),
    keepAliveTimeout: checkMs('keepAliveTimeout', options.keepAliveTimeout ?? d.keepAliveTimeout),
    shutdownTimeout: checkMs('shutdownTimeout', options.shutdownTimeout ?? d.shutdownTimeout),
    maxPendingRequests: checkInt(
      'maxPendingRequests',
      options.maxPendingRequests ?? d.maxPendingRequests,
      1,
      10_000,
    ),
    maxConnections: checkInt('maxConnections', options.maxConnections ?? d.maxConnections, 1, 1_000_000),
    onRefuse: checkFunction('onRefuse', options.onRefuse),
    idleTimeout: checkMs('idleTimeout', options.idleTimeout ?? d.idleTimeout),
    signal: checkSignal(options.signal),
    onRequest: checkFunction('onRequest', options.onRequest),
    onRequestText: checkFunction('onRequestText', options.onRequestText),
    dir: options.dir === undefined ? undefined : checkString('dir', options.dir, true),
    proxy,
    tls: checkTlsServer(options.tls),
    ...(options.socketMode !== undefined ? { socketMode: options.socketMode } : {}),
    trust: options.trust !== undefined ? new TrustList(options.trust) : proxy?.trust,
    handler: checkFunction('handler', options.handler),
    routes: compileRoutes(options.routes),
  };
  if (r.requestTimeout > 0 && r.headersTimeout > r.requestTimeout) {
    throw new InvalidArgumentError(
      'headersTimeout',
      `must not exceed requestTimeout (${r.requestTimeout}), got ${r.headersTimeout}`,
    );
  }
  return r;
}
