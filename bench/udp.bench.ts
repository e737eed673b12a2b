/**
 * udp: 64-byte datagram ping-pong through a UDP echo server, 1 and 16 client sockets.
 *
 * The load generator is bench/go/udploadgen (strict ping-pong: one datagram
 * in flight per connected client socket; a reply missing for 200 ms counts as
 * lost and the loop goes on). Each server is started fresh for each socket
 * count, measured alone, and stopped with SIGTERM before the next starts:
 *   netkit           node dist/cli/main.js udp serve 127.0.0.1:0 --echo --quiet
 *   plain node:dgram bench/servers/plain-node-udp-echo.mjs (message → send to rinfo)
 *   Go udpecho       bench/go/udpecho (ReadFromUDP/WriteToUDP, a goroutine per CPU)
 *
 * There is no target for UDP; the table reports ratios only.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from './lib/args.js';
import { buildGo, goVersion } from './lib/go.js';
import { runCommand, startServer } from './lib/proc.js';
import { type BenchContext, type Benchmark, type Row, SkipBenchmark } from './lib/types.js';

const CONNS = [1, 16] as const;
const SIZE = 64;
const WARMUP_SEC = 1;

const NETKIT = 'netkit';
const PLAIN = 'plain node:dgram';
const GO = 'Go udpecho';

interface ServerDef {
  subject: string;
  command: string;
  args: string[];
}

/** UdpLoadgenResult is the JSON line bench/go/udploadgen prints. */
interface UdpLoadgenResult {
  conns: number;
  seconds: number;
  roundtrips: number;
  rate: number;
  p50_us: number;
  p99_us: number;
  lost: number;
}

function parseLoadgen(stdout: string): UdpLoadgenResult | null {
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) return null;
  try {
    const r = JSON.parse(line) as Partial<UdpLoadgenResult>;
    return typeof r.rate === 'number' && typeof r.roundtrips === 'number' && typeof r.lost === 'number'
      ? (r as UdpLoadgenResult)
      : null;
  } catch {
    return null;
  }
}

/**
 * groupCpuMs sums user+system CPU time of every process in a process group
 * (the server and anything it started), from /proc. The same measure as in
 * tcp.bench.ts: CPU per round trip is steadier than the rate on a small
 * machine shared with the load generator.
 */
function groupCpuMs(pgid: number): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after "(comm)": state ppid pgrp … utime is field 14, stime 15.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process exited while we looked
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

async function measure(ctx: BenchContext, loadgen: string, server: ServerDef, conns: number): Promise<Row> {
  const row: Row = {
    subject: server.subject,
    case: String(conns),
    metrics: {},
    params: { conns, size: SIZE },
  };
  ctx.log(`${server.subject}, ${conns} socket${conns === 1 ? '' : 's'}`);
  let srv: Awaited<ReturnType<typeof startServer>>;
  try {
    srv = await startServer({
      name: server.subject,
      command: server.command,
      args: server.args,
      cwd: ctx.root,
    });
  } catch (err) {
    row.error = (err as Error).message;
    return row;
  }
  try {
    const running = runCommand(
      loadgen,
      [
        '-addr',
        srv.address,
        '-conns',
        String(conns),
        '-duration',
        formatDuration(ctx.durationSec),
        '-warmup',
        `${WARMUP_SEC}s`,
        '-size',
        String(SIZE),
      ],
      // udploadgen bounds itself (no request after warm-up + duration, 200 ms per wait); this is the backstop.
      { cwd: ctx.root, timeoutMs: (WARMUP_SEC + ctx.durationSec + 20) * 1000 },
    );
    // CPU is sampled from the end of the warm-up to the end of the run.
    await sleep(WARMUP_SEC * 1000);
    const cpu0 = groupCpuMs(srv.pid);
    const r = await running;
    const cpu1 = groupCpuMs(srv.pid);
    const res = parseLoadgen(r.stdout);
    const died = srv.exited();
    if (r.timedOut) {
      row.error = 'udploadgen did not finish in time and was killed';
    } else if (died) {
      row.error = `the server exited during the run (${died.signal ?? `code ${died.code}`})${srv.stderr() ? `; stderr:\n${srv.stderr()}` : ''}`;
    } else if (r.code !== 0 || !res) {
      row.error = `udploadgen failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr || r.stdout || 'no output'}`;
    } else {
      row.metrics = { rate: res.rate, p50_us: res.p50_us, p99_us: res.p99_us, lost: res.lost };
      if (cpu0 !== undefined && cpu1 !== undefined && res.roundtrips > 0) {
        row.metrics.cpu_us = ((cpu1 - cpu0) * 1000) / res.roundtrips;
      }
      row.detail = { loadgen: res, server: srv.firstLine };
      // udploadgen reports discarded late replies on stderr; keep them for --json.
      if (r.stderr) row.detail.loadgen_stderr = r.stderr;
    }
  } finally {
    const warnings = await srv.stop();
    for (const w of warnings) ctx.log(`warning: ${w}`);
    if (warnings.length > 0) row.warnings = warnings;
  }
  return row;
}

/**
 * median returns the run with the median rate (the lower middle one for an
 * even count, so its latencies and losses belong to a real run), with every
 * round's rate in detail and the spread as a metric. Failed rounds become
 * warnings; if every round failed, the first failure is the row.
 */
function median(rounds: readonly Row[]): Row {
  const ok = rounds.filter((r) => !r.error);
  const first = rounds[0];
  if (!first) throw new Error('no runs');
  if (ok.length === 0) return first;
  const sorted = [...ok].sort((a, b) => (a.metrics.rate ?? 0) - (b.metrics.rate ?? 0));
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  if (rounds.length === 1) return mid;
  const rates = rounds.map((r) => (r.error ? null : (r.metrics.rate ?? null)));
  const lo = sorted[0]!.metrics.rate ?? 0;
  const hi = sorted[sorted.length - 1]!.metrics.rate ?? 0;
  // The same warning from several rounds is printed once.
  const warnings = [
    ...new Set(
      rounds.flatMap((r, i) => [
        ...(r.warnings ?? []),
        ...(r.error ? [`round ${i + 1} failed: ${r.error}`] : []),
      ]),
    ),
  ];
  return {
    ...mid,
    metrics: { ...mid.metrics, spread_pct: ((hi - lo) / (mid.metrics.rate ?? 1)) * 100 },
    detail: { ...mid.detail, round_rates: rates },
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

const udp: Benchmark = {
  name: 'udp',
  description:
    '64-byte datagram ping-pong through UDP echo servers (netkit, node:dgram, Go), 1 and 16 sockets',
  table: (ctx) => ({
    title:
      `udp: ${SIZE}-byte datagram ping-pong (udploadgen, ${formatDuration(ctx.durationSec)}, ${WARMUP_SEC}s warm-up` +
      `${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''})`,
    subjectHeader: 'server',
    caseHeader: 'conns',
    metrics: [
      { key: 'rate', header: 'round trips/s' },
      { key: 'p50_us', header: 'p50 µs', decimals: 1 },
      { key: 'p99_us', header: 'p99 µs', decimals: 1 },
      { key: 'cpu_us', header: 'server CPU µs/rt', decimals: 2 },
      { key: 'lost', header: 'lost' },
      ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
    ],
    ratios: [
      { header: 'vs node:dgram', metric: 'rate', baseline: PLAIN },
      { header: 'vs Go', metric: 'rate', baseline: GO },
      { header: 'CPU vs node:dgram', metric: 'cpu_us', baseline: PLAIN },
    ],
    // No UDP targets are specified: ratios only, no pass/fail.
    targets: [],
    notes: [
      'conns is the number of connected client sockets, each with one datagram in flight. Ratios compare',
      'round trips/s with the same number of sockets. Servers run one at a time, each started fresh;',
      'udploadgen shares the machine with the server it measures. server CPU µs/rt is the server',
      "process group's user+system CPU per round trip (lower is better). lost counts measured requests",
      'whose reply did not arrive within 200 ms; the loop goes on after a loss.',
      ...(ctx.rounds > 1
        ? ["spread % is (max − min) / median of the rounds' rates; p50/p99/lost are from the median round."]
        : [
            'One run per cell; single runs can differ by 10% or more on a small machine: use --rounds 3 for medians.',
          ]),
    ],
  }),
  async run(ctx) {
    const cli = path.join(ctx.root, 'dist', 'cli', 'main.js');
    if (!existsSync(cli)) {
      throw new SkipBenchmark(
        'dist/cli/main.js is missing; build first (npm run build, or use npm run bench)',
      );
    }
    const version = await goVersion(ctx.root);
    if (version === null) {
      throw new SkipBenchmark(
        'Go is not installed (no `go` on PATH); the load generator and the Go anchor are Go programs. ' +
          'Install Go (https://go.dev/dl/) to run this benchmark.',
      );
    }
    ctx.log(`building bench/go/udploadgen and bench/go/udpecho with ${version}`);
    const loadgen = await buildGo(ctx, 'udploadgen');
    const udpecho = await buildGo(ctx, 'udpecho');

    const node = process.execPath;
    const servers: ServerDef[] = [
      { subject: NETKIT, command: node, args: [cli, 'udp', 'serve', '127.0.0.1:0', '--echo', '--quiet'] },
      {
        subject: PLAIN,
        command: node,
        args: [path.join(ctx.root, 'bench', 'servers', 'plain-node-udp-echo.mjs')],
      },
      { subject: GO, command: udpecho, args: ['-addr', '127.0.0.1:0'] },
    ];

    // Rounds are interleaved (every server once per round, the order reversed
    // on odd rounds) so a drift in machine speed hits all servers alike.
    const runs = new Map<string, Row[]>();
    for (let round = 0; round < ctx.rounds; round++) {
      if (ctx.rounds > 1) ctx.log(`round ${round + 1} of ${ctx.rounds}`);
      for (const conns of CONNS) {
        const order = round % 2 === 0 ? servers : [...servers].reverse();
        for (const server of order) {
          if (ctx.signal.aborted) throw new Error('interrupted');
          const key = `${server.subject}|${conns}`;
          runs.set(key, [...(runs.get(key) ?? []), await measure(ctx, loadgen, server, conns)]);
          // Let the previous server's sockets and CPU settle.
          await sleep(250);
        }
      }
    }
    const rows: Row[] = [];
    for (const conns of CONNS) {
      for (const server of servers) rows.push(median(runs.get(`${server.subject}|${conns}`) ?? []));
    }
    return rows;
  },
};

export default udp;
