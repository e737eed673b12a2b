// The classic Go TCP line server, with netkit: listen, then answer every line
// with "Hello, Client!" until the client closes. Ctrl-C shuts down gracefully.
//
//   node --import tsx examples/line-server.ts [address]
import { listen, replyHandler, serve } from 'netkit';

const listener = await listen(process.argv[2] ?? '127.0.0.1:8330');
console.log(`listening ${listener.addr.address}`);

const server = serve(listener, replyHandler('Hello, Client!'), { idleTimeout: 60_000 });
server.on('open', (conn) => console.log(`open  ${conn.remoteAddr?.address}`));
server.on('close', (conn, s) => console.log(`close ${conn.remoteAddr?.address} ${s.peerClose ?? 'local'}`));
process.once('SIGINT', () => void server.close());
await server.done;
