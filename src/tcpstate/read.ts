import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import { parseProcNetTcp, type TcpSocket } from './parse.js';
import { socketOwners } from './processes.js';
import { isTcpState, type TcpStateName } from './states.js';

/** ReadOptions choose what readTcpSockets() reads and keeps. */
export interface ReadOptions {
  /** procRoot is where procfs is mounted. Default `/proc`. */
  procRoot?: string;
  /** processes looks up each socket's owning pid and command (costs a walk of /proc/<pid>/fd). Default true. */
  processes?: boolean;
  /** port keeps sockets whose local or remote port is this. */
  port?: number;
  /** states keeps sockets in these states. */
  states?: readonly TcpStateName[];
  /** pid keeps sockets owned by this process (implies processes). */
  pid?: number;
}

/**
 * readTcpSockets reads the kernel's TCP socket tables (/proc/net/tcp and
 * /proc/net/tcp6) directly — no netstat or ss needed — and returns the
 * sockets that pass the filters. Rejects with NETKIT_UNSUPPORTED where
 * there is no /proc/net (not Linux, or procfs not mounted), and
 * NETKIT_INVALID_ARGUMENT for a bad filter.
 */
export async function readTcpSockets(options: ReadOptions = {}): Promise<TcpSocket[]> {
  const root = options.procRoot ?? '/proc';
  const port = options.port;
  if (port !== undefined) checkInt('port', port, 0, 65535);
  for (const s of options.states ?? []) {
    if (!isTcpState(s)) throw new InvalidArgumentError('states', `unknown TCP state ${JSON.stringify(s)}`);
  }
  if (options.pid !== undefined && !(Number.isInteger(options.pid) && options.pid > 0)) {
    throw new InvalidArgumentError('pid', `must be a positive integer, got ${String(options.pid)}`);
  }
  const [v4, v6] = await Promise.all([readTable(root, 'tcp'), readTable(root, 'tcp6')]);
  if (v4 === undefined && v6 === undefined) {
    throw new UnsupportedError(
      `${path.join(root, 'net', 'tcp')} not found: reading TCP states needs Linux's /proc filesystem`,
    );
  }
  let sockets = unique([...parseProcNetTcp(v4 ?? '', 4), ...parseProcNetTcp(v6 ?? '', 6)]);
  if (port !== undefined) sockets = sockets.filter((s) => s.localPort === port || s.remotePort === port);
  if (options.states?.length) {
    const want = new Set(options.states);
    sockets = sockets.filter((s) => want.has(s.state));
  }
  if (options.processes !== false || options.pid !== undefined) {
    const owners = await socketOwners(root);
    for (const s of sockets) {
      const o = s.inode === 0 ? undefined : owners.get(s.inode);
      if (o) {
        s.pid = o.pid;
        s.command = o.command;
      }
    }
    if (options.pid !== undefined) sockets = sockets.filter((s) => s.pid === options.pid);
  }
  return sockets;
}

async function readTable(root: string, name: 'tcp' | 'tcp6'): Promise<string | undefined> {
  try {
    // procfs hands these files out a page per read() whatever the buffer, so an async read is
    // dozens of thread-pool round trips; one synchronous read of kernel memory is several times faster.
    return readFileSync(path.join(root, 'net', name), 'latin1');
  } catch (err) {
    // A kernel without IPv6 has no tcp6; a missing tcp is reported by the caller.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * unique drops rows the kernel repeated: a table read page by page while
 * sockets come and go can show a row twice (and miss one, as ss can too).
 * SO_REUSEPORT listeners share addresses but not inodes, so they stay.
 */
function unique(sockets: TcpSocket[]): TcpSocket[] {
  const seen = new Set<string>();
  return sockets.filter((s) => {
    const k = `${s.local} ${s.remote} ${s.inode}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
