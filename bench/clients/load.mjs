// The measuring loop shared by the Node.js load generators of the rpc
// benchmark (netkit-rpc-load.mjs, jayson-rpc-load.mjs). It mirrors
// bench/go/rpcload: the same flags, the same counting rule, the same JSON line.
//
//   -addr host:port   the server (required)
//   -codec name       passed to the client factory (gob, json, jsonrpc2)
//   -inflight N       N async loops, each awaiting one call at a time (default 1)
//   -duration D       measured duration: 5s, 1500ms, 1m (default 5s)
//   -warmup D         unmeasured warm-up before it (default 1s)
//
// Calls that start after the warm-up and finish within the measured window
// are counted and their latencies recorded. Every reply must be 56; a wrong
// reply or a failed call ends that loop and counts in "errors". It prints ONE
// JSON line:
//
//   {"codec":"gob","inflight":N,"calls":C,"seconds":S,"rate":R,"p50_us":..,"p99_us":..,
//    "errors":E,"client_cpu_us":X}
//
// client_cpu_us is this process's user+system CPU (process.cpuUsage) over the
// measured window divided by the measured calls. The exit status is 1 when
// errors > 0, 2 for bad flags. The run is bounded: no call starts after the
// window, and a watchdog 5 s past it counts every loop still waiting as an
// error, prints the line and exits 1.
import { performance } from 'node:perf_hooks';

/** WANT is Arith.Multiply({A: 7, B: 8}). */
export const WANT = 56;
export const ARGS = Object.freeze({ A: 7, B: 8 });

const MAX_SAMPLES = 2_000_000;
const WATCHDOG_MS = 5000;

function fail(name, message) {
  process.stderr.write(`${name}: ${message}\n`);
  process.exit(2);
}

/** parseDuration reads Go-style durations as the harness writes them ("3s", "1500ms", "1m"), in ms. */
function parseDuration(name, flag, text) {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text ?? '');
  if (!m) fail(name, `${flag}: cannot parse ${JSON.stringify(text)}; use e.g. 5s, 1500ms`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

/** parseFlags reads Go-style flags (-name value, --name value, -name=value). */
export function parseFlags(name, argv, codecs) {
  const raw = { addr: '', codec: codecs[0], inflight: '1', duration: '5s', warmup: '1s' };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--?([a-z]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m || !(m[1] in raw)) fail(name, `unknown argument ${JSON.stringify(argv[i])}`);
    const value = m[2] ?? argv[++i];
    if (value === undefined) fail(name, `-${m[1]} needs a value`);
    raw[m[1]] = value;
  }
  if (!raw.addr) fail(name, '-addr is required');
  if (!codecs.includes(raw.codec)) fail(name, `-codec must be one of ${codecs.join(', ')}`);
  const inflight = Number(raw.inflight);
  if (!Number.isInteger(inflight) || inflight < 1) fail(name, '-inflight must be an integer >= 1');
  const durationMs = parseDuration(name, '-duration', raw.duration);
  if (durationMs <= 0) fail(name, '-duration must be > 0');
  return {
    addr: raw.addr,
    codec: raw.codec,
    inflight,
    durationMs,
    warmupMs: parseDuration(name, '-warmup', raw.warmup),
  };
}

/** splitHostPort splits "host:port" or "[v6]:port". */
export function splitHostPort(addr) {
  const colon = addr.lastIndexOf(':');
  return { host: addr.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(addr.slice(colon + 1)) };
}

/** percentileUs is the nearest-rank percentile of sorted ms samples, in µs rounded to 10 ns. */
function percentileUs(sorted, p) {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1));
  return Math.round(sorted[i] * 1000 * 100) / 100;
}

/**
 * runLoad runs `flags.inflight` loops of `call()` (a function returning a
 * promise of the reply) and prints the JSON line. `close` is awaited (at
 * most 2 s) before exiting. It never returns: it exits the process.
 */
export async function runLoad(name, flags, call, close) {
  const { inflight, durationMs, warmupMs } = flags;
  const samples = new Float64Array(Math.min(MAX_SAMPLES, 1 << 20));
  let kept = 0;
  let seen = 0;
  let calls = 0;
  let errors = 0;
  let pending = inflight;
  const messages = [];
  let unreported = 0;

  const start = performance.now();
  const measureFrom = start + warmupMs;
  const end = measureFrom + durationMs;

  let buf = samples;
  const record = (ms) => {
    seen++;
    if (kept < MAX_SAMPLES) {
      if (kept === buf.length) {
        const bigger = new Float64Array(Math.min(MAX_SAMPLES, buf.length * 2));
        bigger.set(buf);
        buf = bigger;
      }
      buf[kept++] = ms;
      return;
    }
    const j = Math.floor(Math.random() * seen);
    if (j < MAX_SAMPLES) buf[j] = ms;
  };

  // finished is set once the result is being printed; later failures (the
  // close() that ends calls the watchdog gave up on) are not counted again.
  let finished = false;
  const noteError = (i, text) => {
    if (finished) return;
    errors++;
    if (messages.length < 5) messages.push(`caller ${i}: ${text}`);
    else unreported++;
  };

  const loop = async (i) => {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= end) return;
      let reply;
      try {
        reply = await call();
      } catch (err) {
        noteError(i, `Arith.Multiply: ${err?.code ? `${err.code}: ` : ''}${err?.message ?? err}`);
        return;
      }
      if (reply !== WANT) {
        noteError(i, `Arith.Multiply(7, 8) returned ${JSON.stringify(String(reply))}, want ${WANT}`);
        return;
      }
      const t1 = performance.now();
      // Only calls entirely inside the window count, so rate = calls / duration.
      if (t0 >= measureFrom && t1 <= end) {
        calls++;
        record(t1 - t0);
      }
    }
  };

  let cpu0 = null;
  let cpuUs = -1;
  const cpuStart = setTimeout(() => {
    cpu0 = process.cpuUsage();
  }, warmupMs);
  const cpuEnd = setTimeout(() => {
    if (cpu0) {
      const d = process.cpuUsage(cpu0);
      cpuUs = d.user + d.system;
    }
  }, warmupMs + durationMs);

  const finish = async (code) => {
    if (finished) return;
    finished = true;
    clearTimeout(cpuStart);
    const sorted = buf.subarray(0, kept).sort();
    const seconds = durationMs / 1000;
    const result = {
      codec: flags.codec,
      inflight,
      calls,
      seconds,
      rate: calls / seconds,
      p50_us: percentileUs(sorted, 0.5),
      p99_us: percentileUs(sorted, 0.99),
      errors,
      client_cpu_us: cpuUs >= 0 && calls > 0 ? Math.round((cpuUs / calls) * 100) / 100 : -1,
    };
    for (const m of messages) process.stderr.write(`${name}: ${m}\n`);
    if (unreported > 0) process.stderr.write(`${name}: … ${unreported} more\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    await Promise.race([
      Promise.resolve(close()).catch(() => {}),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]);
    process.exit(code || (errors > 0 ? 1 : 0));
  };

  const watchdog = setTimeout(
    () => {
      clearTimeout(cpuEnd);
      errors += pending;
      messages.push(`${pending} call(s) still pending ${WATCHDOG_MS / 1000} s after the window; gave up`);
      void finish(1);
    },
    warmupMs + durationMs + WATCHDOG_MS,
  );

  await Promise.all(
    Array.from({ length: inflight }, (_, i) =>
      loop(i).finally(() => {
        pending--;
      }),
    ),
  );
  // The window's CPU sample is taken by its own timer at the window's end.
  const left = end - performance.now();
  if (left > 0 && errors === 0) await new Promise((resolve) => setTimeout(resolve, left + 1));
  clearTimeout(cpuEnd);
  if (cpu0 && cpuUs < 0) {
    const d = process.cpuUsage(cpu0);
    cpuUs = d.user + d.system;
  }
  clearTimeout(watchdog);
  await finish(0);
}
