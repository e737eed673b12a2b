// The anchor for the http benchmark: the hello server a Node.js user writes
// with node:http, answering "Hello, you've requested: <path>\n" as text/plain.
//
// usage: node bench/servers/plain-node-http.mjs [host:port]   (default 127.0.0.1:0)
// Prints "listening <host>:<port>" once ready; runs until killed.
import http from 'node:http';

const spec = process.argv[2] ?? '127.0.0.1:0';
const colon = spec.lastIndexOf(':');
const host = spec.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
const port = Number(spec.slice(colon + 1));

const server = http.createServer((req, res) => {
  const body = `Hello, you've requested: ${new URL(req.url, 'http://x').pathname}\n`;
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
});

server.listen(port, host, () => {
  const { address, port: bound } = server.address();
  process.stdout.write(`listening ${address.includes(':') ? `[${address}]` : address}:${bound}\n`);
});
