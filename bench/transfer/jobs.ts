/**
 * The subjects of the transfer benchmark: how each one sends and receives
 * in each case, and the checks of what arrived.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { buildGo, goVersion } from '../lib/go.js';
import { lastJsonLine } from '../lib/json-line.js';
import { runCommand } from '../lib/proc.js';
import type { BenchContext, Row } from '../lib/types.js';
import { sha256File, type Tree, treeStats } from './data.js';
import { freePort, type Ready, startReceiver, timedTransfer } from './procs.js';

const MiB = 1024 * 1024;
export const BIG_CASE = '1 GiB file';
export const SMALL_CASE = '10,000 small files';
export const BIG_BYTES = 1024 * MiB;
export const DIRS = 100;
export const PER_DIR = 100;
const TIMEOUT_MS = 300_000;

const BIG = BIG_CASE;
const SMALL = SMALL_CASE;
export const NETKIT = 'netkit';
export const NETKIT_PLAIN = 'netkit --plain';
export const NETKIT_VIA = 'netkit via rendezvous';
/** CODE is the code both sides are given (the receiver would generate one; the benchmark passes its own). */
const CODE = '1-bench-transfer-code';
export const GO = 'Go io.Copy';
export const PLAIN = 'plain Node pipe';
const SOCAT = 'socat';
export const IPERF = 'iperf3 loopback';

export interface Inputs {
  big: string;
  bigSha: string;
  tree: Tree;
  dest: string;
}

/** Tools are the programs found (a path) or why a subject cannot run (skip). */
interface Tools {
  cli: string;
  noCli?: string;
  filesend?: string;
  filerecv?: string;
  noGo?: string;
  noSocat?: string;
  noIperf?: string;
}

/** Job measures one subject in one case; `verify` asks for the SHA-256 check too. */
export interface Job {
  subject: string;
  case: string;
  skipped?: string;
  run?: (verify: boolean) => Promise<Pick<Row, 'metrics' | 'detail'>>;
}

async function onPath(ctx: BenchContext, tool: string): Promise<boolean> {
  const r = await runCommand('sh', ['-c', `command -v ${tool}`], { cwd: ctx.root, timeoutMs: 10_000 });
  return r.code === 0;
}

export async function findTools(ctx: BenchContext): Promise<Tools> {
  const cli = path.join(ctx.root, 'dist', 'cli', 'main.js');
  const tools: Tools = { cli };
  if (!existsSync(cli)) tools.noCli = 'dist/cli/main.js is missing; build first (npm run build)';
  else {
    const r = await runCommand(process.execPath, [cli, 'send', '--help'], {
      cwd: ctx.root,
      timeoutMs: 30_000,
    });
    // Without the command, --help prints the top-level help and succeeds.
    if (r.code !== 0 || !r.stdout.includes('--compat'))
      tools.noCli = 'this build of the CLI has no `send` command (npm run build after adding it)';
  }
  const version = await goVersion(ctx.root);
  if (version === null) tools.noGo = 'Go is not installed (apt-get install golang-go)';
  else {
    ctx.log(`building test/interop/filesend and filerecv with ${version}`);
    tools.filesend = await buildGo(ctx, 'filesend', path.join('test', 'interop', 'filesend'));
    tools.filerecv = await buildGo(ctx, 'filerecv', path.join('test', 'interop', 'filerecv'));
  }
  if (!(await onPath(ctx, 'socat'))) tools.noSocat = 'socat is not installed (apt-get install socat)';
  if (!(await onPath(ctx, 'iperf3'))) tools.noIperf = 'iperf3 is not installed (apt-get install iperf3)';
  return tools;
}

async function checkFile(file: string, bytes: number, sha?: string): Promise<void> {
  const size = (await stat(file)).size;
  if (size !== bytes) throw new Error(`${file} has ${size} bytes, expected ${bytes}`);
  if (sha && (await sha256File(file)) !== sha) throw new Error(`${file} differs from the source (SHA-256)`);
}

async function checkTree(dir: string, tree: Tree): Promise<void> {
  const got = await treeStats(dir);
  if (got.files !== tree.files.length || got.bytes !== tree.bytes) {
    throw new Error(
      `received ${got.files} files, ${got.bytes} bytes; expected ${tree.files.length} files, ${tree.bytes} bytes`,
    );
  }
}

function metrics(bytes: number, seconds: number, files?: number): Record<string, number> {
  return { mib_s: bytes / MiB / seconds, seconds, ...(files ? { files_s: files / seconds } : {}) };
}

/** jobs lists every subject in every case, in table order. */
export function jobs(ctx: BenchContext, t: Tools, inp: Inputs): Job[] {
  const node = process.execPath;
  const root = ctx.root;
  const dest = inp.dest;
  const bigDest = path.join(dest, path.basename(inp.big));
  // One timed transfer into a fresh, empty destination.
  const transfer = async (
    name: string,
    recv: { command: string; args: readonly string[]; ready: Ready },
    send: (address: string) => { command: string; args: string[]; cwd?: string },
  ) => {
    await rm(dest, { recursive: true, force: true });
    await mkdir(dest, { recursive: true });
    const r = await startReceiver(`${name} receiver`, recv.command, recv.args, recv.ready, root);
    const s = send(r.address);
    return timedTransfer(r, { name: `${name} sender`, cwd: root, ...s }, TIMEOUT_MS);
  };
  const netkitRecv = (plain: boolean) => ({
    command: node,
    args: [
      t.cli,
      'recv',
      '127.0.0.1:0',
      '--once',
      '--dir',
      dest,
      '--json',
      ...(plain ? ['--plain'] : ['--code', CODE]),
    ],
    ready: { line: true } as const,
  });
  const netkitSend = (plain: boolean, what: string) => (a: string) => ({
    command: node,
    args: [t.cli, 'send', what, a, '--json', ...(plain ? ['--plain'] : ['--code', CODE])],
  });
  /**
   * viaRendezvous runs one transfer through a rendezvous started for it: the receiver
   * dials out and waits (its `waiting` line), then the timed sender dials out too.
   */
  const viaRendezvous = async (what: string) => {
    const rv = await startReceiver(
      'rendezvous',
      node,
      [t.cli, 'relay', '--rendezvous', '127.0.0.1:0', '--json', '-q'],
      { line: true },
      root,
    );
    try {
      return await transfer(
        'netkit via rendezvous',
        {
          command: node,
          args: [t.cli, 'recv', '--via', rv.address, CODE, '--dir', dest, '--json'],
          ready: { waiting: rv.address },
        },
        () => ({ command: node, args: [t.cli, 'send', '--via', rv.address, '--code', CODE, what, '--json'] }),
      );
    } finally {
      rv.kill();
    }
  };
  const goRecv = (n: number) => ({
    command: t.filerecv!,
    args: ['-addr', '127.0.0.1:0', '-dir', dest, '-n', String(n)],
    ready: { line: true } as const,
  });
  const detail = (sender: string, receiver: string) => ({
    sender: lastJsonLine(sender, []) ?? sender.trim().split('\n').pop(),
    receiver: lastJsonLine(receiver, []) ?? receiver.trim().split('\n').pop(),
  });

  return [
    {
      subject: NETKIT,
      case: BIG,
      skipped: t.noCli,
      run: async (verify) => {
        const r = await transfer('netkit', netkitRecv(false), netkitSend(false, inp.big));
        await checkFile(bigDest, BIG_BYTES, verify ? inp.bigSha : undefined);
        return { metrics: metrics(BIG_BYTES, r.seconds), detail: detail(r.sender.stdout, r.receiverStdout) };
      },
    },
    {
      subject: NETKIT_VIA,
      case: BIG,
      skipped: t.noCli,
      run: async (verify) => {
        const r = await viaRendezvous(inp.big);
        await checkFile(bigDest, BIG_BYTES, verify ? inp.bigSha : undefined);
        return { metrics: metrics(BIG_BYTES, r.seconds), detail: detail(r.sender.stdout, r.receiverStdout) };
      },
    },
    {
      subject: NETKIT_PLAIN,
      case: BIG,
      skipped: t.noCli,
      run: async (verify) => {
        const r = await transfer('netkit --plain', netkitRecv(true), netkitSend(true, inp.big));
        await checkFile(bigDest, BIG_BYTES, verify ? inp.bigSha : undefined);
        return { metrics: metrics(BIG_BYTES, r.seconds), detail: detail(r.sender.stdout, r.receiverStdout) };
      },
    },
    {
      subject: GO,
      case: BIG,
      skipped: t.noGo,
      run: async (verify) => {
        const r = await transfer('Go', goRecv(1), (a) => ({
          command: t.filesend!,
          args: ['-addr', a, inp.big],
        }));
        await checkFile(bigDest, BIG_BYTES, verify ? inp.bigSha : undefined);
        return { metrics: metrics(BIG_BYTES, r.seconds), detail: detail(r.sender.stdout, r.receiverStdout) };
      },
    },
    {
      subject: PLAIN,
      case: BIG,
      run: async () => {
        const recv = {
          command: node,
          args: [path.join(root, 'bench', 'servers', 'plain-node-file-recv.mjs'), bigDest],
          ready: { line: true } as const,
        };
        const r = await transfer('plain Node', recv, (a) => ({
          command: node,
          args: [path.join(root, 'bench', 'clients', 'plain-node-file-send.mjs'), inp.big, a],
        }));
        await checkFile(bigDest, BIG_BYTES);
        return { metrics: metrics(BIG_BYTES, r.seconds) };
      },
    },
    {
      subject: SOCAT,
      case: BIG,
      skipped: t.noSocat,
      run: async () => {
        const port = await freePort();
        const recv = {
          command: 'socat',
          args: ['-u', `TCP-LISTEN:${port},bind=127.0.0.1,reuseaddr`, `OPEN:${bigDest},creat,trunc`],
          ready: { port },
        };
        const r = await transfer('socat', recv, () => ({
          command: 'socat',
          args: ['-u', `OPEN:${inp.big}`, `TCP:127.0.0.1:${port}`],
        }));
        await checkFile(bigDest, BIG_BYTES);
        return { metrics: metrics(BIG_BYTES, r.seconds) };
      },
    },
    {
      subject: IPERF,
      case: BIG,
      skipped: t.noIperf,
      run: async () => {
        const port = await freePort();
        const recv = {
          command: 'iperf3',
          args: ['-s', '-1', '-B', '127.0.0.1', '-p', String(port)],
          ready: { port },
        };
        const r = await transfer('iperf3', recv, () => ({
          command: 'iperf3',
          args: ['-c', '127.0.0.1', '-p', String(port), '-n', '1G', '--json'],
        }));
        type Sum = { bytes: number; seconds: number; bits_per_second: number };
        const res = JSON.parse(r.sender.stdout) as { end?: { sum_sent?: Sum; sum_received?: Sum } };
        const sent = res.end?.sum_sent;
        const sum = res.end?.sum_received;
        // The receiver stops counting when the end-of-test message arrives, which can overtake the
        // last data, so its total may be a little short (esnet/iperf#382).
        if (!sent || !sum || sent.bytes < BIG_BYTES || sum.bytes < 0.98 * BIG_BYTES) {
          throw new Error(`iperf3 reported ${JSON.stringify(res.end ?? r.sender.stdout.slice(-500))}`);
        }
        return {
          metrics: { mib_s: sum.bits_per_second / 8 / MiB, seconds: sum.seconds },
          detail: { sum_received: sum, wall_seconds: r.seconds },
        };
      },
    },
    {
      subject: NETKIT,
      case: SMALL,
      skipped: t.noCli,
      run: async () => {
        const r = await transfer('netkit', netkitRecv(false), netkitSend(false, inp.tree.dir));
        await checkTree(dest, inp.tree);
        return {
          metrics: metrics(inp.tree.bytes, r.seconds, inp.tree.files.length),
          detail: detail(r.sender.stdout, r.receiverStdout),
        };
      },
    },
    {
      subject: NETKIT_VIA,
      case: SMALL,
      skipped: t.noCli,
      run: async () => {
        const r = await viaRendezvous(inp.tree.dir);
        await checkTree(dest, inp.tree);
        return { metrics: metrics(inp.tree.bytes, r.seconds, inp.tree.files.length) };
      },
    },
    {
      subject: NETKIT_PLAIN,
      case: SMALL,
      skipped: t.noCli,
      run: async () => {
        const r = await transfer('netkit --plain', netkitRecv(true), netkitSend(true, inp.tree.dir));
        await checkTree(dest, inp.tree);
        return { metrics: metrics(inp.tree.bytes, r.seconds, inp.tree.files.length) };
      },
    },
    {
      subject: GO,
      case: SMALL,
      skipped: t.noGo,
      run: async () => {
        const r = await transfer('Go', goRecv(inp.tree.files.length), (a) => ({
          command: t.filesend!,
          args: ['-addr', a, ...inp.tree.files],
          cwd: inp.tree.dir,
        }));
        await checkTree(dest, inp.tree);
        return { metrics: metrics(inp.tree.bytes, r.seconds, inp.tree.files.length) };
      },
    },
    {
      subject: PLAIN,
      case: SMALL,
      skipped: 'the plain pipe moves one unnamed stream; not meaningful',
    },
    {
      subject: SOCAT,
      case: SMALL,
      skipped: 'socat moves one file per connection and sends no names; not meaningful',
    },
  ];
}
