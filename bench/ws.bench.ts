/**
 * ws: binary-message ping-pong through WebSocket echo servers, 64 B and
 * 16 KiB messages, 1 and 32 connections.
 *
 * The load generator is bench/go/wsload (gorilla/websocket client, strict
 * ping-pong: one message in flight per connection). Each server is started
 * fresh for each case, measured alone, and stopped with SIGTERM before the
 * next starts:
 *   netkit              node dist/cli/main.js ws serve 127.0.0.1:0 --quiet --json --path /echo
 *   netkit --workers 2  the same with --workers 2 (node:cluster, two processes)
 *   plain ws            bench/servers/plain-ws-echo.mjs (WebSocketServer, message → send)
 *   gorilla             bench/go/wsecho (ReadMessage/WriteMessage loop per connection)
 * Every server serves ws://<addr>/echo; netkit's address comes from its
 * --json listening event, the others' from their "listening <addr>" line.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from './lib/args.js';
import { lastJsonLine } from './lib/json-line.js';
import { prepare, runRounds } from './lib/pingpong.js';
import { pinned, pinnedCommand, splitPlacement } from './lib/placement.js';
import { runCommand } from './lib/proc.js';
import { cpuPer, groupCpuMs, type ServerDef, serverDied, withServer } from './lib/server-run.js';
import { formatBytes } from './lib/table.js';
import { type BenchContext, type Benchmark, type Row, SkipBenchmark } from './lib/types.js';

/** CASES are the message sizes × connection counts, in table order. */
const CASES = [
  { size: 64, conns: 1 },
  { size: 64, conns: 32 },
  { size: 16 * 1024, conns: 1 },
  { size: 16 * 1024, conns: 32 },
] as const;
type Case = (typeof CASES)[number];
const WARMUP_SEC = 1;
const PATH = '/echo';

const NETKIT = 'netkit';
const NETKIT_W2 = 'netkit --workers 2';
const PLAIN = 'plain ws';
const GORILLA = 'gorilla';

/** WsLoadResult is the JSON line bench/go/wsload prints. */
interface WsLoadResult {
  conns: number;
  size: number;
  seconds: number;
  messages: number;
  rate: number;
  p50_us: number;
  p99_us: number;
  errors: number;
}

/** parseWsLoad reads the last JSON line of wsload's stdout, or null. */
function parseWsLoad(stdout: string): WsLoadResult | null {
  return lastJsonLine<WsLoadResult>(stdout, ['messages', 'rate', 'p50_us', 'p99_us', 'errors']);
}

/**
 * gorillaInstalled looks for gorilla/websocket where buildGo's GOPATH
 * points, so a machine without it gets a skip with the fix instead of a
 * go build error.
 */
function gorillaInstalled(): boolean {
  const roots = [...(process.env.GOPATH ?? path.join(os.homedir(), 'go')).split(':'), '/usr/share/gocode'];
  return roots.some((r) => r !== '' && existsSync(path.join(r, 'src', 'github.com', 'gorilla', 'websocket')));
}

function caseName(c: Case): string {
  return `${formatBytes(c.size)} × ${c.conns}`;
}

/** measure starts `server`, runs wsload against ws://<addr>/echo, and stops it. */
async function measure(
  ctx: BenchContext,
  wsload: string,
  server: ServerDef,
  c: Case,
  loadgenCpus: string | undefined,
): Promise<Row> {
  const row: Row = {
    subject: server.subject,
    case: caseName(c),
    metrics: {},
    params: { size: c.size, conns: c.conns },
  };
  ctx.log(`${server.subject}, ${formatBytes(c.size)}, ${c.conns} conn${c.conns === 1 ? '' : 's'}`);
  return withServer(ctx, server, row, async (srv) => {
    const [command, args] = pinnedCommand(
      wsload,
      [
        '-url',
        `ws://${srv.address}${PATH}`,
        '-conns',
        String(c.conns),
        '-size',
        String(c.size),
        '-duration',
        formatDuration(ctx.durationSec),
        '-warmup',
        `${WARMUP_SEC}s`,
      ],
      loadgenCpus,
    );
    // wsload bounds itself; this is the backstop.
    const running = runCommand(command, args, {
      cwd: ctx.root,
      timeoutMs: (WARMUP_SEC + ctx.durationSec + 20) * 1000,
    });
    // CPU is sampled from the end of the warm-up to the end of the run.
    await sleep(WARMUP_SEC * 1000);
    const cpu0 = groupCpuMs(srv.pid);
    const r = await running;
    const cpu1 = groupCpuMs(srv.pid);
    const res = parseWsLoad(r.stdout);
    const died = serverDied(srv);
    if (r.timedOut) {
      row.error = 'wsload did not finish in time and was killed';
    } else if (died) {
      row.error = died;
    } else if (r.code !== 0 || !res || res.errors > 0) {
      const why = res && res.errors > 0 ? `${res.errors} error(s)` : (r.signal ?? `exit ${r.code}`);
      row.error = `wsload failed (${why}): ${r.stderr || r.stdout || 'no output'}`;
    } else {
      row.metrics = { rate: res.rate, p50_us: res.p50_us, p99_us: res.p99_us };
      const cpu = cpuPer(cpu0, cpu1, res.messages);
      if (cpu !== undefined) row.metrics.cpu_us = cpu;
      row.detail = { wsload: res, server: srv.firstLine };
    }
  });
}

const ws: Benchmark = {
  name: 'ws',
  description:
    'binary WebSocket ping-pong, 64 B and 16 KiB × 1 and 32 conns (netkit, netkit --workers 2, ws, gorilla)',
  table: (ctx) => {
    const where = splitPlacement();
    return {
      title:
        `ws: binary message ping-pong through /echo (wsload, ${formatDuration(ctx.durationSec)}, ` +
        `${WARMUP_SEC}s warm-up${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''}` +
        `${typeof where === 'string' ? '' : `; netkit and plain ws on CPU ${where.server}, wsload on CPU ${where.loadgen}`})`,
      subjectHeader: 'server',
      caseHeader: 'case',
      metrics: [
        { key: 'rate', header: 'messages/s' },
        { key: 'p50_us', header: 'p50 µs', decimals: 1 },
        { key: 'p99_us', header: 'p99 µs', decimals: 1 },
        { key: 'cpu_us', header: 'server CPU µs/msg', decimals: 2 },
        ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
      ],
      ratios: [
        { header: 'vs plain ws', metric: 'rate', baseline: PLAIN },
        { header: 'vs gorilla', metric: 'rate', baseline: GORILLA },
        { header: 'CPU vs plain ws', metric: 'cpu_us', baseline: PLAIN },
      ],
      targets: [
        { subject: NETKIT, baseline: PLAIN, metric: 'rate', min: 1.0, short: '≥ 1.00× plain ws' },
        { subject: NETKIT_W2, baseline: GORILLA, metric: 'rate', min: 1.0, short: '≥ 1.00× gorilla' },
      ],
      notes: [
        'case is the message size × the connections. A message is one binary WebSocket message sent by',
        'wsload (gorilla/websocket client, one masked frame) and echoed back; each connection has one',
        'message in flight. Ratios compare messages/s in the same case. Servers run one at a time, each',
        'started fresh. netkit and plain ws (the pair of the first target) run pinned to one CPU and wsload',
        'to the other (taskset), as in the tcp benchmark, so placement luck does not decide their ratio;',
        'netkit --workers 2 and gorilla (the pair of the second) use both CPUs, shared with wsload, so the',
        '"vs gorilla" ratio of the pinned rows compares one core with two. server CPU µs/msg is the',
        "server's (all its processes') user+system CPU per echoed message; lower is better. Any error, a",
        'wrong echo or a failed closing handshake fails the row.',
        ...(ctx.rounds > 1
          ? ["spread % is (max − min) / median of the rounds' rates; p50/p99 are from the median round."]
          : [
              'One run per cell; single runs can differ by 10% or more on a small machine: use --rounds 3 for medians.',
            ]),
        ...(typeof where === 'string' ? [`Not pinned: ${where}.`] : []),
      ],
    };
  },
  async run(ctx) {
    if (!gorillaInstalled()) {
      throw new SkipBenchmark(
        'gorilla/websocket is not installed; wsload and the Go anchor use it. ' +
          'Install Debian golang-github-gorilla-websocket-dev to run this benchmark.',
      );
    }
    const { cli, bins } = await prepare(ctx, ['wsload', 'wsecho']);
    const wsload = bins.wsload!;
    const node = process.execPath;
    const netkitArgs = [cli, 'ws', 'serve', '127.0.0.1:0', '--quiet', '--json', '--path', PATH];
    const where = splitPlacement();
    if (typeof where === 'string') ctx.log(`warning: not pinning servers and wsload: ${where}`);
    else ctx.log(`netkit and plain ws: ${where.text}`);
    const cpus = typeof where === 'string' ? undefined : where;
    const servers: ServerDef[] = [
      pinned({ subject: NETKIT, command: node, args: netkitArgs }, cpus?.server),
      { subject: NETKIT_W2, command: node, args: [...netkitArgs, '--workers', '2'] },
      pinned(
        {
          subject: PLAIN,
          command: node,
          args: [path.join(ctx.root, 'bench', 'servers', 'plain-ws-echo.mjs')],
        },
        cpus?.server,
      ),
      { subject: GORILLA, command: bins.wsecho!, args: ['-addr', '127.0.0.1:0'] },
    ];
    // runRounds is keyed by a number per case; here that number is the index into CASES.
    const indexes = CASES.map((_, i) => i);
    // wsload runs on the other CPU whenever its server is pinned.
    const pinnedSubjects = new Set([NETKIT, PLAIN]);
    return runRounds(ctx, servers, indexes, (server, i) =>
      measure(ctx, wsload, server, CASES[i]!, pinnedSubjects.has(server.subject) ? cpus?.loadgen : undefined),
    );
  },
};

export default ws;
