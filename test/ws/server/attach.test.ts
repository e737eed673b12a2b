/**
 * attachWs on an application's own node:http and https servers: the
 * WebSocket path is netkit's, every other request stays the application's
 * (its routes, and another library's upgrade listener on another path).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { type TestContext, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import { WebSocket, WebSocketServer } from 'ws';
import { isNetkitError } from '../../../src/errors.js';
import {
  type AttachWsOptions,
  attachWs,
  CLOSE,
  RedisBus,
  type WsServer,
  type WsServerEvent,
} from '../../../src/ws/index.js';
import { sleep, until } from '../../helpers/net.js';
import { startRedis } from '../../helpers/redis.js';
import { tlsWorld } from '../../helpers/tls-certs.js';
import { client, closeOf, next, quiet, rawWs, rejectsEachOption } from '../fixtures.js';
import { rawRequest, rawUpgrade, upgradeRequest } from '../raw.js';

type Kind = 'http' | 'https';

/** App is an application server with netkit mounted on it. */
interface App {
  server: http.Server | https.Server;
  ws: WsServer;
  /** base is the server's http(s)://host:port. */
  base: string;
  /** ca is what a client must trust (https only). */
  ca: string | undefined;
}

/**
 * mount makes an application server answering GET /hello, attaches netkit
 * before it listens (as with http.createServer(app)), and listens on a
 * loopback port 0. With `other`, a `ws` server with noServer serves
 * '/other' from its own 'upgrade' listener and leaves other paths alone.
 */
async function mount(
  t: TestContext,
  kind: Kind,
  options: AttachWsOptions = {},
  extra: { other?: boolean } = {},
): Promise<App> {
  const app: http.RequestListener = (req, res) => {
    if (req.url === '/hello') res.end('hello from the app\n');
    else res.writeHead(404).end('app: not found\n');
  };
  let ca: string | undefined;
  let server: http.Server | https.Server;
  if (kind === 'https') {
    const world = await tlsWorld();
    ca = world.ca.cert;
    server = https.createServer({ cert: world.server.cert, key: world.server.key }, app);
  } else server = http.createServer(app);
  let other: WebSocketServer | undefined;
  if (extra.other) {
    const wss = new WebSocketServer({ noServer: true });
    wss.on('connection', (sock) => sock.on('message', (d, binary) => sock.send(d, { binary })));
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (req.url === '/other') wss.handleUpgrade(req, socket, head, (s) => wss.emit('connection', s));
    });
    other = wss;
  }
  const ws = await attachWs(server, options);
  assert.equal(ws.address, '');
  assert.equal(ws.url, '');
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    await ws.close();
    // The server's close waits for upgraded sockets too, the other library's included.
    for (const c of other?.clients ?? []) c.terminate();
    other?.close();
    server.closeAllConnections();
    if (server.listening) await new Promise((r) => server.close(r));
  });
  return { server, ws, base: `${kind}://${ws.address}`, ca };
}

/** get fetches a path of the app with node:http(s), trusting the test CA. */
async function get(app: App, path: string): Promise<{ status: number; body: string }> {
  const mod = app.base.startsWith('https') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(`${app.base}${path}`, { ca: app.ca, agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => {
        body += d.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

for (const kind of ['http', 'https'] as const) {
  test(`${kind}: echo on the path, the app's routes and another library's upgrade path all work`, async (t) => {
    const events: WsServerEvent[] = [];
    const app = await mount(
      t,
      kind,
      { unclaimedUpgradeTimeout: 100, onEvent: (e) => events.push(e) },
      { other: true },
    );
    assert.equal(app.ws.url, `${kind === 'https' ? 'wss' : 'ws'}://${app.ws.address}/echo`);
    assert.equal(app.ws.listener, undefined);
    const c = await client(t, app.ws.url, { ca: app.ca });
    await c.send('héllo');
    assert.equal((await next(c)).text(), 'héllo');
    assert.deepEqual(await get(app, '/hello'), { status: 200, body: 'hello from the app\n' });
    // netkit's 426 and page are serveWs's: attached, plain HTTP at the path is the app's.
    assert.equal((await get(app, '/echo')).status, 404);
    const other = await rawWs(app.ws.url.replace('/echo', '/other'), { ca: app.ca });
    t.after(() => other.terminate());
    // Past unclaimedUpgradeTimeout: the other library's socket was seen as taken, not answered 404.
    await sleep(250);
    other.send('to the other library');
    const [reply] = await once(other, 'message');
    assert.equal(String(reply), 'to the other library');
    assert.equal(app.ws.connections, 1);
    assert.deepEqual(
      events.filter((e) => e.type !== 'message').map((e) => e.type),
      ['open'],
    );
  });

  test(`${kind}: an upgrade nobody takes is answered 404, at once when netkit listens alone`, async (t) => {
    const alone = await mount(t, kind);
    await assert.rejects(
      rawWs(`${alone.ws.url.replace('/echo', '/nowhere')}`, { ca: alone.ca }),
      /status 404/,
    );
    const shared = await mount(t, kind, { unclaimedUpgradeTimeout: 200 }, { other: true });
    const started = Date.now();
    await assert.rejects(
      rawWs(`${shared.ws.url.replace('/echo', '/nowhere')}`, { ca: shared.ca }),
      /status 404/,
    );
    assert.ok(Date.now() - started >= 150, `answered after ${Date.now() - started} ms`);
  });

  test(`${kind}: closing the server ends the WebSocket connections with 1001, and the server finishes closing`, async (t) => {
    const app = await mount(t, kind);
    const c = await client(t, app.ws.url, { ca: app.ca });
    await c.send('x');
    await next(c);
    const closed = new Promise<void>((resolve) => app.server.close(() => resolve()));
    assert.equal((await c.closed).code, CLOSE.GOING_AWAY);
    await closed;
    assert.equal(app.ws.closed, true);
    await app.ws.close();
    assert.equal(app.ws.connections, 0);
    assert.equal(app.server.listening, false);
  });
}

test('an upgrade another listener takes on late (an error listener, the handshake after a delay) is not answered 404', async (t) => {
  const server = http.createServer((_req, res) => res.end());
  const other = new WebSocketServer({ noServer: true });
  other.on('connection', (s) => s.send('late hello'));
  t.after(() => other.close());
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url !== '/slow') return;
    // As an authenticating handler would: keep the socket, look something up, then hand it over.
    socket.on('error', () => socket.destroy());
    setTimeout(() => other.handleUpgrade(req, socket, head, (s) => other.emit('connection', s)), 300);
  });
  const ws = await attachWs(server, { unclaimedUpgradeTimeout: 100 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    await ws.close();
    server.closeAllConnections();
    server.close();
  });
  // The greeting can arrive with the 101, so listen before the handshake completes.
  const late = new WebSocket(`ws://${ws.address}/slow`);
  t.after(() => late.terminate());
  const [msg] = await once(late, 'message');
  assert.equal(String(msg), 'late hello');
});

test('maxPayload closes with 1009, maxConnections refuses with 503, origins with 403', async (t) => {
  const app = await mount(t, 'http', {
    maxPayload: 1024,
    maxConnections: 2,
    origins: ['https://app.example'],
  });
  const origin = 'https://app.example';
  const big = await rawWs(app.ws.url, { origin });
  const closing = closeOf(big);
  big.send(Buffer.alloc(2048));
  assert.equal((await closing).code, CLOSE.TOO_BIG);
  await until(() => app.ws.connections === 0);
  await client(t, app.ws.url, { origin });
  await client(t, app.ws.url, { origin });
  await assert.rejects(client(t, app.ws.url, { origin }), (err) => {
    assert.ok(isNetkitError(err, 'NETKIT_WS_HANDSHAKE'));
    assert.equal((err as { status?: number }).status, 503);
    return true;
  });
  await assert.rejects(client(t, app.ws.url, { origin: 'https://evil.example' }), (err) => {
    assert.equal((err as { status?: number }).status, 403);
    return true;
  });
});

test("the server's own header limit holds for upgrades: 431, and both HTTP and WebSocket keep serving", async (t) => {
  const app = await mount(t, 'http');
  const huge = upgradeRequest(app.ws.address, '/echo', [`X-Big: ${'a'.repeat(20 * 1024)}`]);
  assert.match(await rawRequest(app.ws.address, huge), /^HTTP\/1\.1 431 /);
  assert.equal((await get(app, '/hello')).status, 200);
  const c = await client(t, app.ws.url);
  await c.send('still here');
  assert.equal((await next(c)).text(), 'still here');
});

test('a peer that does not read is closed with 1008 past maxQueueBytes', async (t) => {
  const app = await mount(t, 'http', { mode: 'broadcast', maxQueueBytes: 256 * 1024, heartbeat: 0 });
  const slow = await rawUpgrade(app.ws.address, '/chat/r');
  t.after(() => slow.destroy());
  const fast = await client(t, `${app.ws.url}/r`);
  await until(() => app.ws.connections === 2);
  const chunk = Buffer.alloc(64 * 1024, 7);
  for (let i = 0; i < 200 && app.ws.connections === 2; i++) {
    app.ws.broadcast('r', chunk);
    await next(fast);
  }
  await until(() => app.ws.connections === 1, 5000, 'slow peer dropped');
  app.ws.broadcast('r', 'after');
  assert.equal((await next(fast)).text(), 'after');
});

test('the heartbeat drops a peer that stops answering pings within two intervals', async (t) => {
  const interval = 300;
  const app = await mount(t, 'http', { heartbeat: interval });
  const deaf = await rawUpgrade(app.ws.address, '/echo');
  t.after(() => deaf.destroy());
  const healthy = await client(t, app.ws.url);
  const started = Date.now();
  deaf.resume(); // read (and ignore) the pings, never answer
  await once(deaf, 'close');
  const took = Date.now() - started;
  assert.ok(took <= 2 * interval + 150, `dropped after ${took} ms`);
  await healthy.send('alive');
  assert.equal((await next(healthy)).text(), 'alive');
});

test('broadcast rooms: a message reaches its room only, and server.broadcast sends from the server', async (t) => {
  const app = await mount(t, 'http', { mode: 'broadcast' });
  assert.match(app.ws.url, /\/chat$/);
  const a = await client(t, `${app.ws.url}/lobby`);
  const b = await client(t, `${app.ws.url}?room=lobby`);
  const other = await client(t, `${app.ws.url}/kitchen`);
  await until(() => app.ws.connections === 3);
  await a.send('hi lobby');
  assert.equal((await next(a)).text(), 'hi lobby');
  assert.equal((await next(b)).text(), 'hi lobby');
  assert.ok(await quiet(other));
  assert.equal(app.ws.broadcast('kitchen', 'from the server'), 1);
  assert.equal((await next(other)).text(), 'from the server');
});

test("closing netkit's side says 1001, leaves the server serving, and removes every listener it added", async (t) => {
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/hello' ? 200 : 404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const before = { upgrade: server.listenerCount('upgrade'), close: server.listenerCount('close') };
  const ws = await attachWs(server);
  const c = await rawWs(ws.url);
  const closing = closeOf(c);
  await ws.close();
  assert.equal((await closing).code, CLOSE.GOING_AWAY);
  assert.equal(server.listening, true);
  assert.deepEqual(
    { upgrade: server.listenerCount('upgrade'), close: server.listenerCount('close') },
    before,
  );
  assert.equal(Object.hasOwn(server, 'close'), false);
  const hello = await fetch(`http://${ws.address}/hello`);
  assert.equal(hello.status, 200);
  // With no upgrade listener left, node:http hands an upgrade request to the app, as before attaching.
  await assert.rejects(rawWs(ws.url), /status 404/);
  // The path is free again.
  const again = await attachWs(server);
  t.after(() => again.close());
  const c2 = await client(t, again.url);
  await c2.send('back');
  assert.equal((await next(c2)).text(), 'back');
});

test('two attachWs on one server serve two paths; the same path twice is refused', async (t) => {
  const app = await mount(t, 'http');
  const chat = await attachWs(app.server, { mode: 'broadcast' });
  t.after(() => chat.close());
  await assert.rejects(attachWs(app.server, { path: '/echo' }), (err) => {
    assert.ok(isNetkitError(err, 'NETKIT_INVALID_ARGUMENT'));
    assert.equal((err as { option?: string }).option, 'path');
    return true;
  });
  const e = await client(t, app.ws.url);
  const r = await client(t, `${chat.url}/room`);
  await e.send('echo');
  await r.send('room');
  assert.equal((await next(e)).text(), 'echo');
  assert.equal((await next(r)).text(), 'room');
});

test('options that belong to the server, and a target that is not one, are refused naming them', async () => {
  const server = http.createServer();
  await rejectsEachOption(
    [
      [{ page: true }, 'page'],
      [{ tls: true }, 'tls'],
      [{ headersTimeout: 1000 }, 'headersTimeout'],
      [{ network: 'tcp6' }, 'network'],
      [{ unclaimedUpgradeTimeout: -1 }, 'unclaimedUpgradeTimeout'],
      [{ maxPayload: 0 }, 'maxPayload'],
    ],
    (opts) => attachWs(server, opts as AttachWsOptions),
  );
  const express = (() => {}) as unknown as http.Server;
  await rejectsEachOption([[{}, 'server']], () => attachWs(express));
  assert.equal(server.listenerCount('upgrade'), 0);
});

test('two attached servers sharing Redis act as one: a room message reaches both', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const a = await mount(t, 'http', { mode: 'broadcast', bus: new RedisBus(redis.url) });
  const b = await mount(t, 'http', { mode: 'broadcast', bus: new RedisBus(redis.url) });
  const onA = await client(t, `${a.ws.url}/lobby`);
  const onB = await client(t, `${b.ws.url}/lobby`);
  const kitchen = await client(t, `${b.ws.url}/kitchen`);
  await onA.send('hello from A');
  assert.equal((await next(onA)).text(), 'hello from A');
  assert.equal((await next(onB)).text(), 'hello from A');
  assert.ok(await quiet(onA, 150));
  assert.ok(await quiet(kitchen, 150));
});

test('signal closes the attached server, destroy() detaches at once; the server serves on', async (t) => {
  const server = http.createServer((_req, res) => res.end('ok'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const ac = new AbortController();
  const byAbort = await attachWs(server, { signal: ac.signal });
  const c = await rawWs(byAbort.url);
  const closing = closeOf(c);
  ac.abort();
  assert.equal((await closing).code, CLOSE.GOING_AWAY);
  await byAbort.close();
  assert.equal(server.listenerCount('upgrade'), 0);
  const destroyed = await attachWs(server);
  const d = await rawWs(destroyed.url);
  const dropped = closeOf(d);
  destroyed.destroy();
  assert.equal(server.listenerCount('upgrade'), 0);
  assert.equal(Object.hasOwn(server, 'close'), false);
  assert.equal((await dropped).code, CLOSE.ABNORMAL);
  assert.equal(await (await fetch(`http://${destroyed.address}/`)).text(), 'ok');
  const aborted = AbortSignal.abort();
  await assert.rejects(attachWs(server, { signal: aborted }), (err) => isNetkitError(err, 'NETKIT_ABORTED'));
});

test('on a Unix socket: the URL in netkit form, and peers shown as @', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-attach-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const sock = path.join(dir, 'app.sock');
  const server = http.createServer((_req, res) => res.end());
  const opened: string[] = [];
  const ws = await attachWs(server, {
    onEvent: (e) => {
      if (e.type === 'open') opened.push(e.remote);
    },
  });
  server.listen(sock);
  await once(server, 'listening');
  t.after(async () => {
    await ws.close();
    server.close();
  });
  assert.equal(ws.address, sock);
  assert.equal(ws.url, `ws://unix:${sock}:/echo`);
  const c = await client(t, ws.url);
  await c.send('over unix');
  assert.equal((await next(c)).text(), 'over unix');
  assert.deepEqual(opened, ['unix:@']);
});

test('an unclaimed upgrade its client resets neither crashes the process nor keeps its timer', async (t) => {
  const server = http.createServer((_req, res) => res.end());
  // As the `ws` noServer pattern does: take only its own path, leave every other upgrade alone.
  const arrived: Duplex[] = [];
  const requests: WeakRef<http.IncomingMessage>[] = [];
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex) => {
    arrived.push(socket);
    requests.push(new WeakRef(req));
  });
  // Long enough that only the socket's close can release what the wait holds.
  const ws = await attachWs(server, { unclaimedUpgradeTimeout: 60_000 });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    await ws.close();
    server.closeAllConnections();
    server.close();
  });
  const { port } = server.address() as net.AddressInfo;
  const clients = Array.from({ length: 50 }, () => {
    const c = net.connect(port, '127.0.0.1', () => c.write(upgradeRequest(ws.address, '/nowhere')));
    c.on('error', () => {});
    return c;
  });
  await until(() => arrived.length === 50, 5000, 'upgrades heard');
  // Not events.once: its own 'error' listener would hide the very error this is about.
  const closed = arrived.map((s) => new Promise((resolve) => s.on('close', resolve)));
  // RST, not FIN: node:http took its own 'error' listener off these sockets when it handed them over.
  for (const c of clients) c.resetAndDestroy();
  await Promise.all(closed);
  arrived.length = 0;
  await sleep(20);
  gc();
  assert.equal(requests.filter((r) => r.deref() !== undefined).length, 0, 'requests still held');
  // The server serves on, plain HTTP and WebSocket alike.
  assert.equal((await fetch(`http://${ws.address}/`)).status, 200);
  const c = await client(t, ws.url);
  await c.send('still up');
  assert.equal((await next(c)).text(), 'still up');
});

/** gc collects garbage now: with --expose-gc its own, else V8's, exposed for this. */
const gc: () => void =
  globalThis.gc ??
  (() => {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  })();
