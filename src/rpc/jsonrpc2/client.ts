/**
 * The JSON-RPC 2.0 client: calls, notifications and batches over HTTP POST
 * or one multiplexed TCP connection, with a timeout and an AbortSignal on
 * every call.
 */
import { AbortError, ConnectionError, InvalidArgumentError, TimeoutError } from '../../errors.js';
import { checkInt, checkMs, checkSignal } from '../../internal/validate.js';
import { dial } from '../../tcp/dial.js';
import { splitUnixUrl } from '../../tcp/unix-url.js';
import { resolveSchemeTls, resolveTlsClient, type TlsClientOptions } from '../../tls/client.js';
import type { ProxyInput } from '../../tunnel/index.js';
import { probeWire } from '../client/probe.js';
import { stringifyJson } from '../codec/lossless-json.js';
import { JSON_STREAM_DEFAULTS } from '../json-stream.js';
import { HttpTransport } from './client-http.js';
import { TcpTransport } from './client-tcp.js';
import type { JsonRpcError } from './errors.js';
import { argsToParams } from './protocol.js';
import type { Outcome, Transport } from './transport.js';

/** JsonRpc2ClientOptions tunes dialJsonRpc2(). Durations are milliseconds; 0 means none. */
export interface JsonRpc2ClientOptions {
  /** timeout is each call's default timeout (default 30 s). */
  timeout?: number;
  /** connectTimeout bounds dialling a TCP target (default: timeout, or 30 s when that is 0). */
  connectTimeout?: number;
  /** signal cancels connecting. */
  signal?: AbortSignal;
  /** network is tcp (default), tcp4, tcp6 or unix for a TCP target (or give it as `unix:/path`). */
  network?: string;
  /**
   * tls speaks TLS to a TCP target (`true`: the system's roots; or a CA, a
   * pin, a client certificate: see TlsClientOptions), and says how for an
   * https:// target, whose scheme turns it on.
   */
  tls?: TlsClientOptions | boolean;
  /**
   * proxy reaches a TCP target through a forward proxy (`http://` for HTTP
   * CONNECT, `socks5://` or `socks5h://`), as tcp.dial()'s option does. An
   * http:// target does not take one yet (NETKIT_INVALID_ARGUMENT naming it).
   */
  proxy?: ProxyInput;

  /** maxValueBytes caps one response: a TCP value or an HTTP body (default 16 MiB). */
  maxValueBytes?: number;
  /** maxDepth caps the nesting of a response (default 256). */
  maxDepth?: number;
  /** headers are added to every HTTP request (authorization, tracing). */
  headers?: Record<string, string>;
}

/** JSONRPC2_CLIENT_DEFAULTS are dialJsonRpc2()'s defaults. */
export const JSONRPC2_CLIENT_DEFAULTS = Object.freeze({
  /** 30 s per call. */
  timeout: 30_000,
  /** The JSON stream reader's limit on one value. */
  maxValueBytes: JSON_STREAM_DEFAULTS.maxValueBytes,
  /** The JSON stream reader's limit on nesting. */
  maxDepth: JSON_STREAM_DEFAULTS.maxDepth,
});

/** JsonRpc2CallOptions tunes one call, notification or batch. */
export interface JsonRpc2CallOptions {
  /** signal abandons the call (NETKIT_ABORTED); a late answer is dropped. */
  signal?: AbortSignal;
  /** timeout overrides the client's timeout for this call (NETKIT_TIMEOUT); 0 means none. */
  timeout?: number;
}

/** JsonRpc2BatchItem is one entry of a batch; `notify` makes it a notification. */
export interface JsonRpc2BatchItem {
  /** method is the method to call. */
  method: string;
  /** params are by position (array) or by name (object). */
  params?: unknown;
  /** notify sends the entry as a notification: no id, no answer. */
  notify?: boolean;
}

/** JsonRpc2BatchResult is how one batch entry ended; a notification's is `{ result: undefined }`. */
export type JsonRpc2BatchResult =
  | {
      /** result is what the method returned. */
      result: unknown;
    }
  | {
      /** error is the server's error for this entry. */
      error: JsonRpcError;
    };

/**
 * JsonRpc2Client calls a JSON-RPC 2.0 server. Every method is safe to use
 * concurrently; over TCP all calls share one connection and are matched to
 * their answers by id. Params are sent as given when they are an object or
 * an array, and as `[value]` otherwise (a netkit or Go server unwraps it).
 */
export class JsonRpc2Client implements AsyncDisposable {
  /** target is what the client was connected to: a URL or `host:port`. */
  readonly target: string;
  readonly #transport: Transport;
  readonly #timeout: number;
  #nextId = 1;

  /**
   * JsonRpc2Client wraps a transport; use dialJsonRpc2() to make one.
   *
   * @internal
   */
  constructor(target: string, transport: Transport, timeout: number) {
    this.target = target;
    this.#transport = transport;
    this.#timeout = timeout;
  }

  /**
   * call invokes `method` and resolves with its result. Rejects with
   * JsonRpcError (NETKIT_RPC_SERVER_ERROR, with `rpcCode` and `data`) when
   * the server answers an error, NETKIT_TIMEOUT, NETKIT_ABORTED, or a
   * transport error (NETKIT_CONNECTION_CLOSED or _RESET when a TCP
   * connection dies, NETKIT_RPC_PROTOCOL when the server breaks the protocol).
   */
  async call(method: string, params?: unknown, options: JsonRpc2CallOptions = {}): Promise<unknown> {
    const id = this.#nextId++;
    const body = encodeRequest(method, params, id);
    const outcomes = await this.#exchange(body, [id], options, `call ${method}`);
    const outcome = outcomes.get(id)!;
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  }

  /** notify sends a notification: resolves once it is sent (TCP) or acknowledged (HTTP); no answer comes. */
  async notify(method: string, params?: unknown, options: JsonRpc2CallOptions = {}): Promise<void> {
    await this.#exchange(encodeRequest(method, params, undefined), [], options, `notify ${method}`);
  }

  /**
   * batch sends `items` as one batch and resolves with one entry per item,
   * in order: `{ result }` or `{ error }` (a JsonRpcError). It rejects as a
   * whole for transport failures, timeouts, and an error the server
   * answered for the whole batch (a batch over the server's maxBatch).
   */
  async batch(
    items: readonly JsonRpc2BatchItem[],
    options: JsonRpc2CallOptions = {},
  ): Promise<JsonRpc2BatchResult[]> {
    if (!Array.isArray(items) || items.length === 0) {
      throw new InvalidArgumentError('items', 'a batch needs at least one request');
    }
    const ids: (number | undefined)[] = items.map((item) => (item?.notify ? undefined : this.#nextId++));
    const parts = items.map((item, i) => {
      if (typeof item !== 'object' || item === null)
        throw new InvalidArgumentError('items', `#${i} is not an object`);
      return encodeRequest(item.method, item.params, ids[i]);
    });
    const wanted = ids.filter((id) => id !== undefined);
    const outcomes = await this.#exchange(
      `[${parts.join(',')}]`,
      wanted,
      options,
      `batch of ${items.length}`,
    );
    return ids.map((id) => (id === undefined ? { result: undefined } : outcomes.get(id)!));
  }

  /** close waits for calls in progress to end, then closes the connection(s). New calls fail with NETKIT_CONNECTION_CLOSED. */
  close(): Promise<void> {
    return this.#transport.close();
  }

  /** destroy fails every call in progress with `err` (default NETKIT_CONNECTION_CLOSED) and drops the connection(s) now. */
  destroy(err?: Error): void {
    this.#transport.destroy(
      err ??
        new ConnectionError('NETKIT_CONNECTION_CLOSED', `${this.target}: the JSON-RPC client was destroyed`),
    );
  }

  /** [Symbol.asyncDispose] runs close(), so `await using` closes the client at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** #exchange runs one exchange under the call's timeout and signal. */
  async #exchange(
    body: string,
    ids: readonly number[],
    options: JsonRpc2CallOptions,
    op: string,
  ): Promise<Map<number, Outcome>> {
    const signal = checkSignal(options.signal);
    const timeout = checkMs('timeout', options.timeout ?? this.#timeout);
    const stop = new AbortController();
    const onAbort = () => stop.abort(new AbortError(op, signal?.reason));
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeout > 0
        ? setTimeout(
            () =>
              stop.abort(
                new TimeoutError(
                  'NETKIT_TIMEOUT',
                  'call',
                  `${op}: no answer from ${this.target} within ${timeout} ms; raise the timeout or check the server`,
                  timeout,
                ),
              ),
            timeout,
          )
        : undefined;
    try {
      return await this.#transport.exchange({ body, ids, signal: stop.signal });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** encodeRequest returns a Request object as JSON text; without `id` it is a notification. */
function encodeRequest(method: string, params: unknown, id: number | undefined): string {
  if (typeof method !== 'string' || method === '') {
    throw new InvalidArgumentError(
      'method',
      `must be a non-empty string like "Service.Method", got ${String(method)}`,
    );
  }
  try {
    return stringifyJson({ jsonrpc: '2.0', method, params: argsToParams(params), id });
  } catch (err) {
    throw new InvalidArgumentError('params', `cannot be sent as JSON: ${(err as Error).message}`);
  }
}

/**
 * dialJsonRpc2 makes a client for `target`: an `http://` or `https://`
 * URL (each call is a POST on a keep-alive Agent; nothing is dialled until
 * the first call; `http://unix:/path:/` for a Unix socket), or `host:port`
 * or `unix:/path` for JSON-RPC 2.0 over
 * TCP (dialled now, with TLS when `tls` is set; rejects like tcp.dial(),
 * e.g. NETKIT_DIAL_FAILED, NETKIT_TLS_FAILED).
 */
export async function dialJsonRpc2(
  target: string,
  options: JsonRpc2ClientOptions = {},
): Promise<JsonRpc2Client> {
  if (typeof target !== 'string' || target === '') {
    throw new InvalidArgumentError('target', 'must be an http:// URL or host:port');
  }
  const timeout = checkMs('timeout', options.timeout ?? JSONRPC2_CLIENT_DEFAULTS.timeout);
  const limits = {
    maxValueBytes: checkInt(
      'maxValueBytes',
      options.maxValueBytes ?? JSONRPC2_CLIENT_DEFAULTS.maxValueBytes,
      1,
      2 ** 31 - 1,
    ),
    maxDepth: checkInt('maxDepth', options.maxDepth ?? JSONRPC2_CLIENT_DEFAULTS.maxDepth, 1, 100_000),
  };
  const signal = checkSignal(options.signal);
  if (/^https?:\/\//i.test(target)) {
    if (options.proxy !== undefined && options.proxy !== '') {
      throw new InvalidArgumentError(
        'proxy',
        'JSON-RPC over HTTP does not go through a forward proxy; give a host:port target (JSON-RPC over TCP) for one',
      );
    }
    const tls = resolveSchemeTls(options.tls, undefined, undefined);
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new InvalidArgumentError('target', `not a valid URL: ${target}`);
    }
    // A Unix socket in got's form, as netkit's servers print it: http://unix:/run/app.sock:/.
    const unix = splitUnixUrl(url);
    if (signal?.aborted) throw new AbortError('connect', signal.reason);
    return new JsonRpc2Client(
      target,
      new HttpTransport(unix?.url ?? url, {
        ...limits,
        headers: options.headers,
        tls,
        socketPath: unix?.socketPath,
      }),
      timeout,
    );
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    throw new InvalidArgumentError(
      'target',
      `unsupported scheme in ${target}; use http://, https:// or host:port`,
    );
  }
  const connectTimeout = checkMs(
    'connectTimeout',
    options.connectTimeout ?? (timeout > 0 ? timeout : 30_000),
  );
  const tls = options.tls;
  resolveTlsClient(tls);
  const conn = await dial(target, {
    network: options.network,
    timeout: connectTimeout,
    signal,
    tls,
    ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
  });
  const probe = () => probeWire(target, { codec: 'gob', http: false }, { network: options.network, tls });
  return new JsonRpc2Client(target, new TcpTransport(conn, limits, { probe }), timeout);
}
