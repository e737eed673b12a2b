/**
 * http: the hello route under wrk at 50 keep-alive connections.
 *
 * The load generator is wrk (Debian's `wrk`, 2 threads, --latency), run for
 * 1 s to warm up and then for the measured duration. Each server is started
 * fresh, measured alone, and stopped with SIGTERM before the next starts:
 *   netkit              node dist/cli/main.js http serve 127.0.0.1:0 --quiet
 *   netkit (log to …)   the same without --quiet, as users run it: every
 *                       request printed, stdout sent to /dev/null or to a file
 *                       (bench/servers/stdout-to.mjs opens it, as a shell's `>`)
 *   netkit --workers 2  the same with --workers 2 (node:cluster, two processes)
 *   plain node:http     bench/servers/plain-node-http.mjs (writeHead + end)
 *   Go net/http         bench/go/httphello (http.HandleFunc + fmt.Fprintf)
 * All four answer GET / with "Hello, you've requested: /\n" as text/plain.
 */
import { tmpdir } from 'node:os';
import path from 'node:path';
import { formatDuration } from './lib/args.js';
import { prepare, runRounds, type ServerDef } from './lib/pingpong.js';
import type { Benchmark } from './lib/types.js';
import { checkWrk, measureWrk } from './lib/wrk.js';

const CONNECTIONS = 50;
const THREADS = 2;
const WARMUP_SEC = 1;

const NETKIT = 'netkit';
const NETKIT_NULL = 'netkit (log to /dev/null)';
const NETKIT_FILE = 'netkit (log to a file)';
const NETKIT_W2 = 'netkit --workers 2';
const PLAIN = 'plain node:http';
const GO = 'Go net/http';

const httpBench: Benchmark = {
  name: 'http',
  description:
    'hello route under wrk at 50 connections (netkit -q, netkit logging to /dev/null and to a file, ' +
    'netkit --workers 2, node:http, Go net/http)',
  table: (ctx) => ({
    title:
      `http: GET / hello route (wrk -t${THREADS} -c${CONNECTIONS}, ${formatDuration(ctx.durationSec)}, ` +
      `${WARMUP_SEC}s warm-up${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''})`,
    subjectHeader: 'server',
    caseHeader: 'conns',
    metrics: [
      { key: 'rate', header: 'requests/s' },
      { key: 'p50_us', header: 'p50 µs', decimals: 0 },
      { key: 'p99_us', header: 'p99 µs', decimals: 0 },
      { key: 'cpu_us', header: 'server CPU µs/req', decimals: 1 },
      ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
    ],
    ratios: [
      { header: 'vs node:http', metric: 'rate', baseline: PLAIN },
      { header: 'vs Go', metric: 'rate', baseline: GO },
      { header: 'CPU vs node:http', metric: 'cpu_us', baseline: PLAIN },
      { header: 'vs -q', metric: 'rate', baseline: NETKIT },
      { header: 'CPU vs -q', metric: 'cpu_us', baseline: NETKIT },
    ],
    targets: [
      { subject: NETKIT, baseline: PLAIN, metric: 'rate', min: 0.95, short: '≥ 0.95× node:http' },
      { subject: NETKIT_NULL, baseline: NETKIT, metric: 'rate', min: 0.9, short: '≥ 0.90× -q' },
      { subject: NETKIT_FILE, baseline: NETKIT, metric: 'rate', min: 0.9, short: '≥ 0.90× -q' },
      { subject: NETKIT_W2, baseline: GO, metric: 'rate', min: 1.0, short: '≥ 1.00× Go' },
    ],
    notes: [
      'wrk shares the 2-core machine with the server it measures, so no server gets both cores to itself;',
      "ratios compare requests/s in the same run. server CPU µs/req is the server's (all its processes')",
      'user+system CPU per request; lower is better. Any socket error or non-2xx response fails the row.',
      ...(ctx.rounds > 1
        ? ["spread % is (max − min) / median of the rounds' rates; p50/p99 are from the median round."]
        : ['One run per cell; single runs can differ by 10% or more: use --rounds 3 for medians.']),
    ],
  }),
  async run(ctx) {
    await checkWrk(ctx);
    const { cli, bins } = await prepare(ctx, ['httphello']);
    const node = process.execPath;
    const netkitArgs = [cli, 'http', 'serve', '127.0.0.1:0', '--quiet'];
    // The logging rows differ from the first only in --quiet and where stdout goes.
    const stdoutTo = path.join(ctx.root, 'bench', 'servers', 'stdout-to.mjs');
    const logged = (target: string) => [stdoutTo, target, node, cli, 'http', 'serve', '127.0.0.1:PORT'];
    const logFile = path.join(tmpdir(), `netkit-bench-http-${process.pid}.log`);
    const servers: ServerDef[] = [
      { subject: NETKIT, command: node, args: netkitArgs },
      { subject: NETKIT_NULL, command: node, args: logged('/dev/null') },
      { subject: NETKIT_FILE, command: node, args: logged(logFile) },
      { subject: NETKIT_W2, command: node, args: [...netkitArgs, '--workers', '2'] },
      {
        subject: PLAIN,
        command: node,
        args: [path.join(ctx.root, 'bench', 'servers', 'plain-node-http.mjs')],
      },
      { subject: GO, command: bins.httphello!, args: ['-addr', '127.0.0.1:0'] },
    ];
    const spec = {
      connections: CONNECTIONS,
      threads: THREADS,
      warmupSec: WARMUP_SEC,
      // netkit prints "listening http://host:port/"; the others "listening host:port".
      url: (address: string) => (address.startsWith('http://') ? address : `http://${address}/`),
    };
    return runRounds(ctx, servers, [CONNECTIONS], (server) => measureWrk(ctx, spec, server));
  },
};

export default httpBench;
