// The anchor for the udp benchmark: the simplest UDP echo server a Node.js
// user writes with node:dgram. Every datagram is sent straight back to its
// sender.
//
// usage: node bench/servers/plain-node-udp-echo.mjs [host:port]   (default 127.0.0.1:0)
// Prints "listening <host>:<port>" once bound; runs until killed.
import dgram from 'node:dgram';

const spec = process.argv[2] ?? '127.0.0.1:0';
const colon = spec.lastIndexOf(':');
const host = spec.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
const port = Number(spec.slice(colon + 1));

const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  // A failed send is a lost datagram, which UDP allows.
  socket.send(msg, rinfo.port, rinfo.address, () => {});
});
socket.on('error', (err) => {
  console.error(`plain-node-udp-echo: ${err.message}`);
  process.exit(1);
});
socket.bind(port, host, () => {
  const { address, port: bound } = socket.address();
  process.stdout.write(`listening ${address}:${bound}\n`);
});
