import http from 'node:http';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocketServer } from 'ws';

/** WsAcceptor turns accepted sockets into WebSocket byte streams for a ws:// listen side. */
export interface WsAcceptor {
  /** feed hands an accepted socket (TCP or TLS) to the HTTP parser. */
  feed(socket: net.Socket): void;
  close(): void;
}

/**
 * wsAcceptor runs the HTTP upgrade for a relay that listens on ws:// or
 * wss://: node:http parses each socket it is fed (it never binds, as in
 * every netkit server), WebSocket upgrades on `path` become byte streams
 * (one binary message per chunk each way) handed to `onStream` with the
 * socket under them, any other request gets 426 or 404. `maxPayload`
 * bounds one message, as on `ws serve`; a connection whose request is not
 * complete within `headersTimeout` (0: none) is closed (slowloris).
 */
export function wsAcceptor(
  path: string,
  maxPayload: number,
  headersTimeout: number,
  onStream: (stream: Duplex, socket: net.Socket) => void,
): WsAcceptor {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload });
  // Node checks these timeouts only every connectionsCheckingInterval (30 s by default), so a
  // slowloris would outlive a 10 s headersTimeout by up to 30 s; check often enough to honour it.
  const checkEvery = Math.max(10, Math.min(1000, Math.floor((headersTimeout || 4000) / 4)));
  const server = http.createServer({ connectionsCheckingInterval: checkEvery }, (req, res) => {
    const status = urlPath(req.url) === path ? 426 : 404;
    res.writeHead(status, {
      'content-type': 'text/plain; charset=utf-8',
      connection: 'close',
      ...(status === 426 ? { upgrade: 'websocket' } : {}),
    });
    res.end(
      status === 426
        ? 'this address relays WebSocket connections; connect with a WebSocket client\n'
        : 'not found\n',
    );
  });
  server.headersTimeout = headersTimeout;
  // Upgrades and plain requests are answered once their headers are in; this only bounds a body.
  server.requestTimeout = headersTimeout > 0 ? Math.max(headersTimeout, 10_000) : 0;
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (urlPath(req.url) !== path) {
      socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      onStream(createWebSocketStream(ws, { allowHalfOpen: true }), socket);
    });
  });
  server.on('clientError', (_err, socket: Duplex) => socket.destroy());
  // 'listening' starts node:http's header-timeout checks without binding anything.
  server.emit('listening');
  return {
    feed: (socket) => server.emit('connection', socket),
    close: () => {
      server.close();
      wss.close();
    },
  };
}

function urlPath(url: string | undefined): string {
  const q = (url ?? '/').indexOf('?');
  return q < 0 ? (url ?? '/') : (url ?? '/').slice(0, q);
}
