// netkit's broadcast rooms inside a Fastify app: Fastify answers its routes,
// netkit takes the WebSocket upgrades at /chat/<room>, on the same port.
// Open two of
//   netkit ws connect ws://127.0.0.1:8080/chat/lobby
// and what one sends, both see. `curl http://127.0.0.1:8080/rooms/lobby`
// tells how many are in the room. Ctrl-C closes Fastify, and netkit with it.
//
//   node --import tsx examples/ws-mount-fastify.ts [address]
import Fastify from 'fastify';
import { splitHostPort } from 'netkit/addr';
import { attachWs } from 'netkit/ws';

const { host, port } = splitHostPort(process.argv[2] ?? '127.0.0.1:8080');
const app = Fastify();

// fastify.server is the node:http server Fastify listens with; it exists before listen().
const chat = await attachWs(app.server, { mode: 'broadcast', path: '/chat' });
app.get<{ Params: { room: string } }>('/rooms/:room', async (req) => ({
  room: req.params.room,
  members: [...chat.peers].filter((p) => p.room === req.params.room).length,
}));

// An empty host (`:8080`) listens on every address, as in Go.
await app.listen({ host: host === '' ? '::' : host, port: Number(port) });
console.log(`listening ${chat.url}/<room> (HTTP at http://${chat.address}/rooms/<room>)`);
process.once('SIGINT', () => void app.close());
