/**
 * A Pool's lifecycle with in-memory resources: use(), release and destroy
 * misuse, clear(), drain(), and the stats and events that report it all.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PoolError } from '../../src/errors.js';
import { Pool, type PoolEvents } from '../../src/pool/index.js';
import { sleep, until } from '../helpers/net.js';

interface Res {
  id: number;
}

/** numbered makes resources 1, 2, 3… after `delayMs`. */
function numbered(delayMs = 0) {
  let next = 0;
  return async (): Promise<Res> => {
    if (delayMs > 0) await sleep(delayMs);
    return { id: ++next };
  };
}

/** events records every event the pool emits, by name. */
function events(pool: Pool<Res>) {
  const names: (keyof PoolEvents<Res>)[] = [
    'create',
    'createError',
    'acquire',
    'release',
    'destroy',
    'destroyError',
    'timeout',
  ];
  const log: { name: string; e: Record<string, unknown> }[] = [];
  for (const name of names) {
    pool.on(name, (e: object) => log.push({ name, e: e as Record<string, unknown> }));
  }
  return log;
}

/** misuse matches a NETKIT_POOL_MISUSE PoolError. */
const misuse = (e: unknown) => e instanceof PoolError && e.code === 'NETKIT_POOL_MISUSE';

test('use() releases on success, destroys on a throw, and returns what fn returns', async () => {
  const pool = new Pool<Res>({ max: 2, create: numbered() });
  const reasons: string[] = [];
  pool.on('destroy', (e) => reasons.push(e.reason));
  assert.equal(await pool.use((r) => r.id * 10), 10);
  assert.deepEqual([pool.stats().idle, pool.stats().borrowed], [1, 0]);
  await assert.rejects(
    pool.use(async () => {
      throw new Error('half-read reply');
    }),
    /half-read reply/,
  );
  // Its state is unknown after a throw, so it is not reused.
  assert.deepEqual(reasons, ['user']);
  assert.deepEqual([pool.stats().size, pool.stats().borrowed], [0, 0]);
  await pool.drain();
});

test('use() tolerates fn releasing or destroying the resource itself', async () => {
  const pool = new Pool<Res>({ max: 1, create: numbered() });
  assert.equal(
    await pool.use((r) => {
      pool.release(r);
      return 'ok';
    }),
    'ok',
  );
  await assert.rejects(
    pool.use((r) => {
      pool.destroy(r);
      throw new Error('broken');
    }),
    /broken/,
  );
  assert.deepEqual([pool.stats().size, pool.stats().borrowed], [0, 0]);
  await pool.drain();
});

test('use() does not release a resource fn gave back that another acquire now holds', async () => {
  const pool = new Pool<Res>({ max: 1, create: numbered() });
  const errors: string[] = [];
  let other: Promise<void> | undefined;
  await pool.use(async (r) => {
    other = pool.acquire().then(async (mine) => {
      await sleep(20);
      try {
        pool.release(mine);
      } catch (e) {
        errors.push((e as Error).message);
      }
    });
    await sleep(1);
    pool.release(r); // handed straight to the waiting acquire
    await sleep(1);
  });
  await other;
  assert.deepEqual(errors, []);
  await pool.drain();
});

test('release and destroy misuse throws NETKIT_POOL_MISUSE synchronously', async () => {
  const pool = new Pool<Res>({ max: 2, create: numbered() });
  const other = new Pool<Res>({ max: 1, create: numbered() });
  const r = await pool.acquire();
  pool.release(r);
  assert.throws(() => pool.release(r), misuse, 'double release');
  assert.throws(() => pool.destroy(r), misuse, 'destroy after release');
  assert.throws(() => pool.release({ id: 1 }), misuse, 'foreign object');
  const theirs = await other.acquire();
  assert.throws(() => pool.release(theirs), misuse, 'resource of another pool');
  const d = await pool.acquire();
  pool.destroy(d);
  assert.throws(() => pool.release(d), misuse, 'release after destroy');
  assert.throws(() => pool.destroy(d), misuse, 'double destroy');
  // None of that disturbed either pool.
  assert.deepEqual([pool.stats().size, pool.stats().borrowed], [0, 0]);
  other.release(theirs);
  await Promise.all([pool.drain(), other.drain()]);
});

test('clear() destroys idle resources only; the pool stays usable', async () => {
  const pool = new Pool<Res>({ max: 3, create: numbered() });
  const log: string[] = [];
  pool.on('destroy', (e) => log.push(`${e.resource.id}:${e.reason}`));
  const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
  pool.release(a!);
  pool.release(b!);
  pool.clear();
  assert.deepEqual(log.sort(), ['1:clear', '2:clear']);
  assert.deepEqual([pool.stats().idle, pool.stats().borrowed], [0, 1]);
  pool.release(c!);
  const again = await pool.acquire();
  assert.equal(again.id, 3);
  const fresh = await pool.acquire();
  assert.equal(fresh.id, 4);
  pool.release(again);
  pool.release(fresh);
  await pool.drain();
});

test('drain(): waiters and later acquires reject NETKIT_POOL_CLOSED; borrowed ones are destroyed on release, then it resolves', async () => {
  const destroyed: number[] = [];
  const pool = new Pool<Res>({ max: 2, create: numbered(), destroy: (r) => void destroyed.push(r.id) });
  const reasons: string[] = [];
  pool.on('destroy', (e) => reasons.push(e.reason));
  const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
  const waiting = [pool.acquire(), pool.acquire()];
  let drained = false;
  const draining = pool.drain().then(() => {
    drained = true;
  });
  assert.equal(pool.closed, true);
  for (const w of waiting) await assert.rejects(w, { code: 'NETKIT_POOL_CLOSED' });
  await assert.rejects(pool.acquire(), { code: 'NETKIT_POOL_CLOSED' });
  await assert.rejects(
    pool.use(() => 1),
    { code: 'NETKIT_POOL_CLOSED' },
  );
  pool.release(a!);
  await sleep(20);
  assert.equal(drained, false, 'drain resolved while a resource was still borrowed');
  pool.destroy(b!);
  await draining;
  assert.deepEqual(destroyed.sort(), [1, 2]);
  assert.deepEqual(reasons, ['drain', 'user']);
  assert.deepEqual([pool.stats().size, pool.stats().pending], [0, 0]);
  // Idempotent.
  await pool.drain();
});

test('drain() destroys idle resources, stops a create in flight, and reports destroy errors without throwing', async () => {
  let n = 0;
  const pool = new Pool<Res>({
    min: 3,
    max: 3,
    // The third warm-up create only ends when its signal aborts.
    create: ({ signal }) =>
      ++n <= 2
        ? Promise.resolve({ id: n })
        : new Promise<Res>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    destroy: (r) => {
      if (r.id === 1) throw new Error('close failed');
      return Promise.reject(new Error('async close failed'));
    },
  });
  const log = events(pool);
  await until(() => pool.stats().idle === 2, 1000, 'two warm resources');
  assert.equal(pool.stats().creating, 1);
  const r = await pool.acquire();
  assert.equal(r.id, 2);
  let drained = false;
  const draining = pool.drain().then(() => {
    drained = true;
  });
  await sleep(10);
  assert.equal(drained, false);
  assert.deepEqual([pool.stats().idle, pool.stats().creating], [0, 0]);
  pool.release(r);
  await draining;
  const errs = log.filter((l) => l.name === 'destroyError').map((l) => (l.e.error as Error).message);
  assert.deepEqual(errs.sort(), ['async close failed', 'close failed']);
  assert.equal(pool.stats().createErrors, 0, 'an aborted create is not a failure');
  assert.equal(pool.stats().size, 0);
});

test('stats() counters and sizes move as the pool works', async () => {
  let fail = false;
  const pool = new Pool<Res>({
    max: 1,
    createRetry: { initial: 10, max: 10 },
    create: async () => {
      await sleep(10);
      if (fail) throw new Error('down');
      return { id: 1 };
    },
  });
  const zero = pool.stats();
  assert.deepEqual(zero, {
    size: 0,
    idle: 0,
    borrowed: 0,
    pending: 0,
    creating: 0,
    acquires: 0,
    acquireWaitMs: 0,
    cancelled: 0,
    timeouts: 0,
    createErrors: 0,
    created: 0,
    destroyed: 0,
  });
  const first = pool.acquire();
  assert.deepEqual([pool.stats().size, pool.stats().creating, pool.stats().pending], [1, 1, 1]);
  const r = await first;
  assert.deepEqual([pool.stats().borrowed, pool.stats().created, pool.stats().acquires], [1, 1, 1]);
  const waited = pool.acquire();
  await sleep(30);
  pool.release(r);
  const r2 = await waited;
  assert.ok(pool.stats().acquireWaitMs >= 25, `acquireWaitMs ${pool.stats().acquireWaitMs}`);
  await assert.rejects(pool.acquire({ timeout: 20 }), { code: 'NETKIT_TIMEOUT' });
  fail = true;
  pool.destroy(r2);
  await assert.rejects(pool.acquire({ timeout: 50 }), { code: 'NETKIT_TIMEOUT' });
  const s = pool.stats();
  assert.equal(s.acquires, 2);
  assert.equal(s.timeouts, 2);
  assert.ok(s.createErrors >= 2, `createErrors ${s.createErrors}`);
  assert.deepEqual([s.created, s.destroyed, s.idle, s.borrowed, s.pending], [1, 1, 0, 0, 0]);
  await pool.drain();
});

test('events: create, createError, acquire, release, destroy, timeout', async () => {
  let fail = true;
  const pool = new Pool<Res>({
    max: 1,
    createRetry: { initial: 5, max: 5 },
    create: async () => {
      if (fail) {
        fail = false;
        throw new Error('first try fails');
      }
      return { id: 1 };
    },
  });
  const log = events(pool);
  const r = await pool.acquire();
  const timedOut = pool.acquire({ timeout: 15 });
  await assert.rejects(timedOut, { code: 'NETKIT_TIMEOUT' });
  pool.release(r);
  pool.destroy(await pool.acquire());
  assert.deepEqual(
    log.map((l) => l.name),
    ['createError', 'create', 'acquire', 'timeout', 'release', 'acquire', 'destroy'],
  );
  const [createError, , firstAcquire, timeout, , , destroy] = log.map((l) => l.e);
  assert.equal((createError!.error as Error).message, 'first try fails');
  assert.equal(createError!.attempt, 1);
  assert.ok((firstAcquire!.waitedMs as number) > 0);
  assert.equal(timeout!.waitedMs, 15);
  assert.deepEqual([destroy!.resource, destroy!.reason], [r, 'user']);
  await pool.drain();
});
