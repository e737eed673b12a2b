/**
 * startup: how long the CLI takes from exec to exit, against `node -e ''`.
 *
 * Each subject is a process, timed from spawn to exit with hyperfine (`-N`,
 * no shell; 2 warm-up runs, then RUNS runs) when it is installed, else from
 * spawn to exit over the same counts. Rounds (--rounds) run the subjects of a
 * case interleaved, order rotating, so load from elsewhere on the machine
 * falls on all of them alike; the median and p90 of all runs are reported,
 * and CPU per start (user + system) beside them.
 *   --version           netkit --version; ncat --version and socat -V as anchors
 *   connect, refused    netkit tcp connect to a closed loopback port (exits 3 at once);
 *                       ncat and socat doing the same
 *   connect, --send x   netkit tcp connect --send x to a local server that answers and closes
 * Every case has `node -e ''` as its baseline: Node's own start-up, the floor
 * for any Node CLI.
 */

import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { BenchContext, Benchmark, Row } from './lib/types.js';

const execFileP = promisify(execFile);

const NODE = "node -e ''";
const NETKIT = 'netkit';
const NCAT = 'ncat';
const SOCAT = 'socat';
const WARMUPS = 2;
const RUNS = 10;

interface Subject {
  readonly name: string;
  readonly case: string;
  readonly argv: readonly string[];
  skipped?: string;
}

interface Tally {
  readonly subject: Subject;
  times: number[];
  cpu: number[];
  error?: string;
}

let runNotes: string[] = [];

function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
  return s[i]!;
}

function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

/** childCpuMs is the user + system time of this process's waited-for children so far (/proc/self/stat). */
async function childCpuMs(): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8');
  // Fields after the parenthesised command; cutime and cstime are fields 16 and 17 (1-based).
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[13]) + Number(rest[14]);
  // Linux reports USER_HZ ticks, 100 per second on every mainstream architecture.
  return ticks * 10;
}

/** hyperfineOnce runs one subject RUNS times under hyperfine and returns per-run times and CPU. */
async function hyperfineOnce(dir: string, s: Subject): Promise<{ times: number[]; cpu: number }> {
  const out = path.join(dir, 'h.json');
  const command = s.argv.map((a) => (/^[\w./:=-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ');
  await execFileP('hyperfine', [
    '-N',
    '-i',
    '--style',
    'none',
    '--warmup',
    String(WARMUPS),
    '--runs',
    String(RUNS),
    '--export-json',
    out,
    command,
  ]);
  const r = (
    JSON.parse(await readFile(out, 'utf8')) as {
      results: { times: number[]; user: number; system: number }[];
    }
  ).results[0]!;
  return { times: r.times.map((t) => t * 1000), cpu: (r.user + r.system) * 1000 };
}

/** runToExit spawns argv and resolves when it has exited, whatever its status. */
function runToExit(argv: readonly string[]): Promise<void> {
  const [cmd, ...args] = argv as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', () => resolve());
  });
}

/**
 * spawnOnce is hyperfineOnce without hyperfine: spawn-to-exit timing, CPU from the
 * children's rusage. Asynchronous, not spawnSync, so the answering server in this
 * process keeps serving while a subject runs.
 */
async function spawnOnce(s: Subject): Promise<{ times: number[]; cpu: number }> {
  for (let i = 0; i < WARMUPS; i++) await runToExit(s.argv);
  const times: number[] = [];
  const cpu0 = await childCpuMs();
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await runToExit(s.argv);
    times.push(performance.now() - t0);
  }
  return { times, cpu: ((await childCpuMs()) - cpu0) / RUNS };
}

/** closedPort is a loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

function subjects(ctx: BenchContext, refused: number, answering: number): Subject[] {
  const main = path.join(ctx.root, 'dist', 'cli', 'main.js');
  const node = process.execPath;
  const list: Subject[] = [];
  const cases: [string, Subject[]][] = [
    [
      '--version',
      [
        { name: NETKIT, case: '', argv: [node, main, '--version'] },
        { name: NCAT, case: '', argv: ['ncat', '--version'] },
        { name: SOCAT, case: '', argv: ['socat', '-V'] },
      ],
    ],
    [
      'connect, refused',
      [
        { name: NETKIT, case: '', argv: [node, main, 'tcp', 'connect', `127.0.0.1:${refused}`] },
        { name: NCAT, case: '', argv: ['ncat', '127.0.0.1', String(refused)] },
        { name: SOCAT, case: '', argv: ['socat', '-u', 'OPEN:/dev/null', `TCP:127.0.0.1:${refused}`] },
      ],
    ],
    [
      'connect, --send x',
      [
        {
          name: NETKIT,
          case: '',
          argv: [node, main, 'tcp', 'connect', '--send', 'x', `127.0.0.1:${answering}`],
        },
      ],
    ],
  ];
  for (const [c, subs] of cases) {
    list.push({ name: NODE, case: c, argv: [node, '-e', ''] });
    for (const s of subs) {
      const tool = s.name === NETKIT ? undefined : s.name;
      list.push({ ...s, case: c, skipped: tool && !have(tool) ? `${tool} is not installed` : undefined });
    }
  }
  return list;
}

function toRow(t: Tally): Row {
  const row: Row = {
    subject: t.subject.name,
    case: t.subject.case,
    metrics: {},
    params: { argv: t.subject.argv.join(' ') },
  };
  if (t.subject.skipped) row.skipped = t.subject.skipped;
  else if (t.error || t.times.length === 0) row.error = t.error ?? 'nothing was measured';
  else {
    const ms = quantile(t.times, 0.5);
    row.metrics = {
      ms,
      p90_ms: quantile(t.times, 0.9),
      cpu_ms: t.cpu.reduce((a, b) => a + b, 0) / t.cpu.length,
      rate: 1000 / ms,
      runs: t.times.length,
    };
    row.detail = { times_ms: t.times.map((x) => Number(x.toFixed(2))) };
  }
  return row;
}

const startup: Benchmark = {
  name: 'startup',
  description: "CLI start-up: netkit --version and tcp connect against node -e '', ncat and socat",
  table: (ctx) => ({
    title:
      `startup: exec to exit (median of ${ctx.rounds} interleaved round(s) × ${RUNS} runs after ${WARMUPS} warm-up, ` +
      `${have('hyperfine') ? 'hyperfine -N' : 'spawn to exit'})`,
    subjectHeader: 'command',
    caseHeader: 'case',
    metrics: [
      { key: 'ms', header: 'median ms', decimals: 1 },
      { key: 'p90_ms', header: 'p90 ms', decimals: 1 },
      { key: 'cpu_ms', header: 'CPU ms/start', decimals: 1 },
      { key: 'runs', header: 'runs' },
    ],
    ratios: [{ header: "time vs node -e ''", metric: 'ms', baseline: NODE }],
    targets: [
      {
        subject: NETKIT,
        baseline: NODE,
        metric: 'rate',
        min: 1 / 1.5,
        short: "≤ 1.5× node -e ''",
        cases: ['--version', 'connect, refused'],
      },
    ],
    notes: [
      "Ratios are time per start against `node -e ''` in the same case: 1.00× is Node's own start-up.",
      'netkit runs from dist/ (npm run bench builds first). "refused" connects to a closed loopback',
      'port and exits with an error at once; "--send x" talks to a local server that answers and closes.',
      ...runNotes,
    ],
  }),
  async run(ctx) {
    runNotes = [];
    const useHyperfine = have('hyperfine');
    if (!useHyperfine) runNotes.push('hyperfine is not installed; timed from spawn to exit instead.');
    const refused = await closedPort();
    const server = net.createServer((sock) => {
      sock.on('data', (d) => sock.end(d));
      sock.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const answering = (server.address() as net.AddressInfo).port;
    const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-startup-'));
    const list = subjects(ctx, refused, answering);
    const tallies: Tally[] = list.map((subject) => ({ subject, times: [], cpu: [] }));
    try {
      for (let r = 0; r < ctx.rounds; r++) {
        for (const c of new Set(list.map((s) => s.case))) {
          const live = tallies.filter((t) => t.subject.case === c && !t.subject.skipped && !t.error);
          for (let i = 0; i < live.length; i++) {
            if (ctx.signal.aborted) throw new Error('interrupted');
            // Rotating the order spreads drift (the other load on the machine) over every subject.
            const t = live[(i + r) % live.length]!;
            ctx.log(`round ${r + 1}/${ctx.rounds}: ${c}: ${t.subject.name}`);
            try {
              const got = useHyperfine ? await hyperfineOnce(dir, t.subject) : await spawnOnce(t.subject);
              t.times.push(...got.times);
              t.cpu.push(got.cpu);
            } catch (err) {
              t.error = (err as Error).message.split('\n')[0];
            }
          }
        }
      }
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
    return tallies.map(toRow);
  },
};

export default startup;
