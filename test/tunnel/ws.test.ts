/** The WebSocket client through real forward proxies: ws: and wss: (TLS with the server inside the tunnel). */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { dialWs } from '../../src/ws/index.js';
import { startDante, startTinyproxy } from '../helpers/forward-proxies.js';
import { tlsWorld } from '../helpers/tls-certs.js';

/** echoWs serves a WebSocket echo on a plain or TLS server; `hosts` records each upgrade's Host header. */
async function echoWs(
  t: TestContext,
  secure: boolean,
): Promise<{ port: number; hosts: string[]; pin: string }> {
  const { server: cert } = await tlsWorld();
  const server = secure ? https.createServer({ cert: cert.cert, key: cert.key }) : http.createServer();
  const wss = new WebSocketServer({ server });
  const hosts: string[] = [];
  wss.on('connection', (ws, req) => {
    hosts.push(req.headers.host ?? '');
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const pin = `sha256:${new X509Certificate(cert.cert).fingerprint256}`;
  return { port: (server.address() as net.AddressInfo).port, hosts, pin };
}

async function echoOnce(url: string, options: Parameters<typeof dialWs>[1]): Promise<string> {
  const client = await dialWs(url, { timeout: 5000, ...options });
  try {
    await client.send('ping through the proxy');
    for await (const m of client) return m.text();
    throw new Error('closed before the echo');
  } finally {
    await client.close();
  }
}

for (const [name, start] of [
  ['tinyproxy', startTinyproxy],
  ['danted', startDante],
] as const) {
  test(`dialWs through ${name}: ws: and wss: (pinned) echo`, async (t) => {
    const proxy = await start(t);
    if (!proxy) return;
    const plain = await echoWs(t, false);
    assert.equal(
      await echoOnce(`ws://localhost:${plain.port}/`, { proxy: proxy.url }),
      'ping through the proxy',
    );
    const secure = await echoWs(t, true);
    assert.equal(
      await echoOnce(`wss://localhost:${secure.port}/`, { proxy: proxy.url, tls: { pin: secure.pin } }),
      'ping through the proxy',
    );
    assert.deepEqual(secure.hosts, [`localhost:${secure.port}`]);
    await assert.rejects(
      dialWs(`wss://localhost:${secure.port}/`, {
        proxy: proxy.url,
        tls: { pin: `sha256:${'2'.repeat(64)}` },
        timeout: 5000,
      }),
      { code: 'NETKIT_TLS_FAILED' },
    );
  });
}

test('dialWs: a proxy that refuses the tunnel is a TunnelError, a proxy that never answers a timeout', async (t) => {
  const proxy = await startDante(t);
  if (!proxy) return;
  await assert.rejects(dialWs('ws://127.0.0.1:1/', { proxy: proxy.url, timeout: 5000 }), {
    code: 'NETKIT_TUNNEL_FAILED',
    reply: 0x05,
  });
  // A proxy that takes the connection and never answers.
  const held = new Set<net.Socket>();
  const silent = net.createServer((s) => {
    held.add(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of held) s.destroy();
    return new Promise<void>((resolve) => silent.close(() => resolve()));
  });
  const port = (silent.address() as net.AddressInfo).port;
  await assert.rejects(dialWs('ws://127.0.0.1:9/', { proxy: `http://127.0.0.1:${port}`, timeout: 300 }), {
    code: 'NETKIT_CONNECT_TIMEOUT',
  });
});
