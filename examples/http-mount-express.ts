// An Express app with netkit's request inspector mounted at /debug: the app
// keeps its own routes, and anything under /debug is echoed back as the
// server saw it (method, target, headers, client address, body), as JSON
// with `Accept: application/json`, as a page in a browser, or as the
// one-line greeting; query parameters shape the answer (?status=418).
//   curl -H 'Accept: application/json' http://127.0.0.1:8080/debug/x?y=1
//
//   node --import tsx examples/http-mount-express.ts [address]
import express from 'express';
import { joinHostPort, splitHostPort } from 'netkit/addr';
import { inspector } from 'netkit/http';

const { host, port } = splitHostPort(process.argv[2] ?? '127.0.0.1:8080');
const app = express();
app.get('/', (_req, res) => {
  res.send('the app itself; try /debug/\n');
});
app.use(
  '/debug',
  inspector({
    maxBodyBytes: 64 * 1024,
    onRequest: (info) => console.log(`inspected ${info.method} ${info.url} from ${info.remote.ip}`),
  }),
);

// An empty host (`:8080`) listens on every address, as in Go.
const server = app.listen(Number(port), host === '' ? '::' : host, () => {
  const addr = server.address();
  if (addr !== null && typeof addr === 'object')
    console.log(`listening ${joinHostPort(addr.address, addr.port)}`);
});
process.once('SIGINT', () => {
  server.close();
  server.closeAllConnections();
});
