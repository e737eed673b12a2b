/**
 * http-log: what `http serve`'s request log costs, measured paired.
 *
 * The http benchmark measures each server alone, one after the other; on a
 * shared 2-core VM its rounds of the same server can spread by 25–50 %, far
 * more than the 10 % the log's target allows. Here the `-q` server and the
 * logging server run at the same time, both pinned to the server CPU, each
 * loaded by its own `wrk -t1` pinned to the load generator's CPU(s): whatever
 * slows the machine slows both, and their requests in the same seconds give
 * the ratio. Two `-q` servers paired this way measure 0.98–1.01×.
 *
 *   netkit -q             node dist/cli/main.js http serve 127.0.0.1:0 --quiet
 *   netkit, log on        the same without --quiet, stdout sent to /dev/null or
 *                         to a file (bench/servers/stdout-to.mjs, as a shell's `>`)
 *
 * Each round runs both pairs, the two servers started in alternating order;
 * the reported round of a case is the one with the median ratio, so the two
 * rows printed are from the same seconds.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatDuration } from './lib/args.js';
import { pinned, pinnedCommand, splitPlacement } from './lib/placement.js';
import { runCommand } from './lib/proc.js';
import { cpuPer, groupCpuMs, type ServerDef, serverDied, withServer } from './lib/server-run.js';
import { type BenchContext, type Benchmark, type Row, SkipBenchmark } from './lib/types.js';
import { checkWrk, parseWrk } from './lib/wrk.js';

const CONNECTIONS = 25;
const WARMUP_SEC = 1;
const QUIET = 'netkit -q';
const LOGGED = 'netkit, log on';
const CASES = ['/dev/null', 'a file'] as const;

/** PairRun is one paired measurement: both servers' rates and CPU per request. */
interface PairRun {
  quiet: Row;
  logged: Row;
  ratio: number | undefined;
}

const httpLogBench: Benchmark = {
  name: 'http-log',
  description: 'the request log of http serve against -q, both servers at once on one CPU (paired)',
  table: (ctx) => ({
    title:
      `http-log: GET / with the request log on against -q, paired on one CPU (wrk -t1 -c${CONNECTIONS} each, ` +
      `${formatDuration(ctx.durationSec)}, ${WARMUP_SEC}s warm-up${ctx.rounds > 1 ? `, the round with the median ratio of ${ctx.rounds}` : ''})`,
    subjectHeader: 'server',
    caseHeader: 'log to',
    metrics: [
      { key: 'rate', header: 'requests/s' },
      { key: 'cpu_us', header: 'server CPU µs/req', decimals: 1 },
      ...(ctx.rounds > 1
        ? [
            { key: 'ratio_lo', header: 'lowest ratio', decimals: 3 },
            { key: 'ratio_hi', header: 'highest ratio', decimals: 3 },
          ]
        : []),
    ],
    ratios: [
      { header: 'vs -q', metric: 'rate', baseline: QUIET },
      { header: 'CPU vs -q', metric: 'cpu_us', baseline: QUIET },
    ],
    targets: [{ subject: LOGGED, baseline: QUIET, metric: 'rate', min: 0.9, short: '≥ 0.90× -q' }],
    notes: [
      'Both servers of a case run at the same time on the same CPU, each under its own wrk on the other CPU(s):',
      'a machine that slows down slows both, so the ratio holds where the unpaired http rows swing.',
      "server CPU µs/req is the server's user+system CPU per request; lowest/highest ratio are over the rounds.",
    ],
  }),
  async run(ctx) {
    await checkWrk(ctx);
    const where = splitPlacement();
    if (typeof where === 'string') {
      return CASES.flatMap((c) =>
        [QUIET, LOGGED].map((subject) => ({ subject, case: c, metrics: {}, skipped: where })),
      );
    }
    const cli = path.join(ctx.root, 'dist', 'cli', 'main.js');
    if (!existsSync(cli)) {
      throw new SkipBenchmark(
        'dist/cli/main.js is missing; build first (npm run build, or use npm run bench)',
      );
    }
    const node = process.execPath;
    const stdoutTo = path.join(ctx.root, 'bench', 'servers', 'stdout-to.mjs');
    const logFile = path.join(tmpdir(), `netkit-bench-http-log-${process.pid}.log`);
    const quiet: ServerDef = {
      subject: QUIET,
      command: node,
      args: [cli, 'http', 'serve', '127.0.0.1:0', '--quiet'],
    };
    const logged = (target: string): ServerDef => ({
      subject: LOGGED,
      command: node,
      args: [stdoutTo, target, node, cli, 'http', 'serve', '127.0.0.1:PORT'],
    });
    const runs = new Map<string, PairRun[]>();
    for (let round = 0; round < ctx.rounds; round++) {
      if (ctx.rounds > 1) ctx.log(`round ${round + 1} of ${ctx.rounds}`);
      for (const c of CASES) {
        if (ctx.signal.aborted) throw new Error('interrupted');
        const run = await measurePair(
          ctx,
          pinned(quiet, where.server),
          pinned(logged(c === '/dev/null' ? '/dev/null' : logFile), where.server),
          c,
          where.loadgen,
          round % 2 === 1,
        );
        runs.set(c, [...(runs.get(c) ?? []), run]);
      }
    }
    return CASES.flatMap((c) => medianPair(runs.get(c) ?? []));
  },
};

/**
 * measurePair starts both servers, warms them up, then loads both at once for
 * ctx.durationSec and returns each one's rate and CPU per request. `swap`
 * starts the logging server first: the server started second came out about
 * 1 % behind with both servers the same, so the rounds alternate.
 */
async function measurePair(
  ctx: BenchContext,
  quiet: ServerDef,
  logged: ServerDef,
  c: string,
  loadgenCpus: string,
  swap: boolean,
): Promise<PairRun> {
  const [a, b] = swap ? [logged, quiet] : [quiet, logged];
  const rowA: Row = { subject: a.subject, case: c, metrics: {}, params: { connections: CONNECTIONS } };
  const rowB: Row = { subject: b.subject, case: c, metrics: {}, params: { connections: CONNECTIONS } };
  ctx.log(`${a.subject} and ${b.subject} (log to ${c}), paired`);
  const wrk = (address: string, seconds: number) => {
    const url = address.startsWith('http://') ? address : `http://${address}/`;
    const [cmd, args] = pinnedCommand(
      'wrk',
      ['-t', '1', '-c', String(CONNECTIONS), '-d', `${seconds}s`, '--latency', url],
      loadgenCpus,
    );
    return runCommand(cmd, args, { cwd: ctx.root, timeoutMs: (seconds + 20) * 1000 });
  };
  await withServer(ctx, a, rowA, (srvA) =>
    withServer(ctx, b, rowB, async (srvB) => {
      await Promise.all([wrk(srvA.address, WARMUP_SEC), wrk(srvB.address, WARMUP_SEC)]);
      const before = [groupCpuMs(srvA.pid), groupCpuMs(srvB.pid)];
      const [ra, rb] = await Promise.all([
        wrk(srvA.address, ctx.durationSec),
        wrk(srvB.address, ctx.durationSec),
      ]);
      const after = [groupCpuMs(srvA.pid), groupCpuMs(srvB.pid)];
      for (const [row, r, srv, i] of [
        [rowA, ra, srvA, 0],
        [rowB, rb, srvB, 1],
      ] as const) {
        const res = parseWrk(r.stdout);
        const died = serverDied(srv);
        if (died) row.error = died;
        else if (r.timedOut || r.code !== 0 || !res)
          row.error = `wrk failed: ${r.stderr || r.stdout || 'no output'}`;
        else if (res.errors > 0) row.error = `${res.errors} socket errors or non-2xx responses`;
        else {
          row.metrics = { rate: res.rate };
          const cpu = cpuPer(before[i], after[i], res.requests);
          if (cpu !== undefined) row.metrics.cpu_us = cpu;
          row.detail = { wrk: res };
        }
      }
    }).then(() => undefined),
  );
  const [rowQuiet, rowLogged] = swap ? [rowB, rowA] : [rowA, rowB];
  const qa = rowQuiet.metrics.rate;
  const qb = rowLogged.metrics.rate;
  return { quiet: rowQuiet, logged: rowLogged, ratio: qa && qb ? qb / qa : undefined };
}

/** medianPair returns the two rows of the round with the median ratio, with the range of ratios on the logged row. */
function medianPair(runs: readonly PairRun[]): Row[] {
  const ok = runs.filter((r) => r.ratio !== undefined);
  if (ok.length === 0) {
    const first = runs[0];
    return first ? [first.quiet, first.logged] : [];
  }
  const sorted = [...ok].sort((x, y) => x.ratio! - y.ratio!);
  const mid = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const ratios = runs.map((r) => r.ratio ?? null);
  return [
    mid.quiet,
    {
      ...mid.logged,
      metrics: { ...mid.logged.metrics, ratio_lo: sorted[0]!.ratio!, ratio_hi: sorted.at(-1)!.ratio! },
      detail: { ...mid.logged.detail, round_ratios: ratios },
    },
  ];
}

export default httpLogBench;
