/** request() through real forward proxies: plain http and https with TLS end to end to the target. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { type TestContext, test } from 'node:test';
import type tls from 'node:tls';
import { TunnelError } from '../../src/errors.js';
import { fetch, request } from '../../src/http/index.js';
import { freePort, startDante, startTinyproxy } from '../helpers/forward-proxies.js';
import { tlsWorld } from '../helpers/tls-certs.js';

interface Seen {
  paths: string[];
  servernames: (string | false | null)[];
}

async function listen(t: TestContext, server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

function handler(seen: Seen) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.paths.push(req.url ?? '');
    res.end(`hello ${req.url}`);
  };
}

async function plainServer(t: TestContext): Promise<{ port: number; seen: Seen }> {
  const seen: Seen = { paths: [], servernames: [] };
  return { port: await listen(t, http.createServer(handler(seen))), seen };
}

async function tlsServer(t: TestContext): Promise<{ port: number; seen: Seen; pin: string }> {
  const { server: cert } = await tlsWorld();
  const seen: Seen = { paths: [], servernames: [] };
  const server = https.createServer({ cert: cert.cert, key: cert.key }, handler(seen));
  server.on('secureConnection', (s: tls.TLSSocket) => seen.servernames.push(s.servername));
  const pin = `sha256:${new X509Certificate(cert.cert).fingerprint256}`;
  return { port: await listen(t, server), seen, pin };
}

for (const [name, start] of [
  ['tinyproxy', startTinyproxy],
  ['danted', startDante],
] as const) {
  test(`request: http through ${name} reaches the target, which sees an ordinary request`, async (t) => {
    const proxy = await start(t);
    if (!proxy) return;
    const { port, seen } = await plainServer(t);
    const res = await request(`http://127.0.0.1:${port}/x?y=1`, { proxy: proxy.url, timeout: 5000 });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello /x?y=1');
    assert.deepEqual(seen.paths, ['/x?y=1']);
  });

  test(`request: https through ${name} is TLS with the target, SNI its name, its pin checked`, async (t) => {
    const proxy = await start(t);
    if (!proxy) return;
    const { port, seen, pin } = await tlsServer(t);
    const url = `https://localhost:${port}/secure`;
    const res = await request(url, { proxy: proxy.url, tls: { pin }, timeout: 5000 });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'hello /secure');
    assert.deepEqual(seen.servernames, ['localhost']);
    await assert.rejects(
      request(url, { proxy: proxy.url, tls: { pin: `sha256:${'0'.repeat(64)}` }, timeout: 5000 }),
      { code: 'NETKIT_TLS_FAILED' },
    );
    // The pin failed before a request byte was sent.
    assert.deepEqual(seen.paths, ['/secure']);
  });
}

test('request: a refused tunnel is a TunnelError, a dead proxy NETKIT_DIAL_FAILED, a bad URL names proxy', async (t) => {
  const proxy = await startTinyproxy(t);
  if (!proxy) return;
  const closed = await freePort();
  await assert.rejects(
    request(`http://127.0.0.1:${closed}/`, { proxy: proxy.url, timeout: 5000 }),
    (e: unknown) => {
      assert.ok(e instanceof TunnelError);
      assert.equal(e.code, 'NETKIT_TUNNEL_FAILED');
      return true;
    },
  );
  const { port } = await plainServer(t);
  await assert.rejects(
    request(`http://127.0.0.1:${port}/`, { proxy: `http://127.0.0.1:${closed}`, timeout: 5000 }),
    { code: 'NETKIT_DIAL_FAILED' },
  );
  await assert.rejects(request(`http://127.0.0.1:${port}/`, { proxy: 'ftp://127.0.0.1:21' }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'proxy',
  });
});

test('request: a proxy function decides per hop, so a redirect to a host it exempts goes direct', async (t) => {
  const proxy = await startTinyproxy(t);
  if (!proxy) return;
  const { port, seen } = await plainServer(t);
  const front = http.createServer((_req, res) => {
    res.writeHead(302, { location: `http://localhost:${port}/landed` }).end();
  });
  const frontPort = await listen(t, front);
  const asked: string[] = [];
  const res = await request(`http://127.0.0.1:${frontPort}/start`, {
    follow: true,
    timeout: 5000,
    proxy: (url) => {
      asked.push(url.host);
      return url.hostname === 'localhost' ? undefined : proxy.url;
    },
  });
  assert.equal(res.status, 200);
  assert.deepEqual(asked, [`127.0.0.1:${frontPort}`, `localhost:${port}`]);
  assert.deepEqual(seen.paths, ['/landed']);
});

test('fetch through danted streams the target response', async (t) => {
  const proxy = await startDante(t);
  if (!proxy) return;
  const { port, seen } = await plainServer(t);
  const res = await fetch(`http://127.0.0.1:${port}/via-fetch`, { proxy: proxy.url, timeout: 5000 });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'hello /via-fetch');
  assert.deepEqual(seen.paths, ['/via-fetch']);
});
