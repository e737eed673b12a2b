import net from 'node:net';
import WebSocket from 'ws';
import { AbortError, AddrError, ConnectionError, NetkitError, TimeoutError, WsError } from '../../errors.js';
import { protocolError } from '../../http/client/errors.js';
import { proxyConnection } from '../../http/client/proxy-connection.js';
import { unixUrlText } from '../../tcp/unix-url.js';
import { TlsAgent } from '../../tls/agent.js';
import { isTlsFailure, tlsError } from '../../tls/failure.js';
import { chooseProxy } from '../../tunnel/index.js';
import { toMessage, type WsMessage } from '../message.js';
import type { ResolvedClientOptions } from './options.js';

/**
 * Opened is a socket whose handshake succeeded. A server may send its first
 * message in the same TCP read as the 101 response, and `ws` emits it right
 * after 'open', before anyone awaiting the handshake can listen; `take()`
 * hands over those early messages and stops buffering.
 */
export interface Opened {
  ws: WebSocket;
  take(): WsMessage[];
}

/** NEVER is a signal that never aborts, for a connect without one. */
const NEVER = new AbortController().signal;

const LOOKUP_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

/**
 * openSocket performs one opening handshake and resolves with the open
 * socket. Failures become typed errors: a refused or unreachable host
 * (NETKIT_DIAL_FAILED), a name that does not resolve, a certificate
 * problem (NETKIT_TLS_FAILED), an HTTP answer other than 101 or a broken
 * upgrade (NETKIT_WS_HANDSHAKE with `status`), an answer that is not HTTP
 * (NETKIT_HTTP_PROTOCOL), the timeout, or the signal.
 */
export function openSocket(o: ResolvedClientOptions, signal?: AbortSignal): Promise<Opened> {
  const url = o.url;
  const where = `websocket ${o.socketPath === undefined ? url.href : unixUrlText(url, o.socketPath)}`;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError('websocket connect', signal.reason));
    const ws = new WebSocket(url, o.protocols, {
      headers: o.headers,
      ...(o.origin !== undefined ? { origin: o.origin } : {}),
      handshakeTimeout: o.timeout > 0 ? o.timeout : undefined,
      maxPayload: o.maxPayload,
      perMessageDeflate: o.perMessageDeflate,
      followRedirects: false,
      ...connector(o, signal),
    });
    const early: WsMessage[] = [];
    const buffer = (data: Buffer, binary: boolean) => early.push(toMessage(data, binary));
    ws.on('message', buffer);
    const take = () => {
      ws.off('message', buffer);
      return early.splice(0);
    };
    const settle = (err?: Error) => {
      signal?.removeEventListener('abort', onAbort);
      ws.removeAllListeners('open');
      ws.removeAllListeners('unexpected-response');
      if (err) {
        ws.removeAllListeners('error');
        // Whatever the socket still does (a late reset) must not become an uncaught 'error'.
        ws.on('error', () => {});
        ws.terminate();
        reject(err);
      } else resolve({ ws, take });
    };
    const onAbort = () => settle(new AbortError('websocket connect', signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    ws.once('open', () => settle());
    ws.once('unexpected-response', (req, res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      req.destroy();
      settle(
        new WsError(
          'NETKIT_WS_HANDSHAKE',
          `${where}: the server answered ${status} ${res.statusMessage ?? ''}, not 101`.trimEnd(),
          {
            status,
          },
        ),
      );
    });
    ws.once('error', (err: NodeJS.ErrnoException) => settle(mapOpenError(err, o, where)));
  });
}

/**
 * connector is how `ws` gets its socket. wss: goes through a TlsAgent: `ws`
 * writes the upgrade request as soon as it has a socket, so the socket must
 * already be secure and pin-checked (see tls/agent.ts). A Unix socket is
 * named to the agent, or to a createConnection for ws:, because `ws` clears
 * socketPath from the request options (it knows only its ws+unix: URLs).
 */
function connector(
  o: ResolvedClientOptions,
  signal: AbortSignal | undefined,
): Pick<WebSocket.ClientOptions, 'agent' | 'createConnection'> {
  const path = o.socketPath;
  const proxy = path === undefined ? chooseProxy(o.proxy, o.url) : undefined;
  if (proxy !== undefined) {
    // The upgrade goes through a tunnel, TLS inside it for wss:, handed over only once secure (as the TlsAgent does).
    const connection = proxyConnection(proxy, o.url, o.tls, signal ?? NEVER, undefined, o.timeout);
    return {
      createConnection: connection.createConnection as unknown as WebSocket.ClientOptions['createConnection'],
    };
  }
  if (o.url.protocol === 'wss:') {
    return {
      agent: new TlsAgent(o.tls, {
        plainScheme: 'ws',
        handshakeTimeout: o.timeout,
        ...(path !== undefined ? { socketPath: path } : {}),
        ...(signal !== undefined ? { signal } : {}),
      }),
    };
  }
  return path === undefined ? {} : { createConnection: () => net.connect({ path }) };
}

function mapOpenError(err: NodeJS.ErrnoException, o: ResolvedClientOptions, where: string): Error {
  // The TLS agent's own failures (NETKIT_TLS_FAILED, its timeout) are already in words.
  if (err instanceof NetkitError) return err;
  const url = o.url;
  const code = err.code ?? '';
  const address =
    o.socketPath !== undefined
      ? `unix:${o.socketPath}`
      : `${url.hostname}:${url.port || (url.protocol === 'wss:' ? '443' : '80')}`;
  if (LOOKUP_CODES.has(code)) {
    return new AddrError('NETKIT_LOOKUP_FAILED', `lookup ${url.hostname}: ${err.message}`, url.hostname, {
      cause: err,
    });
  }
  if (/handshake has timed out/i.test(err.message)) {
    return new TimeoutError(
      'NETKIT_CONNECT_TIMEOUT',
      'websocket connect',
      `${where}: opening handshake timed out`,
    );
  }
  // After the handshake too: a TLS 1.3 server refuses a client certificate once the upgrade is on its way.
  if (url.protocol === 'wss:' && isTlsFailure(err)) return tlsError(err, address, 'ws');
  if (code.startsWith('E') && !code.startsWith('ERR_')) {
    return new ConnectionError('NETKIT_DIAL_FAILED', `dial ${address}: ${err.message}`, address, {
      cause: err,
    });
  }
  // Not HTTP at all (an SSH or SMTP greeting, binary), or malformed HTTP: say what came back.
  const notHttp = protocolError(err, where, address, 'wss');
  if (notHttp) return notHttp;
  // Sec-WebSocket-Accept, subprotocol and extension mismatches.
  return new WsError('NETKIT_WS_HANDSHAKE', `${where}: ${err.message}`, { cause: err });
}
