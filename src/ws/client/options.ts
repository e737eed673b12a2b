import { InvalidArgumentError } from '../../errors.js';
import { normalizeHeaders } from '../../http/client/options.js';
import { type Backoff, type BackoffOptions, checkBackoff } from '../../internal/backoff.js';
import { checkInt, checkMs, checkSignal } from '../../internal/validate.js';
import { splitUnixUrl } from '../../tcp/unix-url.js';
import { type ResolvedTlsClient, resolveSchemeTls, type TlsClientOptions } from '../../tls/client.js';
import { checkProxyOption, type ProxyOption } from '../../tunnel/index.js';
import type { Sendable } from '../message.js';

/** WsClientOptions tune dialWs(). Sizes are bytes, durations milliseconds. */
export interface WsClientOptions {
  /** headers are sent with the upgrade request (an object or [name, value] pairs). */
  headers?: Record<string, string> | [string, string][];
  /** protocols are the subprotocols to offer; the server picks one (see WsClient.protocol). */
  protocols?: readonly string[];
  /** origin sets the `Origin` header, as a browser would. */
  origin?: string;
  /** timeout bounds each opening handshake, connect included. Default 10 s. */
  timeout?: number;
  /** maxPayload is the largest message accepted from the server; larger closes with 1009. Default 64 MiB. */
  maxPayload?: number;
  /** perMessageDeflate offers the permessage-deflate extension. Default off. */
  perMessageDeflate?: boolean;
  /**
   * tls is how wss: speaks TLS: trusted CAs, a pin, a client certificate,
   * the name to check (see TlsClientOptions). The URL's scheme decides
   * whether TLS is used; `true`, `false` or nothing mean the defaults.
   */
  tls?: TlsClientOptions | boolean;
  /** ca adds trusted certificates (PEM) for wss:; short for `tls.ca`. */
  ca?: string | Buffer | (string | Buffer)[];
  /** insecure skips certificate checks for wss: (testing only); short for `tls.insecure`. */
  insecure?: boolean;
  /**
   * reconnect reopens the connection when it drops (anything but our own
   * close), waiting a capped exponential backoff with jitter between
   * attempts. The first connection is not retried: dialWs() rejects.
   */
  reconnect?: boolean | BackoffOptions;
  /** preamble messages are sent after every (re)connection, e.g. a login or a subscription. */
  preamble?: readonly Sendable[];
  /**
   * heartbeat pings the server this often and drops the connection (1006,
   * then `reconnect` if set) when the previous ping is still unanswered, so
   * a server that vanished without a FIN (a black hole, a cut link) is
   * noticed within two intervals. Default 0: off.
   */
  heartbeat?: number;
  /** closeTimeout is how long close() waits for the server's close frame. Default 5 s. */
  closeTimeout?: number;
  /** signal closes the client when aborted (and aborts connecting). */
  signal?: AbortSignal;
  /**
   * proxy opens each connection through a forward proxy: a URL (`http://`
   * for HTTP CONNECT, `socks5://`, `socks5h://`, credentials as
   * `user:password@`), `'env'` for what HTTP_PROXY (ws:) or HTTPS_PROXY
   * (wss:), ALL_PROXY and NO_PROXY say (read only when asked), or a
   * function of the URL. wss: speaks TLS with the server inside the
   * tunnel, so `tls` applies to the server. A Unix socket URL never uses a
   * proxy. See docs/proxies.md.
   */
  proxy?: ProxyOption;
}

/** ResolvedClientOptions are options after defaults and validation. */
export interface ResolvedClientOptions {
  /** url is where to connect; for a Unix socket its host is `localhost` and `socketPath` says where. */
  url: URL;
  headers: Record<string, string>;
  protocols: string[];
  origin: string | undefined;
  timeout: number;
  maxPayload: number;
  perMessageDeflate: boolean;
  tls: ResolvedTlsClient;
  socketPath: string | undefined;
  reconnect: Backoff | undefined;
  preamble: readonly Sendable[];
  heartbeat: number;
  closeTimeout: number;
  signal: AbortSignal | undefined;
  proxy: ProxyOption | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** parseWsUrl accepts ws:, wss:, and http:/https: (mapped to ws:/wss:). */
export function parseWsUrl(input: unknown): URL {
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new InvalidArgumentError('url', `not a valid URL: ${String(input)} (expected ws://host:port/path)`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new InvalidArgumentError('url', `protocol must be ws: or wss:, got ${url.protocol}`);
  }
  if (url.hash) throw new InvalidArgumentError('url', 'a WebSocket URL cannot have a #fragment');
  return url;
}

/** resolveClientOptions applies defaults and throws InvalidArgumentError naming a bad option. */
export function resolveClientOptions(url: unknown, o: WsClientOptions = {}): ResolvedClientOptions {
  const protocols = [...(o.protocols ?? [])];
  for (const p of protocols) {
    if (typeof p !== 'string' || !TOKEN.test(p)) {
      throw new InvalidArgumentError('protocols', `${JSON.stringify(p)} is not a valid subprotocol name`);
    }
  }
  if (new Set(protocols).size !== protocols.length) {
    throw new InvalidArgumentError('protocols', 'must not repeat a name');
  }
  if (o.origin !== undefined && (typeof o.origin !== 'string' || /[\r\n\0]/.test(o.origin))) {
    throw new InvalidArgumentError('origin', 'must be a string without line breaks');
  }
  const preamble = [...(o.preamble ?? [])];
  for (const m of preamble) {
    if (typeof m !== 'string' && !(m instanceof Uint8Array)) {
      throw new InvalidArgumentError('preamble', 'must be strings or bytes');
    }
  }
  // A Unix socket in got's form, as netkit's servers print it: ws://unix:/run/app.sock:/path.
  const parsed = parseWsUrl(url);
  const unix = splitUnixUrl(parsed);
  return {
    url: unix?.url ?? parsed,
    headers: Object.fromEntries(normalizeHeaders(o.headers)),
    protocols,
    origin: o.origin,
    timeout: checkMs('timeout', o.timeout ?? 10_000),
    maxPayload: checkInt('maxPayload', o.maxPayload ?? 64 * 1024 * 1024, 1, 2 ** 31 - 1),
    perMessageDeflate: Boolean(o.perMessageDeflate),
    tls: resolveSchemeTls(o.tls, o.ca, o.insecure),
    socketPath: unix?.socketPath,
    reconnect:
      o.reconnect === undefined || o.reconnect === false
        ? undefined
        : checkBackoff('reconnect', o.reconnect === true ? {} : o.reconnect),
    preamble,
    heartbeat: checkMs('heartbeat', o.heartbeat ?? 0),
    closeTimeout: checkMs('closeTimeout', o.closeTimeout ?? 5_000),
    signal: checkSignal(o.signal),
    proxy: checkProxyOption(o.proxy),
  };
}
