/** fetch() through a forward proxy: request()'s `proxy` option reaches every hop fetch makes. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { fetch } from '../../../src/http/index.js';

async function listen(t: TestContext, server: http.Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** connectProxy is an HTTP CONNECT proxy that records the targets it opened tunnels to. */
async function connectProxy(t: TestContext): Promise<{ url: string; targets: string[] }> {
  const targets: string[] = [];
  const server = http.createServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  server.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    targets.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    t.after(() => upstream.destroy());
  });
  return { url: await listen(t, server), targets };
}

test('fetch: proxy sends every hop through the tunnel, redirects included', async (t) => {
  const target = await listen(
    t,
    http.createServer((req, res) => {
      if (req.url === '/old') {
        res.writeHead(302, { Location: '/new' });
        res.end();
        return;
      }
      res.end(`target saw ${req.url}`);
    }),
  );
  const proxy = await connectProxy(t);
  const res = await fetch(`${target}/old`, { proxy: proxy.url });
  assert.equal(res.redirected, true);
  assert.equal(await res.text(), 'target saw /new');
  const hostPort = new URL(target).host;
  assert.deepEqual(proxy.targets, [hostPort, hostPort]);
  assert.equal(typeof res.timing.totalMs, 'number');
});

test('fetch: an invalid proxy is refused up front, naming the option', async () => {
  await assert.rejects(fetch('http://127.0.0.1:1/', { proxy: 'ftp://nowhere' }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'proxy',
  });
});
