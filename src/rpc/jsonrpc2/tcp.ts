/**
 * JSON-RPC 2.0 over a TCP byte stream. Requests are whole JSON values one
 * after another, split by json-stream.ts, so no framing is needed: a
 * newline after each (jayson's framing) works, and so does none. Each
 * answer is written as JSON followed by `\n`, as soon as it is ready, so
 * answers to pipelined requests may come out of order (clients match them
 * by id). A byte stream cannot be resynchronised after bad JSON: the server
 * answers the calls it had already read, then Parse error (id null), and
 * closes the connection.
 */
import { ConnectionError, isNetkitError } from '../../errors.js';
import { checkMs, checkSignal } from '../../internal/validate.js';
import type { Conn } from '../../tcp/conn.js';
import { endpointText } from '../../tcp/endpoint.js';
import { type BindOptions, listenFor } from '../../tcp/listen.js';
import type { Listener } from '../../tcp/listener.js';
import { type Handler, type Server, serve } from '../../tcp/serve.js';
import { type CallEvent, checkOnCall } from '../call-event.js';
import { parseJson } from '../codec/lossless-json.js';
import { JsonSyntaxError, JsonValueDecoder } from '../json-stream.js';
import type { Registry } from '../registry.js';
import { watchIdle } from '../server/idle.js';
import { Dispatcher } from './dispatch.js';
import { INTERNAL_ERROR } from './errors.js';
import { Limiter } from './limiter.js';
import { byteOption, JSONRPC2_SERVER_DEFAULTS, type JsonRpc2Limits, resolveLimits } from './options.js';
import { encodeError, parseErrorResponse } from './protocol.js';

/** JsonRpc2TcpHandlerOptions tunes jsonRpc2TcpHandler(). Durations are milliseconds; 0 means none. */
export interface JsonRpc2TcpHandlerOptions extends JsonRpc2Limits {
  /** maxValueBytes caps one JSON value; a larger one is a Parse error and the connection closes (default 1 MiB). */
  maxValueBytes?: number;
  /**
   * idleTimeout closes a connection once no bytes moved either way and no
   * call was running for this long (default none). A slow call keeps its
   * connection; a client that stops reading its answers does not.
   */
  idleTimeout?: number;
  /** onCall is told about every call once it is answered: caller, method, duration, error. */
  onCall?: (event: CallEvent) => void;
}

/** JsonRpc2TcpOptions tunes serveJsonRpc2Tcp(). Durations are milliseconds; 0 means none. */
export interface JsonRpc2TcpOptions extends JsonRpc2TcpHandlerOptions, BindOptions {
  /** maxConnections caps concurrent connections (default 10,000). */
  maxConnections?: number;
  /**
   * firstByteTimeout closes a connection that sends nothing this long after
   * connecting, and lets a full server close its oldest silent connection to
   * admit a new one (see tcp.serve; default 0: off, as in Go).
   */
  firstByteTimeout?: number;
  /** shutdownTimeout is how long close() lets calls in progress answer before dropping connections (default 10 s). */
  shutdownTimeout?: number;
  /** signal closes the server (gracefully) when aborted. */
  signal?: AbortSignal;
}

const RESOLVED: Promise<void> = Promise.resolve();
/** LINGER_MS is how long a connection closed for bad input keeps discarding input, so the client reads our answer before any RST. */
const LINGER_MS = 1000;

/**
 * jsonRpc2TcpHandler returns a tcp.serve() handler that serves `registry`
 * as JSON-RPC 2.0 on each connection. At most maxConcurrency calls of a
 * connection run at once; past that, and while answers wait for the client
 * to read them, the connection is not read. On graceful shutdown it stops
 * reading, lets the calls in progress answer, and closes.
 */
export function jsonRpc2TcpHandler(registry: Registry, options: JsonRpc2TcpHandlerOptions = {}): Handler {
  const limits = resolveLimits(options);
  const maxValueBytes = byteOption(
    'maxValueBytes',
    options.maxValueBytes,
    JSONRPC2_SERVER_DEFAULTS.maxValueBytes,
  );
  const idleTimeout = checkMs('idleTimeout', options.idleTimeout ?? 0);
  const onCall = checkOnCall(options.onCall);
  const dispatcher = new Dispatcher(registry, { maxBatch: limits.maxBatch, ...(onCall ? { onCall } : {}) });
  return async (conn, { signal }) => {
    const gone = new AbortController();
    void conn.closed.then(() =>
      gone.abort(
        new ConnectionError('NETKIT_CONNECTION_CLOSED', 'connection closed', conn.remoteAddr?.address),
      ),
    );
    const ctx = {
      remote: conn.remoteAddr && endpointText(conn.remoteAddr),
      signal: gone.signal,
      limiter: new Limiter(limits.maxConcurrency),
    };
    const inFlight = new Set<Promise<void>>();
    const stopIdle = watchIdle(conn, idleTimeout, () => inFlight.size > 0);
    let writing = RESOLVED;
    const send = (text: string): Promise<void> => {
      // Write failures show on the read side (reset), which ends the loop.
      writing = conn.write(`${text}\n`).catch(() => {});
      return writing;
    };
    // The Parse error answer for bytes that cannot be read, sent after the answers to what came before them.
    let parseError: string | undefined;
    const decoder = new JsonValueDecoder({ maxValueBytes, maxDepth: limits.maxDepth });
    try {
      for await (const frame of conn.frames(decoder, { signal })) {
        let message: unknown;
        try {
          message = parseJson(frame.toString('utf8'));
        } catch {
          parseError = parseErrorResponse();
          break;
        }
        const task = dispatcher
          .handle(message, ctx)
          .catch(() => encodeError(null, INTERNAL_ERROR))
          .then((out) => (out === undefined ? undefined : send(out)));
        inFlight.add(task);
        void task.finally(() => inFlight.delete(task));
        // Backpressure: take no new request while the calls are all busy or the client is not reading answers.
        await ctx.limiter.room();
        await writing;
      }
    } catch (err) {
      if (err instanceof JsonSyntaxError || isNetkitError(err, 'NETKIT_FRAME_TOO_LARGE')) {
        const limited = !(err instanceof JsonSyntaxError) || err.limit !== undefined;
        parseError = parseErrorResponse(limited ? err.message : undefined);
      }
      // Otherwise the peer reset, a deadline passed, or shutdown began: nothing to answer.
    }
    // Like Go's ServeCodec: stop reading, let the calls already read answer, then close.
    while (inFlight.size > 0) await Promise.all(inFlight);
    if (parseError !== undefined) {
      await send(parseError);
      await linger(conn);
    }
    await writing;
    stopIdle();
  };
}

/**
 * linger half-closes and discards input for a moment: closing with unread
 * bytes makes the kernel send RST, which can destroy our Parse error
 * answer in the client's receive buffer before it reads it.
 */
async function linger(conn: Conn): Promise<void> {
  await conn.closeWrite();
  const stop = AbortSignal.timeout(LINGER_MS);
  try {
    while ((await conn.read({ signal: stop })) !== null);
  } catch {
    // time is up, or the peer reset: either way we are done
  }
}

/**
 * JsonRpc2TcpServer is a running serveJsonRpc2Tcp() server: a tcp.Server
 * with a JSON-RPC 2.0 handler. close() shuts down gracefully.
 */
export class JsonRpc2TcpServer implements AsyncDisposable {
  /** server is the underlying tcp.Server (connection counts, events). */
  readonly server: Server;
  /** address is the bound address in Go's form (`127.0.0.1:4000`). */
  readonly address: string;

  constructor(server: Server) {
    this.server = server;
    this.address = server.listener.addr.address;
  }

  /** listener is where connections come from (its `tls` tells the certificate's fingerprint). */
  get listener(): Listener {
    return this.server.listener;
  }

  /** done resolves once the server is closed and every connection has finished. */
  get done(): Promise<void> {
    return this.server.done;
  }

  /**
   * close stops accepting, stops reading requests, lets calls in progress
   * answer for up to `timeout` ms (shutdownTimeout), then drops the rest.
   */
  close(options: { timeout?: number } = {}): Promise<void> {
    return this.server.close(options);
  }

  /** destroy closes the listener and every connection now; calls in progress see their signal abort. */
  destroy(): void {
    this.server.destroy();
  }

  /** [Symbol.asyncDispose] runs close(), so `await using` closes the server at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * serveJsonRpc2Tcp serves `registry` as JSON-RPC 2.0 on every connection
 * of `target`: a Listener from tcp.listen(), or an address to listen on
 * (Go's syntax: `:4000`, `127.0.0.1:0`). Rejects like tcp.listen() (e.g.
 * NETKIT_LISTEN_FAILED) and with NETKIT_INVALID_ARGUMENT for a bad option.
 */
export async function serveJsonRpc2Tcp(
  target: Listener | string,
  registry: Registry,
  options: JsonRpc2TcpOptions = {},
): Promise<JsonRpc2TcpServer> {
  const handler = jsonRpc2TcpHandler(registry, options);
  const serveOptions = {
    maxConnections: options.maxConnections,
    firstByteTimeout: options.firstByteTimeout,
    shutdownTimeout: options.shutdownTimeout,
    signal: checkSignal(options.signal),
  };
  const listener = await listenFor(target, { ...options, signal: serveOptions.signal });
  try {
    return new JsonRpc2TcpServer(serve(listener, handler, serveOptions));
  } catch (err) {
    if (typeof target === 'string') await listener.close();
    throw err;
  }
}
