import assert from 'node:assert/strict';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { Redis } from 'ioredis';
import { ConnectionError, isNetkitError } from '../../../src/errors.js';
import {
  type BusMessage,
  RedisBus,
  type RedisBusOptions,
  type RedisBusStatus,
} from '../../../src/ws/bus/index.js';
import { openFds, sleep, until } from '../../helpers/net.js';
import { startRedis } from '../../helpers/redis.js';

/** bus starts a RedisBus that records what it receives; it is closed after the test. */
async function bus(t: TestContext, url: string, options?: RedisBusOptions) {
  const b = new RedisBus(url, options);
  const got: BusMessage[] = [];
  const statuses: RedisBusStatus[] = [];
  b.onStatus((s) => statuses.push(s));
  t.after(() => b.close());
  await b.start((m) => got.push(m));
  return { b, got, statuses };
}

/** closedPort is a loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => srv.once('listening', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

test('a publish reaches the other instance exactly once and never the publisher', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const a = await bus(t, redis.url);
  const b = await bus(t, redis.url);
  a.b.publish({ room: 'lobby', data: Buffer.from('héllo'), binary: false });
  await until(() => b.got.length === 1, 5000, 'B to receive');
  b.b.publish({ room: 'lobby', data: Buffer.from('back'), binary: false });
  await until(() => a.got.length === 1, 5000, 'A to receive');
  await sleep(100); // room for a duplicate or an echo to show up
  assert.equal(b.got.length, 1);
  assert.equal(a.got.length, 1);
  assert.equal(b.got[0]!.room, 'lobby');
  assert.equal(b.got[0]!.binary, false);
  assert.equal(b.got[0]!.data.toString(), 'héllo');
  assert.equal(a.got[0]!.data.toString(), 'back');
  assert.equal(a.b.dropped + b.b.dropped, 0);
});

test('binary payloads with every byte value and of 1 MiB arrive exactly', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const a = await bus(t, redis.url);
  const b = await bus(t, redis.url);
  const every = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const big = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
  a.b.publish({ room: 'bin', data: every, binary: true });
  a.b.publish({ room: 'bin', data: big, binary: true });
  a.b.publish({ room: 'bin', data: Buffer.alloc(0), binary: true });
  await until(() => b.got.length === 3, 5000, 'three messages');
  assert.deepEqual(b.got[0], { room: 'bin', data: every, binary: true });
  assert.ok(b.got[1]!.data.equals(big));
  assert.equal(b.got[1]!.binary, true);
  assert.equal(b.got[2]!.data.length, 0);
});

test('rooms with glob characters, unicode and the empty name reach only their own room', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const a = await bus(t, redis.url);
  const b = await bus(t, redis.url);
  const rooms = ['*', '?', '[', '[a-z]', 'a*', 'a', 'ab', 'покой 🚪', '', '\\', 'x y'];
  for (const room of rooms) a.b.publish({ room, data: Buffer.from(`to ${room}`), binary: false });
  await until(() => b.got.length === rooms.length, 5000, 'one message per room');
  await sleep(100);
  assert.equal(b.got.length, rooms.length);
  for (const m of b.got) assert.equal(m.data.toString(), `to ${m.room}`);
  assert.deepEqual(
    b.got.map((m) => m.room),
    rooms,
  );
});

test('a glob character in the channel prefix matches only that prefix', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const star = await bus(t, redis.url, { channelPrefix: 'app*:' });
  const other = await bus(t, redis.url, { channelPrefix: 'appX:' });
  const peer = await bus(t, redis.url, { channelPrefix: 'app*:' });
  other.b.publish({ room: 'r', data: Buffer.from('other'), binary: false });
  peer.b.publish({ room: 'r', data: Buffer.from('peer'), binary: false });
  await until(() => star.got.length === 1, 5000, 'the same-prefix message');
  await sleep(100);
  assert.deepEqual(
    star.got.map((m) => m.data.toString()),
    ['peer'],
  );
  assert.equal(other.got.length, 0);
});

test('malformed messages on the channel are dropped and counted; the bus keeps working', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const a = await bus(t, redis.url);
  const b = await bus(t, redis.url);
  const raw = new Redis(redis.url);
  t.after(() => raw.quit());
  const id = Buffer.alloc(16, 0xab);
  const header = (version: number, flags: number) => Buffer.concat([Buffer.from([version, flags]), id]);
  const bad = [
    Buffer.from('not a bus message'),
    Buffer.alloc(0),
    header(1, 0).subarray(0, 17), // header cut short
    Buffer.concat([header(2, 0), Buffer.from('future version')]),
    Buffer.concat([header(1, 0x80), Buffer.from('unknown flag')]),
    Buffer.concat([header(1, 0), Buffer.from([0xff, 0xfe])]), // text that is not UTF-8
  ];
  for (const m of bad) await raw.publish('netkit:ws:room', m);
  await raw.publish(Buffer.from([...Buffer.from('netkit:ws:'), 0xc3]), header(1, 1)); // room not UTF-8
  await until(() => b.b.dropped === bad.length + 1, 5000, 'every malformed message counted');
  assert.equal(b.got.length, 0);
  // A well-formed message from a foreign publisher is accepted.
  await raw.publish('netkit:ws:room', Buffer.concat([header(1, 0), Buffer.from('raw ok')]));
  a.b.publish({ room: 'room', data: Buffer.from('still works'), binary: false });
  await until(() => b.got.length === 2, 5000, 'messages after the garbage');
  assert.deepEqual(b.got.map((m) => m.data.toString()).sort(), ['raw ok', 'still works']);
});

test('start() rejects with NETKIT_DIAL_FAILED within the timeout when Redis is unreachable', async (t) => {
  const port = await closedPort();
  const b = new RedisBus(`redis://127.0.0.1:${port}`, { connectTimeout: 1000 });
  t.after(() => b.close());
  const started = Date.now();
  await assert.rejects(
    b.start(() => {}),
    (e: unknown) =>
      e instanceof ConnectionError &&
      e.code === 'NETKIT_DIAL_FAILED' &&
      e.message.includes(`redis://127.0.0.1:${port}`) &&
      /ECONNREFUSED/.test(e.message),
  );
  assert.ok(Date.now() - started < 1000, 'no endless retry');
  await sleep(300);
  b.publish({ room: 'r', data: Buffer.from('x'), binary: false }); // a no-op, never a throw
});

test('start() gives up on a server that accepts but never answers', async (t) => {
  // Accepts connections and never says a word, like a hung server or a wrong port.
  const sockets: net.Socket[] = [];
  const silent = net.createServer((s) => sockets.push(s)).listen(0, '127.0.0.1');
  await new Promise((r) => silent.once('listening', r));
  t.after(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const { port } = silent.address() as net.AddressInfo;
  const b = new RedisBus(`redis://:secret@127.0.0.1:${port}`, { connectTimeout: 300 });
  t.after(() => b.close());
  const started = Date.now();
  await assert.rejects(
    b.start(() => {}),
    (e: unknown) => {
      assert.ok(isNetkitError(e, 'NETKIT_DIAL_FAILED'));
      assert.ok(!e.message.includes('secret'), e.message);
      return true;
    },
  );
  const took = Date.now() - started;
  assert.ok(took >= 250 && took < 2000, `took ${took} ms`);
});

test('a bad URL or option is NETKIT_INVALID_ARGUMENT naming it', () => {
  const urls = [
    'not a url',
    'http://127.0.0.1:6379',
    'redis://',
    'redis://127.0.0.1:99999',
    'redis://127.0.0.1:0',
    'redis://127.0.0.1:6379/db',
    'redis://127.0.0.1:6379?family=6',
    'redis:127.0.0.1:6379',
  ];
  for (const url of urls) {
    assert.throws(
      () => new RedisBus(url),
      (e: unknown) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT') && e.message.startsWith('redis: '),
      url,
    );
  }
  assert.throws(
    () => new RedisBus('redis://u:secret@h:0'),
    (e: unknown) => e instanceof Error && /port/.test(e.message) && !e.message.includes('secret'),
  );
  assert.throws(() => new RedisBus('redis://h', { connectTimeout: 0 }), /connectTimeout/);
  assert.throws(() => new RedisBus('redis://h', { channelPrefix: '' }), /channelPrefix/);
  // Valid forms construct without touching the network.
  for (const url of ['redis://localhost', 'rediss://u:p@[::1]:6380/2', 'redis://127.0.0.1:6379/0']) {
    void new RedisBus(url).close();
  }
});

test('after Redis restarts, messages flow again and status reports down then up', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const a = await bus(t, redis.url);
  const b = await bus(t, redis.url);
  a.b.publish({ room: 'r', data: Buffer.from('before'), binary: false });
  await until(() => b.got.length === 1, 5000, 'the first message');

  await redis.stop();
  await until(() => a.statuses.length === 1 && b.statuses.length === 1, 5000, "both buses 'down'");
  assert.equal(a.statuses[0]!.state, 'down');
  a.b.publish({ room: 'r', data: Buffer.from('while down'), binary: false }); // lost, never a crash
  await until(() => a.b.failedPublishes === 1, 5000, 'the lost publish counted');

  await redis.restart();
  await until(() => a.statuses.at(-1)?.state === 'up' && b.statuses.at(-1)?.state === 'up', 10_000, "'up'");
  let n = 0;
  const sent = new Set<string>();
  await until(
    () => {
      const text = `after ${n++}`;
      sent.add(text);
      a.b.publish({ room: 'r', data: Buffer.from(text), binary: false });
      return b.got.length > 1;
    },
    10_000,
    'messages to flow again',
  );
  assert.ok(b.got.slice(1).every((m) => sent.has(m.data.toString())));
  assert.ok(!b.got.some((m) => m.data.toString() === 'while down'));
});

test('close() twice is fine and the open file descriptors return to baseline', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const baseline = openFds();
  const a = new RedisBus(redis.url);
  const b = new RedisBus(redis.url);
  const got: BusMessage[] = [];
  await a.start(() => {});
  await b.start((m) => got.push(m));
  a.publish({ room: 'r', data: Buffer.from('x'), binary: false });
  await until(() => got.length === 1, 5000, 'a message');
  assert.ok(openFds() > baseline);
  await Promise.all([a.close(), a.close()]);
  await b.close();
  await b.close();
  a.publish({ room: 'r', data: Buffer.from('after close'), binary: false }); // ignored
  await assert.rejects(
    b.start(() => {}),
    (e: unknown) => isNetkitError(e, 'NETKIT_CONNECTION_CLOSED'),
  );
  await until(() => openFds() <= baseline, 2000, `fds back to ${baseline} (now ${openFds()})`);
});

test('close() while Redis is down returns at once and stops reconnecting', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const baseline = openFds();
  const a = new RedisBus(redis.url);
  // Closed even when an assertion fails, so a reconnecting client cannot hold the test file open.
  t.after(() => a.close());
  const statuses: RedisBusStatus[] = [];
  a.onStatus((s) => statuses.push(s));
  await a.start(() => {});
  await redis.stop();
  await until(() => statuses.length === 1, 5000, "'down'");
  assert.match(statuses[0]!.reason ?? '', /ECONNREFUSED|closed/i);
  const started = Date.now();
  await a.close();
  assert.ok(Date.now() - started < 500);
  await sleep(300); // past the reconnect delay: nothing may dial again
  assert.equal(statuses.length, 1);
  await until(() => openFds() <= baseline, 2000, 'fds back to baseline');
});
