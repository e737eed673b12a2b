/**
 * pool: what netkit's pool costs and what pooling buys.
 *
 * Cases, each measurement in a fresh process so no subject inherits JIT
 * state from another:
 *   cycles: 1 worker, cycles: 64 workers   (bench/pool/cycles.mjs, in process, no sockets)
 *     `r = await acquire(); release(r)` in a loop, resources are plain objects, max 10
 *     netkit Pool           new Pool({ create, max: 10 })
 *     generic-pool          createPool({ create, destroy }, { max: 10 })
 *   tcp: 32 loops          (bench/pool/requests.mjs against `netkit tcp serve --reply pong`)
 *     32 request loops, each writes "ping\n" and reads the "pong" line
 *     netkit LineClient     new LineClient(addr, { pool: { max: 4 } }).request('ping')
 *     generic-pool + Conn   generic-pool (max 4) of netkit Conns: acquire, write, readLine, release
 *     dial per request      dial, write, readLine, close: a new connection per request
 *
 * Rounds are interleaved (every subject once per round, the order within a
 * case reversed on odd rounds) and the median round is kept.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from './lib/args.js';
import { lastJsonLine } from './lib/json-line.js';
import { median } from './lib/pingpong.js';
import { runCommand } from './lib/proc.js';
import { type ServerDef, serverDied, withServer } from './lib/server-run.js';
import { type BenchContext, type Benchmark, type Row, SkipBenchmark } from './lib/types.js';

const CYCLE_MAX = 10;
const CYCLE_WORKERS = [1, 64] as const;
const CYCLE_WARMUP_SEC = 0.5;
const TCP_LOOPS = 32;
const TCP_MAX = 4;
const TCP_WARMUP_SEC = 1;
/** The dial-per-request row leaves a TIME_WAIT socket per request, so it runs at most this long or this many requests. */
const DIAL_MAX_SEC = 2;
const DIAL_CAP = 20_000;
const DIAL_WARMUP_SEC = 0.25;
/** SEVERAL is the issue's "several times faster", as a number. */
const SEVERAL = 3;
const POOLED_VS_DIAL = 5;

const NK_POOL = 'netkit Pool';
const GP = 'generic-pool';
const NK_LINE = 'netkit LineClient';
const GP_CONN = 'generic-pool + Conn';
const DIAL = 'dial per request';

const cycleCase = (workers: number) => `cycles: ${workers} worker${workers === 1 ? '' : 's'}`;
const TCP_CASE = `tcp: ${TCP_LOOPS} loops`;

/** Measurement is one subject in one case, run once per round. */
interface Measurement {
  subject: string;
  case: string;
  run: () => Promise<Row>;
}

interface CycleResult {
  cycles: number;
  seconds: number;
  rate: number;
  cpu_ns?: number;
  created: number;
}

async function measureCycles(ctx: BenchContext, subject: string, arg: string, workers: number): Promise<Row> {
  const row: Row = {
    subject,
    case: cycleCase(workers),
    metrics: {},
    params: { workers, max: CYCLE_MAX },
  };
  ctx.log(`${subject}, ${row.case}`);
  const child = path.join(ctx.root, 'bench', 'pool', 'cycles.mjs');
  const args = [
    child,
    arg,
    String(workers),
    String(CYCLE_MAX),
    String(CYCLE_WARMUP_SEC),
    String(ctx.durationSec),
  ];
  const r = await runCommand(process.execPath, args, {
    cwd: ctx.root,
    timeoutMs: (CYCLE_WARMUP_SEC + ctx.durationSec + 30) * 1000,
  });
  const res = lastJsonLine<CycleResult>(r.stdout, ['cycles', 'seconds', 'rate', 'created']);
  if (r.timedOut) row.error = 'did not finish in time and was killed';
  else if (r.code !== 0 || !res)
    row.error = `cycles.mjs failed (${r.signal ?? `exit ${r.code}`}): ${r.stdout || r.stderr}`;
  else {
    row.metrics = { rate: res.rate, created: res.created };
    if (res.cpu_ns !== undefined) row.metrics.cpu_ns = res.cpu_ns;
    row.detail = { result: res };
  }
  return row;
}

interface RequestResult {
  requests: number;
  seconds: number;
  rate: number;
  p50_us: number;
  p99_us: number;
  cpu_us?: number;
  conns: number;
  replies: number;
  wrong: number;
  errors: number;
  first_wrong?: string;
  first_error?: string;
}

const REQUEST_KEYS = [
  'requests',
  'seconds',
  'rate',
  'p50_us',
  'p99_us',
  'conns',
  'replies',
  'wrong',
  'errors',
];

async function measureRequests(ctx: BenchContext, subject: string, arg: string, cli: string): Promise<Row> {
  const dialing = arg === 'dial';
  const warmupSec = dialing ? DIAL_WARMUP_SEC : TCP_WARMUP_SEC;
  const durationSec = dialing ? Math.min(ctx.durationSec, DIAL_MAX_SEC) : ctx.durationSec;
  const cap = dialing ? DIAL_CAP : Number.MAX_SAFE_INTEGER;
  const row: Row = {
    subject,
    case: TCP_CASE,
    metrics: {},
    params: { loops: TCP_LOOPS, max: TCP_MAX, warmup_s: warmupSec, duration_s: durationSec },
  };
  ctx.log(`${subject}, ${TCP_CASE}`);
  const server: ServerDef = {
    subject,
    command: process.execPath,
    args: [cli, 'tcp', 'serve', '127.0.0.1:0', '--reply', 'pong', '--quiet'],
  };
  return withServer(ctx, server, row, async (srv) => {
    const child = path.join(ctx.root, 'bench', 'pool', 'requests.mjs');
    const args = [child, arg, srv.address, String(TCP_LOOPS), String(TCP_MAX)];
    args.push(String(warmupSec), String(durationSec), String(cap));
    // The child bounds itself (a watchdog 5 s past its window); this is the backstop.
    const r = await runCommand(process.execPath, args, {
      cwd: ctx.root,
      timeoutMs: (warmupSec + durationSec + 30) * 1000,
    });
    const res = lastJsonLine<RequestResult>(r.stdout, REQUEST_KEYS);
    const died = serverDied(srv);
    if (r.timedOut) row.error = 'requests.mjs did not finish in time and was killed';
    else if (died) row.error = died;
    else if (!res)
      row.error = `requests.mjs failed (${r.signal ?? `exit ${r.code}`}): ${r.stdout || r.stderr}`;
    else if (res.wrong > 0)
      row.error = `${res.wrong} of ${res.replies} replies were not "pong" (first: ${JSON.stringify(res.first_wrong)})`;
    else if (res.errors > 0 || r.code !== 0)
      row.error = `${res.errors} requests failed: ${res.first_error ?? r.stderr}`;
    else {
      row.metrics = { rate: res.rate, created: res.conns, p50_us: res.p50_us, p99_us: res.p99_us };
      if (res.cpu_us !== undefined) row.metrics.cpu_us = res.cpu_us;
      row.detail = { result: res, server: srv.firstLine };
    }
  });
}

/** prepare checks for the build and generic-pool, and returns the CLI's path. */
function prepare(ctx: BenchContext): string {
  const cli = path.join(ctx.root, 'dist', 'cli', 'main.js');
  if (!existsSync(cli) || !existsSync(path.join(ctx.root, 'dist', 'pool', 'index.js'))) {
    throw new SkipBenchmark(
      'dist/ is missing or has no pool; build first (npm run build, or use npm run bench)',
    );
  }
  try {
    createRequire(path.join(ctx.root, 'package.json')).resolve('generic-pool');
  } catch {
    throw new SkipBenchmark('generic-pool (a devDependency) is not installed; run npm install');
  }
  return cli;
}

const pool: Benchmark = {
  name: 'pool',
  description:
    'acquire/release cycles/s of netkit Pool vs generic-pool; pooled ping/pong requests/s vs a connection per request',
  table: (ctx) => ({
    title:
      `pool: acquire/release cycles in process (${CYCLE_WARMUP_SEC}s warm-up) and ping/pong requests over loopback ` +
      `(${TCP_WARMUP_SEC}s warm-up), ${formatDuration(ctx.durationSec)} per row` +
      `${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''}`,
    subjectHeader: 'client',
    caseHeader: 'case',
    metrics: [
      { key: 'rate', header: 'ops/s' },
      { key: 'created', header: 'created' },
      { key: 'p50_us', header: 'p50 µs', decimals: 1 },
      { key: 'p99_us', header: 'p99 µs', decimals: 1 },
      { key: 'cpu_ns', header: 'CPU ns/cycle', decimals: 0 },
      { key: 'cpu_us', header: 'client CPU µs/req', decimals: 1 },
      ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
    ],
    ratios: [
      { header: 'vs generic-pool', metric: 'rate', baseline: GP },
      { header: 'CPU vs generic-pool', metric: 'cpu_ns', baseline: GP },
      { header: 'vs generic-pool + Conn', metric: 'rate', baseline: GP_CONN },
      { header: 'vs dial per request', metric: 'rate', baseline: DIAL },
    ],
    targets: [
      { subject: NK_POOL, baseline: GP, metric: 'rate', min: SEVERAL, short: `≥ ${SEVERAL}× generic-pool` },
      {
        subject: NK_LINE,
        baseline: DIAL,
        metric: 'rate',
        min: POOLED_VS_DIAL,
        short: `≥ ${POOLED_VS_DIAL}× dial`,
      },
      {
        subject: GP_CONN,
        baseline: DIAL,
        metric: 'rate',
        min: POOLED_VS_DIAL,
        short: `≥ ${POOLED_VS_DIAL}× dial`,
      },
    ],
    notes: [
      'ops/s is acquire+release cycles/s in the cycles cases and requests/s (write "ping\\n", read the reply line) in',
      `the tcp case. created counts resources (connections) the pool made in the whole run, warm-up included.`,
      `cycles: ${CYCLE_WORKERS.join(' and ')} async loops of \`r = await acquire(); release(r)\` on a pool of max ${CYCLE_MAX}`,
      'plain objects, both pools with their defaults. With 1 worker an idle object is always there (netkit serves it',
      'from its idle fast path); with 64 most acquires queue and are handed the object another worker releases.',
      "netkit's defaults bound every acquire (acquireTimeout 30 s) and every idle spell (idleTimeout 30 s), so its",
      'cycles include that timekeeping; generic-pool by default has neither. Checks: at most max objects created,',
      "the pools' counts agree with the cycles run, nothing left borrowed or waiting.",
      `tcp: ${TCP_LOOPS} loops of one request at a time against \`netkit tcp serve --reply pong\` (its own process;`,
      `the client is another). Pooled rows share ${TCP_MAX} connections; requests beyond 4 in flight wait for one.`,
      `dial per request opens and closes a connection per request (handshake, accept, FIN both ways), so each`,
      `request costs a connection set-up and leaves a TIME_WAIT socket; its row runs ${DIAL_WARMUP_SEC}s + at most`,
      `${DIAL_MAX_SEC}s or ${DIAL_CAP.toLocaleString('en-US')} requests. Every reply, warm-up included, must be "pong", or the row fails.`,
      "CPU ns/cycle is the pool process's user+system CPU per measured cycle (lower is better; one process, so",
      "it counts the collector's helper threads too). client CPU µs/req is the client process's user+system CPU",
      'per counted request. The pooled rows are bound by the server and the client sharing the cores, so netkit',
      'LineClient vs generic-pool + Conn is near 1×.',
      ...(ctx.rounds > 1
        ? [
            "spread % is (max − min) / median of the rounds' rates; the other columns are from the median round.",
          ]
        : ['One run per row; use --rounds 3 for medians.']),
    ],
  }),
  async run(ctx) {
    const cli = prepare(ctx);
    const groups: Measurement[][] = [
      ...CYCLE_WORKERS.map((w) => [
        { subject: NK_POOL, case: cycleCase(w), run: () => measureCycles(ctx, NK_POOL, 'netkit', w) },
        { subject: GP, case: cycleCase(w), run: () => measureCycles(ctx, GP, 'generic-pool', w) },
      ]),
      [
        { subject: NK_LINE, case: TCP_CASE, run: () => measureRequests(ctx, NK_LINE, 'netkit', cli) },
        { subject: GP_CONN, case: TCP_CASE, run: () => measureRequests(ctx, GP_CONN, 'generic-pool', cli) },
        { subject: DIAL, case: TCP_CASE, run: () => measureRequests(ctx, DIAL, 'dial', cli) },
      ],
    ];
    const runs = new Map<Measurement, Row[]>();
    for (let round = 0; round < ctx.rounds; round++) {
      if (ctx.rounds > 1) ctx.log(`round ${round + 1} of ${ctx.rounds}`);
      for (const group of groups) {
        for (const m of round % 2 === 0 ? group : [...group].reverse()) {
          if (ctx.signal.aborted) throw new Error('interrupted');
          runs.set(m, [...(runs.get(m) ?? []), await m.run()]);
          // Let the previous measurement's sockets and CPU settle.
          await sleep(250);
        }
      }
    }
    return groups.flat().map((m) => median(runs.get(m) ?? []));
  },
};

export default pool;
