/**
 * CPU placement of a benchmark's processes: the server on one CPU, the load
 * generator on the others, pinned with taskset(1).
 *
 * Why: on a small machine the scheduler decides, run by run, whether the
 * server and the load generator share a core. At one connection that choice
 * alone moves the rate by 2–3× (a hand-off on one core is a context switch;
 * across cores it is a wake-up of an idle vCPU, which costs tens of µs in a
 * VM), so two servers measured one after the other could land on different
 * placements and their ratio said nothing about the servers. Pinning every
 * subject the same way makes the placement part of the method, not of luck.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { ServerDef } from './server-run.js';

/** Placement is where a benchmark runs its server and its load generator, as taskset CPU lists. */
export interface Placement {
  server: string;
  loadgen: string;
  /** text describes it for titles and logs: "server on CPU 1, loadgen on CPU 0". */
  text: string;
}

/**
 * allowedCpus lists the CPUs this process may run on, from
 * /proc/self/status (so a container's or a caller's taskset is honoured),
 * or null where that cannot be read.
 */
export function allowedCpus(): number[] | null {
  let status: string;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    return null;
  }
  const m = /^Cpus_allowed_list:\s*(\S+)/m.exec(status);
  if (!m) return null;
  const cpus: number[] = [];
  for (const part of m[1]!.split(',')) {
    const [lo, hi] = part.split('-').map(Number);
    if (lo === undefined || Number.isNaN(lo)) return null;
    for (let c = lo; c <= (hi ?? lo); c++) cpus.push(c);
  }
  return cpus;
}

function hasTaskset(): boolean {
  return spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
}

function list(cpus: readonly number[]): string {
  return cpus.join(',');
}

/**
 * splitPlacement puts the server on the last `serverCpus` allowed CPUs and
 * the load generator on the rest. It returns the reason instead when that
 * is impossible: taskset missing, or fewer than serverCpus + 1 CPUs.
 */
export function splitPlacement(serverCpus = 1): Placement | string {
  const cpus = allowedCpus();
  if (cpus === null) return 'the allowed CPUs cannot be read from /proc/self/status';
  if (cpus.length < serverCpus + 1) {
    return `${cpus.length} CPU(s) allowed; pinning needs ${serverCpus + 1}`;
  }
  if (!hasTaskset()) return 'taskset (Debian util-linux) is not on PATH';
  const server = cpus.slice(cpus.length - serverCpus);
  const loadgen = cpus.slice(0, cpus.length - serverCpus);
  const plural = (c: readonly number[]) => (c.length === 1 ? 'CPU' : 'CPUs');
  return {
    server: list(server),
    loadgen: list(loadgen),
    text: `server on ${plural(server)} ${list(server)}, loadgen on ${plural(loadgen)} ${list(loadgen)}`,
  };
}

/**
 * pinned returns `server` run under `taskset -c cpus`. taskset execs the
 * command, so the pid, the process group and the CPU accounting stay the
 * server's own; workers a server forks inherit the mask.
 */
export function pinned(server: ServerDef, cpus: string | undefined): ServerDef {
  if (cpus === undefined) return server;
  return { ...server, command: 'taskset', args: ['-c', cpus, server.command, ...server.args] };
}

/** pinnedCommand is [command, args] run under `taskset -c cpus`, or unchanged without cpus. */
export function pinnedCommand(
  command: string,
  args: readonly string[],
  cpus: string | undefined,
): [string, string[]] {
  return cpus === undefined ? [command, [...args]] : ['taskset', ['-c', cpus, command, ...args]];
}
