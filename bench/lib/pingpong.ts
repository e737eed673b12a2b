/**
 * Shared machinery of the ping-pong benchmarks (tcp, udp): start a server,
 * drive it with a Go load generator that prints one JSON line, sample the
 * server's CPU, run every server once per round with the order alternating,
 * and keep the median round.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from './args.js';
import { buildGo, goVersion } from './go.js';
import { lastJsonLine } from './json-line.js';
import { pinnedCommand } from './placement.js';
import { runCommand } from './proc.js';
import { cpuPer, groupCpuMs, type ServerDef, serverDied, withServer } from './server-run.js';
import { type BenchContext, type MetricColumn, type Row, SkipBenchmark, type TableSpec } from './types.js';

export type { ServerDef } from './server-run.js';

/** LoadgenResult is the JSON line the Go load generators print. */
export interface LoadgenResult {
  conns: number;
  seconds: number;
  roundtrips: number;
  rate: number;
  p50_us: number;
  p99_us: number;
  [extra: string]: number;
}

/** PingPongSpec describes one load generator and what it adds to a row. */
export interface PingPongSpec {
  /** loadgen is the built binary; name is used in messages. */
  loadgen: string;
  name: string;
  size: number;
  warmupSec: number;
  /** unit names a client in the progress log: conn, socket. */
  unit: string;
  /** extra lists further numeric keys the JSON line must have, copied into the row's metrics. */
  extra: readonly string[];
  /** keepStderr keeps the generator's stderr in the row's detail (for --json). */
  keepStderr?: boolean;
  /** loadgenCpus pins the generator with `taskset -c` (see placement.ts); unpinned when unset. */
  loadgenCpus?: string;
  /**
   * sample is called with the server's pid and address once the warm-up is
   * over; the function it returns is called when the load generator is done,
   * and its numbers are added to the row's metrics.
   */
  sample?: (pid: number, address: string) => () => Record<string, number>;
}

/** parseLoadgen reads the last JSON line of a load generator's output, or null. */
export function parseLoadgen(stdout: string, extra: readonly string[]): LoadgenResult | null {
  return lastJsonLine<LoadgenResult>(stdout, ['rate', 'roundtrips', ...extra]);
}

/** measurePingPong starts `server`, runs the load generator against it with `conns` clients, and stops it. */
export async function measurePingPong(
  ctx: BenchContext,
  spec: PingPongSpec,
  server: ServerDef,
  conns: number,
): Promise<Row> {
  const row: Row = {
    subject: server.subject,
    case: String(conns),
    metrics: {},
    params: { conns, size: spec.size },
  };
  ctx.log(`${server.subject}, ${conns} ${spec.unit}${conns === 1 ? '' : 's'}`);
  return withServer(ctx, server, row, async (srv) => {
    const [command, args] = pinnedCommand(
      spec.loadgen,
      [
        '-addr',
        srv.address,
        '-conns',
        String(conns),
        '-duration',
        formatDuration(ctx.durationSec),
        '-warmup',
        `${spec.warmupSec}s`,
        '-size',
        String(spec.size),
      ],
      spec.loadgenCpus,
    );
    const running = runCommand(command, args, {
      cwd: ctx.root,
      // The generators bound themselves; this is the backstop.
      timeoutMs: (spec.warmupSec + ctx.durationSec + 20) * 1000,
    });
    // CPU is sampled from the end of the warm-up to the end of the run.
    await sleep(spec.warmupSec * 1000);
    const cpu0 = groupCpuMs(srv.pid);
    const sampleEnd = spec.sample?.(srv.pid, srv.address);
    const r = await running;
    const cpu1 = groupCpuMs(srv.pid);
    const sampled = sampleEnd?.();
    const res = parseLoadgen(r.stdout, spec.extra);
    const died = serverDied(srv);
    if (r.timedOut) {
      row.error = `${spec.name} did not finish in time and was killed`;
    } else if (died) {
      row.error = died;
    } else if (r.code !== 0 || !res) {
      row.error = `${spec.name} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr || r.stdout || 'no output'}`;
    } else {
      row.metrics = { rate: res.rate, p50_us: res.p50_us, p99_us: res.p99_us };
      for (const k of spec.extra) row.metrics[k] = res[k]!;
      const cpu = cpuPer(cpu0, cpu1, res.roundtrips);
      if (cpu !== undefined) row.metrics.cpu_us = cpu;
      if (sampled) Object.assign(row.metrics, sampled);
      row.detail = { loadgen: res, server: srv.firstLine };
      if (spec.keepStderr && r.stderr) row.detail.loadgen_stderr = r.stderr;
    }
  });
}

/**
 * median returns the run with the median rate (the lower middle one for an
 * even count, so its latencies belong to a real run), with every round's
 * rate in detail and the spread as a metric. Failed rounds become warnings;
 * if every round failed, the first failure is the row.
 */
export function median(rounds: readonly Row[]): Row {
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

/**
 * runRounds measures every server at every client count, once per round.
 * Rounds are interleaved (every server once per round, the order reversed
 * on odd rounds) so a drift in machine speed hits all servers alike; the
 * median round is kept.
 */
export async function runRounds(
  ctx: BenchContext,
  servers: readonly ServerDef[],
  connsList: readonly number[],
  measure: (server: ServerDef, conns: number) => Promise<Row>,
): Promise<Row[]> {
  const runs = new Map<string, Row[]>();
  for (let round = 0; round < ctx.rounds; round++) {
    if (ctx.rounds > 1) ctx.log(`round ${round + 1} of ${ctx.rounds}`);
    for (const conns of connsList) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const server of order) {
        if (ctx.signal.aborted) throw new Error('interrupted');
        const key = `${server.subject}|${conns}`;
        runs.set(key, [...(runs.get(key) ?? []), await measure(server, conns)]);
        // Let the previous server's sockets and CPU settle.
        await sleep(250);
      }
    }
  }
  const rows: Row[] = [];
  for (const conns of connsList) {
    for (const server of servers) rows.push(median(runs.get(`${server.subject}|${conns}`) ?? []));
  }
  return rows;
}

/**
 * prepare checks what a ping-pong benchmark needs (the built CLI and Go)
 * and builds the named Go programs from bench/go/. It throws SkipBenchmark
 * with the reason when something is missing, and returns the CLI's path and
 * the binaries by name.
 */
export async function prepare(
  ctx: BenchContext,
  programs: readonly string[],
): Promise<{ cli: string; bins: Record<string, string> }> {
  const cli = path.join(ctx.root, 'dist', 'cli', 'main.js');
  if (!existsSync(cli)) {
    throw new SkipBenchmark('dist/cli/main.js is missing; build first (npm run build, or use npm run bench)');
  }
  const version = await goVersion(ctx.root);
  if (version === null) {
    throw new SkipBenchmark(
      'Go is not installed (no `go` on PATH); the load generator and the Go anchor are Go programs. ' +
        'Install Debian golang-go to run this benchmark.',
    );
  }
  ctx.log(`building ${programs.map((p) => `bench/go/${p}`).join(' and ')} with ${version}`);
  const bins: Record<string, string> = {};
  for (const p of programs) bins[p] = await buildGo(ctx, p);
  return { cli, bins };
}

/**
 * pingPongTable is the title, columns and ratios every ping-pong benchmark
 * prints: rate, latency and server CPU per round trip (plus `extra` columns),
 * compared with the plain-Node and Go anchors.
 */
export function pingPongTable(
  ctx: BenchContext,
  o: {
    what: string;
    loadgen: string;
    warmupSec: number;
    /** placement is the title's note on CPU pinning ("server on CPU 1, loadgen on CPU 0"), if any. */
    placement?: string;
    plain: string;
    plainLabel: string;
    go: string;
    extra?: readonly MetricColumn[];
  },
): Pick<TableSpec, 'title' | 'subjectHeader' | 'caseHeader' | 'metrics' | 'ratios'> {
  return {
    title:
      `${o.what} (${o.loadgen}, ${formatDuration(ctx.durationSec)}, ${o.warmupSec}s warm-up` +
      `${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''}${o.placement ? `; ${o.placement}` : ''})`,
    subjectHeader: 'server',
    caseHeader: 'conns',
    metrics: [
      { key: 'rate', header: 'round trips/s' },
      { key: 'p50_us', header: 'p50 µs', decimals: 1 },
      { key: 'p99_us', header: 'p99 µs', decimals: 1 },
      { key: 'cpu_us', header: 'server CPU µs/rt', decimals: 2 },
      ...(o.extra ?? []),
      ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
    ],
    ratios: [
      { header: `vs ${o.plainLabel}`, metric: 'rate', baseline: o.plain },
      { header: 'vs Go', metric: 'rate', baseline: o.go },
      { header: `CPU vs ${o.plainLabel}`, metric: 'cpu_us', baseline: o.plain },
    ],
  };
}
