/**
 * Fan-out across processes: two `netkit ws serve --mode broadcast` processes
 * sharing one real redis-server act as one server.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnNetkit } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';
import { client, next, quiet } from './fixtures.js';

async function instance(t: import('node:test').TestContext, redisUrl: string) {
  const proc = spawnNetkit([
    'ws',
    'serve',
    '127.0.0.1:0',
    '--mode',
    'broadcast',
    '--redis',
    redisUrl,
    '--json',
    '-q',
  ]);
  t.after(() => proc.kill('SIGKILL'));
  const [, url] = await proc.waitFor(/"url":"([^"]+)"/);
  return { proc, url: url as string };
}

test('two netkit processes sharing one Redis: a message sent to one reaches the room on both', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  const a = await instance(t, redis.url);
  const b = await instance(t, redis.url);
  const onA = await client(t, `${a.url}/lobby`);
  const onB = await client(t, `${b.url}/lobby`);
  const otherRoomOnB = await client(t, `${b.url}/kitchen`);
  // Subscriptions are set up before serve reports listening, so the first message already fans out.
  await onA.send('hello from A');
  assert.equal((await next(onA)).text(), 'hello from A');
  assert.equal((await next(onB)).text(), 'hello from A');
  await onB.send(Buffer.from([0, 1, 254, 255]));
  const bin = await next(onA);
  assert.equal(bin.binary, true);
  assert.deepEqual([...bin.data], [0, 1, 254, 255]);
  assert.equal((await next(onB)).binary, true);
  // Each instance delivers its own message once, not again through Redis.
  assert.ok(await quiet(onA, 150));
  assert.ok(await quiet(otherRoomOnB, 150));
  assert.equal((await a.proc.kill('SIGTERM')).code, 0);
  assert.equal((await b.proc.kill('SIGTERM')).code, 0);
});

test('an unreachable Redis makes ws serve fail at start with exit 3, naming the URL', async (t) => {
  const redis = await startRedis(t);
  if (!redis) return;
  await redis.stop();
  const proc = spawnNetkit(['ws', 'serve', '127.0.0.1:0', '--mode', 'broadcast', '--redis', redis.url]);
  t.after(() => proc.kill('SIGKILL'));
  const { code } = await proc.exited;
  assert.equal(code, 3, proc.stderr());
  assert.match(proc.stderr(), /NETKIT_DIAL_FAILED/);
  assert.ok(proc.stderr().includes(`127.0.0.1:${redis.port}`), proc.stderr());
});
