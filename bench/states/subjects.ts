/**
 * The subjects of the states benchmark: each is one full scan of the TCP
 * socket table, returning how many sockets it saw so a scan that missed
 * the table (wrong file, truncated output) is an error, not a fast number.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readTcpSockets } from '../../src/tcpstate/index.js';
import { runCommand } from '../lib/proc.js';
import type { BenchContext } from '../lib/types.js';

export const NETKIT = 'netkit';
export const NETKIT_P = 'netkit + processes';
export const CLI = 'netkit states --json';
export const SS = 'ss -tan';
export const SS_P = 'ss -tanp';
export const NETSTAT = 'netstat -tan';

/** Seen is what one scan counted. */
export interface Seen {
  /** sockets is every TCP socket (v4 and v6) the scan listed. */
  sockets: number;
  /** owned counts the sockets attributed to the holder process, for scans that look up owners. */
  owned?: number;
}

/** Subject is one way to scan the table; `skipped` says why it cannot run here. */
export interface Subject {
  name: string;
  /** how is the command or call, for the notes and --json. */
  how: string;
  scan(): Promise<Seen>;
  skipped?: string;
}

/** countLines counts non-empty lines without splitting 10,000 of them into strings. */
function countLines(text: string, startsWith = ''): number {
  let n = 0;
  for (let at = 0; at < text.length; ) {
    const nl = text.indexOf('\n', at);
    const end = nl < 0 ? text.length : nl;
    if (end > at && text.startsWith(startsWith, at)) n++;
    at = end + 1;
  }
  return n;
}

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n++;
  return n;
}

async function onPath(ctx: BenchContext, tool: string): Promise<boolean> {
  const r = await runCommand('sh', ['-c', `command -v ${tool}`], { cwd: ctx.root, timeoutMs: 10_000 });
  return r.code === 0;
}

/**
 * processScan runs a command once and counts its output. A scan that fails
 * or hangs throws: the table is the same for every subject, so it is the
 * tool that is broken.
 */
function processScan(
  ctx: BenchContext,
  command: string,
  args: string[],
  count: (stdout: string) => Seen,
): () => Promise<Seen> {
  return async () => {
    const r = await runCommand(command, args, { cwd: ctx.root, timeoutMs: 30_000 });
    if (r.timedOut) throw new Error(`${command} ${args.join(' ')} ran over 30 s; killed`);
    if (r.code !== 0) {
      throw new Error(`${command} ${args.join(' ')} failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr}`);
    }
    return count(r.stdout);
  };
}

/** cliHasStates tells whether the built CLI has the `states` command (it answers `states --help`). */
async function cliHasStates(ctx: BenchContext, cli: string): Promise<boolean> {
  const r = await runCommand(process.execPath, [cli, 'states', '--help'], {
    cwd: ctx.root,
    timeoutMs: 30_000,
  });
  return r.code === 0 && /--no-processes/.test(r.stdout);
}

/** subjects lists every scan, in table order, probing for the outside tools; `holder` is the pid that owns the sockets. */
export async function subjects(ctx: BenchContext, holder: number): Promise<Subject[]> {
  const cli = path.join(ctx.root, 'dist', 'cli', 'main.js');
  const owned = `pid=${holder},`;
  const list: Subject[] = [
    {
      name: NETKIT,
      how: 'readTcpSockets({ processes: false }), in this process',
      scan: async () => ({ sockets: (await readTcpSockets({ processes: false })).length }),
    },
    {
      name: NETKIT_P,
      how: 'readTcpSockets(), in this process',
      scan: async () => {
        const all = await readTcpSockets();
        return { sockets: all.length, owned: all.filter((s) => s.pid === holder).length };
      },
    },
    {
      name: CLI,
      how: 'node dist/cli/main.js states --no-processes --json',
      // One {"event":"socket",…} line per socket, then a summary event.
      scan: processScan(ctx, process.execPath, [cli, 'states', '--no-processes', '--json'], (out) => ({
        sockets: countLines(out, '{"event":"socket"'),
      })),
    },
    {
      name: SS,
      how: 'ss -tan',
      // One header line ("State Recv-Q Send-Q …"), then a line per socket.
      scan: processScan(ctx, 'ss', ['-tan'], (out) => ({ sockets: countLines(out) - 1 })),
    },
    {
      name: SS_P,
      how: 'ss -tanp',
      scan: processScan(ctx, 'ss', ['-tanp'], (out) => ({
        sockets: countLines(out) - 1,
        owned: countOf(out, owned),
      })),
    },
    {
      name: NETSTAT,
      how: 'netstat -tan',
      // Two header lines, then a line per socket starting "tcp" or "tcp6".
      scan: processScan(ctx, 'netstat', ['-tan'], (out) => ({ sockets: countLines(out, 'tcp') })),
    },
  ];

  const cliSubject = list.find((s) => s.name === CLI)!;
  if (!existsSync(cli)) cliSubject.skipped = 'dist/cli/main.js is missing; build first (npm run build)';
  else if (!(await cliHasStates(ctx, cli))) {
    cliSubject.skipped = 'this build of the CLI has no `states` command (npm run build after adding it)';
  }
  if (!(await onPath(ctx, 'ss'))) {
    for (const s of list.filter((x) => x.name === SS || x.name === SS_P)) {
      s.skipped = 'ss is not installed (apt-get install iproute2)';
    }
  }
  if (!(await onPath(ctx, 'netstat'))) {
    list.find((s) => s.name === NETSTAT)!.skipped = 'netstat is not installed (apt-get install net-tools)';
  }
  return list;
}
