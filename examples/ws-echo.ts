// The classic gorilla/websocket echo server, with netkit: upgrade at /echo,
// read each message, log it, write it back. Any WebSocket client works:
//   netkit ws connect ws://127.0.0.1:8080/echo
// and the browser page is at http://127.0.0.1:8080/ (a few lines of
// JavaScript in the classic; a full client here).
//
//   node --import tsx examples/ws-echo.ts [address]
import { serveWs } from 'netkit/ws';

const server = await serveWs(process.argv[2] ?? '127.0.0.1:8080', {
  page: true,
  handler: async (peer) => {
    for await (const msg of peer) {
      console.log(`recv: ${msg.binary ? `<${msg.data.length} bytes>` : msg.text()}`);
      peer.send(msg.data, { binary: msg.binary });
    }
  },
});
console.log(`listening ${server.url} (page at ${server.pageUrl})`);
process.once('SIGINT', () => void server.close());
