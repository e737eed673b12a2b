// The pool reads the clock for wait times once per run of code (src/pool/clock.ts).
// These pin down what that must not change: a deadline never counts from a time
// read before its acquire, and waits that span runs of code are totalled.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { Pool } from '../../src/pool/index.js';
import { sleep } from '../helpers/net.js';

/** busy keeps this run of code going for `ms` without yielding. */
function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // spin: the point is a long synchronous run after the pool read its clock
  }
}

test('an acquire made late in a long run of code times out no earlier than its timeout', async (t) => {
  const pool = new Pool({ max: 1, create: async () => ({}) });
  t.after(() => pool.drain());
  const held = await pool.acquire();
  // This acquire reads the clock and queues; the one below, 60 ms later in the same run,
  // would count its 30 ms timeout from that read if deadlines came from the cached clock.
  const first = pool.acquire({ timeout: 5000 });
  busy(60);
  const t0 = performance.now();
  const late = pool.acquire({ timeout: 30 });
  await assert.rejects(late, { code: 'NETKIT_TIMEOUT' });
  const elapsed = performance.now() - t0;
  assert.ok(elapsed >= 30, `timed out after ${elapsed.toFixed(1)} ms, before its 30 ms timeout`);
  pool.release(held);
  pool.release(await first);
});

test('acquireWaitMs and waitedMs total waits that span runs of code', async (t) => {
  const pool = new Pool({ max: 1, create: async () => ({}) });
  t.after(() => pool.drain());
  const waited: number[] = [];
  pool.on('acquire', (e) => waited.push(e.waitedMs));
  const held = await pool.acquire();
  const a = pool.acquire();
  const b = pool.acquire();
  await sleep(20);
  pool.release(held);
  const ra = await a;
  await sleep(20);
  pool.release(ra);
  pool.release(await b);
  // a waited about 20 ms, b about 40 ms; each is served in a later run than it queued in.
  assert.equal(waited.length, 3);
  assert.ok(waited[1]! >= 15, `a waited ${waited[1]} ms`);
  assert.ok(waited[2]! >= 35, `b waited ${waited[2]} ms`);
  const total = pool.stats().acquireWaitMs;
  assert.ok(Math.abs(total - (waited[0]! + waited[1]! + waited[2]!)) < 1e-9, `acquireWaitMs ${total}`);
});
