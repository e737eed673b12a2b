/**
 * tcp: 64-byte line ping-pong through an echo server, 1 and 32 connections.
 *
 * The load generator is bench/go/loadgen (strict ping-pong: one message in
 * flight per connection). Each server is started fresh for each connection
 * count, measured alone, and stopped with SIGTERM before the next starts:
 *   netkit              node dist/cli/main.js tcp serve 127.0.0.1:0 --echo --quiet
 *   plain node:net      bench/servers/plain-node-echo.mjs (data → write)
 *   node:net, lines     bench/servers/plain-node-line-echo.mjs (split at '\n', write each line)
 *   Go echoserver       bench/go/echoserver (goroutine per conn, bufio)
 * Every server runs pinned to the last CPU and loadgen to the others (see
 * lib/placement.ts for why); --workers is measured by the workers benchmark.
 */
import path from 'node:path';
import { measurePingPong, pingPongTable, prepare, runRounds, type ServerDef } from './lib/pingpong.js';
import { pinned, splitPlacement } from './lib/placement.js';
import type { Benchmark } from './lib/types.js';

const CONNS = [1, 32] as const;
const SIZE = 64;
const WARMUP_SEC = 1;

const NETKIT = 'netkit';
const PLAIN = 'plain node:net';
const LINES = 'node:net, line-split';
const GO = 'Go echoserver';

const tcp: Benchmark = {
  name: 'tcp',
  description:
    '64-byte line ping-pong through echo servers (netkit, node:net, Go), 1 and 32 conns, server and loadgen pinned apart',
  table: (ctx) => {
    const where = splitPlacement();
    return {
      ...pingPongTable(ctx, {
        what: `tcp: ${SIZE}-byte line ping-pong`,
        loadgen: 'loadgen',
        warmupSec: WARMUP_SEC,
        plain: PLAIN,
        plainLabel: 'node:net',
        go: GO,
        placement: typeof where === 'string' ? 'unpinned' : where.text,
      }),
      targets: [
        { subject: NETKIT, baseline: PLAIN, metric: 'rate', min: 0.95, short: '≥ 0.95× node:net' },
        { subject: NETKIT, baseline: GO, metric: 'rate', min: 1.0, short: '≥ 1.00× Go', cases: ['32'] },
      ],
      notes: [
        'Ratios compare round trips/s with the same number of connections. Servers run one at a time, each',
        'started fresh, every one pinned to the same CPU(s) and loadgen to the others (taskset), so the',
        'scheduler cannot put one server next to loadgen and the next one across. server CPU µs/rt is the',
        "server's (all its processes') user+system CPU per round trip; lower is better, so a CPU ratio",
        'below 1.00× means netkit spends less CPU per message than plain node:net.',
        `plain node:net writes back each read as it came, without looking for lines; "${LINES}" splits`,
        'reads at \\n and writes each line, the least a Node.js line server does, to show what framing costs.',
        ...(typeof where === 'string'
          ? [`Not pinned: ${where}; 1-connection ratios are then placement luck.`]
          : []),
        ...(ctx.rounds > 1
          ? ["spread % is (max − min) / median of the rounds' rates; p50/p99 are from the median round."]
          : [
              'One run per cell; single runs can differ by 10% or more on a small machine: use --rounds 3 for medians.',
            ]),
      ],
    };
  },
  async run(ctx) {
    const { cli, bins } = await prepare(ctx, ['loadgen', 'echoserver']);
    const loadgen = bins.loadgen!;
    const echoserver = bins.echoserver!;

    const where = splitPlacement();
    if (typeof where === 'string') ctx.log(`warning: not pinning servers and loadgen: ${where}`);
    else ctx.log(where.text);
    const cpus = typeof where === 'string' ? undefined : where;

    const node = process.execPath;
    const servers: ServerDef[] = [
      { subject: NETKIT, command: node, args: [cli, 'tcp', 'serve', '127.0.0.1:0', '--echo', '--quiet'] },
      {
        subject: PLAIN,
        command: node,
        args: [path.join(ctx.root, 'bench', 'servers', 'plain-node-echo.mjs')],
      },
      {
        subject: LINES,
        command: node,
        args: [path.join(ctx.root, 'bench', 'servers', 'plain-node-line-echo.mjs')],
      },
      { subject: GO, command: echoserver, args: ['-addr', '127.0.0.1:0'] },
    ].map((s) => pinned(s, cpus?.server));

    const spec = {
      loadgen,
      name: 'loadgen',
      size: SIZE,
      warmupSec: WARMUP_SEC,
      unit: 'conn',
      extra: [],
      loadgenCpus: cpus?.loadgen,
    };
    return runRounds(ctx, servers, CONNS, (server, conns) => measurePingPong(ctx, spec, server, conns));
  },
};

export default tcp;
