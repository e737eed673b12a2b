// netkit's WebSocket server inside an Express app: Express keeps its routes,
// netkit takes the WebSocket upgrades at /echo, on the same port. Try
//   curl http://127.0.0.1:8080/hello
//   netkit ws connect ws://127.0.0.1:8080/echo
// Ctrl-C closes the server, and with it every WebSocket connection (1001).
//
//   node --import tsx examples/ws-mount-express.ts [address]
import { once } from 'node:events';
import express from 'express';
import { splitHostPort } from 'netkit/addr';
import { attachWs } from 'netkit/ws';

const { host, port } = splitHostPort(process.argv[2] ?? '127.0.0.1:8080');
const app = express();
app.get('/hello', (_req, res) => {
  res.send('hello from express\n');
});

// app.listen() returns the node:http server (http.createServer(app) works the same);
// an empty host (`:8080`) listens on every address, as in Go. netkit can attach before it listens.
const server = app.listen(Number(port), host === '' ? '::' : host);
const ws = await attachWs(server, {
  path: '/echo',
  handler: async (peer) => {
    for await (const msg of peer) {
      console.log(`recv: ${msg.binary ? `<${msg.data.length} bytes>` : msg.text()}`);
      peer.send(msg.data, { binary: msg.binary });
    }
  },
});
await once(server, 'listening');
console.log(`listening ${ws.url} (HTTP at http://${ws.address}/hello)`);
process.once('SIGINT', () => server.close());
