/**
 * JSON-RPC 2.0 over HTTP: one request (or batch) per POST body, its answer
 * in the response body. Every JSON-RPC answer, errors included, is sent with
 * status 200 (clients such as jayson treat any other status as a transport
 * failure and never read the error object); 204 means there was nothing to
 * answer (notifications only). HTTP-level failures keep their status: 405
 * for a method other than POST, 413 for a body over maxBodyBytes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ConnectionError } from '../../errors.js';
import { readBody } from '../../http/server/body.js';
import { type HttpServer, startHttpServer } from '../../http/server/serve.js';
import { checkInt, checkMs, checkSignal } from '../../internal/validate.js';
import { resolveProxyOptions } from '../../proxy/accept.js';
import { endpointText, peerEndpoint } from '../../tcp/endpoint.js';
import type { BindOptions } from '../../tcp/listen.js';
import type { Listener } from '../../tcp/listener.js';
import { checkTlsServer } from '../../tls/server.js';
import { type CallEvent, checkOnCall } from '../call-event.js';
import { parseJson } from '../codec/lossless-json.js';
import { JsonSyntaxError, JsonValueDecoder } from '../json-stream.js';
import type { Registry } from '../registry.js';
import { Dispatcher } from './dispatch.js';
import { INTERNAL_ERROR } from './errors.js';
import { Limiter } from './limiter.js';
import { byteOption, JSONRPC2_SERVER_DEFAULTS, type JsonRpc2Limits, resolveLimits } from './options.js';
import { encodeError, parseErrorResponse } from './protocol.js';

/** JsonRpc2HttpHandlerOptions tunes createJsonRpc2Handler(). */
export interface JsonRpc2HttpHandlerOptions extends JsonRpc2Limits {
  /** maxBodyBytes caps a request body; a larger one gets 413 and the connection is closed (default 1 MiB). */
  maxBodyBytes?: number;
  /** onCall is told about every call once it is answered: caller, method, duration, error. */
  onCall?: (event: CallEvent) => void;
}

/** JsonRpc2HttpOptions tunes serveJsonRpc2Http(). Durations are milliseconds; 0 means none. */
export interface JsonRpc2HttpOptions extends JsonRpc2HttpHandlerOptions, BindOptions {
  /** headersTimeout drops a connection whose request headers are not complete in time (default 10 s). */
  headersTimeout?: number;
  /** requestTimeout drops a connection whose whole request is not received in time (default 30 s). */
  requestTimeout?: number;
  /** keepAliveTimeout closes an idle keep-alive connection (default 5 s). */
  keepAliveTimeout?: number;
  /** shutdownTimeout is how long close() lets calls in progress finish before dropping them (default 5 s). */
  shutdownTimeout?: number;
  /** maxConnections caps open connections; past it new ones are reset, as by serveHttp() (default: no cap). */
  maxConnections?: number;
  /** signal closes the server (gracefully) when aborted. */
  signal?: AbortSignal;
}

/** JsonRpc2HttpHandler is a node:http request listener. */
export type JsonRpc2HttpHandler = (req: IncomingMessage, res: ServerResponse) => void;

const JSON_TYPE = 'application/json';
const TEXT_TYPE = 'text/plain; charset=utf-8';

/**
 * createJsonRpc2Handler returns a node:http request listener that serves
 * `registry` as JSON-RPC 2.0. It answers any path. Use it inside your own
 * http.Server (or under a router); serveJsonRpc2Http() wraps it in one.
 */
export function createJsonRpc2Handler(
  registry: Registry,
  options: JsonRpc2HttpHandlerOptions = {},
): JsonRpc2HttpHandler {
  return makeHandler(registry, options, { closing: false });
}

function makeHandler(
  registry: Registry,
  options: JsonRpc2HttpHandlerOptions,
  state: { closing: boolean; unix?: boolean },
): JsonRpc2HttpHandler {
  const limits = resolveLimits(options);
  const maxBody = byteOption('maxBodyBytes', options.maxBodyBytes, JSONRPC2_SERVER_DEFAULTS.maxBodyBytes);
  const onCall = checkOnCall(options.onCall);
  const dispatcher = new Dispatcher(registry, { maxBatch: limits.maxBatch, ...(onCall ? { onCall } : {}) });

  const send = (
    res: ServerResponse,
    status: number,
    type: string | undefined,
    body: string,
    extra: string[] = [],
  ) => {
    if (res.headersSent || res.destroyed) return;
    const headers = [...extra];
    if (type !== undefined)
      headers.push('Content-Type', type, 'Content-Length', String(Buffer.byteLength(body)));
    if (state.closing) headers.push('Connection', 'close');
    res.writeHead(status, headers);
    res.end(body);
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> => {
    // The call's signal: the client hung up before its answer was sent (or the server dropped it).
    const gone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished)
        gone.abort(new ConnectionError('NETKIT_CONNECTION_CLOSED', 'client went away'));
    });
    const peer = peerEndpoint(req.socket, state.unix ?? false);
    const remote = peer && endpointText(peer);
    const message = parseBody(body, maxBody, limits.maxDepth);
    let out: string | undefined;
    if (message.error !== undefined) out = message.error;
    else {
      const ctx = { remote, signal: gone.signal, limiter: new Limiter(limits.maxConcurrency) };
      out = await dispatcher.handle(message.value, ctx).catch(() => encodeError(null, INTERNAL_ERROR));
    }
    if (out === undefined) send(res, 204, undefined, '');
    else send(res, 200, JSON_TYPE, out);
  };

  return (req, res) => {
    if (req.method !== 'POST') {
      req.resume();
      send(res, 405, TEXT_TYPE, 'JSON-RPC 2.0 requests must be POSTed\n', ['Allow', 'POST']);
      return;
    }
    readBody(
      req,
      maxBody,
      () =>
        send(res, 413, TEXT_TYPE, `request body exceeds maxBodyBytes (${maxBody})\n`, [
          'Connection',
          'close',
        ]),
      (body) => void answer(req, res, body),
    );
  };
}

/**
 * parseBody reads the body as exactly one JSON value through the stream
 * splitter, so the nesting limit holds before JSON.parse runs. Anything
 * else (no value, two values, bad JSON) is a Parse error.
 */
function parseBody(body: Buffer, maxBytes: number, maxDepth: number): { value?: unknown; error?: string } {
  const values: Buffer[] = [];
  try {
    const decoder = new JsonValueDecoder({ maxValueBytes: maxBytes, maxDepth });
    const collect = (v: Buffer) => values.push(v);
    decoder.push(body, collect);
    decoder.end(collect);
    if (values.length !== 1) return { error: parseErrorResponse() };
    return { value: parseJson(values[0]!.toString('utf8')) };
  } catch (err) {
    // Tell the client which limit it hit; plain syntax errors get the specification's bare answer.
    const limited = err instanceof JsonSyntaxError && err.limit !== undefined;
    return { error: parseErrorResponse(limited ? err.message : undefined) };
  }
}

/** JsonRpc2HttpServer is a running serveJsonRpc2Http() server: netkit's HttpServer (graceful close()). */
export type JsonRpc2HttpServer = HttpServer;

/**
 * serveJsonRpc2Http listens on `address` (Go's syntax: `:8080`,
 * `127.0.0.1:0`) and serves `registry` as JSON-RPC 2.0 over HTTP POST on
 * every path. Rejects with NETKIT_INVALID_ARGUMENT for a bad option,
 * NETKIT_LISTEN_FAILED when the address cannot be bound, or an address error.
 */
export async function serveJsonRpc2Http(
  address: Listener | string,
  registry: Registry,
  options: JsonRpc2HttpOptions = {},
): Promise<JsonRpc2HttpServer> {
  const base = {
    network: options.network ?? 'tcp',
    headersTimeout: checkMs('headersTimeout', options.headersTimeout ?? 10_000),
    requestTimeout: checkMs('requestTimeout', options.requestTimeout ?? 30_000),
    keepAliveTimeout: checkMs('keepAliveTimeout', options.keepAliveTimeout ?? 5_000),
    shutdownTimeout: checkMs('shutdownTimeout', options.shutdownTimeout ?? 5_000),
    signal: checkSignal(options.signal),
    proxy: resolveProxyOptions(options.proxy),
    tls: checkTlsServer(options.tls),
    ...(options.socketMode !== undefined ? { socketMode: options.socketMode } : {}),
    ...(options.maxConnections !== undefined
      ? { maxConnections: checkInt('maxConnections', options.maxConnections, 1, 1_000_000) }
      : {}),
  };
  // Validate the handler's own options before binding anything.
  makeHandler(registry, options, { closing: false });
  return startHttpServer(address, (state) => makeHandler(registry, options, state), base);
}
