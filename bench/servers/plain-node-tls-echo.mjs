// The anchor for the tls benchmark: the simplest TLS echo server a Node.js
// user writes with node:tls, the node:net anchor (plain-node-echo.mjs) with
// tls.createServer in place of net.createServer. Every chunk read is written
// straight back; it is not line-aware, which is fine for strict ping-pong.
// Node's defaults otherwise: TLS 1.2 and 1.3, session tickets on (keys made
// at start), so clients can resume.
//
// usage: node bench/servers/plain-node-tls-echo.mjs --cert <pem> --key <pem> [host:port]
//        (default 127.0.0.1:0)
// Prints "listening <host>:<port>" once ready; runs until killed.
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { cert: { type: 'string' }, key: { type: 'string' } },
});
if (!values.cert || !values.key || positionals.length > 1) {
  console.error('usage: plain-node-tls-echo.mjs --cert <pem> --key <pem> [host:port]');
  process.exit(2);
}
const spec = positionals[0] ?? '127.0.0.1:0';
const colon = spec.lastIndexOf(':');
const host = spec.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
const port = Number(spec.slice(colon + 1));

const server = tls.createServer(
  { cert: readFileSync(values.cert), key: readFileSync(values.key), noDelay: true },
  (socket) => {
    socket.on('data', (data) => socket.write(data));
    // A peer reset (handshake load generators close right after the
    // handshake) must not take the server down.
    socket.on('error', () => {});
  },
);
// A client that fails or abandons its handshake: drop it quietly.
server.on('tlsClientError', () => {});

server.listen(port, host, () => {
  const { address, port: bound } = server.address();
  process.stdout.write(`listening ${address.includes(':') ? `[${address}]` : address}:${bound}\n`);
});
