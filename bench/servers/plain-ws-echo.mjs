// The anchor for the ws benchmark: the echo server a Node.js user writes with
// the `ws` package. Every message is sent straight back with the same
// binary/text flag; no compression (ws's server default).
//
// usage: node bench/servers/plain-ws-echo.mjs [host:port]   (default 127.0.0.1:0)
// Serves ws://<host>:<port>/echo. Prints "listening <host>:<port>" once ready; runs until killed.
import { WebSocketServer } from 'ws';

const spec = process.argv[2] ?? '127.0.0.1:0';
const colon = spec.lastIndexOf(':');
const host = spec.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
const port = Number(spec.slice(colon + 1));

const wss = new WebSocketServer({ port, host, path: '/echo', maxPayload: 1 << 20 });

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  // A peer reset must not take the server down.
  ws.on('error', () => {});
});

wss.on('listening', () => {
  const { address, port: bound } = wss.address();
  process.stdout.write(`listening ${address.includes(':') ? `[${address}]` : address}:${bound}\n`);
});
