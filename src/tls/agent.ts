import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { TimeoutError } from '../errors.js';
import { checkPin, type ResolvedTlsClient, tlsConnectOptions } from './client.js';
import { tlsError } from './failure.js';

/** TlsAgentOptions tune a TlsAgent. Durations are milliseconds. */
export interface TlsAgentOptions {
  /** plainScheme is what a plain-text peer should be spoken to with instead (`http`, `ws`), for the failure's reason. */
  plainScheme: string;
  /** keepAlive keeps idle connections for reuse, as http.Agent's option does. */
  keepAlive?: boolean;
  /** handshakeTimeout bounds connect and TLS handshake together; 0 means none. */
  handshakeTimeout?: number;
  /** signal destroys every connection still connecting or handshaking. */
  signal?: AbortSignal;
  /**
   * socketPath connects every request to this Unix domain socket, whatever
   * the request's own options say (`ws` clears socketPath from them).
   */
  socketPath?: string;
  /** onSocket sees each new TLS socket as soon as it exists, before its handshake (for timings). */
  onSocket?: (socket: tls.TLSSocket) => void;
}

/** What node's Agent hands createConnection: the request's options plus its own. */
type AgentConnectOptions = tls.ConnectionOptions & {
  host?: string | null;
  port?: number | string | null;
  socketPath?: string;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
};

/**
 * TlsAgent is an https.Agent whose connections are secure, and pin-checked,
 * before node:https (or `ws`) sees them. Both write the request the moment
 * they get a socket; node's own https.Agent hands them one mid-handshake,
 * with the request already queued, so a pin checked after the handshake
 * would come too late. Node's Agent accepts a createConnection that calls
 * back, and this one calls back only once the handshake is done and the pin
 * matched: a server with another certificate sees no application byte.
 * Every TLS setting comes from one ResolvedTlsClient, so HTTP and WebSocket
 * clients behave exactly as dial() does (SNI, versions, client
 * certificates); the request's own TLS options are ignored. Failures are
 * NETKIT_TLS_FAILED; a socket that never connected fails with Node's error,
 * for the client to map (refused, lookup).
 */
export class TlsAgent extends https.Agent {
  readonly #tls: ResolvedTlsClient;
  readonly #o: TlsAgentOptions;
  readonly #connecting = new Set<tls.TLSSocket>();

  constructor(resolved: ResolvedTlsClient, options: TlsAgentOptions) {
    super({ keepAlive: options.keepAlive === true });
    this.#tls = resolved;
    this.#o = options;
    options.signal?.addEventListener(
      'abort',
      () => {
        for (const s of this.#connecting) s.destroy(options.signal?.reason);
      },
      { once: true },
    );
  }

  /**
   * createConnection dials through netkit's TLS client, so requests get its pins, reasons and timeouts;
   * node's Agent calls it, not you.
   */
  override createConnection(
    requestOptions: https.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): undefined {
    // node's Agent always passes the callback (createSocket); without it there is no way to wait for the handshake.
    if (callback === undefined) throw new TypeError('TlsAgent.createConnection needs a callback');
    const options = requestOptions as AgentConnectOptions;
    const host = options.host ?? 'localhost';
    const path = this.#o.socketPath ?? options.socketPath;
    const where = path !== undefined ? `unix:${path}` : `${host}:${options.port ?? 443}`;
    const target = path !== undefined ? { path } : { host, port: Number(options.port ?? 443) };
    const socket = tls.connect({
      ...tlsConnectOptions(this.#tls, host),
      ...target,
      ...(options.keepAlive ? { keepAlive: true, keepAliveInitialDelay: options.keepAliveInitialDelay } : {}),
    });
    this.#connecting.add(socket);
    let connected = false;
    let settled = false;
    const timeout = this.#o.handshakeTimeout ?? 0;
    const timer =
      timeout > 0
        ? setTimeout(
            () =>
              socket.destroy(
                new TimeoutError(
                  'NETKIT_CONNECT_TIMEOUT',
                  'tls',
                  `${where}: no TLS connection within ${timeout} ms; check that the server is up or raise the timeout`,
                  timeout,
                ),
              ),
            timeout,
          )
        : undefined;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      this.#connecting.delete(socket);
      socket.off('error', onError);
      if (err === null) {
        callback(null, socket);
        return;
      }
      // A late error from a socket given up on must not become an uncaught 'error'.
      socket.on('error', () => {});
      socket.destroy();
      // Ours (a timeout, an abort's reason) and failures before TCP connected pass through as they are.
      const ours = (err as { code?: unknown }).code;
      const passThrough =
        !connected || (typeof ours === 'string' && ours.startsWith('NETKIT_')) || this.#o.signal?.aborted;
      callback(passThrough ? err : tlsError(err, where, this.#o.plainScheme), undefined as never);
    };
    const onError = (err: Error) => settle(err);
    socket.once('connect', () => {
      connected = true;
    });
    socket.on('error', onError);
    socket.once('secureConnect', () => settle(checkPin(this.#tls, socket) ?? null));
    if (this.#o.signal?.aborted) socket.destroy(this.#o.signal.reason);
    this.#o.onSocket?.(socket);
    return undefined;
  }
}
