import type { Duplex } from 'node:stream';
import { joinHostPort } from '../../addr/index.js';
import { dialSocket } from '../../tcp/dial.js';
import type { ResolvedTlsClient } from '../../tls/client.js';
import type { ProxySpec } from '../../tunnel/index.js';

/** ProxyConnection is what node:http (and `ws`) take instead of an agent: a createConnection that calls back. */
export interface ProxyConnection {
  agent: undefined;
  createConnection: (options: unknown, callback: (err: Error | null, socket: Duplex) => void) => undefined;
}

/**
 * proxyConnection makes the connections of a request to `url` through
 * `proxy`: a tunnel opened by CONNECT or SOCKS5 (dial()'s `proxy`), and for
 * https:/wss: TLS with the target inside it, end to end: SNI is the
 * target's name and the certificate, CA and pin checks are the target's,
 * as if there were no proxy. Plain http: goes through a CONNECT tunnel too,
 * rather than as an absolute-URI request to the proxy: one path for every
 * scheme, and the proxy sees no request line. node:http writes the request
 * as soon as it is handed the socket, so it is handed one only once the
 * tunnel is open and TLS (pin included) is done. `onConnected` is told when;
 * `timeout` (ms, 0 for none) bounds the tunnel and the TLS handshake.
 */
export function proxyConnection(
  proxy: ProxySpec,
  url: URL,
  tls: ResolvedTlsClient,
  signal: AbortSignal,
  onConnected?: () => void,
  timeout = 0,
): ProxyConnection {
  const secure = url.protocol === 'https:' || url.protocol === 'wss:';
  const port = url.port || (secure ? '443' : '80');
  return {
    agent: undefined,
    createConnection: (_options, callback) => {
      dialSocket(joinHostPort(url.hostname.replace(/^\[|\]$/g, ''), port), {
        proxy,
        // request() has its own deadline on the signal (0 here); `ws` has none before it has a socket.
        timeout,
        signal,
        ...(secure ? { tls } : {}),
      }).then(
        (socket) => {
          onConnected?.();
          callback(null, socket);
        },
        // node:http ignores the socket argument when there is an error.
        (err: Error) => callback(err, undefined as never),
      );
      return undefined;
    },
  };
}
