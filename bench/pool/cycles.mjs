/**
 * One acquire/release measurement of the pool benchmark, in a fresh process
 * so neither pool runs with JIT state (inline caches, promise paths) left by
 * the other. Plain JavaScript importing the build (dist/), so netkit runs as
 * a user gets it, without the helpers a TypeScript loader wraps functions in:
 *
 *   node bench/pool/cycles.mjs <netkit|generic-pool> <workers> <max> <warmupSec> <durationSec>
 *
 * `workers` async loops each repeat `r = await acquire(); release(r)` on a
 * pool of at most `max` plain objects: first for the warm-up, then for the
 * measured window. Prints one JSON line
 * {"cycles":N,"seconds":S,"rate":R,"cpu_ns":P,"created":C} or {"error":"..."}
 * (exit 1), where cpu_ns is the process's user+system CPU per measured cycle.
 *
 * Checks, so a pool that breaks its promises is an error, not a number: no
 * more than `max` resources are ever created, every acquire yields one of
 * them, nothing is left borrowed or waiting at the end, and netkit's stats
 * count exactly the cycles run.
 */
import { performance } from 'node:perf_hooks';
import { createPool } from 'generic-pool';
import { Pool } from '../../dist/pool/index.js';

/**
 * A subject is what both pools are asked to do — acquire, release — plus
 * `check(cycles)`, which returns what is wrong with the pool's own
 * accounting after that many cycles, or null.
 */
function netkitSubject(max) {
  let created = 0;
  const pool = new Pool({ max, create: async () => ({ id: created++ }) });
  return {
    acquire: () => pool.acquire(),
    release: (r) => pool.release(r),
    created: () => created,
    check: (cycles) => {
      const s = pool.stats();
      if (s.acquires !== cycles) return `netkit stats count ${s.acquires} acquires, ${cycles} were run`;
      if (s.borrowed !== 0 || s.pending !== 0) return `left ${s.borrowed} borrowed, ${s.pending} pending`;
      return null;
    },
    close: () => pool.drain(),
  };
}

function genericPoolSubject(max) {
  let created = 0;
  const pool = createPool({ create: async () => ({ id: created++ }), destroy: async () => {} }, { max });
  return {
    acquire: () => pool.acquire(),
    // release() returns a promise that settles at once; a user does not wait for it either.
    release: (r) => void pool.release(r),
    created: () => created,
    check: () =>
      pool.borrowed !== 0 || pool.pending !== 0
        ? `left ${pool.borrowed} borrowed, ${pool.pending} pending`
        : null,
    close: async () => {
      await pool.drain();
      await pool.clear();
    },
  };
}

/**
 * worker runs cycles until the phase ends. The clock is read every 256
 * cycles: netkit's idle fast path resolves without ever yielding to the
 * event loop, so a timer could not end the phase, and reading the clock on
 * every cycle would cost a good part of a cycle.
 */
async function worker(s, p) {
  while (!p.stop) {
    const r = await s.acquire();
    // A resource the pool never created means it handed out something else.
    if (!(r.id >= 0 && r.id < s.created())) p.foreign++;
    s.release(r);
    if ((++p.cycles & 255) === 0 && performance.now() >= p.end) p.stop = true;
  }
}

async function phase(s, workers, seconds) {
  const p = { end: performance.now() + seconds * 1000, stop: false, cycles: 0, foreign: 0 };
  await Promise.all(Array.from({ length: workers }, () => worker(s, p)));
  return p;
}

async function main(argv) {
  const [name, workersArg, maxArg, warmupArg, durationArg] = argv;
  const workers = Number(workersArg);
  const max = Number(maxArg);
  const warmupSec = Number(warmupArg);
  const durationSec = Number(durationArg);
  if (!(workers >= 1 && max >= 1 && warmupSec >= 0 && durationSec > 0)) throw new Error('bad arguments');
  const s = name === 'netkit' ? netkitSubject(max) : name === 'generic-pool' ? genericPoolSubject(max) : null;
  if (!s) throw new Error(`unknown subject ${name}`);

  const warm = await phase(s, workers, warmupSec);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const run = await phase(s, workers, durationSec);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);

  const foreign = warm.foreign + run.foreign;
  if (foreign > 0) throw new Error(`${foreign} acquires yielded something the pool did not create`);
  if (s.created() > max) throw new Error(`${s.created()} resources created with max ${max}`);
  const wrong = s.check(warm.cycles + run.cycles);
  if (wrong) throw new Error(wrong);
  await s.close();
  return {
    cycles: run.cycles,
    seconds,
    rate: run.cycles / seconds,
    cpu_ns: ((cpu.user + cpu.system) * 1000) / run.cycles,
    created: s.created(),
  };
}

main(process.argv.slice(2)).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
  },
  (err) => {
    process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exitCode = 1;
  },
);
