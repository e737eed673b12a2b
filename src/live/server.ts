/**
 * serveLive serves one live page: GET / is the page, GET /events a stream
 * of server-sent events (a snapshot first, then changes), and, when the
 * caller has one, an API under /api/ that the page calls to change things.
 * Loopback by default; beyond loopback every request needs the token.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import type { HandlerState } from '../http/server/handler.js';
import { HTTP_SERVER_DEFAULTS } from '../http/server/options.js';
import { type HttpServer, startHttpServer } from '../http/server/serve.js';
import { sendJson } from '../internal/json-reply.js';
import { checkInt, checkSignal } from '../internal/validate.js';
import type { Listener } from '../tcp/listener.js';
import { hostAllowed, isLoopbackHost, presentedToken, sameOrigin, tokenMatches } from './access.js';
import { EVENT_STREAM_HEADERS, EventStream, eventFrame } from './events.js';
import type { LivePage } from './page.js';

/** LiveSource is what a live page shows: a whole state, and the changes to it as they happen. */
export interface LiveSource {
  /** snapshot returns the whole state, as JSON-able data: a new page, or one that fell behind, starts from it. */
  snapshot(): unknown;
  /** subscribe calls `push` with every change until the function it returns is called. */
  subscribe(push: (event: string, data: unknown) => void): () => void;
  /**
   * close, when the source has one, is called once when the server closes or
   * fails to start: the source lets go of what it holds (timers, listeners).
   */
  close?(): void;
}

/** LiveOptions configure serveLive(). */
export interface LiveOptions {
  /** page is the rendered page (renderLivePage). */
  page: LivePage;
  /** source feeds the page's event stream. */
  source: LiveSource;
  /**
   * api answers requests under /api/ (the path after it is passed on); only
   * requests from the page's own origin reach it.
   */
  api?: (req: IncomingMessage, res: ServerResponse, path: string) => void;
  /**
   * token, when set, is needed on every request (`?token=` or X-Netkit-Token); required beyond
   * loopback (without it, serveLive rejects with NETKIT_INVALID_ARGUMENT naming `token`).
   */
  token?: string;
  /** maxBufferedBytes is how much may wait for one slow page before its events are dropped for a snapshot. Default 1 MiB. */
  maxBufferedBytes?: number;
  /** maxStreams caps pages open at once; more get 503. Default 32. */
  maxStreams?: number;
  /** pingInterval is how often an idle stream gets a keep-alive comment, in ms. Default 15 s. */
  pingInterval?: number;
  /** signal closes the server when aborted. */
  signal?: AbortSignal;
}

/** LiveServer is a running live page. */
export interface LiveServer {
  /** address is the bound address in Go's form. */
  readonly address: string;
  /** url is the page's URL, with the token when there is one. */
  readonly url: string;
  /** streams is how many pages are connected now. */
  readonly streams: number;
  /** http is the underlying server. */
  readonly http: HttpServer;
  /** close ends every stream and stops the server. */
  close(): Promise<void>;
}

/** LIVE_DEFAULTS are serveLive()'s defaults. */
export const LIVE_DEFAULTS = Object.freeze({
  /** maxBufferedBytes: 1 MiB may wait for one page before its events are dropped for a snapshot. */
  maxBufferedBytes: 1024 * 1024,
  /** maxStreams: 32 pages open at once. */
  maxStreams: 32,
  /** pingInterval: a keep-alive comment every 15 s on an idle stream. */
  pingInterval: 15_000,
});

/**
 * report tells the server's 'handlerError' listeners that the caller's api
 * or source threw: thrown out of a request listener, it would end the
 * process, every page with it.
 */
function report(state: HandlerState, err: unknown, req: IncomingMessage): void {
  state.onHandlerError?.(err instanceof Error ? err : new Error(String(err)), req);
}

/** serveLive serves `options.page` and its events on `address`. */
export async function serveLive(address: Listener | string, options: LiveOptions): Promise<LiveServer> {
  if (
    options === null ||
    typeof options !== 'object' ||
    options.page === undefined ||
    options.source === undefined
  ) {
    throw new InvalidArgumentError(
      'page',
      'and source are required: serveLive needs a page and what it shows',
    );
  }
  const { page, source, api, token } = options;
  if (token !== undefined && (typeof token !== 'string' || token.length < 16)) {
    throw new InvalidArgumentError('token', 'must be a string of at least 16 characters');
  }
  const maxBuffered = checkInt(
    'maxBufferedBytes',
    options.maxBufferedBytes ?? LIVE_DEFAULTS.maxBufferedBytes,
    1024,
    2 ** 31 - 1,
  );
  const maxStreams = checkInt('maxStreams', options.maxStreams ?? LIVE_DEFAULTS.maxStreams, 1, 10_000);
  const pingInterval = checkInt(
    'pingInterval',
    options.pingInterval ?? LIVE_DEFAULTS.pingInterval,
    10,
    2 ** 31 - 1,
  );
  const signal = checkSignal(options.signal);

  const streams = new Set<EventStream>();
  let unsubscribe: (() => void) | undefined;
  const broadcast = (event: string, data: unknown) => {
    if (streams.size === 0) return;
    // Framed once, whatever the number of pages.
    const frame = eventFrame(event, data);
    for (const s of streams) s.sendFrame(frame);
  };
  const headers = {
    'content-security-policy': page.csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-resource-policy': 'same-origin',
  };
  const fail = (res: ServerResponse, status: number, error: string) =>
    sendJson(res, status, { error, status });

  const handle = (state: HandlerState) => (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    // While closing, no connection is kept for another request: close() waits for every one.
    if (state.closing) res.setHeader('connection', 'close');
    if (!hostAllowed(req, token !== undefined)) {
      req.resume();
      fail(res, 403, 'host not allowed: open the page by its loopback address');
      return;
    }
    if (token !== undefined && !tokenMatches(presentedToken(req), token)) {
      req.resume();
      fail(res, 401, 'token missing or wrong: open the URL printed at start, with its ?token=');
      return;
    }
    if (path.startsWith('/api/') && api !== undefined) {
      if (!sameOrigin(req)) {
        req.resume();
        fail(res, 403, 'cross-origin request refused: the API is for the page itself');
        return;
      }
      try {
        api(req, res, path.slice('/api'.length));
      } catch (err) {
        report(state, err, req);
        req.resume();
        if (res.headersSent) res.destroy();
        else fail(res, 500, 'the page API failed');
      }
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      req.resume();
      res.setHeader('allow', 'GET, HEAD');
      fail(res, 405, `method not allowed: ${method}; ${path} takes GET`);
      return;
    }
    req.resume();
    if (path === '/') {
      res.writeHead(200, { ...headers, 'content-type': 'text/html; charset=utf-8' });
      res.end(method === 'HEAD' ? undefined : page.html);
      return;
    }
    if (path === '/events') {
      // A page on another site can open the stream too: an <img> or a no-cors fetch keeps reading
      // what that page can never see, holding a slot and keeping the source at work. Only the page.
      if (!sameOrigin(req)) {
        fail(res, 403, 'cross-origin request refused: the events are for the page itself');
        return;
      }
      if (state.closing) {
        fail(res, 503, 'the server is closing');
        return;
      }
      if (streams.size >= maxStreams) {
        fail(res, 503, `too many pages open (at most ${maxStreams}); close one`);
        return;
      }
      // HEAD gets what GET would, without opening a stream it could never show.
      if (method === 'HEAD') {
        res.writeHead(200, EVENT_STREAM_HEADERS);
        res.end();
        return;
      }
      // Pipelined behind another response (res.socket is null until that one ends), a stream could
      // only be queued, and node:http drops a queued response without 'close' when its socket
      // goes: the stream would hold its slot and the source for the server's life.
      if (res.socket === null) {
        fail(res, 400, 'pipelined /events refused: a stream needs a connection of its own');
        return;
      }
      try {
        unsubscribe ??= source.subscribe(broadcast);
      } catch (err) {
        report(state, err, req);
        fail(res, 500, 'the page source failed');
        return;
      }
      const snapshot = () => {
        try {
          return source.snapshot();
        } catch (err) {
          // EventStream cuts the stream; the page reconnects.
          report(state, err, req);
          throw err;
        }
      };
      const stream = new EventStream(res, maxBuffered, snapshot);
      streams.add(stream);
      res.once('close', () => {
        streams.delete(stream);
        if (streams.size === 0 && unsubscribe !== undefined) {
          unsubscribe();
          unsubscribe = undefined;
        }
      });
      return;
    }
    fail(res, 404, `not found: ${path}; the page is at /`);
  };

  let server: HttpServer;
  try {
    server = await startHttpServer(address, handle, {
      network: 'tcp',
      headersTimeout: HTTP_SERVER_DEFAULTS.headersTimeout,
      requestTimeout: HTTP_SERVER_DEFAULTS.requestTimeout,
      keepAliveTimeout: HTTP_SERVER_DEFAULTS.keepAliveTimeout,
      shutdownTimeout: 1_000,
      maxConnections: maxStreams + 32,
      signal,
    });
  } catch (err) {
    source.close?.();
    throw err;
  }
  const bound = server.listener.addr;
  if (token === undefined && bound.network !== 'unix' && !isLoopbackHost(bound.ip)) {
    // The Host check keeps out browsers (DNS rebinding), not programs, which send any Host: beyond
    // loopback only the token keeps the page, its events and its API from whoever reaches the port.
    await server.close();
    source.close?.();
    throw new InvalidArgumentError(
      'token',
      `is required beyond loopback: ${server.address} can be reached from other machines; pass newToken()`,
    );
  }
  const url = token === undefined ? server.url : `${server.url}?token=${encodeURIComponent(token)}`;
  // Started only once the server is: a failed start leaves no timer firing for the process's life.
  const ping = setInterval(() => {
    for (const s of streams) s.ping();
  }, pingInterval);
  ping.unref();
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(ping);
      for (const s of streams) s.close();
      streams.clear();
      unsubscribe?.();
      unsubscribe = undefined;
      await server.close();
      source.close?.();
    })();
    return closing;
  };
  signal?.addEventListener('abort', () => void close(), { once: true });
  return {
    address: server.address,
    url,
    get streams() {
      return streams.size;
    },
    http: server,
    close,
  };
}
