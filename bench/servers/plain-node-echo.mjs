// The anchor for the tcp benchmark: the simplest echo server a Node.js user
// writes with node:net. Every chunk read is written straight back; it is not
// line-aware, which is fine for strict ping-pong (one message in flight per
// connection, so a read holds exactly one request).
//
// usage: node bench/servers/plain-node-echo.mjs [host:port]   (default 127.0.0.1:0)
// Prints "listening <host>:<port>" once ready; runs until killed.
import net from 'node:net';

const spec = process.argv[2] ?? '127.0.0.1:0';
const colon = spec.lastIndexOf(':');
const host = spec.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
const port = Number(spec.slice(colon + 1));

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on('data', (data) => socket.write(data));
  // A peer reset must not take the server down.
  socket.on('error', () => {});
});

server.listen(port, host, () => {
  const { address, port: bound } = server.address();
  process.stdout.write(`listening ${address.includes(':') ? `[${address}]` : address}:${bound}\n`);
});
