/**
 * How a Pool keeps its resources healthy: maxLifetime, validation on
 * borrow, the watch hook, createTimeout, and backing off when creation fails.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TimeoutError } from '../../src/errors.js';
import { Pool } from '../../src/pool/index.js';
import { sleep, until } from '../helpers/net.js';

interface Res {
  id: number;
}

/** numbered makes resources 1, 2, 3… at once. */
function numbered() {
  let next = 0;
  return async (): Promise<Res> => ({ id: ++next });
}

/** destroys records every destroy event as `id:reason`. */
function destroys(pool: Pool<Res>): string[] {
  const log: string[] = [];
  pool.on('destroy', (e) => log.push(`${e.resource.id}:${e.reason}`));
  return log;
}

/** block holds the event loop for `ms`, so timers cannot fire (a busy process). */
function block(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin
  }
}

test('maxLifetime: an aged resource is destroyed when released', async () => {
  const pool = new Pool<Res>({ max: 2, maxLifetime: 60, create: numbered() });
  const log = destroys(pool);
  const r = await pool.acquire();
  await sleep(80);
  pool.release(r);
  assert.deepEqual(log, ['1:lifetime']);
  assert.equal(pool.stats().size, 0);
  const next = await pool.acquire();
  assert.equal(next.id, 2);
  pool.release(next);
  await pool.drain();
});

test('maxLifetime: an aged idle resource is never handed out, even if its timer has not fired', async () => {
  const pool = new Pool<Res>({ max: 2, maxLifetime: 60, create: numbered() });
  const log = destroys(pool);
  pool.release(await pool.acquire());
  // A busy event loop: the idle resource's lifetime timer cannot run before the next acquire.
  block(80);
  const r = await pool.acquire();
  assert.equal(r.id, 2);
  assert.deepEqual(log, ['1:lifetime']);
  pool.release(r);
  await pool.drain();
});

test('maxLifetime: idle resources are replaced as they age out, keeping min', async () => {
  const pool = new Pool<Res>({ min: 1, max: 3, maxLifetime: 40, create: numbered() });
  const log = destroys(pool);
  await until(() => log.length >= 3, 2000, 'three lifetimes to pass');
  assert.ok(
    log.every((l) => l.endsWith(':lifetime')),
    log.join(),
  );
  await until(() => pool.stats().idle === 1, 1000, 'the replacement');
  assert.ok(pool.stats().size <= 1);
  await pool.drain();
});

test('validate: sync false, async false, a throw and a rejection each destroy the resource as invalid; the next one is tried', async () => {
  const bad = new Set<number>();
  const pool = new Pool<Res>({
    max: 5,
    create: numbered(),
    validate: (r) => {
      if (r.id === 5) return false;
      if (r.id === 4) return Promise.resolve(false);
      if (r.id === 3) throw new Error('probe crashed');
      if (r.id === 2) return Promise.reject(new Error('probe failed'));
      return Promise.resolve(!bad.has(r.id));
    },
  });
  const log = destroys(pool);
  const all = await Promise.all(Array.from({ length: 5 }, () => pool.acquire()));
  all.sort((a, b) => a.id - b.id);
  for (const r of all) pool.release(r);
  // lifo: 5, 4, 3 and 2 are checked first and fail; 1 passes.
  const r = await pool.acquire();
  assert.equal(r.id, 1);
  assert.deepEqual(log.sort(), ['2:invalid', '3:invalid', '4:invalid', '5:invalid']);
  pool.release(r);
  await pool.drain();
});

test('validate: waiters are still served when every idle resource fails its check', async () => {
  let checks = 0;
  const pool = new Pool<Res>({
    max: 2,
    create: numbered(),
    validate: async (r) => {
      checks++;
      await sleep(10);
      return r.id > 2;
    },
  });
  const log = destroys(pool);
  const first = await Promise.all([pool.acquire(), pool.acquire()]);
  for (const r of first) pool.release(r);
  const again = await Promise.all([pool.acquire({ timeout: 1000 }), pool.acquire({ timeout: 1000 })]);
  assert.deepEqual(again.map((r) => r.id).sort(), [3, 4]);
  assert.deepEqual(log.sort(), ['1:invalid', '2:invalid']);
  assert.equal(checks, 2, 'fresh resources are handed out without a check');
  for (const r of again) pool.release(r);
  await pool.drain();
});

test('watch: dead() drops an idle resource at once; borrowing it unwatches', async () => {
  const watching = new Map<number, () => void>();
  const pool = new Pool<Res>({
    min: 1,
    max: 2,
    create: numbered(),
    watch: (r, dead) => {
      watching.set(r.id, dead);
      return () => watching.delete(r.id);
    },
  });
  const log = destroys(pool);
  await until(() => watching.has(1), 1000, 'the warm resource to be watched');
  watching.get(1)!();
  // Synchronous: the pool must not hand out a resource it was told is gone.
  assert.deepEqual(log, ['1:dead']);
  assert.equal(watching.has(1), false);
  await until(() => watching.has(2), 1000, 'the replacement to be watched');
  const r = await pool.acquire();
  assert.equal(r.id, 2);
  assert.equal(watching.size, 0, 'a borrowed resource is not watched');
  pool.release(r);
  assert.equal(watching.has(2), true);
  await pool.drain();
  assert.equal(watching.size, 0);
});

test('createTimeout: a create that resolves too late is destroyed, never handed out', async () => {
  const destroyed: Res[] = [];
  let calls = 0;
  const pool = new Pool<Res>({
    max: 1,
    createTimeout: 30,
    createRetry: { initial: 10, max: 20 },
    // The first create ignores its signal and finishes long after the limit.
    create: () => (++calls === 1 ? sleep(100).then(() => ({ id: 1 })) : Promise.resolve({ id: calls })),
    destroy: (r) => void destroyed.push(r),
  });
  const errors: unknown[] = [];
  pool.on('createError', (e) => errors.push(e.error));
  const r = await pool.acquire({ timeout: 1000 });
  assert.notEqual(r.id, 1);
  await until(() => destroyed.length === 1, 1000, 'the late resource to be destroyed');
  assert.deepEqual(destroyed, [{ id: 1 }]);
  assert.ok(errors[0] instanceof TimeoutError && /pool create/.test(errors[0].message));
  pool.release(r);
  await pool.drain();
});

test('createTimeout: a create that never settles is abandoned; the pool makes another and drains', async () => {
  let calls = 0;
  const pool = new Pool<Res>({
    max: 1,
    createTimeout: 30,
    createRetry: { initial: 10, max: 20 },
    create: () => (++calls === 1 ? new Promise<Res>(() => {}) : Promise.resolve({ id: calls })),
  });
  const r = await pool.acquire({ timeout: 300 });
  assert.equal(r.id, 2);
  pool.release(r);
  const drained = await Promise.race([pool.drain().then(() => true), sleep(300).then(() => false)]);
  assert.ok(drained, 'drain() did not resolve');
});

test('failing creation backs off: a bounded number of spaced attempts, not a spin', async () => {
  const attempts: number[] = [];
  const pool = new Pool<Res>({
    min: 1,
    createRetry: { initial: 50, max: 200 },
    create: async () => {
      attempts.push(performance.now());
      throw new Error('refused');
    },
  });
  const delays: number[] = [];
  pool.on('createError', (e) => delays.push(e.delayMs));
  await sleep(600);
  await pool.drain();
  // Delays of 25–50, 50–100, then 100–200 ms: at most 8 attempts fit in 600 ms.
  assert.ok(attempts.length >= 3 && attempts.length <= 8, `${attempts.length} attempts`);
  for (let i = 1; i < attempts.length; i++) {
    const gap = attempts[i]! - attempts[i - 1]!;
    assert.ok(gap >= 20, `attempt ${i} came ${gap.toFixed(1)} ms after the previous one`);
  }
  assert.ok(
    delays.every((d) => d >= 25 && d <= 200),
    delays.join(),
  );
  assert.equal(pool.stats().createErrors, attempts.length);
});

test('after failures creation recovers, and the backoff starts over', async () => {
  let failNext = 3;
  let made = 0;
  const pool = new Pool<Res>({
    max: 1,
    createRetry: { initial: 10, max: 40 },
    create: async () => {
      if (failNext > 0) {
        failNext--;
        throw new Error('not yet');
      }
      return { id: ++made };
    },
  });
  const attempts: number[] = [];
  pool.on('createError', (e) => attempts.push(e.attempt));
  const r = await pool.acquire({ timeout: 1000 });
  assert.equal(r.id, 1);
  assert.deepEqual(attempts, [1, 2, 3]);
  assert.equal(pool.stats().createErrors, 3);
  assert.equal(pool.stats().created, 1);
  // The next failure is attempt 1 again, with a short delay.
  pool.destroy(r);
  failNext = 1;
  const r2 = await pool.acquire({ timeout: 1000 });
  assert.equal(r2.id, 2);
  assert.deepEqual(attempts, [1, 2, 3, 1]);
  pool.release(r2);
  await pool.drain();
});
