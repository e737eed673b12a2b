// The wait queue is a ring that grows while more acquires wait than it holds, and
// acquires that found the clock already read get their deadline later, in one
// pass over the newest slots (src/pool/waiters.ts). These pin down what that
// must keep: arrival order across growth and wrap-around, and a deadline for
// every waiter of a dating pass, whatever was queued between them.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { Pool } from '../../src/pool/index.js';

test('acquires are served in arrival order while the queue grows and wraps around', {
  timeout: 10_000,
}, async (t) => {
  const pool = new Pool({ max: 1, create: async () => ({}) });
  t.after(() => pool.drain());
  const r = await pool.acquire();
  const served: number[] = [];
  const waiting: Promise<void>[] = [];
  let next = 0;
  const queue = (n: number) => {
    for (let i = 0; i < n; i++) {
      const id = next++;
      waiting.push(
        pool.acquire().then((x) => {
          served.push(id);
          pool.release(x);
        }),
      );
    }
  };
  // 40 then, with some served (the front moved on), 300 more: more than the ring first
  // holds, pushed while its front is not at slot 0.
  queue(40);
  pool.release(r);
  await waiting[19];
  queue(300);
  await Promise.all(waiting);
  assert.deepEqual(
    served,
    Array.from({ length: 340 }, (_, i) => i),
  );
  assert.equal(pool.stats().pending, 0);
  assert.equal(pool.stats().acquires, 341);
});

test('every acquire left without a deadline gets one, whatever was queued between them', {
  timeout: 10_000,
}, async (t) => {
  const pool = new Pool({ max: 1, create: async () => ({}) });
  t.after(() => pool.drain());
  const held = await pool.acquire();
  // A new turn of the event loop: the clock's last read has expired, so `first` reads it.
  await new Promise((resolve) => setImmediate(resolve));
  // `first` reads the clock; `undated` reuses that read, so its deadline waits for the
  // dating pass queued behind the read's expiry. The job queued in between runs after the
  // read has expired: it reads the clock afresh (a dated acquire) and then queues another
  // undated one, so the pass sees undated, dated, undated at the back of the queue.
  const first = pool.acquire({ timeout: 5000 });
  const between: Promise<unknown>[] = [];
  queueMicrotask(() => {
    between.push(pool.acquire({ timeout: 5000 }).then((x) => pool.release(x)));
    between.push(pool.acquire({ timeout: 5000 }).then((x) => pool.release(x)));
  });
  const t0 = performance.now();
  const undated = pool.acquire({ timeout: 30 });
  await assert.rejects(undated, { code: 'NETKIT_TIMEOUT' });
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 30, `timed out after ${elapsed.toFixed(1)} ms, before its 30 ms timeout`);
  assert.equal(pool.stats().timeouts, 1);
  pool.release(held);
  pool.release(await first);
  await Promise.all(between);
  assert.equal(pool.stats().pending, 0);
});
