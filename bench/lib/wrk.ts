/**
 * wrk (Debian's `wrk`) as a load generator: run it against a server, parse
 * its report, and sample the server's CPU over the measured run.
 */
import { runCommand } from './proc.js';
import { cpuPer, groupCpuMs, type ServerDef, serverDied, withServer } from './server-run.js';
import { type BenchContext, type Row, SkipBenchmark } from './types.js';

/** WrkResult is what parseWrk reads from wrk's text report. */
export interface WrkResult {
  requests: number;
  seconds: number;
  rate: number;
  p50_us: number;
  p99_us: number;
  /** errors counts socket errors (connect, read, write, timeout) and non-2xx/3xx responses. */
  errors: number;
}

const UNIT_US: Record<string, number> = { us: 1, ms: 1000, s: 1_000_000, m: 60_000_000 };

function latencyUs(text: string, pct: string): number | undefined {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(text);
  return m ? Number(m[1]) * UNIT_US[m[2]!]! : undefined;
}

/** parseWrk reads a `wrk --latency` report, or returns null when it is not one. */
export function parseWrk(text: string): WrkResult | null {
  const total = /^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)/m.exec(text);
  const rate = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const p50 = latencyUs(text, '50');
  const p99 = latencyUs(text, '99');
  if (!total || !rate || p50 === undefined || p99 === undefined) return null;
  let errors = 0;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  if (socket) errors += socket.slice(1).reduce((a, n) => a + Number(n), 0);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  if (non2xx) errors += Number(non2xx[1]);
  return {
    requests: Number(total[1]),
    seconds: (Number(total[2]) * UNIT_US[total[3]!]!) / 1e6,
    rate: Number(rate[1]),
    p50_us: p50,
    p99_us: p99,
    errors,
  };
}

/** checkWrk throws SkipBenchmark when wrk is not installed. */
export async function checkWrk(ctx: BenchContext): Promise<void> {
  try {
    // wrk has no --version; with no URL it prints its usage (and version) and exits 1.
    const r = await runCommand('wrk', [], { cwd: ctx.root, timeoutMs: 10_000 });
    if (!/Usage: wrk/.test(r.stdout + r.stderr)) throw new Error('not wrk');
  } catch {
    throw new SkipBenchmark(
      'wrk is not installed; install Debian wrk (apt-get install wrk) to run this benchmark.',
    );
  }
}

/** WrkSpec is how one measurement drives the server. */
export interface WrkSpec {
  connections: number;
  threads: number;
  warmupSec: number;
  /** url builds the request URL from the server's listening address. */
  url: (address: string) => string;
}

/**
 * measureWrk starts `server`, warms it up with a short wrk run, then
 * measures one wrk run of ctx.durationSec, sampling the server's CPU around
 * it, and stops the server. Any socket error or non-2xx response fails the row.
 */
export function measureWrk(ctx: BenchContext, spec: WrkSpec, server: ServerDef): Promise<Row> {
  const row: Row = {
    subject: server.subject,
    case: String(spec.connections),
    metrics: {},
    params: { connections: spec.connections, threads: spec.threads },
  };
  ctx.log(`${server.subject}, ${spec.connections} connections`);
  const wrk = (url: string, seconds: number) =>
    runCommand(
      'wrk',
      ['-t', String(spec.threads), '-c', String(spec.connections), '-d', `${seconds}s`, '--latency', url],
      { cwd: ctx.root, timeoutMs: (seconds + 20) * 1000 },
    );
  return withServer(ctx, server, row, async (srv) => {
    const url = spec.url(srv.address);
    if (spec.warmupSec > 0) await wrk(url, spec.warmupSec);
    const cpu0 = groupCpuMs(srv.pid);
    const r = await wrk(url, ctx.durationSec);
    const cpu1 = groupCpuMs(srv.pid);
    const res = parseWrk(r.stdout);
    const died = serverDied(srv);
    if (r.timedOut) row.error = 'wrk did not finish in time and was killed';
    else if (died) row.error = died;
    else if (r.code !== 0 || !res) {
      row.error = `wrk failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr || r.stdout || 'no output'}`;
    } else if (res.errors > 0) {
      row.error = `${res.errors} socket errors or non-2xx responses:\n${r.stdout}`;
    } else {
      row.metrics = { rate: res.rate, p50_us: res.p50_us, p99_us: res.p99_us };
      const cpu = cpuPer(cpu0, cpu1, res.requests);
      if (cpu !== undefined) row.metrics.cpu_us = cpu;
      row.detail = { wrk: res, server: srv.firstLine };
    }
  });
}
