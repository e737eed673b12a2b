import type http from 'node:http';
import type net from 'node:net';
import { SilentConnections } from '../../internal/silent.js';
import { acceptProxied, type ResolvedProxyOptions } from '../../proxy/accept.js';
import { type Endpoint, endpoint } from '../../tcp/endpoint.js';

/** ConnectionOptions is what happens to a connection before node:http sees it. */
export interface ConnectionOptions {
  /** maxConnections caps open connections; past it new ones are reset at once. 0 = no cap. */
  maxConnections: number;
  /** onRefuse is told about each connection refused at the cap. */
  onRefuse?: ((remote: Endpoint | undefined) => void) | undefined;
  /** proxy reads a PROXY protocol header from trusted peers first. */
  proxy?: ResolvedProxyOptions | undefined;
}

/**
 * acceptConnections puts the connection cap and the PROXY protocol in front
 * of node:http's own connection handling. At `maxConnections` the oldest
 * connection that has not sent a byte is closed to admit the newcomer, so
 * sockets that connect and say nothing (which node:http's header timeout
 * closes anyway) can never lock out clients that talk (RELIABILITY 37); if
 * every connection has spoken, the new one is reset (RST) at once, as `tcp
 * serve` does, so its client fails fast instead of waiting in a queue; it
 * never reaches node:http. With `proxy`, each connection's header is read
 * (and the socket made to report the client) first; a bad or missing header
 * from a trusted peer closes it.
 */
export function acceptConnections(server: http.Server, options: ConnectionOptions): void {
  const { maxConnections, onRefuse, proxy } = options;
  if (maxConnections === 0 && proxy === undefined) return;
  const handlers = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  const toHttp = (socket: net.Socket) => {
    for (const h of handlers) h.call(server, socket);
  };
  let open = 0;
  const silent = new SilentConnections<net.Socket>((s) => s);
  // An evicted connection counts until its socket is closed: briefly, a few more than the cap.
  const evictSilent = (): boolean => {
    const oldest = silent.takeOldest((s) => !s.destroyed);
    oldest?.destroy();
    return oldest !== undefined;
  };
  server.on('connection', (socket: net.Socket) => {
    if (maxConnections > 0) {
      if (open >= maxConnections && !evictSilent()) {
        socket.on('error', () => {});
        try {
          onRefuse?.(endpoint(socket.remoteAddress, socket.remotePort));
        } catch {
          // a logging callback must not keep the connection
        }
        socket.resetAndDestroy();
        return;
      }
      open++;
      silent.add(socket);
      socket.once('close', () => {
        open--;
        silent.delete(socket);
      });
    }
    if (proxy === undefined) {
      toHttp(socket);
      return;
    }
    socket.on('error', () => {});
    acceptProxied(socket, proxy).then(
      () => {
        toHttp(socket);
        // Bytes that came with the header were put back; make sure http reads them.
        socket.resume();
      },
      () => socket.destroy(),
    );
  });
}
