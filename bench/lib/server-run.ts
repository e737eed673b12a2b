/**
 * Running one server for one measurement: start it, hand it to the
 * measurement, report an early exit, stop it and keep its warnings; and the
 * server's CPU cost, sampled from /proc for its whole process group.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { type Server, startServer } from './proc.js';
import type { BenchContext, Row } from './types.js';

/** ServerDef is one server under test: a row subject and how to start it. */
export interface ServerDef {
  subject: string;
  command: string;
  args: string[];
}

/**
 * groupCpuMs sums user+system CPU time of every process in a process group
 * (the server and any workers it forked), from /proc. CPU per round trip is
 * the steady number here: rates on a 2-core machine shared with the load
 * generator swing by 10–30% between runs, CPU cost per message does not.
 */
export function groupCpuMs(pgid: number): number | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  let ticks = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Fields after "(comm)": state ppid pgrp … utime is field 14, stime 15.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[2]) === pgid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // the process exited while we looked
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** cpuPer is CPU microseconds per operation between two groupCpuMs samples, or undefined. */
export function cpuPer(cpu0: number | undefined, cpu1: number | undefined, ops: number): number | undefined {
  if (cpu0 === undefined || cpu1 === undefined || ops <= 0) return undefined;
  return ((cpu1 - cpu0) * 1000) / ops;
}

/** serverDied describes a server that exited during the run, or returns undefined. */
export function serverDied(srv: Server): string | undefined {
  const died = srv.exited();
  if (!died) return undefined;
  return `the server exited during the run (${died.signal ?? `code ${died.code}`})${srv.stderr() ? `; stderr:\n${srv.stderr()}` : ''}`;
}

/**
 * withServer starts `server`, runs `measure` against it (which fills `row`),
 * and stops it. A server that cannot start becomes `row.error`; warnings
 * from stopping (a slow exit) are logged and kept on the row.
 */
export async function withServer(
  ctx: BenchContext,
  server: ServerDef,
  row: Row,
  measure: (srv: Server) => Promise<void>,
): Promise<Row> {
  let srv: Server;
  try {
    srv = await startServer({
      name: server.subject,
      command: server.command,
      args: server.args,
      cwd: ctx.root,
    });
  } catch (err) {
    row.error = (err as Error).message;
    return row;
  }
  try {
    await measure(srv);
  } finally {
    const warnings = await srv.stop();
    for (const w of warnings) ctx.log(`warning: ${w}`);
    if (warnings.length > 0) row.warnings = [...(row.warnings ?? []), ...warnings];
  }
  return row;
}
