/**
 * One request-loop measurement of the pool benchmark: `loops` async loops
 * each send "ping\n" and read the reply line, one request at a time, against
 * a line server that answers "pong". A fresh process per measurement, plain
 * JavaScript importing the build (dist/), as bench/pool/cycles.mjs.
 *
 *   node bench/pool/requests.mjs <subject> <address> <loops> <max> <warmupSec> <durationSec> <cap>
 *
 *   netkit        LineClient(address, { pool: { max } }).request('ping')
 *   generic-pool  createPool({ create: dial, destroy }, { max }); acquire, write, readLine, release
 *   dial          a new connection per request: dial, write, readLine, close
 *
 * Requests that start after the warm-up and finish within the measured
 * window count; the window also ends once `cap` requests have counted (the
 * dial-per-request row leaves a TIME_WAIT socket per request). Every reply,
 * warm-up included, must be "pong"; a failed request ends its loop. Prints
 * one JSON line {"requests","seconds","rate","p50_us","p99_us","cpu_us",
 * "conns","replies","wrong","errors"}; exit status 1 when anything was wrong.
 * Bounded: no request starts after the window, and a watchdog 5 s past it
 * reports the loops still waiting as errors.
 */
import { performance } from 'node:perf_hooks';
import { createPool } from 'generic-pool';
import { LineClient } from '../../dist/pool/index.js';
import { dial } from '../../dist/tcp/index.js';

const WATCHDOG_MS = 5000;
const MAX_SAMPLES = 2_000_000;

/** Each subject is a `send()` returning the reply line, `conns()` opened so far, and `close()`. */
function netkitSubject(address, max) {
  const client = new LineClient(address, { pool: { max } });
  return {
    send: () => client.request('ping'),
    conns: () => client.pool.stats().created,
    close: () => client.close(),
  };
}

function genericPoolSubject(address, max) {
  let conns = 0;
  const pool = createPool(
    {
      create: async () => {
        const c = await dial(address);
        conns++;
        return c;
      },
      destroy: async (c) => c.destroy(),
    },
    { max },
  );
  return {
    // What a generic-pool user writes: a connection in an unknown state is destroyed, not reused.
    send: async () => {
      const c = await pool.acquire();
      let ok = false;
      try {
        await c.write('ping\n');
        const reply = await c.readLine();
        ok = true;
        return reply;
      } finally {
        if (ok) void pool.release(c);
        else void pool.destroy(c);
      }
    },
    conns: () => conns,
    close: async () => {
      await pool.drain();
      await pool.clear();
    },
  };
}

function dialSubject(address) {
  let conns = 0;
  return {
    send: async () => {
      const c = await dial(address);
      conns++;
      try {
        await c.write('ping\n');
        return await c.readLine();
      } finally {
        await c.close();
      }
    },
    conns: () => conns,
    close: async () => {},
  };
}

const SUBJECTS = { netkit: netkitSubject, 'generic-pool': genericPoolSubject, dial: dialSubject };

function percentile(sorted, p) {
  return sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function main(argv) {
  const [name, address, loopsArg, maxArg, warmupArg, durationArg, capArg] = argv;
  const loops = Number(loopsArg);
  const max = Number(maxArg);
  const warmupMs = Number(warmupArg) * 1000;
  const durationMs = Number(durationArg) * 1000;
  const cap = Number(capArg);
  const make = SUBJECTS[name];
  if (!make || !address || !(loops >= 1 && max >= 1 && warmupMs >= 0 && durationMs > 0 && cap >= 1)) {
    throw new Error(
      'usage: requests.mjs <netkit|generic-pool|dial> <address> <loops> <max> <warmupSec> <durationSec> <cap>',
    );
  }
  const s = make(address, max);
  const st = {
    start: performance.now() + warmupMs,
    end: 0,
    stop: false,
    counted: 0,
    /** active counts loops that have not returned (the watchdog reports them). */
    active: 0,
    replies: 0,
    wrong: 0,
    firstWrong: undefined,
    errors: 0,
    firstError: undefined,
    cpu0: undefined,
    cpu1: undefined,
  };
  st.end = st.start + durationMs;
  const lat = new Float64Array(MAX_SAMPLES);
  // CPU is read at the window's edges: a timer at its start, the loop that closes it at its end.
  const cpuTimer = setTimeout(() => {
    st.cpu0 = process.cpuUsage();
  }, warmupMs);
  const finish = (now) => {
    if (st.stop) return;
    st.stop = true;
    st.end = Math.min(st.end, now);
    st.cpu1 = process.cpuUsage();
  };

  const loop = async () => {
    st.active++;
    try {
      await requests();
    } finally {
      st.active--;
    }
  };
  const requests = async () => {
    while (!st.stop) {
      const t0 = performance.now();
      let reply;
      try {
        reply = await s.send();
      } catch (err) {
        st.errors++;
        st.firstError ??= err instanceof Error ? `${err.code ?? err.name}: ${err.message}` : String(err);
        return;
      }
      const t1 = performance.now();
      st.replies++;
      if (reply !== 'pong') {
        st.wrong++;
        st.firstWrong ??= reply;
      }
      if (t0 >= st.start && t1 <= st.end && !st.stop) {
        if (st.counted < MAX_SAMPLES) lat[st.counted] = t1 - t0;
        if (++st.counted >= cap) finish(t1);
      }
      if (t1 >= st.end) finish(st.end);
    }
  };

  let watchdog;
  const stuck = new Promise((resolve) => {
    watchdog = setTimeout(() => resolve('stuck'), warmupMs + durationMs + WATCHDOG_MS);
  });
  const all = Promise.all(Array.from({ length: loops }, loop));
  const outcome = await Promise.race([all, stuck]);
  clearTimeout(watchdog);
  clearTimeout(cpuTimer);
  if (outcome === 'stuck') {
    // Every loop that has not returned is waiting on a reply that never came.
    st.errors += st.active;
    st.firstError ??= `${st.active} requests still waiting ${WATCHDOG_MS} ms after the window`;
  } else {
    await s.close();
  }

  const n = Math.min(st.counted, MAX_SAMPLES);
  const sorted = lat.subarray(0, n).sort();
  const seconds = (st.end - st.start) / 1000;
  const cpu =
    st.cpu0 && st.cpu1 && st.counted > 0
      ? (st.cpu1.user + st.cpu1.system - st.cpu0.user - st.cpu0.system) / st.counted
      : undefined;
  return {
    requests: st.counted,
    seconds,
    rate: seconds > 0 ? st.counted / seconds : 0,
    p50_us: percentile(sorted, 0.5) * 1000,
    p99_us: percentile(sorted, 0.99) * 1000,
    ...(cpu === undefined ? {} : { cpu_us: cpu }),
    conns: s.conns(),
    replies: st.replies,
    wrong: st.wrong,
    errors: st.errors,
    ...(st.firstWrong === undefined ? {} : { first_wrong: st.firstWrong }),
    ...(st.firstError === undefined ? {} : { first_error: st.firstError }),
  };
}

main(process.argv.slice(2)).then(
  (r) => {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    process.exit(r.wrong > 0 || r.errors > 0 || r.requests === 0 ? 1 : 0);
  },
  (err) => {
    process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exit(1);
  },
);
