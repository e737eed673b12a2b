/** dial() with `proxy`: a Conn through real forward proxies, TLS with the target inside the tunnel. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import tls from 'node:tls';
import { dial } from '../../src/tcp/index.js';
import { startDante, startTinyproxy } from '../helpers/forward-proxies.js';
import { tlsWorld } from '../helpers/tls-certs.js';

async function listenOn(t: TestContext, server: net.Server): Promise<number> {
  const open = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    open.add(s);
    s.once('close', () => open.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    // A proxy may keep its side of a half-closed tunnel open: close() alone would wait for it.
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

for (const [name, start] of [
  ['tinyproxy', startTinyproxy],
  ['danted', startDante],
] as const) {
  test(`dial through ${name}: the Conn reads and writes the target, a greeting first`, async (t) => {
    const proxy = await start(t);
    if (!proxy) return;
    const port = await listenOn(
      t,
      net.createServer((s) => {
        s.on('error', () => {});
        s.end('welcome\n');
      }),
    );
    const conn = await dial(`localhost:${port}`, { proxy: proxy.url, timeout: 5000 });
    t.after(() => conn.destroy());
    assert.equal(await conn.readLine(), 'welcome');
    assert.equal(await conn.read(), null);
  });

  test(`dial through ${name} with tls: SNI and the pin are the target's`, async (t) => {
    const proxy = await start(t);
    if (!proxy) return;
    const { server: cert } = await tlsWorld();
    const names: (string | false | null)[] = [];
    const server = tls.createServer({ cert: cert.cert, key: cert.key }, (s) => {
      names.push(s.servername);
      s.on('error', () => {});
      s.pipe(s);
    });
    const port = await listenOn(t, server);
    const pin = `sha256:${new X509Certificate(cert.cert).fingerprint256}`;
    const conn = await dial(`localhost:${port}`, { proxy: proxy.url, tls: { pin }, timeout: 5000 });
    t.after(() => conn.destroy());
    await conn.write('secret\n');
    assert.equal(await conn.readLine(), 'secret');
    assert.deepEqual(names, ['localhost']);
    await assert.rejects(
      dial(`localhost:${port}`, {
        proxy: proxy.url,
        tls: { pin: `sha256:${'1'.repeat(64)}` },
        timeout: 5000,
      }),
      { code: 'NETKIT_TLS_FAILED' },
    );
  });
}

test('dial: a proxy for a Unix socket, or a bad proxy URL, is refused naming proxy', async () => {
  await assert.rejects(dial('unix:/tmp/nothing.sock', { proxy: 'http://127.0.0.1:1' }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'proxy',
  });
  await assert.rejects(dial('127.0.0.1:80', { proxy: 'socks4://127.0.0.1:1080' }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'proxy',
  });
});

test('dial through a proxy that never answers is NETKIT_CONNECT_TIMEOUT within the timeout', async (t) => {
  const port = await listenOn(
    t,
    net.createServer((s) => {
      s.on('error', () => {});
    }),
  );
  const started = Date.now();
  await assert.rejects(dial('example.com:80', { proxy: `http://127.0.0.1:${port}`, timeout: 300 }), {
    code: 'NETKIT_CONNECT_TIMEOUT',
  });
  assert.ok(Date.now() - started < 3000);
  const controller = new AbortController();
  const pending = dial('example.com:80', { proxy: `socks5h://127.0.0.1:${port}`, signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(pending, { code: 'NETKIT_ABORTED' });
});
