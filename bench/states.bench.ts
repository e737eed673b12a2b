/**
 * states: one full scan of a TCP table holding 10,000 sockets.
 *
 * A helper process (bench/servers/socket-holder.mjs) opens 5,000 loopback
 * connections to its own listener, so the table holds 10,000 ESTABLISHED
 * sockets and one LISTEN (plus whatever else the machine has open). Every
 * subject then scans that table; the time of one scan is measured, 2
 * warm-up rounds first, then up to 20 rounds with the subjects interleaved
 * (order rotating each round), and the median is reported:
 *   netkit                 readTcpSockets({ processes: false }), in-process
 *   netkit + processes     readTcpSockets(), with the pid/command lookup
 *   netkit states --json   the CLI as a process, Node start-up included
 *   ss -tan, ss -tanp      iproute2, as processes
 *   netstat -tan           net-tools, as a process
 * Every scan must count at least the sockets the holder holds, and the
 * process lookups must attribute all of them to the holder.
 */

import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { formatDuration } from './lib/args.js';
import { type Server, startServer } from './lib/proc.js';
import { serverDied } from './lib/server-run.js';
import { formatNumber } from './lib/table.js';
import type { BenchContext, Benchmark, Row } from './lib/types.js';
import { CLI, NETKIT, NETKIT_P, NETSTAT, type Seen, SS, type Subject, subjects } from './states/subjects.js';

const PAIRS = 5000;
/** NOFILE is the descriptor limit asked for: 10,001 sockets plus Node's own, with room to spare. */
const NOFILE = 30_000;
const WARMUPS = 2;
const MAX_ROUNDS = 20;
/** MIN_ROUNDS is kept even when the time budget (--duration per subject) runs out first. */
const MIN_ROUNDS = 5;

/** runNotes are what the last run found out about the machine, printed under its table. */
let runNotes: string[] = [];

interface Tally {
  subject: Subject;
  times: number[];
  seen: Seen[];
  error?: string;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * startHolder starts the socket holder under a shell that raises its
 * descriptor limit. Without CAP_SYS_RESOURCE the soft limit cannot go above
 * the hard one, so it falls back to the hard limit; the holder then opens as
 * many pairs as fit and says how many sockets it holds.
 */
async function startHolder(ctx: BenchContext): Promise<{ srv: Server; held: number; nofile: string }> {
  const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`;
  const holder = path.join(ctx.root, 'bench', 'servers', 'socket-holder.mjs');
  const srv = await startServer({
    name: 'socket-holder',
    command: 'sh',
    args: ['-c', script, 'sh', process.execPath, holder, String(PAIRS)],
    cwd: ctx.root,
    readyTimeoutMs: 120_000,
  });
  const m = /ready (\d+) sockets, nofile (\S+)\)/.exec(srv.firstLine);
  if (!m) {
    await srv.stop();
    throw new Error(`socket-holder: unexpected first line ${JSON.stringify(srv.firstLine)}`);
  }
  return { srv, held: Number(m[1]), nofile: m[2]! };
}

/** check returns why a scan's counts are wrong, or undefined when it saw every held socket. */
function check(seen: Seen, held: number): string | undefined {
  if (seen.sockets < held) return `saw ${seen.sockets} sockets; the holder alone holds ${held}`;
  if (seen.owned !== undefined && seen.owned < held) {
    return `attributed ${seen.owned} sockets to the holder process, which holds ${held}`;
  }
  return undefined;
}

/** scanOnce times one scan of `t`, recording the time or the first error. */
async function scanOnce(t: Tally, held: number, record: boolean): Promise<void> {
  const t0 = performance.now();
  let seen: Seen;
  try {
    seen = await t.subject.scan();
  } catch (err) {
    t.error = (err as Error).message;
    return;
  }
  const ms = performance.now() - t0;
  t.error = check(seen, held);
  if (record && !t.error) {
    t.times.push(ms);
    t.seen.push(seen);
  }
}

async function measure(ctx: BenchContext, list: Subject[], held: number): Promise<Tally[]> {
  const tallies: Tally[] = list
    .filter((s) => !s.skipped)
    .map((subject) => ({ subject, times: [], seen: [] }));
  const live = () => tallies.filter((t) => !t.error);
  ctx.log(`${WARMUPS} warm-up rounds`);
  for (let r = 0; r < WARMUPS; r++) for (const t of live()) await scanOnce(t, held, false);
  const budgetMs = ctx.durationSec * 1000 * tallies.length;
  const started = performance.now();
  for (let r = 0; r < MAX_ROUNDS; r++) {
    if (ctx.signal.aborted) throw new Error('interrupted');
    // Rotating the order spreads any drift (other load on the machine, cache state) over every subject.
    const order = live();
    for (let i = 0; i < order.length; i++) await scanOnce(order[(i + r) % order.length]!, held, true);
    if (r + 1 >= MIN_ROUNDS && performance.now() - started > budgetMs) break;
  }
  return tallies;
}

function toRow(subject: Subject, t: Tally | undefined, held: number): Row {
  const row: Row = {
    subject: subject.name,
    case: formatNumber(held),
    metrics: {},
    params: { held, how: subject.how },
  };
  if (subject.skipped || !t) row.skipped = subject.skipped ?? 'not measured';
  else if (t.error || t.times.length === 0) row.error = t.error ?? 'no scan was measured';
  else {
    const ms = median(t.times);
    const sockets = median(t.seen.map((s) => s.sockets));
    row.metrics = {
      ms,
      min_ms: Math.min(...t.times),
      sockets,
      rate: sockets / (ms / 1000),
      scans: t.times.length,
    };
    row.detail = { times_ms: t.times.map((x) => Number(x.toFixed(3))) };
  }
  return row;
}

const states: Benchmark = {
  name: 'states',
  description: 'one scan of a 10,000-socket TCP table: netkit (library, CLI) vs ss -tan(p) and netstat -tan',
  table: (ctx) => ({
    title:
      `states: one full scan of the TCP table (${formatNumber(PAIRS)} loopback connections, both ends held; ` +
      `median of up to ${MAX_ROUNDS} interleaved rounds after ${WARMUPS} warm-up, ` +
      `budget ${formatDuration(ctx.durationSec)} per subject)`,
    subjectHeader: 'scanner',
    caseHeader: 'held',
    metrics: [
      { key: 'ms', header: 'ms/scan', decimals: 1 },
      { key: 'min_ms', header: 'min ms', decimals: 1 },
      { key: 'sockets', header: 'sockets seen' },
      { key: 'rate', header: 'sockets/s' },
      { key: 'scans', header: 'scans' },
    ],
    ratios: [
      { header: 'time vs ss -tan', metric: 'ms', baseline: SS },
      { header: 'time vs netstat -tan', metric: 'ms', baseline: NETSTAT },
    ],
    targets: [],
    notes: [
      'Ratios are time per scan against the baseline: below 1.00× is faster. "held" is the sockets the',
      "holder owns (both ends of each connection and its listener); 'sockets seen' also counts the rest",
      'of the machine. Every scan must see all held sockets, and the process lookups (netkit + processes,',
      'ss -tanp) must attribute all of them to the holder, or the row fails.',
      'ss asks the kernel over netlink (NETLINK_SOCK_DIAG, inet_diag) for binary socket records; netkit',
      'and netstat read the text tables /proc/net/tcp and /proc/net/tcp6, which the kernel formats line',
      'by line, and parse them. For owners, netkit and ss -p both read every /proc/<pid>/fd/* link.',
      `The ${NETKIT} and ${NETKIT_P} rows time one call in the harness process (JIT warm);`,
      'the others are processes, timed from spawn to exit with their output read through a pipe,',
      `so ${CLI} includes Node start-up.`,
      ...runNotes,
    ],
  }),
  async run(ctx) {
    runNotes = [];
    ctx.log(`starting socket-holder (${PAIRS} loopback connections to itself)`);
    const { srv, held, nofile } = await startHolder(ctx);
    if (Number(nofile) < NOFILE) {
      runNotes.push(
        `ulimit -n ${NOFILE} was refused (no CAP_SYS_RESOURCE?); the holder ran with nofile ${nofile}, its hard limit.`,
      );
    }
    if (held < 2 * PAIRS + 1) {
      runNotes.push(`Only ${held} sockets fit under nofile ${nofile}; the table is smaller than planned.`);
    }
    ctx.log(`holder pid ${srv.pid} holds ${held} sockets (nofile ${nofile})`);
    let rows: Row[];
    try {
      const list = await subjects(ctx, srv.pid);
      const tallies = await measure(ctx, list, held);
      const died = serverDied(srv);
      rows = list.map((s) =>
        toRow(
          s,
          tallies.find((t) => t.subject === s),
          held,
        ),
      );
      if (died) for (const r of rows) if (!r.skipped) r.error = died;
    } finally {
      const warnings = await srv.stop();
      for (const w of warnings) ctx.log(`warning: ${w}`);
    }
    return rows;
  },
};

export default states;
