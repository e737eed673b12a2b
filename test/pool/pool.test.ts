/**
 * Pool with in-memory resources: limits (max, min, maxWaiting), how acquire
 * ends (timeout, abort), idle order, and option validation. Health checks
 * are in pool-health.test.ts, use/drain/stats in pool-lifecycle.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError, PoolError, TimeoutError } from '../../src/errors.js';
import { Pool, type PoolOptions } from '../../src/pool/index.js';
import { sleep, until } from '../helpers/net.js';

interface Res {
  id: number;
}

/** factory makes numbered resources after `delayMs` and tracks how many exist and are being made. */
function factory(delayMs = 5) {
  let next = 0;
  const f = {
    creating: 0,
    peakCreating: 0,
    live: 0,
    peakLive: 0,
    destroyed: [] as Res[],
    create: async (): Promise<Res> => {
      f.creating++;
      f.peakCreating = Math.max(f.peakCreating, f.creating);
      // Count a resource as existing from the moment its creation starts, as `max` does.
      f.live++;
      f.peakLive = Math.max(f.peakLive, f.live);
      await sleep(delayMs);
      f.creating--;
      return { id: ++next };
    },
    destroy: (r: Res) => {
      f.live--;
      f.destroyed.push(r);
    },
  };
  return f;
}

test('max caps resources in existence: concurrent creates and borrowed ones', async () => {
  const f = factory(10);
  const pool = new Pool<Res>({ max: 3, create: f.create, destroy: f.destroy });
  let borrowed = 0;
  let peakBorrowed = 0;
  let peakSize = 0;
  const work = Array.from({ length: 20 }, (_, i) =>
    pool.use(async (r) => {
      borrowed++;
      peakBorrowed = Math.max(peakBorrowed, borrowed);
      peakSize = Math.max(peakSize, pool.stats().size);
      await sleep(5 + (i % 3));
      borrowed--;
      return r.id;
    }),
  );
  // While the first creates run, the pool must not start more than max of them.
  assert.equal(pool.stats().creating, 3);
  assert.equal(pool.stats().size, 3);
  const ids = await Promise.all(work);
  assert.equal(peakBorrowed, 3);
  assert.ok(peakSize <= 3, `size reached ${peakSize}`);
  assert.equal(f.peakCreating, 3);
  assert.equal(f.peakLive, 3);
  // Twenty uses were served by three resources, reused rather than remade.
  assert.deepEqual([...new Set(ids)].sort(), [1, 2, 3]);
  assert.equal(pool.stats().created, 3);
  await pool.drain();
  assert.equal(f.live, 0);
});

test('min resources are created ahead of demand and refilled after a destroy or clear', async () => {
  const f = factory();
  const pool = new Pool<Res>({ min: 2, max: 5, create: f.create, destroy: f.destroy });
  await until(() => pool.stats().idle === 2, 1000, 'two warm resources');
  assert.equal(pool.stats().created, 2);

  const r = await pool.acquire();
  pool.destroy(r);
  await until(() => pool.stats().idle === 2, 1000, 'a replacement after destroy');
  assert.equal(pool.stats().created, 3);

  pool.clear();
  await until(() => pool.stats().idle === 2, 1000, 'a refill after clear');
  assert.equal(pool.stats().created, 5);
  assert.equal(pool.stats().size, 2);
  await pool.drain();
});

test('idleTimeout trims idle resources down to min, never below', async () => {
  const f = factory(1);
  const pool = new Pool<Res>({ min: 2, max: 5, idleTimeout: 40, create: f.create, destroy: f.destroy });
  const reasons: string[] = [];
  pool.on('destroy', (e) => reasons.push(e.reason));
  const all = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()));
  for (const r of all) pool.release(r);
  assert.equal(pool.stats().idle, 5);
  await until(() => pool.stats().size === 2, 1000, 'trim to min');
  // Several idle timeouts later it still holds min, and made nothing new.
  await sleep(150);
  assert.equal(pool.stats().size, 2);
  assert.equal(pool.stats().idle, 2);
  assert.deepEqual(reasons, ['idle', 'idle', 'idle']);
  assert.equal(pool.stats().created, 5);
  await pool.drain();
});

test('acquire rejects with NETKIT_TIMEOUT soon after its timeout when nothing comes free', async () => {
  const f = factory(1);
  const pool = new Pool<Res>({ max: 1, acquireTimeout: 100, create: f.create });
  const timeouts: number[] = [];
  pool.on('timeout', (e) => timeouts.push(e.waitedMs));
  const held = await pool.acquire();
  // The pool's acquireTimeout, then one given to acquire().
  for (const [opts, limit] of [
    [{}, 100],
    [{ timeout: 60 }, 60],
  ] as const) {
    const start = performance.now();
    await assert.rejects(
      pool.acquire(opts),
      (e) => e instanceof TimeoutError && e.code === 'NETKIT_TIMEOUT' && e.message.includes(`${limit} ms`),
    );
    const took = performance.now() - start;
    assert.ok(took >= limit - 2 && took < limit + 50, `timeout ${limit} ms took ${took.toFixed(1)} ms`);
  }
  assert.deepEqual(timeouts, [100, 60]);
  assert.equal(pool.stats().timeouts, 2);
  assert.equal(pool.stats().pending, 0);
  // The timed-out waiters are gone: the resource released now stays idle.
  pool.release(held);
  assert.equal(pool.stats().idle, 1);
  await pool.drain();
});

test('an acquire timeout names the last create error', async () => {
  const pool = new Pool<Res>({
    max: 2,
    createRetry: { initial: 20, max: 40 },
    create: async () => {
      throw new Error('backend at 10.0.0.9 is down');
    },
  });
  const start = performance.now();
  await assert.rejects(
    pool.acquire({ timeout: 120 }),
    (e) =>
      e instanceof TimeoutError &&
      e.code === 'NETKIT_TIMEOUT' &&
      /last create error: backend at 10\.0\.0\.9 is down/.test(e.message),
  );
  assert.ok(performance.now() - start < 170);
  await pool.drain();
});

test('an AbortSignal cancels a waiting acquire with NETKIT_ABORTED', async () => {
  const pool = new Pool<Res>({ max: 1, create: factory(1).create });
  const held = await pool.acquire();
  const ac = new AbortController();
  const waiting = pool.acquire({ signal: ac.signal });
  await sleep(20);
  assert.equal(pool.stats().pending, 1);
  ac.abort(new Error('user gave up'));
  await assert.rejects(waiting, { code: 'NETKIT_ABORTED' });
  assert.equal(pool.stats().cancelled, 1);
  assert.equal(pool.stats().pending, 0);
  // An already-aborted signal rejects without queueing.
  await assert.rejects(pool.acquire({ signal: AbortSignal.abort() }), { code: 'NETKIT_ABORTED' });
  // The cancelled waiter does not swallow the next release.
  pool.release(held);
  assert.equal(pool.stats().idle, 1);
  await pool.drain();
});

test('past maxWaiting the next acquire rejects at once with NETKIT_POOL_EXHAUSTED', async () => {
  const pool = new Pool<Res>({ max: 1, maxWaiting: 2, create: factory(1).create });
  const held = await pool.acquire();
  const w1 = pool.acquire();
  const w2 = pool.acquire();
  let outcome: unknown = 'pending';
  pool.acquire().then(
    () => {
      outcome = 'resolved';
    },
    (e: unknown) => {
      outcome = e;
    },
  );
  // "At once": settled before any timer could fire.
  await new Promise((r) => setImmediate(r));
  assert.ok(outcome instanceof PoolError, `the overflow acquire is ${String(outcome)}`);
  assert.equal(outcome.code, 'NETKIT_POOL_EXHAUSTED');
  pool.release(held);
  pool.release(await w1);
  pool.release(await w2);
  assert.equal(pool.stats().acquires, 3);
  await pool.drain();
});

test('maxWaiting counts acquires waiting at max, not ones a create or an idle resource will serve', async () => {
  // Room for three: three concurrent acquires on a cold pool need no queue.
  const burst = new Pool<Res>({ max: 3, maxWaiting: 1, create: factory(1).create });
  const rs = await Promise.all([burst.acquire(), burst.acquire(), burst.acquire()]);
  for (const r of rs) burst.release(r);
  await burst.drain();
  // maxWaiting 0 means "never queue", not "never serve": an idle resource is there to take.
  const noQueue = new Pool<Res>({
    min: 1,
    max: 1,
    maxWaiting: 0,
    validate: () => true,
    create: factory(1).create,
  });
  await until(() => noQueue.stats().idle === 1, 1000, 'a warm resource');
  await assert.doesNotReject(noQueue.acquire().then((r) => noQueue.release(r)));
  await noQueue.drain();
});

/** idleOrder makes three resources, releases them 1, 2, 3, and reports the order they come back in. */
async function idleOrder(order: 'lifo' | 'fifo'): Promise<number[]> {
  const pool = new Pool<Res>({ max: 3, order, create: factory(1).create });
  const rs = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  rs.sort((a, b) => a.id - b.id);
  for (const r of rs) pool.release(r);
  const again = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
  for (const r of again) pool.release(r);
  await pool.drain();
  return again.map((r) => r.id);
}

test('lifo (the default) hands out the most recently released idle resource, fifo the oldest', async () => {
  assert.deepEqual(await idleOrder('lifo'), [3, 2, 1]);
  assert.deepEqual(await idleOrder('fifo'), [1, 2, 3]);
});

test('bad options throw NETKIT_INVALID_ARGUMENT naming the option', () => {
  const create = async () => ({ id: 0 });
  const cases: [Partial<PoolOptions<Res>>, string][] = [
    [{ create, max: 0 }, 'max'],
    [{ create, max: 2, min: 3 }, 'min'],
    [{ create, order: 'random' as 'lifo' }, 'order'],
    [{}, 'create'],
    [{ create, acquireTimeout: -1 }, 'acquireTimeout'],
    [{ create, createRetry: { factor: 0.5 } }, 'createRetry.factor'],
  ];
  for (const [options, option] of cases) {
    assert.throws(
      () => new Pool<Res>(options as PoolOptions<Res>),
      (e) =>
        e instanceof InvalidArgumentError &&
        e.code === 'NETKIT_INVALID_ARGUMENT' &&
        e.option === option &&
        e.message.startsWith(`${option}:`),
      `option ${option}`,
    );
  }
});
