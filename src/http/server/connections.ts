import type http from 'node:http';
import type net from 'node:net';
import { resetSocket } from '../../internal/reset.js';
import { SilentConnections } from '../../internal/silent.js';
import { type Endpoint, peerEndpoint } from '../../tcp/endpoint.js';

/** ConnectionOptions is what happens to a connection before node:http sees it. */
export interface ConnectionOptions {
  /** maxConnections caps open connections; past it new ones are reset at once. 0 = no cap. */
  maxConnections: number;
  /** onRefuse is told about each connection refused at the cap. */
  onRefuse?: ((remote: Endpoint | undefined) => void) | undefined;
  /** unix is true on a Unix socket, whose peers have no address of their own. */
  unix?: boolean;
}

/**
 * acceptConnections puts the connection cap in front of node:http's own
 * connection handling. At `maxConnections` the oldest
 * connection that has not sent a byte is closed to admit the newcomer, so
 * sockets that connect and say nothing (which node:http's header timeout
 * closes anyway) can never lock out clients that talk (RELIABILITY 37); if
 * every connection has spoken, the new one is reset (RST) at once, as `tcp
 * serve` does, so its client fails fast instead of waiting in a queue; it
 * never reaches node:http.
 */
export function acceptConnections(server: http.Server, options: ConnectionOptions): void {
  const { maxConnections, onRefuse } = options;
  if (maxConnections === 0) return;
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
    if (open >= maxConnections && !evictSilent()) {
      socket.on('error', () => {});
      try {
        onRefuse?.(peerEndpoint(socket, options.unix ?? false));
      } catch {
        // a logging callback must not keep the connection
      }
      resetSocket(socket);
      return;
    }
    open++;
    silent.add(socket);
    socket.once('close', () => {
      open--;
      silent.delete(socket);
    });
    toHttp(socket);
  });
}
