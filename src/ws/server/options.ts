import { InvalidArgumentError } from '../../errors.js';
import {
  checkFunction,
  checkInt,
  checkMs,
  checkOneOf,
  checkSignal,
  checkString,
} from '../../internal/validate.js';
import { type ResolvedProxyOptions, resolveProxyOptions } from '../../proxy/accept.js';
import type { BindOptions } from '../../tcp/listen.js';
import { checkTlsServer } from '../../tls/server.js';
import type { Bus } from '../bus/types.js';
import type { WsPeer } from './peer.js';

/** WsMode is a built-in behaviour: echo each message back, or broadcast it to a room. */
export type WsMode = 'echo' | 'broadcast';

/** WsHandler serves one connection; the connection is closed when it returns or throws. */
export type WsHandler = (peer: WsPeer, ctx: { signal: AbortSignal }) => unknown;

/**
 * WsServerEvent is what `onEvent` sees: connections opening and closing,
 * and messages. A close's `code` is the server's own when it closed first
 * (1008, 1009, 1001, …), otherwise the peer's (1006: no close frame).
 */
export type WsServerEvent =
  | {
      /** A connection completed its upgrade. */
      type: 'open';
      /** id numbers connections from 1, for matching events of one connection. */
      id: number;
      /** remote is the client's `ip:port` (the real client's, after a trusted PROXY header). */
      remote: string;
      /** path is the request path the client upgraded on. */
      path: string;
      /** room is the broadcast room joined, in broadcast mode. */
      room?: string;
      /** protocol is the subprotocol agreed, '' for none. */
      protocol: string;
      /** subject is the client certificate's subject (`CN=alice`) when mutual TLS verified one. */
      subject?: string;
    }
  | {
      /** A connection ended. */
      type: 'close';
      /** id is the connection's, as in its `open` event. */
      id: number;
      /** remote is the client's `ip:port`. */
      remote: string;
      /** code is the close code: the server's when it closed first, else the peer's (1006: no close frame). */
      code: number;
      /** reason is the close frame's reason text, '' for none. */
      reason: string;
      /** messagesIn counts the messages received on the connection. */
      messagesIn: number;
    }
  | {
      /** A message arrived. */
      type: 'message';
      /** id is the connection's, as in its `open` event. */
      id: number;
      /** remote is the client's `ip:port`. */
      remote: string;
      /** room is the broadcast room it was said in, in broadcast mode. */
      room?: string;
      /** binary is true for a binary message, false for text. */
      binary: boolean;
      /** data is the message's bytes. */
      data: Buffer;
    }
  | {
      /** An upgrade was refused (wrong path, origin, subprotocol, or the connection cap). */
      type: 'rejected';
      /** remote is the client's `ip:port`. */
      remote: string;
      /** path is the request path asked for. */
      path: string;
      /** status is the HTTP status answered instead of 101. */
      status: number;
      /** reason says why, in words. */
      reason: string;
    };

/** WsServerOptions tune serveWs(). Sizes are bytes, durations milliseconds (0 turns a timer off). */
export interface WsServerOptions extends BindOptions {
  /** path is where clients upgrade; `/echo` (echo mode, handler) or `/chat` (broadcast) by default. */
  path?: string;
  /** mode is the built-in behaviour when no handler is given: echo (default) or broadcast. */
  mode?: WsMode;
  /** handler serves each connection instead of a built-in mode. */
  handler?: WsHandler;
  /** page serves the browser page at `/`. */
  page?: boolean;
  /** origins is an allow-list for the `Origin` header (`https://app.example`); others get 403. */
  origins?: readonly string[];
  /** maxPayload is the largest message (after decompression); larger closes with 1009. Default 1 MiB. */
  maxPayload?: number;
  /**
   * maxQueueBytes caps what one peer may hold of what was sent to it and it
   * has not read yet — queued in the server or in kernel buffers on the
   * way; a peer that would go past it is closed with 1008. Default 2 MiB,
   * or twice maxPayload when that is larger, so two messages of any
   * size the server accepts always fit.
   */
  maxQueueBytes?: number;
  /** heartbeat pings every peer this often and drops one that has not answered the last ping. Default 30 s. */
  heartbeat?: number;
  /** perMessageDeflate accepts the permessage-deflate extension (off by default: it costs CPU and memory). */
  perMessageDeflate?: boolean;
  /** protocols are the subprotocols the server speaks, in order of preference. */
  protocols?: readonly string[];
  /** maxConnections caps open WebSocket connections; upgrades beyond get 503. Default 10,000. */
  maxConnections?: number;
  /** bus shares broadcast rooms with other instances (see RedisBus). */
  bus?: Bus;
  /** headersTimeout closes connections whose upgrade request is not complete in time. Default 10 s. */
  headersTimeout?: number;
  /** shutdownTimeout is how long close() waits for peers to answer the close frame. Default 5 s. */
  shutdownTimeout?: number;
  /** signal closes the server (gracefully) when aborted. */
  signal?: AbortSignal;
  /** onEvent sees connections and messages, for logging. */
  onEvent?: (event: WsServerEvent) => void;
}

/** WS_SERVER_DEFAULTS are serveWs()'s defaults. */
export const WS_SERVER_DEFAULTS = Object.freeze({
  /** TCP on both families, as Go's "tcp". */
  network: 'tcp',
  /** The classic gorilla echo. */
  mode: 'echo' as WsMode,
  /** 1 MiB per message; a larger one closes the connection with 1009. */
  maxPayload: 1024 * 1024,
  /** 2 MiB sent and not yet read before a peer is closed with 1008. */
  maxQueueBytes: 2 * 1024 * 1024,
  /** A ping every 30 s; a peer that did not answer the last one is dropped. */
  heartbeat: 30_000,
  /** Beyond it an upgrade is refused with 503. */
  maxConnections: 10_000,
  /** A client must complete its upgrade request within 10 s. */
  headersTimeout: 10_000,
  /** Peers get 5 s to answer the close frame at shutdown. */
  shutdownTimeout: 5_000,
});

/** ResolvedWsOptions are options after defaults and validation. */
export interface ResolvedWsOptions extends BindOptions {
  network: string;
  path: string;
  mode: WsMode;
  handler: WsHandler | undefined;
  page: boolean;
  origins: ReadonlySet<string> | undefined;
  maxPayload: number;
  maxQueueBytes: number;
  heartbeat: number;
  perMessageDeflate: boolean;
  protocols: readonly string[];
  maxConnections: number;
  bus: Bus | undefined;
  headersTimeout: number;
  shutdownTimeout: number;
  proxy: ResolvedProxyOptions | undefined;
  tls: BindOptions['tls'];
  signal: AbortSignal | undefined;
  onEvent: ((event: WsServerEvent) => void) | undefined;
}

// RFC 6455 subprotocol names are RFC 7230 tokens.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** resolveWsOptions applies defaults and throws InvalidArgumentError naming a bad option. */
export function resolveWsOptions(options: WsServerOptions = {}): ResolvedWsOptions {
  const d = WS_SERVER_DEFAULTS;
  const network = options.network ?? d.network;
  checkString('network', network);
  const mode = checkOneOf('mode', options.mode ?? d.mode, ['echo', 'broadcast'] as const);
  const path = options.path ?? (mode === 'broadcast' && !options.handler ? '/chat' : '/echo');
  if (typeof path !== 'string' || !path.startsWith('/') || /[?#\s]/.test(path)) {
    throw new InvalidArgumentError(
      'path',
      `must start with "/" and hold no query, got ${JSON.stringify(path)}`,
    );
  }
  checkFunction('handler', options.handler);
  checkFunction('onEvent', options.onEvent);
  const protocols = [...(options.protocols ?? [])];
  for (const p of protocols) {
    if (typeof p !== 'string' || !TOKEN.test(p)) {
      throw new InvalidArgumentError('protocols', `${JSON.stringify(p)} is not a valid subprotocol name`);
    }
  }
  const maxPayload = checkInt('maxPayload', options.maxPayload ?? d.maxPayload, 1, 2 ** 31 - 1);
  return {
    network,
    path: path.length > 1 ? path.replace(/\/+$/, '') : path,
    mode,
    handler: options.handler,
    page: Boolean(options.page),
    origins: options.origins === undefined ? undefined : new Set(options.origins.map(checkOrigin)),
    maxPayload,
    maxQueueBytes: checkInt(
      'maxQueueBytes',
      options.maxQueueBytes ?? Math.min(Math.max(d.maxQueueBytes, 2 * maxPayload), 2 ** 31 - 1),
      1,
      2 ** 31 - 1,
    ),
    heartbeat: checkMs('heartbeat', options.heartbeat ?? d.heartbeat),
    perMessageDeflate: Boolean(options.perMessageDeflate),
    protocols,
    maxConnections: checkInt('maxConnections', options.maxConnections ?? d.maxConnections, 1, 1_000_000),
    bus: options.bus,
    headersTimeout: checkMs('headersTimeout', options.headersTimeout ?? d.headersTimeout),
    shutdownTimeout: checkMs('shutdownTimeout', options.shutdownTimeout ?? d.shutdownTimeout),
    proxy: resolveProxyOptions(options.proxy),
    tls: checkTlsServer(options.tls),
    ...(options.socketMode !== undefined ? { socketMode: options.socketMode } : {}),
    signal: checkSignal(options.signal),
    onEvent: options.onEvent,
  };
}

/**
 * checkOrigin normalises an allow-list entry to the form browsers send:
 * `scheme://host[:port]`, lower case, without a default port or a path.
 */
function checkOrigin(origin: unknown): string {
  if (typeof origin !== 'string') throw new InvalidArgumentError('origins', 'must be strings');
  if (origin === 'null') return origin;
  let u: URL;
  try {
    u = new URL(origin);
  } catch {
    throw new InvalidArgumentError(
      'origins',
      `${JSON.stringify(origin)} is not an origin like https://app.example`,
    );
  }
  if (u.origin === 'null' || u.pathname !== '/' || u.search || u.hash || u.username) {
    throw new InvalidArgumentError(
      'origins',
      `${JSON.stringify(origin)} is not an origin like https://app.example (no path, query or credentials)`,
    );
  }
  return u.origin;
}
