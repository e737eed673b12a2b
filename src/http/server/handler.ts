import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  decodePath,
  formatBodilessRequest,
  formatRequest,
  type RequestInfo,
  renderRequestHtml,
  requestInfo,
  targetOf,
} from '../inspect.js';
import { readBody } from './body.js';
import type { ResolvedOptions } from './options.js';
import { parseShaping, ShapeError, type Shaping } from './shape.js';

/** Representation is what the client asked for through Accept. */
export type Representation = 'text' | 'json' | 'html';

/**
 * negotiate picks the inspector a client asked for: `application/json` gives
 * JSON, `text/html` (browsers) gives an HTML page, anything else (including
 * `*\/*`) the plain-text greeting. Wildcards never select an inspector.
 */
export function negotiate(accept: string | undefined): Representation {
  if (!accept) return 'text';
  let json = 0;
  let html = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    let q = 1;
    for (const p of params) {
      const m = /^q=([\d.]+)$/.exec(p);
      if (m) q = Number(m[1]);
    }
    if (!Number.isFinite(q)) q = 0;
    if (type === 'application/json') json = Math.max(json, q);
    else if (type === 'text/html') html = Math.max(html, q);
  }
  if (json === 0 && html === 0) return 'text';
  return json >= html ? 'json' : 'html';
}

/** HandlerState is shared between the handler and close(). */
export interface HandlerState {
  /** closing is set by close(): responses then carry `Connection: close`. */
  closing: boolean;
  /** unix is true on a Unix socket, whose peers have no address to show. */
  unix?: boolean;
  /** onHandlerError is told when a handler of the user's throws, rejects or passes an error to `next`. */
  onHandlerError?: (err: Error, req: IncomingMessage) => void;
}

/** TYPES are the content types of the server's own responses. */
export const TYPES: Record<Representation, string> = {
  text: 'text/plain; charset=utf-8',
  json: 'application/json; charset=utf-8',
  html: 'text/html; charset=utf-8',
};

/** CSP keeps an HTML page that shows untrusted values from running or loading anything. */
const CSP = "default-src 'none'; style-src 'unsafe-inline'";

/**
 * INSPECTOR_CSP is the policy of the HTML inspector: on top of CSP, `sandbox`
 * gives the page an opaque origin with scripts, forms and popups disabled,
 * and nothing may frame it, set its base URL or receive a form from it.
 */
export const INSPECTOR_CSP =
  "sandbox; default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * SHAPED_CSP goes on every other response the inspector shapes from a URL
 * (RELIABILITY 39): whatever a link makes the server send, a browser treats it
 * as a sandboxed document that may run and load nothing.
 */
export const SHAPED_CSP = "sandbox; default-src 'none'";

/**
 * send writes a whole response with the server's usual headers (nosniff, a CSP
 * on HTML unless `headers` brings one, Connection when closing).
 */
export function send(
  res: ServerResponse,
  state: HandlerState,
  status: number,
  type: string,
  body: string,
  headers: [string, string][] = [],
): void {
  if (res.headersSent || res.destroyed) return;
  // One writeHead with a flat list: the cheapest way through node:http (no per-header setHeader
  // bookkeeping); headers set earlier with setHeader are still merged in.
  const flat = ['Content-Type', type, 'X-Content-Type-Options', 'nosniff'];
  let csp = false;
  for (const [name, value] of headers) {
    flat.push(name, value);
    if (name === 'Content-Security-Policy') csp = true;
  }
  if (!csp && type.startsWith('text/html')) flat.push('Content-Security-Policy', CSP);
  flat.push('Content-Length', String(Buffer.byteLength(body)));
  if (state.closing) flat.push('Connection', 'close');
  res.writeHead(status, flat);
  res.end(body);
}

/** sendError answers `{ status, error }` as JSON when the client accepts JSON, `status message` as text otherwise. */
export function sendError(
  req: IncomingMessage,
  res: ServerResponse,
  state: HandlerState,
  status: number,
  message: string,
  headers: [string, string][] = [],
): void {
  if (negotiate(req.headers.accept) === 'json') {
    send(res, state, status, TYPES.json, `${JSON.stringify({ status, error: message })}\n`, headers);
  } else {
    send(res, state, status, TYPES.text, `${status} ${message}\n`, headers);
  }
}

const SANDBOXED: [string, string][] = [['Content-Security-Policy', SHAPED_CSP]];

function respond(req: IncomingMessage, res: ServerResponse, state: HandlerState, info: RequestInfo) {
  let shaping: Shaping;
  try {
    shaping = parseShaping(info.query);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    sendError(req, res, state, 400, err.message, SANDBOXED);
    return;
  }
  const reply = () => {
    const status = shaping.status ?? 200;
    const rep = shaping.body !== undefined ? 'text' : negotiate(req.headers.accept);
    let body: string;
    if (shaping.body !== undefined) body = shaping.body;
    else if (rep === 'json') body = `${JSON.stringify(info, null, 2)}\n`;
    else if (rep === 'html') body = renderRequestHtml(info);
    else body = `Hello, you've requested: ${info.path}\n`;
    // Only the inspector's own page is HTML; a shaped Content-Type is never an active type.
    const type = shaping.contentType ?? TYPES[rep];
    const csp = type === TYPES.html ? INSPECTOR_CSP : SHAPED_CSP;
    send(res, state, status, type, body, [...shaping.headers, ['Content-Security-Policy', csp]]);
  };
  if (shaping.delayMs === 0) {
    reply();
    return;
  }
  later(req, res, shaping.delayMs, reply);
}

/** delayed holds each connection's `?delay=` timers. */
const delayed = new WeakMap<Socket, Set<NodeJS.Timeout>>();

/**
 * later runs `fn` after `ms` unless the response or its connection closes
 * first. A response queued behind another (pipelining) gets no 'close' of
 * its own when the connection dies, so the connection's close clears them
 * all: nothing a dead connection asked for is held until its delay is up.
 */
function later(req: IncomingMessage, res: ServerResponse, ms: number, fn: () => void): void {
  const socket = req.socket;
  let timers = delayed.get(socket);
  if (timers === undefined) {
    const set = new Set<NodeJS.Timeout>();
    timers = set;
    delayed.set(socket, set);
    socket.once('close', () => {
      for (const t of set) clearTimeout(t);
      set.clear();
    });
  }
  const set = timers;
  const timer = setTimeout(() => {
    set.delete(timer);
    fn();
  }, ms);
  set.add(timer);
  res.once('close', () => {
    clearTimeout(timer);
    set.delete(timer);
  });
}

/** hasBody reports whether a request declares a body (chunked, or a non-zero Content-Length). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** InspectOptions is what the inspector needs from the server's options. */
export type InspectOptions = Pick<ResolvedOptions, 'maxBodyBytes' | 'onRequest' | 'onRequestText' | 'trust'>;

/** RequestReport is what reportRequest needs: whoever wants to hear of each request. */
type RequestReport = Pick<ResolvedOptions, 'onRequest' | 'onRequestText'>;

/**
 * reportRequest tells onRequest and onRequestText, whichever are set, of a request.
 * A logging callback that throws must not break the response, so throws are dropped.
 */
export function reportRequest(options: RequestReport, info: RequestInfo): void {
  try {
    options.onRequest?.(info);
  } catch {
    // a logging callback must not break the response
  }
  const onText = options.onRequestText;
  if (onText === undefined) return;
  try {
    onText(formatRequest(info));
  } catch {
    // as above
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * inspect answers one request as the inspector: the greeting, the request as
 * JSON or HTML, shaped by the query. The body is read up to
 * `options.maxBodyBytes` (413 beyond it) unless an earlier handler took it.
 */
export function inspect(
  req: IncomingMessage,
  res: ServerResponse,
  options: InspectOptions,
  state: HandlerState,
): void {
  const url = targetOf(req);
  if (!url.includes('?') && !hasBody(req) && negotiate(req.headers.accept) === 'text') {
    // The greeting needs neither the body nor the shaping parser: answer at once (node:http
    // discards the empty body), which keeps the hello route as cheap as plain node:http, and
    // a logged one costs only its log line.
    // It echoes the peer's path, so it is sandboxed like every response that
    // shows what a peer sent, logged or not.
    const { onRequest, onRequestText } = options;
    if (onRequest !== undefined || onRequestText !== undefined) {
      // A handler before this one may have started reading the (empty) body: let it finish.
      if (req.readableDidRead || req.readableEnded) req.resume();
      // A text log alone needs no record: its line is built from the parsed request.
      const text =
        onRequest === undefined ? formatBodilessRequest(req, url, options.trust, state.unix) : undefined;
      if (text === undefined) reportRequest(options, requestInfo(req, EMPTY, options.trust, state.unix));
      else {
        try {
          onRequestText?.(text);
        } catch {
          // a logging callback must not break the response
        }
      }
    }
    // As respond() answers an unshaped greeting: the same bytes, sandboxed.
    send(res, state, 200, TYPES.text, `Hello, you've requested: ${decodePath(url)}\n`, SANDBOXED);
    return;
  }
  const answer = (body: Buffer, taken: boolean) => {
    const info = requestInfo(req, body, options.trust, state.unix);
    if (taken) info.body = { bytes: 0, kind: 'consumed' };
    reportRequest(options, info);
    try {
      respond(req, res, state, info);
    } catch {
      sendError(req, res, state, 500, 'internal error');
    }
  };
  if (req.readableDidRead || req.readableEnded) {
    // A handler before this one (a body parser, a user handler that fell through) read from the
    // body: its bytes are gone, and waiting for them would wait for good. What is left is drained.
    req.resume();
    answer(EMPTY, hasBody(req));
    return;
  }
  if (!hasBody(req)) {
    // Nothing to wait for: answering now spares the logged request the stream
    // listeners and the 'end' tick that reading an empty body costs.
    answer(EMPTY, false);
    return;
  }
  const max = options.maxBodyBytes;
  const tooLarge = () => {
    res.setHeader('Connection', 'close');
    sendError(req, res, state, 413, `request body exceeds the limit of ${max} bytes`);
  };
  readBody(req, max, tooLarge, (body) => answer(body, false));
}

/** createHandler returns the request listener behind serveHttp() without a handler of the user's: the inspector. */
export function createHandler(options: InspectOptions, state: HandlerState) {
  return (req: IncomingMessage, res: ServerResponse): void => inspect(req, res, options, state);
}
