import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { backoffDelay, checkBackoff } from '../../src/internal/backoff.js';
import { CLOSE, dialWs, serveWs, type WsPeer } from '../../src/ws/index.js';
import { until } from '../helpers/net.js';
import { client, next, rejectsEachOption, startWs } from './fixtures.js';

test('headers, origin and text/binary round trips reach the server as sent', async (t) => {
  let seen: WsPeer | undefined;
  const server = await startWs(t, {
    handler: async (peer) => {
      seen = peer;
      for await (const m of peer) peer.send(m.data, { binary: m.binary });
    },
  });
  const c = await client(t, server.url.replace('ws:', 'http:'), {
    headers: { 'X-Token': 'abc' },
    origin: 'https://app.example',
  });
  assert.equal(seen?.headers['x-token'], 'abc');
  assert.equal(seen?.headers.origin, 'https://app.example');
  await c.send('text');
  await c.send(new Uint8Array([0, 255]));
  await c.send('as binary', { binary: true });
  const got = [await next(c), await next(c), await next(c)];
  assert.deepEqual(
    got.map((m) => [m.binary, m.data.toString('hex')]),
    [
      [false, Buffer.from('text').toString('hex')],
      [true, '00ff'],
      [true, Buffer.from('as binary').toString('hex')],
    ],
  );
  const rtt = await c.ping();
  assert.ok(Number.isFinite(rtt) && rtt >= 0, `rtt ${rtt}`);
});

test('a message the server sends with its 101 response is not lost', async (t) => {
  const server = await startWs(t, {
    handler: async (peer) => {
      peer.send(`welcome #${peer.id}`);
      for await (const m of peer) peer.send(m.data);
    },
  });
  // The welcome often shares a TCP read with the 101; repeat so that case comes up.
  for (let i = 1; i <= 20; i++) {
    const c = await dialWs(server.url);
    assert.equal((await next(c)).text(), `welcome #${i}`);
    await c.close();
  }
});

test('connect failures are typed: bad URL, refused, 404, handshake timeout, abort', async (t) => {
  await assert.rejects(dialWs('ftp://x/'), (e) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'));
  await assert.rejects(dialWs('not a url'), (e) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'));
  await assert.rejects(dialWs('ws://127.0.0.1:1/'), (e) => isNetkitError(e, 'NETKIT_DIAL_FAILED'));
  const server = await startWs(t);
  await assert.rejects(dialWs(`ws://${server.address}/nope`), (e) => {
    assert.ok(isNetkitError(e, 'NETKIT_WS_HANDSHAKE'));
    assert.equal((e as { status?: number }).status, 404);
    return true;
  });
  // A server that accepts TCP and never answers the upgrade.
  const mute = net.createServer(() => {});
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  t.after(() => mute.close());
  const port = (mute.address() as net.AddressInfo).port;
  const started = Date.now();
  await assert.rejects(dialWs(`ws://127.0.0.1:${port}/`, { timeout: 200 }), (e) =>
    isNetkitError(e, 'NETKIT_CONNECT_TIMEOUT'),
  );
  assert.ok(Date.now() - started < 1500);
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(dialWs(`ws://127.0.0.1:${port}/`, { signal: ac.signal }), (e) =>
    isNetkitError(e, 'NETKIT_ABORTED'),
  );
  for (const mute of [await dialWs(server.url)]) await mute.close();
});

test('bad client options are refused up front, naming the option', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ protocols: ['a b'] }, 'protocols'],
    [{ protocols: ['a', 'a'] }, 'protocols'],
    [{ headers: { 'Bad Name': 'x' } }, 'headers'],
    [{ origin: 'a\r\nb' }, 'origin'],
    [{ timeout: -1 }, 'timeout'],
    [{ maxPayload: 0 }, 'maxPayload'],
    [{ reconnect: { factor: 0.5 } }, 'reconnect.factor'],
    [{ reconnect: { jitter: 2 } }, 'reconnect.jitter'],
    [{ reconnect: { initial: 5000, max: 100 } }, 'reconnect.initial'],
    [{ preamble: [42] }, 'preamble'],
  ];
  await rejectsEachOption(cases, (opts) => dialWs('ws://127.0.0.1:1/', opts));
});

test('iteration ends on a normal close and throws NETKIT_WS_CLOSED on an abnormal one', async (t) => {
  const server = await startWs(t, {
    handler: async (peer) => {
      for await (const m of peer) {
        if (m.text() === 'close') peer.close(CLOSE.NORMAL, 'done');
        if (m.text() === 'drop') peer.terminate();
        if (m.text() === 'big') peer.send(Buffer.alloc(2048));
      }
    },
  });
  const a = await client(t, server.url);
  await a.send('close');
  const seen: string[] = [];
  for await (const m of a) seen.push(m.text());
  assert.deepEqual(seen, []);
  assert.deepEqual(await a.closed, { code: CLOSE.NORMAL, reason: 'done' });
  await assert.rejects(
    a.send('late'),
    (e) => isNetkitError(e, 'NETKIT_WS_CLOSED') || isNetkitError(e, 'NETKIT_CONNECTION_CLOSED'),
  );

  const b = await client(t, server.url);
  await b.send('drop');
  await assert.rejects(next(b), (e) => {
    assert.ok(isNetkitError(e, 'NETKIT_WS_CLOSED'));
    assert.equal((e as { closeCode?: number }).closeCode, CLOSE.ABNORMAL);
    return true;
  });

  const c = await client(t, server.url, { maxPayload: 1024 });
  await c.send('big');
  await assert.rejects(next(c), (e) => (e as { closeCode?: number }).closeCode === CLOSE.TOO_BIG);
  await c.close();
  await assert.rejects(c.send('x'), (e) => isNetkitError(e, 'NETKIT_CONNECTION_CLOSED'));
});

test('reconnect: after the server restarts, sends go through and the preamble is sent again', async (t) => {
  const log: string[] = [];
  const handler = async (peer: WsPeer) => {
    for await (const m of peer) {
      log.push(m.text());
      peer.send(`ack ${m.text()}`);
    }
  };
  let server = await serveWs('127.0.0.1:0', { handler });
  const address = server.address;
  t.after(() => server.close());
  const c = await client(t, server.url, { reconnect: { initial: 50, max: 200 }, preamble: ['hello'] });
  const events: string[] = [];
  c.on('close', ({ code, reconnecting }) => events.push(`close ${code} ${reconnecting}`));
  c.on('reconnecting', ({ attempt, delayMs }) => {
    assert.ok(delayMs <= 200);
    events.push(`retry ${attempt}`);
  });
  c.on('open', ({ reconnect }) => events.push(`open ${reconnect}`));
  assert.equal((await next(c)).text(), 'ack hello');
  await server.close();
  await until(() => events.includes('retry 2'), 3000, 'two reconnect attempts');
  server = await serveWs(address, { handler });
  await c.send('after');
  assert.equal((await next(c)).text(), 'ack hello');
  assert.equal((await next(c)).text(), 'ack after');
  assert.equal(c.reconnects, 1);
  assert.deepEqual(log, ['hello', 'hello', 'after']);
  assert.equal(events[0], `close ${CLOSE.GOING_AWAY} true`);
  assert.ok(events.includes('open 1'));
});

test('reconnect gives up on a refusal that retrying cannot fix, and after `retries` failures', async (t) => {
  let server = await serveWs('127.0.0.1:0');
  const address = server.address;
  t.after(() => server.close());
  const c = await dialWs(server.url, { reconnect: { initial: 20, max: 50 } });
  await server.close();
  server = await serveWs(address, { origins: ['https://only.example'] });
  await assert.rejects(next(c, 5000), (e) => (e as { status?: number }).status === 403);

  await server.close();
  server = await serveWs(address);
  const d = await dialWs(server.url, { reconnect: { initial: 20, max: 40, retries: 3 } });
  let attempts = 0;
  d.on('reconnecting', () => attempts++);
  await server.close();
  await assert.rejects(next(d, 5000), (e) => isNetkitError(e, 'NETKIT_DIAL_FAILED'));
  assert.equal(attempts, 3);
  server = await serveWs('127.0.0.1:0');
});

test('backoff: exponential, capped, with the jitter taking off at most its fraction', () => {
  const b = checkBackoff('reconnect', { initial: 100, max: 1000, factor: 2, jitter: 0.5 });
  assert.deepEqual(
    [0, 1, 2, 3, 4, 10, 100].map((n) => backoffDelay(b, n, () => 0)),
    [100, 200, 400, 800, 1000, 1000, 1000],
  );
  assert.equal(
    backoffDelay(b, 3, () => 0.999999),
    400,
  );
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(b, 2);
    assert.ok(d >= 200 && d <= 400, String(d));
  }
  const none = checkBackoff('r', { initial: 10, max: 10, jitter: 0 });
  assert.equal(backoffDelay(none, 5), 10);
});

test('heartbeat: a server that stops answering pings is dropped within two intervals and reconnected', async (t) => {
  const server = await startWs(t, { mode: 'echo', heartbeat: 0 });
  const c = await client(t, `${server.url}`, { reconnect: { initial: 20, max: 50 }, heartbeat: 100 });
  const pongs: number[] = [];
  c.on('pong', ({ rttMs }) => pongs.push(rttMs ?? -1));
  const closes: number[] = [];
  c.on('close', ({ code }) => closes.push(code));
  await new Promise((r) => setTimeout(r, 350));
  // Answered heartbeats keep the connection, and are not reported as the caller's pongs.
  assert.deepEqual(closes, []);
  assert.deepEqual(pongs, []);
  // A silent server: the socket stays open but nothing comes back, as behind a black hole.
  for (const peer of server.peers) peer.socket.pause();
  const silent = performance.now();
  await until(() => closes.length > 0, 2000, 'the heartbeat to drop the connection');
  assert.ok(performance.now() - silent < 400, `dropped after ${performance.now() - silent} ms`);
  assert.equal(closes[0], CLOSE.ABNORMAL);
  await until(() => c.reconnects === 1, 2000, 'a reconnection');
  await c.send('back');
  assert.equal((await next(c)).text(), 'back');
});
