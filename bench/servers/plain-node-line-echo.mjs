// A second anchor for the tcp benchmark: the line echo server a Node.js user
// writes with node:net when the protocol is lines, as netkit's is. It splits
// each read at '\n' (holding a partial line until the rest arrives) and
// writes every line back with its '\n'. Compared with plain-node-echo.mjs it
// shows what line framing itself costs in Node, apart from netkit.
//
// usage: node bench/servers/plain-node-line-echo.mjs [host:port]   (default 127.0.0.1:0)
// Prints "listening <host>:<port>" once ready; runs until killed.
import net from 'node:net';

const spec = process.argv[2] ?? '127.0.0.1:0';
const colon = spec.lastIndexOf(':');
const host = spec.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
const port = Number(spec.slice(colon + 1));
const LF = 0x0a;

const server = net.createServer({ noDelay: true }, (socket) => {
  let held = null;
  socket.on('data', (chunk) => {
    const data = held === null ? chunk : Buffer.concat([held, chunk]);
    held = null;
    let start = 0;
    for (let nl = data.indexOf(LF); nl !== -1; nl = data.indexOf(LF, start)) {
      socket.write(data.subarray(start, nl + 1));
      start = nl + 1;
    }
    if (start < data.length) held = data.subarray(start);
  });
  // A peer reset must not take the server down.
  socket.on('error', () => {});
});

server.listen(port, host, () => {
  const { address, port: bound } = server.address();
  process.stdout.write(`listening ${address.includes(':') ? `[${address}]` : address}:${bound}\n`);
});
