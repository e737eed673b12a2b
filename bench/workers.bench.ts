/**
 * workers: `tcp serve --echo --workers 2` against one process, with the two
 * ways node:cluster spreads accepted connections over workers:
 *   round-robin  the primary accepts every connection and passes it to a
 *                worker over IPC (node:cluster's SCHED_RR)
 *   kernel       every worker accepts from the shared listening socket and
 *                the kernel decides who wins (SCHED_NONE)
 * The policy is picked with Node's own NODE_CLUSTER_SCHED_POLICY (rr, none).
 *
 * Cases: 32 long connections in strict ping-pong (bench/go/loadgen: the
 * steady state, where only the balance of connections over workers matters)
 * and 8 dialers making short connections (bench/go/connrate: dial, one line
 * each way, close; every connection goes through accept), each run twice:
 * unpinned (loadgen and server share both cores as the scheduler likes), and
 * with loadgen on CPU 0 and every server process on CPU 1 (no spare core for
 * a second worker: what --workers costs when N exceeds the free cores).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { measurePingPong, prepare, runRounds, type ServerDef } from './lib/pingpong.js';
import { type Placement, pinned, splitPlacement } from './lib/placement.js';
import type { Benchmark, Row } from './lib/types.js';

const SIZE = 64;
const WARMUP_SEC = 1;

const ONE = 'netkit (1 process)';
const RR = 'netkit --workers 2, round-robin';
const KERNEL = 'netkit --workers 2, kernel';

interface Case {
  label: string;
  tool: 'loadgen' | 'connrate';
  conns: number;
  pinned: boolean;
}

const CASES: readonly Case[] = [
  { label: '32 long, unpinned', tool: 'loadgen', conns: 32, pinned: false },
  { label: 'short ×8, unpinned', tool: 'connrate', conns: 8, pinned: false },
  { label: '32 long, 1 server CPU', tool: 'loadgen', conns: 32, pinned: true },
  { label: 'short ×8, 1 server CPU', tool: 'connrate', conns: 8, pinned: true },
];

/** groupPids lists the processes of the process group `pgid` with their user+system CPU ticks. */
function groupTicks(pgid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const f = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid) out.set(Number(d), Number(fields[11]) + Number(fields[12]));
    } catch {
      // exited while we looked
    }
  }
  return out;
}

/** socketInodes is the set of socket inodes open in process `pid`. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) out.add(m[1]!);
      } catch {
        // closed while we looked
      }
    }
  } catch {
    // exited
  }
  return out;
}

/** establishedOn is the inodes of ESTABLISHED IPv4 sockets whose local port is `port`. */
function establishedOn(port: number): Set<string> {
  const out = new Set<string>();
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && f[1]!.endsWith(`:${hex}`) && f[3] === '01') out.add(f[9]!);
  }
  return out;
}

/**
 * sampleSpread measures, over the window, the primary's share of the
 * server's CPU and the busiest worker's share of the workers' CPU (50% is
 * an even split of two), and at its start the busiest worker's share of the
 * open connections. A single process reports none of these.
 */
function sampleSpread(pid: number, address: string): () => Record<string, number> {
  const before = groupTicks(pid);
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const conns = establishedOn(port);
  const perWorker = [...before.keys()]
    .filter((p) => p !== pid)
    .map((p) => [...socketInodes(p)].filter((i) => conns.has(i)).length);
  const held = perWorker.reduce((a, b) => a + b, 0);
  return () => {
    const after = groupTicks(pid);
    if (after.size < 2) return {};
    const used = (p: number) => (after.get(p) ?? 0) - (before.get(p) ?? 0);
    const total = [...after.keys()].reduce((a, p) => a + used(p), 0);
    const workers = [...after.keys()].filter((p) => p !== pid).map(used);
    const workerTotal = workers.reduce((a, b) => a + b, 0);
    return {
      primary_pct: total > 0 ? (used(pid) / total) * 100 : 0,
      busiest_cpu_pct: workerTotal > 0 ? (Math.max(...workers) / workerTotal) * 100 : 0,
      ...(held >= 8 ? { busiest_conns_pct: (Math.max(...perWorker) / held) * 100 } : {}),
    };
  };
}

function placementText(): string {
  const where = splitPlacement();
  return typeof where === 'string' ? `not pinned (${where})` : `1 server CPU: ${where.text}`;
}

const workers: Benchmark = {
  name: 'workers',
  description:
    'tcp serve --echo --workers 2, round-robin vs kernel accept distribution, against one process (long and short connections)',
  table: (ctx) => ({
    title:
      `workers: --workers accept distribution, ${SIZE}-byte line echo (${ctx.durationSec}s, ${WARMUP_SEC}s warm-up` +
      `${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''})`,
    subjectHeader: 'server',
    caseHeader: 'case',
    metrics: [
      { key: 'rate', header: 'round trips or conns/s' },
      { key: 'p50_us', header: 'p50 µs', decimals: 1 },
      { key: 'p99_us', header: 'p99 µs', decimals: 1 },
      { key: 'cpu_us', header: 'server CPU µs/op', decimals: 2 },
      { key: 'primary_pct', header: 'primary CPU %', decimals: 1 },
      { key: 'busiest_cpu_pct', header: 'busiest worker CPU %', decimals: 1 },
      { key: 'busiest_conns_pct', header: 'busiest worker conns %', decimals: 1 },
      ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
    ],
    ratios: [
      { header: 'vs 1 process', metric: 'rate', baseline: ONE },
      { header: 'CPU vs 1 process', metric: 'cpu_us', baseline: ONE },
    ],
    targets: [
      {
        subject: KERNEL,
        baseline: ONE,
        metric: 'rate',
        min: 1.0,
        short: '≥ 1.00× 1 process',
        cases: CASES.filter((c) => !c.pinned).map((c) => c.label),
      },
    ],
    notes: [
      '"long": 32 connections of strict ping-pong (loadgen), rate in round trips/s; "short": 8 dialers',
      'each looping dial, one 64-byte line each way, close (connrate), rate in connections/s.',
      `"unpinned": loadgen and the server share both cores; ${placementText()}, so a second`,
      "worker has no core of its own. primary CPU % is the primary's share of the server's CPU; busiest",
      "worker CPU % and conns % are the larger worker's share of the workers' CPU and of the open",
      'connections (50% is an even split). server CPU counts every process: primary and workers.',
      'The target holds where a second core is free for the second worker (the unpinned cases).',
      ...(ctx.rounds > 1
        ? ["spread % is (max − min) / median of the rounds' rates; p50/p99 are from the median round."]
        : ['One run per cell: use --rounds 3 for medians.']),
    ],
  }),
  async run(ctx) {
    const { cli, bins } = await prepare(ctx, ['loadgen', 'connrate']);
    const where: Placement | string = splitPlacement();
    if (typeof where === 'string') ctx.log(`warning: the pinned cases run unpinned: ${where}`);
    const cpus = typeof where === 'string' ? undefined : where;

    const serve = [cli, 'tcp', 'serve', '127.0.0.1:0', '--echo', '--quiet'];
    const node = process.execPath;
    // env(1) execs node, so the pid and process group stay the server's.
    const servers: ServerDef[] = [
      { subject: ONE, command: node, args: serve },
      {
        subject: RR,
        command: 'env',
        args: ['NODE_CLUSTER_SCHED_POLICY=rr', node, ...serve, '--workers', '2'],
      },
      {
        subject: KERNEL,
        command: 'env',
        args: ['NODE_CLUSTER_SCHED_POLICY=none', node, ...serve, '--workers', '2'],
      },
    ];

    const indexes = CASES.map((_, i) => i);
    return runRounds(ctx, servers, indexes, async (server, i): Promise<Row> => {
      const c = CASES[i]!;
      const spec = {
        loadgen: bins[c.tool]!,
        name: c.tool,
        size: SIZE,
        warmupSec: WARMUP_SEC,
        unit: 'conn',
        extra: [],
        sample: sampleSpread,
        ...(c.pinned && cpus ? { loadgenCpus: cpus.loadgen } : {}),
      };
      ctx.log(c.label);
      const row = await measurePingPong(ctx, spec, c.pinned ? pinned(server, cpus?.server) : server, c.conns);
      return { ...row, case: c.label, params: { ...row.params, tool: c.tool, pinned: String(c.pinned) } };
    });
  },
};

export default workers;
