// The JSON-RPC 2.0 baseline server of the rpc benchmark: jayson 5's TCP
// server (`new jayson.Server(methods).tcp()`, newline-delimited JSON) with
// the classic Arith.Multiply({A, B}) → A*B written as a jayson user would.
//
// usage: node bench/servers/jayson-tcp.mjs [host:port]   (default 127.0.0.1:0)
// Prints "listening <host>:<port> (jayson tcp)" once ready; runs until killed.
import jayson from 'jayson';

const spec = process.argv[2] ?? '127.0.0.1:0';
const colon = spec.lastIndexOf(':');
const host = spec.slice(0, colon).replace(/^\[|\]$/g, '') || '127.0.0.1';
const port = Number(spec.slice(colon + 1));

const server = new jayson.Server({
  'Arith.Multiply': (args, callback) => {
    callback(null, args.A * args.B);
  },
});
const tcp = server.tcp();
// A peer reset must not take the server down.
tcp.on('connection', (socket) => socket.on('error', () => {}));

tcp.listen(port, host, () => {
  const { address, port: bound } = tcp.address();
  process.stdout.write(
    `listening ${address.includes(':') ? `[${address}]` : address}:${bound} (jayson tcp)\n`,
  );
});
