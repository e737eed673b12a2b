import { checkBool, checkInt, checkMs, checkSignal } from '../../internal/validate.js';
import { type BindOptions, listenFor } from '../../tcp/listen.js';
import type { Listener } from '../../tcp/listener.js';
import { type Server, serve } from '../../tcp/serve.js';
import { type CallEvent, checkOnCall } from '../call-event.js';
import { checkCodec, createServerCodec } from '../codec/index.js';
import type { CodecName } from '../codec/types.js';
import type { Registry } from '../registry.js';
import { acceptHttp } from './http-connect.js';
import { watchIdle } from './idle.js';
import { serveRpcConn } from './serve-conn.js';

/** RpcServeOptions configures serveRpc(). Durations are milliseconds. */
export interface RpcServeOptions extends BindOptions {
  /** codec is `gob` (Go's net/rpc default, the default here) or `json` (net/rpc/jsonrpc). */
  codec?: CodecName;
  /** http serves Go's rpc.HandleHTTP: CONNECT /_goRPC_ for calls, /debug/rpc for a status page (gob or json). */
  http?: boolean;
  /** maxConcurrent caps the calls running at once per connection (default 256). */
  maxConcurrent?: number;
  /** maxMessageBytes caps one request (default 16 MiB). */
  maxMessageBytes?: number;
  /** maxConnections caps concurrent connections; past it new ones are reset (default 10,000). */
  maxConnections?: number;
  /**
   * firstByteTimeout closes a connection that sends nothing this long after
   * connecting, and lets a full server close its oldest silent connection to
   * admit a new one (see tcp.serve; default 0: off, as in Go).
   */
  firstByteTimeout?: number;
  /** headersTimeout bounds the wait for the HTTP request head with `http` (default 10 s). */
  headersTimeout?: number;
  /**
   * idleTimeout closes a connection once no bytes moved either way and no
   * call was running for this long (default 0: never, as in Go). A slow call
   * keeps its connection; a client that stops reading its replies does not.
   */
  idleTimeout?: number;
  /** shutdownTimeout is how long close() lets calls in flight finish (default 5 s). */
  shutdownTimeout?: number;
  /** onCall is told about every request once it is answered: caller, method, duration, error (for logs and metrics). */
  onCall?: (event: CallEvent) => void;
  /** signal closes the server when aborted. */
  signal?: AbortSignal;
}

/** RPC_SERVE_DEFAULTS are serveRpc()'s defaults. */
export const RPC_SERVE_DEFAULTS = Object.freeze({
  /** The codec of Go's rpc.Dial and rpc.ServeConn. */
  codec: 'gob' as CodecName,
  /** Calls running at once per connection; beyond it reading pauses, so a client cannot queue unbounded work. */
  maxConcurrent: 256,
  /** 16 MiB per request, as the gob decoder's default. */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Beyond it a new connection is reset. */
  maxConnections: 10_000,
  /** An HTTP CONNECT must arrive within 10 s. */
  headersTimeout: 10_000,
  /** 0: idle connections stay open, as Go's net/rpc keeps them. */
  idleTimeout: 0,
  /** close() lets calls in progress finish for 5 s. */
  shutdownTimeout: 5_000,
});

/** RpcServer is a running serveRpc() server. */
export interface RpcServer extends AsyncDisposable {
  /** address is the bound address in Go's form (`127.0.0.1:1234`). */
  readonly address: string;
  /** codec is the codec the server speaks. */
  readonly codec: CodecName;
  /** http is true when calls arrive through HTTP CONNECT (Go's rpc.DialHTTP). */
  readonly http: boolean;
  /** tcp is the underlying netkit TCP server (events: open, close). */
  readonly tcp: Server;
  /** listener is where connections come from (its `tls` tells the certificate's fingerprint). */
  readonly listener: Listener;
  /** close stops accepting, lets calls in flight answer (up to shutdownTimeout), then closes. */
  close(): Promise<void>;
  /** destroy closes the listener and every connection now. */
  destroy(): void;
}

/**
 * serveRpc serves `registry` on `target` (a Listener, or an address to
 * listen on with the options' network, PROXY and TLS) with Go's net/rpc
 * protocol: gob (rpc.ServeConn) or JSON (jsonrpc.ServeConn) per connection,
 * or over HTTP CONNECT (rpc.HandleHTTP) with `http`. Rejects with
 * NETKIT_INVALID_ARGUMENT for a bad option or NETKIT_LISTEN_FAILED.
 */
export async function serveRpc(
  target: Listener | string,
  registry: Registry,
  options: RpcServeOptions = {},
): Promise<RpcServer> {
  const d = RPC_SERVE_DEFAULTS;
  const codec = checkCodec('codec', options.codec ?? d.codec);
  const useHttp = checkBool('http', options.http) ?? false;
  const maxConcurrent = checkInt('maxConcurrent', options.maxConcurrent ?? d.maxConcurrent, 1, 1_000_000);
  const maxMessageBytes = checkInt(
    'maxMessageBytes',
    options.maxMessageBytes ?? d.maxMessageBytes,
    64,
    2 ** 31 - 1,
  );
  const headersTimeout = checkMs('headersTimeout', options.headersTimeout ?? d.headersTimeout);
  const idleTimeout = checkMs('idleTimeout', options.idleTimeout ?? d.idleTimeout);
  const onCall = checkOnCall(options.onCall);
  const signal = checkSignal(options.signal);
  const listener = await listenFor(target, options);
  const tcp = serve(
    listener,
    async (conn, ctx) => {
      let initial: Buffer | undefined;
      if (useHttp) {
        // The HTTP head is bounded by headersTimeout; the idle timeout also covers it when that is off.
        const stopIdle = watchIdle(conn, headersTimeout > 0 ? 0 : idleTimeout, () => false);
        try {
          initial = await acceptHttp(conn, registry, headersTimeout);
        } catch {
          conn.destroy();
          return;
        } finally {
          stopIdle();
        }
        if (initial === undefined) return;
      }
      await serveRpcConn(
        conn,
        createServerCodec(codec, maxMessageBytes),
        registry,
        { maxConcurrent, idleTimeout, signal: ctx.signal, ...(onCall ? { onCall } : {}) },
        initial,
      );
    },
    {
      maxConnections: options.maxConnections ?? d.maxConnections,
      firstByteTimeout: options.firstByteTimeout ?? 0,
      // The RPC layer keeps the idle timeout: tcp.serve() would also cut connections with a call running.
      idleTimeout: 0,
      shutdownTimeout: options.shutdownTimeout ?? d.shutdownTimeout,
      ...(signal ? { signal } : {}),
    },
  );
  return {
    address: listener.addr.address,
    codec,
    http: useHttp,
    tcp,
    listener,
    close: () => tcp.close(),
    destroy: () => tcp.destroy(),
    [Symbol.asyncDispose]: () => tcp.close(),
  };
}
