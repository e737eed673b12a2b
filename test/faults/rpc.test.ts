// test: alone
/**
 * net/rpc under a partition. Calls waiting for their replies when host B
 * turns into a black hole reject at their deadline with NETKIT_TIMEOUT,
 * not before and not much after; a pool of RPC clients keeps serving
 * callers through black holes so that, with the caller retrying a failed
 * call once after the heal, no call fails twice.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isNetkitError } from '../../src/errors.js';
import { createRpcPool, dialRpc } from '../../src/rpc/index.js';
import { figure, rounds, spread } from '../helpers/figures.js';
import { type Lab, requireLab } from '../helpers/netns.js';

/** SLACK is how late past its deadline a call may reject on a loaded machine. */
const SLACK = 250;

/** serve starts `netkit rpc serve` in B with Arith and a Slow.Sleep(ms) that answers after `ms`. */
async function serve(t: TestContext, lab: Lab): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nk-rpc-faults-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const slow = path.join(dir, 'slow.mjs');
  await writeFile(
    slow,
    'export const services = { Slow: { Sleep: (ms) => new Promise((r) => setTimeout(() => r(ms), ms)) } };\n',
  );
  const server = await lab.netkit(['rpc', 'serve', `${lab.b}:0`, '--service', slow, '-q']);
  return server.address;
}

function codeOf(err: unknown): string {
  return isNetkitError(err) ? err.code : String(err);
}

test('calls in flight when the link turns into a black hole reject at their deadline with NETKIT_TIMEOUT', async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const address = await serve(t, lab);
  const calls = rounds(50, 500);
  const deadline = 1000;
  const client = await dialRpc(address, { timeout: 2000 });
  t.after(() => client.close());
  assert.deepEqual(await client.call('Arith.Multiply', { A: 6, B: 7 }, { timeout: 2000 }), 42);

  // Each call is at the server, sleeping, when the black hole swallows its reply.
  const started = performance.now();
  const outcomes = Array.from({ length: calls }, () =>
    client.call('Slow.Sleep', 300, { timeout: deadline }).then(
      () => ({ code: 'ok', ms: performance.now() - started }),
      (err: unknown) => ({ code: codeOf(err), ms: performance.now() - started }),
    ),
  );
  await sleep(100);
  await lab.blackhole();
  let settled: { code: string; ms: number }[];
  try {
    settled = await Promise.all(outcomes);
  } finally {
    await lab.unblock();
  }
  for (const [i, o] of settled.entries()) {
    assert.equal(o.code, 'NETKIT_TIMEOUT', `#${i}: got ${o.code} want NETKIT_TIMEOUT`);
    assert.ok(o.ms >= deadline - 5, `#${i}: rejected after ${Math.round(o.ms)} ms, before its deadline`);
    assert.ok(
      o.ms <= deadline + SLACK,
      `#${i}: rejected after ${Math.round(o.ms)} ms (deadline ${deadline})`,
    );
  }
  assert.equal(client.pending, 0);
  // The black hole was short of any keep-alive or idle limit: the same connection carries on.
  assert.deepEqual(await client.call('Arith.Multiply', { A: 6, B: 7 }, { timeout: 5000 }), 42);
  const s = spread(settled.map((o) => o.ms - deadline));
  figure(t, 'rpc: calls in flight into a black hole', {
    calls,
    deadline_ms: deadline,
    timed_out: settled.length,
    late_min_ms: s.min,
    late_p50_ms: s.p50,
    late_max_ms: s.max,
    same_connection_after: true,
  });
});

test('an RPC pool through black holes: each call retried at most once after the heal, none fails twice', async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const address = await serve(t, lab);
  const workers = rounds(8, 32);
  const faults = rounds(2, 10);
  const callTimeout = 500;
  const pool = createRpcPool(address, {
    // Fewer clients than workers, and acquires that give up inside the black hole: callers fail in
    // every way a pool can fail them (call timeout, acquire timeout, a dial into the hole).
    max: 4,
    acquireTimeout: 1000,
    dial: { timeout: 1000 },
  });
  t.after(() => pool.drain());

  /** healed resolves when the current black hole is lifted; callers wait for it before their one retry. */
  let healed: Promise<void> = Promise.resolve();
  let partitioned = false;
  let stop = false;
  let total = 0;
  let failedDuring = 0;
  let failedAfter = 0;
  let failedTwice = 0;
  let wrong = 0;
  const recover: number[] = [];
  const firstCodes = new Map<string, number>();
  const attempt = async (n: number) => {
    const reply = await pool.use((c) => c.call('Arith.Multiply', { A: n, B: 3 }, { timeout: callTimeout }));
    if (reply !== n * 3) wrong++;
  };
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const n = w * 1_000_000 + i;
      total++;
      const during = partitioned;
      try {
        await attempt(n);
        continue;
      } catch (err) {
        const code = codeOf(err);
        firstCodes.set(code, (firstCodes.get(code) ?? 0) + 1);
        if (during || partitioned) failedDuring++;
        else failedAfter++;
      }
      await healed;
      const retried = performance.now();
      try {
        await attempt(n);
        recover.push(performance.now() - retried);
      } catch (err) {
        failedTwice++;
        t.diagnostic(`call ${n} failed twice: ${codeOf(err)}`);
      }
    }
  };
  const running = Array.from({ length: workers }, (_, w) => worker(w));
  for (let round = 1; round <= faults; round++) {
    await sleep(1000);
    let heal!: () => void;
    healed = new Promise((r) => {
      heal = r;
    });
    partitioned = true;
    await lab.blackhole();
    await sleep(1500);
    await lab.unblock();
    partitioned = false;
    heal();
  }
  await sleep(1000);
  stop = true;
  await Promise.race([
    Promise.all(running),
    sleep(10_000).then(() => {
      throw new Error('workers did not finish within 10 s of the last heal');
    }),
  ]);
  const stats = pool.stats();
  assert.equal(wrong, 0, 'a reply answered another call');
  assert.equal(failedTwice, 0, `${failedTwice} calls failed twice`);
  assert.ok(failedDuring > 0, 'no call failed during the black holes: the fault did not bite');
  const r = spread(recover);
  figure(t, 'rpc pool: black holes, one retry after the heal', {
    workers,
    faults,
    call_timeout_ms: callTimeout,
    calls: total,
    failed_first_during_fault: failedDuring,
    failed_first_after_heal: failedAfter,
    failed_twice: failedTwice,
    first_failure_codes: [...firstCodes].map(([c, k]) => `${c}×${k}`).join(' '),
    retry_min_ms: r.min,
    retry_p50_ms: r.p50,
    retry_max_ms: r.max,
    pool_size_after: stats.size,
  });
});
