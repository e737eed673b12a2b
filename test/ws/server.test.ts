import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { CLOSE, serveWs, type WsPeer, type WsServerEvent } from '../../src/ws/index.js';
import { resolveWsOptions } from '../../src/ws/server/options.js';
import { until } from '../helpers/net.js';
import { client, closeOf, next, quiet, rawWs, rejectsEachOption, startWs } from './fixtures.js';
import { clientFrame, rawUpgrade, readCloseCode } from './raw.js';

test('echo mode returns text as text and binary as binary, byte for byte', async (t) => {
  const server = await startWs(t);
  assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+\/echo$/);
  const c = await client(t, server.url);
  await c.send('héllo ✓');
  const text = await next(c);
  assert.equal(text.binary, false);
  assert.equal(text.text(), 'héllo ✓');
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await c.send(all);
  const bin = await next(c);
  assert.equal(bin.binary, true);
  assert.deepEqual(bin.data, all);
  await c.send('');
  assert.equal((await next(c)).data.length, 0);
});

test('broadcast rooms: by path or ?room=, the sender included, other rooms untouched', async (t) => {
  const server = await startWs(t, { mode: 'broadcast' });
  assert.match(server.url, /\/chat$/);
  const a = await client(t, `${server.url}/lobby`);
  const b = await client(t, `${server.url}?room=lobby`);
  const other = await client(t, `${server.url}/kitchen`);
  const none = await client(t, server.url);
  await until(() => server.connections === 4);
  await a.send('hi all');
  assert.equal((await next(a)).text(), 'hi all');
  assert.equal((await next(b)).text(), 'hi all');
  assert.ok(await quiet(other));
  assert.ok(await quiet(none));
  assert.equal(server.broadcast('kitchen', 'from the server'), 1);
  assert.equal((await next(other)).text(), 'from the server');
});

test('a room name that is not valid is refused with 400', async (t) => {
  const server = await startWs(t, { mode: 'broadcast' });
  await assert.rejects(rawWs(`${server.url}/%E0%A4%A`), /status 400/);
  await assert.rejects(rawWs(`${server.url}/${'r'.repeat(300)}`), /status 400/);
});

test('a handler serves each connection with async iteration, and the peer is closed when it returns', async (t) => {
  const seen: string[] = [];
  const server = await startWs(t, {
    handler: async (peer: WsPeer) => {
      for await (const m of peer) {
        seen.push(m.text());
        if (m.text() === 'bye') return;
        peer.send(m.text().toUpperCase());
      }
    },
  });
  const c = await client(t, server.url);
  await c.send('abc');
  assert.equal((await next(c)).text(), 'ABC');
  await c.send('bye');
  assert.equal((await c.closed).code, CLOSE.NORMAL);
  assert.deepEqual(seen, ['abc', 'bye']);
});

test('a handler that throws closes the peer with 1011 and the server keeps serving', async (t) => {
  const server = await startWs(t, {
    handler: async () => {
      throw new Error('boom');
    },
  });
  const ws = await rawWs(server.url);
  assert.equal((await closeOf(ws)).code, CLOSE.INTERNAL_ERROR);
  const again = await rawWs(server.url);
  assert.equal((await closeOf(again)).code, CLOSE.INTERNAL_ERROR);
});

test('plain HTTP: 426 at the endpoint, 404 elsewhere, the page only with page: true', async (t) => {
  const server = await startWs(t, { page: true });
  const base = `http://${server.address}`;
  const r426 = await fetch(`${base}/echo`);
  assert.equal(r426.status, 426);
  assert.equal(r426.headers.get('upgrade'), 'websocket');
  assert.equal((await fetch(`${base}/elsewhere`)).status, 404);
  const page = await fetch(`${base}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /text\/html/);
  assert.ok(page.headers.get('content-security-policy'));
  assert.match(await page.text(), /<html/i);
  const plain = await startWs(t);
  assert.equal((await fetch(`http://${plain.address}/`)).status, 404);
});

test('subprotocols: the server picks its most preferred one the client offers', async (t) => {
  const server = await startWs(t, { protocols: ['v2.chat', 'v1.chat'] });
  const c = await client(t, server.url, { protocols: ['v1.chat', 'v2.chat'] });
  assert.equal(c.protocol, 'v2.chat');
  // RFC 6455: a client that offered subprotocols must fail when the server agrees to none.
  await assert.rejects(client(t, server.url, { protocols: ['other'] }), (err) =>
    isNetkitError(err, 'NETKIT_WS_HANDSHAKE'),
  );
  const plain = await client(t, server.url);
  assert.equal(plain.protocol, '');
});

test("origin policy: listed origins and the server's own connect, others and none get 403", async (t) => {
  const server = await startWs(t, { origins: ['https://app.example', 'http://127.0.0.1:3000'] });
  const ok = await client(t, server.url, { origin: 'https://APP.example' });
  await ok.send('x');
  assert.equal((await next(ok)).text(), 'x');
  // The server's own origin (the page it serves) is always allowed.
  const own = await client(t, server.url, { origin: `http://${server.address}` });
  await own.close();
  for (const origin of [
    'https://evil.example',
    'http://127.0.0.1:1',
    'https://app.example.evil',
    'null',
    undefined,
  ]) {
    await assert.rejects(client(t, server.url, origin === undefined ? {} : { origin }), (err) => {
      assert.ok(isNetkitError(err, 'NETKIT_WS_HANDSHAKE'));
      assert.equal((err as { status?: number }).status, 403);
      return true;
    });
  }
});

test('maxConnections: the next upgrade gets 503, and a slot frees when a peer leaves', async (t) => {
  const server = await startWs(t, { maxConnections: 2 });
  const a = await client(t, server.url);
  await client(t, server.url);
  await assert.rejects(client(t, server.url), (err) => (err as { status?: number }).status === 503);
  await a.close();
  await until(() => server.connections === 1);
  await client(t, server.url);
});

test('close() sends 1001 to every peer, refuses new upgrades, and resolves when all are gone', async (t) => {
  const server = await serveWs('127.0.0.1:0', { mode: 'broadcast' });
  const peers = await Promise.all([rawWs(`${server.url}/a`), rawWs(`${server.url}/b`)]);
  const closes = peers.map(closeOf);
  await server.close();
  for (const c of await Promise.all(closes)) {
    assert.equal(c.code, CLOSE.GOING_AWAY);
    assert.equal(c.reason, 'server shutting down');
  }
  assert.equal(server.connections, 0);
  await assert.rejects(rawWs(server.url));
  await server.close();
  void t;
});

test('close() terminates peers that never answer the close frame after shutdownTimeout', async (t) => {
  const server = await serveWs('127.0.0.1:0', { shutdownTimeout: 200 });
  const ws = await rawWs(server.url);
  // Stop reading: the close frame is never answered.
  (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  const started = Date.now();
  await server.close();
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  ws.terminate();
  void t;
});

test('a close the server starts is reported with the code it sent, also when the peer never answers it', async (t) => {
  const closes: Extract<WsServerEvent, { type: 'close' }>[] = [];
  const server = await startWs(t, {
    maxPayload: 1024,
    onEvent: (e) => {
      if (e.type === 'close') closes.push(e);
    },
  });
  const s = await rawUpgrade(server.address, '/echo');
  t.after(() => s.destroy());
  const [peer] = [...server.peers] as [WsPeer];
  s.write(clientFrame(2, Buffer.alloc(0), { length: 2048 }));
  // The peer reads the 1009 and goes away without answering it.
  assert.equal(await readCloseCode(s), CLOSE.TOO_BIG);
  s.destroy();
  assert.equal((await peer.closed).code, CLOSE.TOO_BIG);
  await until(() => closes.length === 1);
  assert.equal(closes[0]?.code, CLOSE.TOO_BIG);
});

test('maxQueueBytes is 2 MiB by default, or twice maxPayload when that is larger', () => {
  assert.equal(resolveWsOptions({}).maxQueueBytes, 2 * 1024 * 1024);
  assert.equal(resolveWsOptions({ maxPayload: 3 * 1024 * 1024 }).maxQueueBytes, 6 * 1024 * 1024);
  assert.equal(resolveWsOptions({ maxPayload: 3 * 1024 * 1024, maxQueueBytes: 1000 }).maxQueueBytes, 1000);
});

test('bad options are refused up front, naming the option', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ path: 'echo' }, 'path'],
    [{ path: '/a?b' }, 'path'],
    [{ mode: 'fanout' }, 'mode'],
    [{ maxPayload: 0 }, 'maxPayload'],
    [{ maxQueueBytes: -1 }, 'maxQueueBytes'],
    [{ heartbeat: -5 }, 'heartbeat'],
    [{ origins: ['https://a.example/path'] }, 'origins'],
    [{ origins: ['not a url'] }, 'origins'],
    [{ protocols: ['has space'] }, 'protocols'],
    [{ maxConnections: 0 }, 'maxConnections'],
    [{ handler: 'echo' }, 'handler'],
  ];
  await rejectsEachOption(cases, (opts) => serveWs('127.0.0.1:0', opts));
});

test('a busy port is NETKIT_LISTEN_FAILED', async (t) => {
  const server = await startWs(t);
  await assert.rejects(serveWs(server.address), (err) => isNetkitError(err, 'NETKIT_LISTEN_FAILED'));
});
