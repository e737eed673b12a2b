/**
 * --workers placement: how connections reach workers (the kernel's
 * distribution by default, node:cluster's round-robin on request) and the
 * warning for more workers than CPUs.
 */
import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import net from 'node:net';
import { availableParallelism } from 'node:os';
import { describe, it, type TestContext } from 'node:test';
import { coresNote, SCHED_ENV, schedulingPolicy } from '../../src/cli/workers.js';
import { type Proc, spawnNetkit } from '../helpers/cli.js';
import { events } from '../helpers/serve-drivers.js';

describe('schedulingPolicy', () => {
  const cases: [string | undefined, number][] = [
    [undefined, cluster.SCHED_NONE],
    ['none', cluster.SCHED_NONE],
    ['rr', cluster.SCHED_RR],
    // Node ignores values it does not know; netkit keeps its own default then.
    ['fair', cluster.SCHED_NONE],
  ];
  for (const [i, [value, want]] of cases.entries()) {
    it(`#${i}: ${SCHED_ENV}=${value ?? '(unset)'}`, () => {
      assert.equal(schedulingPolicy(value === undefined ? {} : { [SCHED_ENV]: value }), want);
    });
  }
});

describe('coresNote', () => {
  const cases: [count: number, cpus: number, warns: boolean][] = [
    [1, 1, false],
    [2, 2, false],
    [2, 16, false],
    [3, 2, true],
    [2, 1, true],
  ];
  for (const [i, [count, cpus, warns]] of cases.entries()) {
    it(`#${i}: ${count} workers on ${cpus} CPUs ${warns ? 'warns' : 'does not warn'}`, () => {
      assert.equal(coresNote(count, cpus) !== undefined, warns);
    });
  }
});

/** start runs tcp serve --echo with --json and waits for its listening event. */
async function start(t: TestContext, workers: number, env: NodeJS.ProcessEnv = process.env) {
  const p = spawnNetkit(
    ['tcp', 'serve', '127.0.0.1:0', '--echo', '--workers', String(workers), '--json'],
    env,
  );
  t.after(() => p.kill('SIGKILL'));
  await p.waitFor(/"event":"listening"/, 20_000);
  return { p, address: events(p.stdout()).find((e) => e.event === 'listening')!.address as string };
}

/** exchange makes one short connection: a line there and back, then FIN. */
function exchange(address: string): Promise<void> {
  const colon = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(address.slice(colon + 1)), address.slice(0, colon), () => s.write('x\n'));
    s.once('data', () => s.end());
    s.once('close', () => resolve());
    s.once('error', reject);
  });
}

/** opensBy counts `open` events per worker. */
function opensBy(p: Proc): Map<number, number> {
  const by = new Map<number, number>();
  for (const e of events(p.stdout()).filter((e) => e.event === 'open')) {
    by.set(e.worker as number, (by.get(e.worker as number) ?? 0) + 1);
  }
  return by;
}

describe('tcp serve --workers', () => {
  for (const policy of [undefined, 'rr'] as const) {
    it(`spreads short connections over both workers (${policy ?? 'kernel, the default'})`, async (t) => {
      const env = policy === undefined ? process.env : { ...process.env, [SCHED_ENV]: policy };
      const { p, address } = await start(t, 2, env);
      // The kernel's pick is not a strict alternation: keep connecting until both have served.
      for (let i = 1; i <= 64 && opensBy(p).size < 2; i++) {
        await exchange(address);
        await p.waitFor(new RegExp(`("event":"open".*){${i}}`, 's'));
      }
      assert.deepEqual([...opensBy(p).keys()].sort(), [1, 2], 'both workers served');
      assert.equal((await p.kill('SIGTERM')).code, 0);
    });
  }

  it('warns after the listening line when --workers exceeds the CPUs', async (t) => {
    const cpus = availableParallelism();
    const { p } = await start(t, cpus + 1);
    await p.waitFor(/"event":"warning"/, 10_000);
    const all = events(p.stdout());
    assert.equal(all[0]!.event, 'listening', 'the listening line comes first');
    const warning = all.find((e) => e.event === 'warning')!;
    assert.equal(warning.workers, cpus + 1);
    assert.equal(warning.cpus, cpus);
    assert.equal((await p.kill('SIGTERM')).code, 0);
  });

  it('does not warn at one worker per CPU', async (t) => {
    const { p, address } = await start(t, Math.min(2, availableParallelism()));
    await exchange(address);
    await p.waitFor(/"event":"open"/);
    assert.equal((await p.kill('SIGTERM')).code, 0);
    assert.equal(
      events(p.stdout()).some((e) => e.event === 'warning'),
      false,
    );
  });
});
