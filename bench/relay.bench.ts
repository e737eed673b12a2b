/**
 * relay: a TCP relay between a client and one backend, against socat and
 * HAProxy, all three relaying to the same backend process.
 *
 * Cases:
 *   bulk 1 GiB       bench/go/bulk -send writes 1 GiB through the relay into
 *                    bench/go/bulk -sink (which discards and counts), half-
 *                    closes, and times until the sink's count comes back;
 *                    each relay first moves 128 MiB unmeasured (warm-up).
 *   ping-pong × 32   bench/go/loadgen, 64-byte lines, 32 connections, one
 *                    line in flight per connection, through the relay into
 *                    bench/go/echoserver.
 * Subjects (each started fresh for each case and stopped with SIGTERM):
 *   netkit relay  node dist/cli/main.js relay 127.0.0.1:0 BACKEND --json -q
 *   socat         socat TCP-LISTEN:P,fork,reuseaddr TCP:BACKEND (a process per connection)
 *   HAProxy       haproxy -db -f CFG, `mode tcp`, one `listen` section, defaults otherwise (threads: one per CPU; no splice)
 *   direct        no relay: the client dials the backend; the floor for latency
 * socat and HAProxy announce no address, so bench/go/portwait starts them and
 * prints the listening line once their port accepts.
 *
 * Relay CPU is user+system time of the relay's process group from /proc,
 * children that already exited included (socat's per-connection processes
 * end with their connection), sampled around the measured part only. Rounds
 * interleave the subjects (order reversed on odd rounds); each row is the
 * median round, and the added latency is the median over rounds of (relay −
 * direct) in the same round.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from './lib/args.js';
import { lastJsonLine } from './lib/json-line.js';
import { parseLoadgen, prepare } from './lib/pingpong.js';
import { runCommand, type Server, startServer } from './lib/proc.js';
import { type ServerDef, serverDied, withServer } from './lib/server-run.js';
import type { BenchContext, Benchmark, Row } from './lib/types.js';

const GIB = 1 << 30;
const BULK_BYTES = GIB;
const WARM_BYTES = 128 << 20;
const CONNS = 32;
const SIZE = 64;
const WARMUP_SEC = 1;

const NETKIT = 'netkit relay';
const SOCAT = 'socat';
const HAPROXY = 'HAProxy';
const DIRECT = 'direct (no relay)';
const SUBJECTS = [NETKIT, SOCAT, HAPROXY, DIRECT] as const;
type Subject = (typeof SUBJECTS)[number];

const BULK = `bulk ${BULK_BYTES / GIB} GiB`;
const PINGPONG = `ping-pong × ${CONNS}`;
const CASES = [BULK, PINGPONG] as const;
type Case = (typeof CASES)[number];

/** BulkResult is the JSON line of bulk -send. */
interface BulkResult {
  bytes: number;
  seconds: number;
  mb_s: number;
}

/**
 * groupCpuTotalMs is the user+system CPU of every process in a group plus
 * what its members collected from children they reaped (cutime, cstime):
 * without the latter, a socat connection process that exits before the
 * second sample would take its CPU with it.
 */
function groupCpuTotalMs(pgid: number): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after "(comm)": state ppid pgrp … utime stime cutime cstime are 14–17.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    } catch {
      // the process exited while we looked
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** freePort asks the kernel for a free loopback port; socat and HAProxy need one named up front. */
async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** hasTool reports whether `command` runs at all (ENOENT means not installed). */
async function hasTool(ctx: BenchContext, command: string, args: string[]): Promise<boolean> {
  try {
    await runCommand(command, args, { cwd: ctx.root, timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

interface Tools {
  cli: string;
  loadgen: string;
  bulk: string;
  portwait: string;
  tmp: string;
}

/** relayDef returns how to start `subject` relaying to `backend`, with a fresh port for the anchors. */
async function relayDef(tools: Tools, subject: Subject, backend: string): Promise<ServerDef> {
  if (subject === NETKIT) {
    return {
      subject,
      command: process.execPath,
      args: [tools.cli, 'relay', '127.0.0.1:0', backend, '--json', '-q'],
    };
  }
  const port = await freePort();
  const listen = `127.0.0.1:${port}`;
  if (subject === SOCAT) {
    return {
      subject,
      command: tools.portwait,
      args: [
        '-addr',
        listen,
        '--',
        'socat',
        `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`,
        `TCP:${backend}`,
      ],
    };
  }
  const cfg = path.join(tools.tmp, `haproxy-${port}.cfg`);
  await writeFile(
    cfg,
    [
      'global',
      '  maxconn 4096',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'listen relay',
      `  bind ${listen}`,
      `  server backend ${backend}`,
      '',
    ].join('\n'),
  );
  return { subject, command: tools.portwait, args: ['-addr', listen, '--', 'haproxy', '-db', '-f', cfg] };
}

/** sendBulk runs one timed transfer of `bytes` to `addr`, or returns an error message. */
async function sendBulk(
  ctx: BenchContext,
  tools: Tools,
  addr: string,
  bytes: number,
): Promise<BulkResult | string> {
  const r = await runCommand(tools.bulk, ['-send', '-addr', addr, '-bytes', String(bytes)], {
    cwd: ctx.root,
    timeoutMs: 150_000,
  });
  const res = lastJsonLine<BulkResult>(r.stdout, ['bytes', 'seconds', 'mb_s']);
  if (r.timedOut) return 'bulk -send did not finish in time and was killed';
  if (r.code !== 0 || !res)
    return `bulk -send failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr || 'no output'}`;
  return res;
}

/** measureBulk moves the warm-up and then 1 GiB through `addr`, sampling the relay's CPU around the latter. */
async function measureBulk(ctx: BenchContext, tools: Tools, addr: string, srv: Server | undefined, row: Row) {
  const warm = await sendBulk(ctx, tools, addr, WARM_BYTES);
  if (typeof warm === 'string') {
    row.error = `warm-up: ${warm}`;
    return;
  }
  const cpu0 = srv ? groupCpuTotalMs(srv.pid) : undefined;
  const res = await sendBulk(ctx, tools, addr, BULK_BYTES);
  // Let a per-connection process finish exiting so its CPU is in the second sample.
  await sleep(100);
  const cpu1 = srv ? groupCpuTotalMs(srv.pid) : undefined;
  const died = srv ? serverDied(srv) : undefined;
  if (typeof res === 'string') row.error = res;
  else if (died) row.error = died;
  else {
    row.metrics = { mb_s: res.mb_s, throughput: res.mb_s };
    if (cpu0 !== undefined && cpu1 !== undefined) {
      const perGib = (cpu1 - cpu0) / 1000 / (BULK_BYTES / GIB);
      row.metrics.cpu_s_gib = perGib;
      row.metrics.relay_cpu = perGib;
    }
    row.detail = { bulk: res, ...(srv ? { relay: srv.firstLine } : {}) };
  }
}

/** measurePingPong runs loadgen through `addr`, sampling the relay's CPU from the end of the warm-up. */
async function measurePingPong(
  ctx: BenchContext,
  tools: Tools,
  addr: string,
  srv: Server | undefined,
  row: Row,
) {
  const running = runCommand(
    tools.loadgen,
    [
      '-addr',
      addr,
      '-conns',
      String(CONNS),
      '-duration',
      formatDuration(ctx.durationSec),
      '-warmup',
      `${WARMUP_SEC}s`,
      '-size',
      String(SIZE),
    ],
    // loadgen bounds itself; this is the backstop.
    { cwd: ctx.root, timeoutMs: (WARMUP_SEC + ctx.durationSec + 20) * 1000 },
  );
  await sleep(WARMUP_SEC * 1000);
  const cpu0 = srv ? groupCpuTotalMs(srv.pid) : undefined;
  const r = await running;
  // loadgen's exit closes the connections, which ends socat's per-connection processes.
  await sleep(100);
  const cpu1 = srv ? groupCpuTotalMs(srv.pid) : undefined;
  const res = parseLoadgen(r.stdout, []);
  const died = srv ? serverDied(srv) : undefined;
  if (r.timedOut) row.error = 'loadgen did not finish in time and was killed';
  else if (died) row.error = died;
  else if (r.code !== 0 || !res) {
    row.error = `loadgen failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr || r.stdout || 'no output'}`;
  } else {
    row.metrics = { rate: res.rate, throughput: res.rate, p50_us: res.p50_us, p99_us: res.p99_us };
    if (cpu0 !== undefined && cpu1 !== undefined && res.roundtrips > 0) {
      const us = ((cpu1 - cpu0) * 1000) / res.roundtrips;
      row.metrics.cpu_us = us;
      row.metrics.relay_cpu = us;
      if (us > 0) row.metrics.rt_per_cpu_s = 1e6 / us;
    }
    row.detail = { loadgen: res, ...(srv ? { relay: srv.firstLine } : {}) };
  }
}

/** measure runs one case for one subject: through a fresh relay, or straight to the backend. */
async function measure(
  ctx: BenchContext,
  tools: Tools,
  backends: Record<Case, string>,
  subject: Subject,
  c: Case,
): Promise<Row> {
  const row: Row = {
    subject,
    case: c,
    metrics: {},
    params: c === BULK ? { bytes: BULK_BYTES } : { conns: CONNS, size: SIZE },
  };
  ctx.log(`${subject}, ${c}`);
  const run = c === BULK ? measureBulk : measurePingPong;
  if (subject === DIRECT) {
    await run(ctx, tools, backends[c], undefined, row);
    return row;
  }
  const def = await relayDef(tools, subject, backends[c]);
  return withServer(ctx, def, row, (srv) => run(ctx, tools, srv.address, srv, row));
}

/** medianOf is the middle value (the lower middle for an even count). */
function medianOf(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)];
}

/**
 * summarize keeps the round with the median throughput for one subject and
 * case, adds the spread and (for relays) the median added latency over the
 * rounds, and turns failed rounds into warnings.
 */
function summarize(runs: readonly Row[], direct: readonly Row[] | undefined, rounds: number): Row {
  const ok = runs.filter((r) => !r.error);
  if (ok.length === 0) return runs[0]!;
  const sorted = [...ok].sort((a, b) => a.metrics.throughput! - b.metrics.throughput!);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const out: Row = { ...mid, metrics: { ...mid.metrics } };
  if (direct && mid.metrics.p50_us !== undefined) {
    for (const q of ['p50', 'p99'] as const) {
      const added = runs.flatMap((r, i) => {
        const d = direct[i];
        const a = r.metrics[`${q}_us`];
        const b = d?.metrics[`${q}_us`];
        return r.error || d?.error || a === undefined || b === undefined ? [] : [a - b];
      });
      const m = medianOf(added);
      if (m !== undefined) out.metrics[`added_${q}_us`] = m;
    }
  }
  if (rounds > 1) {
    const lo = sorted[0]!.metrics.throughput!;
    const hi = sorted[sorted.length - 1]!.metrics.throughput!;
    out.metrics.spread_pct = ((hi - lo) / mid.metrics.throughput!) * 100;
    out.detail = { ...mid.detail, round_throughput: runs.map((r) => r.metrics.throughput ?? null) };
    const warnings = [
      ...new Set(
        runs.flatMap((r, i) => [
          ...(r.warnings ?? []),
          ...(r.error ? [`round ${i + 1} failed: ${r.error}`] : []),
        ]),
      ),
    ];
    if (warnings.length > 0) out.warnings = warnings;
  }
  return out;
}

const relay: Benchmark = {
  name: 'relay',
  description: `TCP relay: ${BULK_BYTES / GIB} GiB bulk and 64-byte ping-pong × ${CONNS} (netkit relay, socat, HAProxy, direct)`,
  table: (ctx) => ({
    title:
      `relay: ${BULK_BYTES / GIB} GiB bulk into a sink, ${SIZE}-byte line ping-pong × ${CONNS} into an echo server ` +
      `(loadgen ${formatDuration(ctx.durationSec)}, ${WARMUP_SEC}s warm-up${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''})`,
    subjectHeader: 'relay',
    caseHeader: 'case',
    metrics: [
      { key: 'mb_s', header: 'MB/s' },
      { key: 'cpu_s_gib', header: 'CPU s/GiB', decimals: 2 },
      { key: 'rate', header: 'round trips/s' },
      { key: 'p50_us', header: 'p50 µs', decimals: 1 },
      { key: 'p99_us', header: 'p99 µs', decimals: 1 },
      { key: 'added_p50_us', header: '+p50 µs', decimals: 1 },
      { key: 'added_p99_us', header: '+p99 µs', decimals: 1 },
      { key: 'cpu_us', header: 'CPU µs/rt', decimals: 2 },
      ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
    ],
    ratios: [
      { header: 'vs socat', metric: 'throughput', baseline: SOCAT },
      { header: 'vs HAProxy', metric: 'throughput', baseline: HAPROXY },
      { header: 'CPU vs socat', metric: 'relay_cpu', baseline: SOCAT },
      { header: 'CPU vs HAProxy', metric: 'relay_cpu', baseline: HAPROXY },
    ],
    targets: [
      {
        subject: NETKIT,
        baseline: SOCAT,
        metric: 'mb_s',
        min: 1.0,
        short: 'MB/s ≥ 1.00× socat',
        cases: [BULK],
      },
      {
        subject: NETKIT,
        baseline: SOCAT,
        metric: 'rt_per_cpu_s',
        min: 1.0,
        short: 'CPU/rt ≤ socat',
        cases: [PINGPONG],
      },
    ],
    notes: [
      `${BULK}: MB/s (10^6 bytes/s) from the source's dial to the sink's byte count arriving back, after a`,
      `${WARM_BYTES >> 20} MiB warm-up through the same relay; CPU s/GiB is the relay's user+system CPU (all its`,
      `processes) per GiB moved. ${PINGPONG}: loadgen's round trips of ${SIZE}-byte lines, one in flight per connection;`,
      '+p50/+p99 are the relay latency minus the direct latency of the same round (median over rounds), and',
      'CPU µs/rt is relay CPU per round trip (one request and one reply through the relay). The ratio columns',
      "compare MB/s or round trips/s, and relay CPU (lower is better), with the same case's anchor row.",
      'Relays run one at a time; the source, sink, loadgen and relay share the machine. socat forks a process',
      'per connection; HAProxy runs with its default thread count (one per CPU) and without splice (no option splice-*).',
      ...(ctx.rounds > 1
        ? [
            "spread % is (max − min) / median of the rounds' throughput; other columns are from the median round.",
          ]
        : ['One run per cell; use --rounds 3 for medians.']),
    ],
  }),
  async run(ctx) {
    const { cli, bins } = await prepare(ctx, ['loadgen', 'echoserver', 'bulk', 'portwait']);
    const missing = new Map<Subject, string>();
    if (!(await hasTool(ctx, 'socat', ['-V']))) missing.set(SOCAT, 'socat is not installed (Debian socat)');
    if (!(await hasTool(ctx, 'haproxy', ['-v'])))
      missing.set(HAPROXY, 'haproxy is not installed (Debian haproxy)');

    const tmp = await mkdtemp(path.join(os.tmpdir(), 'netkit-bench-relay-'));
    const tools: Tools = { cli, loadgen: bins.loadgen!, bulk: bins.bulk!, portwait: bins.portwait!, tmp };
    const started: Server[] = [];
    try {
      // One backend of each kind for the whole run, so every relay talks to the same process.
      const sink = await startServer({
        name: 'bulk sink',
        command: tools.bulk,
        args: ['-sink', '-addr', '127.0.0.1:0'],
        cwd: ctx.root,
      });
      started.push(sink);
      const echo = await startServer({
        name: 'echo backend',
        command: bins.echoserver!,
        args: ['-addr', '127.0.0.1:0'],
        cwd: ctx.root,
      });
      started.push(echo);
      const backends: Record<Case, string> = { [BULK]: sink.address, [PINGPONG]: echo.address };

      const subjects = SUBJECTS.filter((s) => !missing.has(s));
      const runs = new Map<string, Row[]>();
      for (let round = 0; round < ctx.rounds; round++) {
        if (ctx.rounds > 1) ctx.log(`round ${round + 1} of ${ctx.rounds}`);
        for (const c of CASES) {
          const order = round % 2 === 0 ? subjects : [...subjects].reverse();
          for (const s of order) {
            if (ctx.signal.aborted) throw new Error('interrupted');
            const key = `${s}|${c}`;
            runs.set(key, [...(runs.get(key) ?? []), await measure(ctx, tools, backends, s, c)]);
            await sleep(250);
          }
        }
      }
      const rows: Row[] = [];
      for (const c of CASES) {
        for (const s of SUBJECTS) {
          const why = missing.get(s);
          if (why) {
            rows.push({ subject: s, case: c, metrics: {}, skipped: why });
            continue;
          }
          const direct = s === DIRECT ? undefined : runs.get(`${DIRECT}|${c}`);
          rows.push(summarize(runs.get(`${s}|${c}`)!, direct, ctx.rounds));
        }
      }
      return rows;
    } finally {
      for (const srv of started) await srv.stop();
      await rm(tmp, { recursive: true, force: true });
    }
  },
};

export default relay;
