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
import path from 'node:path';
import { measurePingPong, pingPongTable, prepare, runRounds, type ServerDef } from './lib/pingpong.js';
import { pinned, splitPlacement } from './lib/placement.js';
import type { Benchmark } from './lib/types.js';

const CONNS = [1, 16] as const;
const SIZE = 64;
const WARMUP_SEC = 1;

const NETKIT = 'netkit';
const PLAIN = 'plain node:dgram';
const GO = 'Go udpecho';

const udp: Benchmark = {
  name: 'udp',
  description:
    '64-byte datagram ping-pong through UDP echo servers (netkit, node:dgram, Go), 1 and 16 sockets, server and loadgen pinned apart',
  table: (ctx) => {
    const where = splitPlacement();
    return {
      ...pingPongTable(ctx, {
        what: `udp: ${SIZE}-byte datagram ping-pong`,
        loadgen: 'udploadgen',
        warmupSec: WARMUP_SEC,
        plain: PLAIN,
        plainLabel: 'node:dgram',
        go: GO,
        extra: [{ key: 'lost', header: 'lost' }],
        placement: typeof where === 'string' ? 'unpinned' : where.text,
      }),
      targets: [{ subject: NETKIT, baseline: PLAIN, metric: 'rate', min: 0.95, short: '≥ 0.95× node:dgram' }],
      notes: [
        'conns is the number of connected client sockets, each with one datagram in flight. Ratios compare',
        'round trips/s with the same number of sockets. Servers run one at a time, each started fresh,',
        'every one pinned to the same CPU and udploadgen to the others (taskset), as in the tcp benchmark.',
        'server CPU µs/rt is the server',
        "process group's user+system CPU per round trip (lower is better). lost counts measured requests",
        'whose reply did not arrive within 200 ms; the loop goes on after a loss.',
        ...(ctx.rounds > 1
          ? ["spread % is (max − min) / median of the rounds' rates; p50/p99/lost are from the median round."]
          : [
              'One run per cell; single runs can differ by 10% or more on a small machine: use --rounds 3 for medians.',
            ]),
        ...(typeof where === 'string' ? [`Not pinned: ${where}.`] : []),
      ],
    };
  },
  async run(ctx) {
    const { cli, bins } = await prepare(ctx, ['udploadgen', 'udpecho']);
    const loadgen = bins.udploadgen!;
    const udpecho = bins.udpecho!;

    const where = splitPlacement();
    if (typeof where === 'string') ctx.log(`warning: not pinning servers and udploadgen: ${where}`);
    else ctx.log(where.text);
    const cpus = typeof where === 'string' ? undefined : where;

    const node = process.execPath;
    const servers: ServerDef[] = [
      { subject: NETKIT, command: node, args: [cli, 'udp', 'serve', '127.0.0.1:0', '--echo', '--quiet'] },
      {
        subject: PLAIN,
        command: node,
        args: [path.join(ctx.root, 'bench', 'servers', 'plain-node-udp-echo.mjs')],
      },
      { subject: GO, command: udpecho, args: ['-addr', '127.0.0.1:0'] },
    ].map((s) => pinned(s, cpus?.server));

    const spec = {
      loadgen,
      name: 'udploadgen',
      size: SIZE,
      warmupSec: WARMUP_SEC,
      unit: 'socket',
      extra: ['lost'],
      // udploadgen reports discarded late replies on stderr; keep them for --json.
      keepStderr: true,
      loadgenCpus: cpus?.loadgen,
    };
    return runRounds(ctx, servers, CONNS, (server, conns) => measurePingPong(ctx, spec, server, conns));
  },
};

export default udp;
