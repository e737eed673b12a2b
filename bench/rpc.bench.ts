/**
 * rpc: Arith.Multiply({A: 7, B: 8}) calls per second with 1 and 64 calls in
 * flight over one connection, for Go's net/rpc codecs (gob, json) and for
 * JSON-RPC 2.0 over TCP.
 *
 * Every measurement pairs a load generator (client) with a server, started
 * fresh for it and stopped with SIGTERM after it:
 *   gob, json:
 *     Go client → netkit server   bench/go/rpcload → netkit rpc serve --codec gob|json
 *     netkit client → Go server   bench/clients/netkit-rpc-load.mjs (dialRpc) → bench/go/rpcserver
 *     Go client → Go server       bench/go/rpcload → bench/go/rpcserver (the baseline)
 *   jsonrpc2:
 *     netkit → netkit             bench/clients/netkit-rpc-load.mjs (dialJsonRpc2)
 *                                 → netkit rpc serve --codec jsonrpc2
 *     jayson → jayson             bench/clients/jayson-rpc-load.mjs → bench/servers/jayson-tcp.mjs
 *                                 (the baseline; jayson's TCP client opens a connection per request)
 *
 * Placement (bench/lib/placement.ts): every server is pinned to the last
 * CPU and every load generator to the others with taskset, the Go → Go
 * baseline included, so each ratio compares two pairs placed alike. At 1
 * call in flight the rate is a chain of wake-ups, and whether client and
 * server shared a core decided it more than either program did.
 *
 * All load generators take -addr -codec -inflight -duration -warmup and
 * print one JSON line (calls, seconds, rate, p50_us, p99_us, errors,
 * client_cpu_us); every reply must be 56, and any error fails the row.
 * Rounds are interleaved by runRounds (every pair once per round) and the
 * median round is kept (bench/lib/pingpong.ts median()).
 */
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from './lib/args.js';
import { lastJsonLine } from './lib/json-line.js';
import { prepare, runRounds } from './lib/pingpong.js';
import { pinned, pinnedCommand, splitPlacement } from './lib/placement.js';
import { runCommand } from './lib/proc.js';
import { groupCpuMs, type ServerDef, serverDied, withServer } from './lib/server-run.js';
import type { BenchContext, Benchmark, Row } from './lib/types.js';

const INFLIGHT = [1, 64] as const;
const WARMUP_SEC = 1;
/** CPU_SKIP_SEC: the server's CPU is sampled from this far into the measured window, past any client's start-up. */
const CPU_SKIP_SEC = 0.25;

type Codec = 'gob' | 'json' | 'jsonrpc2';
const CODECS: readonly Codec[] = ['gob', 'json', 'jsonrpc2'];

const GO_NETKIT = 'Go client → netkit server';
const NETKIT_GO = 'netkit client → Go server';
const GO_GO = 'Go client → Go server';
const NETKIT_NETKIT = 'netkit → netkit';
const JAYSON = 'jayson → jayson';

/** RpcLoadResult is the JSON line every rpc load generator prints. */
interface RpcLoadResult {
  calls: number;
  seconds: number;
  rate: number;
  p50_us: number;
  p99_us: number;
  errors: number;
  client_cpu_us: number;
}

/** parseRpcLoad reads the last JSON line of a load generator's stdout, or null. */
function parseRpcLoad(stdout: string): RpcLoadResult | null {
  return lastJsonLine<RpcLoadResult>(stdout, ['calls', 'seconds', 'rate', 'p50_us', 'p99_us', 'errors']);
}

/** Pair is one subject of one codec: a load generator and the server it drives. */
interface Pair {
  subject: string;
  codec: Codec;
  /** client is the load generator; its flags are appended. */
  client: { name: string; command: string; args: string[] };
  server: ServerDef;
}

/**
 * measure runs one load generator against a fresh server with `inflight`
 * calls in flight, the server pinned to `cpus.server` and the load generator
 * to `cpus.loadgen` (unpinned without `cpus`).
 */
async function measure(
  ctx: BenchContext,
  pair: Pair,
  inflight: number,
  cpus: { server: string; loadgen: string } | undefined,
): Promise<Row> {
  const row: Row = {
    subject: pair.subject,
    case: `${pair.codec} ${inflight}`,
    metrics: {},
    params: { codec: pair.codec, inflight },
  };
  ctx.log(`${pair.codec}, ${inflight} in flight: ${pair.subject}`);
  return withServer(ctx, pinned(pair.server, cpus?.server), row, async (srv) => {
    const [command, args] = pinnedCommand(
      pair.client.command,
      [
        ...pair.client.args,
        '-addr',
        srv.address,
        '-codec',
        pair.codec,
        '-inflight',
        String(inflight),
        '-duration',
        formatDuration(ctx.durationSec),
        '-warmup',
        `${WARMUP_SEC}s`,
      ],
      cpus?.loadgen,
    );
    const running = runCommand(command, args, {
      cwd: ctx.root,
      // The load generators bound themselves; this is the backstop.
      timeoutMs: (WARMUP_SEC + ctx.durationSec + 20) * 1000,
    });
    // Server CPU is sampled from a little into the measured window to the
    // client's exit, and turned into CPU per second of that span, which
    // does not depend on exactly when each client's clock started.
    await sleep((WARMUP_SEC + CPU_SKIP_SEC) * 1000);
    const cpu0 = groupCpuMs(srv.pid);
    const t0 = performance.now();
    const r = await running;
    const cpu1 = groupCpuMs(srv.pid);
    const t1 = performance.now();
    const res = parseRpcLoad(r.stdout);
    const died = serverDied(srv);
    if (r.timedOut) {
      row.error = `${pair.client.name} did not finish in time and was killed`;
    } else if (died) {
      row.error = died;
    } else if (r.code !== 0 || !res || res.errors > 0) {
      const why = res && res.errors > 0 ? `${res.errors} error(s)` : (r.signal ?? `exit ${r.code}`);
      row.error = `${pair.client.name} failed (${why}): ${r.stderr || r.stdout || 'no output'}`;
    } else {
      row.metrics = { rate: res.rate, p50_us: res.p50_us, p99_us: res.p99_us };
      if (cpu0 !== undefined && cpu1 !== undefined && t1 > t0 && res.rate > 0) {
        // ms of CPU per ms of wall time, per call: µs per call.
        row.metrics.server_cpu_us = ((cpu1 - cpu0) / (t1 - t0) / res.rate) * 1e6;
      }
      if (res.client_cpu_us >= 0) row.metrics.client_cpu_us = res.client_cpu_us;
      row.detail = { loadgen: res, server: srv.firstLine };
      if (r.stderr) row.detail.loadgen_stderr = r.stderr;
    }
  });
}

const rpc: Benchmark = {
  name: 'rpc',
  description:
    'Arith.Multiply calls/s over one connection, 1 and 64 in flight: net/rpc gob and json (netkit vs Go), JSON-RPC 2.0 (netkit vs jayson)',
  table: (ctx) => {
    const where = splitPlacement();
    return {
      title:
        `rpc: Arith.Multiply({A:7,B:8}) over one connection, 1 and 64 calls in flight ` +
        `(${formatDuration(ctx.durationSec)}, ${WARMUP_SEC}s warm-up${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''}; ` +
        `${typeof where === 'string' ? 'unpinned' : where.text.replace('loadgen', 'client')})`,
      subjectHeader: 'client → server',
      caseHeader: 'case',
      metrics: [
        { key: 'rate', header: 'calls/s' },
        { key: 'p50_us', header: 'p50 µs', decimals: 1 },
        { key: 'p99_us', header: 'p99 µs', decimals: 1 },
        { key: 'server_cpu_us', header: 'server CPU µs/call', decimals: 1 },
        { key: 'client_cpu_us', header: 'client CPU µs/call', decimals: 1 },
        ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
      ],
      ratios: [
        { header: 'vs Go', metric: 'rate', baseline: GO_GO },
        { header: 'vs jayson', metric: 'rate', baseline: JAYSON },
      ],
      targets: [
        { subject: GO_NETKIT, baseline: GO_GO, metric: 'rate', min: 1.0, short: '≥ 1.00× Go' },
        { subject: NETKIT_GO, baseline: GO_GO, metric: 'rate', min: 1.0, short: '≥ 1.00× Go' },
        { subject: NETKIT_NETKIT, baseline: JAYSON, metric: 'rate', min: 1.0, short: '≥ 1.00× jayson' },
      ],
      notes: [
        'case is the codec and the calls in flight on the one connection. gob/json: Go is bench/go/rpcload',
        '(net/rpc client, a goroutine per call in flight) and bench/go/rpcserver (rpc.ServeConn /',
        'jsonrpc.ServeConn); netkit is bench/clients/netkit-rpc-load.mjs (dialRpc, an async loop per call in',
        'flight) and `netkit rpc serve`. jsonrpc2: netkit-rpc-load.mjs with dialJsonRpc2 against',
        "`netkit rpc serve --codec jsonrpc2`, and jayson's TCP client against a jayson TCP server. jayson's",
        'client opens a NEW connection for every request (connect, send, read one answer, close), so its',
        'calls in flight are that many concurrent connections, not one: that is what a jayson user gets.',
        `Each server is started fresh per measurement; the load generator shares the machine (${os.cpus().length} CPUs)`,
        'with it: every server (netkit, Go, jayson) is pinned to the same CPU and every client to the others',
        '(taskset), as in the tcp benchmark, so Go → Go is placed as the pairs it anchors. At 1 in flight the',
        'rate is bound by the wake-up latency of both sides, at 64 by server +',
        "client CPU per call. server CPU µs/call is the server's CPU per second (sampled inside the window)",
        "divided by calls/s; client CPU µs/call is the load generator's own CPU in the window per call.",
        'Every reply must be 56; any error fails the row.',
        ...(ctx.rounds > 1
          ? ["spread % is (max − min) / median of the rounds' rates; p50/p99/CPU are from the median round."]
          : ['One run per cell; single runs can differ by 10% or more: use --rounds 3 for medians.']),
        ...(typeof where === 'string' ? [`Not pinned: ${where}.`] : []),
      ],
    };
  },
  async run(ctx) {
    const { cli, bins } = await prepare(ctx, ['rpcload', 'rpcserver']);
    const where = splitPlacement();
    if (typeof where === 'string') ctx.log(`warning: not pinning servers and clients: ${where}`);
    else ctx.log(where.text);
    const cpus = typeof where === 'string' ? undefined : where;
    const node = process.execPath;
    const clients = path.join(ctx.root, 'bench', 'clients');
    const goClient = { name: 'rpcload', command: bins.rpcload!, args: [] };
    const netkitClient = {
      name: 'netkit-rpc-load',
      command: node,
      args: [path.join(clients, 'netkit-rpc-load.mjs')],
    };
    const netkitServer = (codec: Codec): ServerDef => ({
      subject: `netkit rpc serve --codec ${codec}`,
      command: node,
      args: [cli, 'rpc', 'serve', '127.0.0.1:0', '--codec', codec, '--quiet'],
    });
    const goServer = (codec: Codec): ServerDef => ({
      subject: `Go rpcserver -codec ${codec}`,
      command: bins.rpcserver!,
      args: ['-addr', '127.0.0.1:0', '-codec', codec],
    });

    const pairs: Pair[] = [];
    for (const codec of ['gob', 'json'] as const) {
      pairs.push(
        { subject: GO_NETKIT, codec, client: goClient, server: netkitServer(codec) },
        { subject: NETKIT_GO, codec, client: netkitClient, server: goServer(codec) },
        { subject: GO_GO, codec, client: goClient, server: goServer(codec) },
      );
    }
    pairs.push(
      { subject: NETKIT_NETKIT, codec: 'jsonrpc2', client: netkitClient, server: netkitServer('jsonrpc2') },
      {
        subject: JAYSON,
        codec: 'jsonrpc2',
        client: {
          name: 'jayson-rpc-load',
          command: node,
          args: [path.join(clients, 'jayson-rpc-load.mjs')],
        },
        server: {
          subject: 'jayson TCP server',
          command: node,
          args: [path.join(ctx.root, 'bench', 'servers', 'jayson-tcp.mjs')],
        },
      },
    );

    // runRounds interleaves every pair of every codec once per round (the
    // order reversed on odd rounds) and keeps the median; it keys runs by
    // ServerDef subject, so each pair gets a unique stand-in.
    const byKey = new Map<ServerDef, Pair>();
    const keys = pairs.map((p) => {
      const key: ServerDef = { subject: `${p.codec}|${p.subject}`, command: '', args: [] };
      byKey.set(key, p);
      return key;
    });
    const rows = await runRounds(ctx, keys, INFLIGHT, (key, inflight) =>
      measure(ctx, byKey.get(key)!, inflight, cpus),
    );

    // Print by case: gob 1, gob 64, json 1, …, subjects in pair order.
    const rank = (r: Row): number => {
      const [codec, inflight] = r.case.split(' ');
      const c = CODECS.indexOf(codec as Codec);
      const i = INFLIGHT.indexOf(Number(inflight) as (typeof INFLIGHT)[number]);
      const s = pairs.findIndex((p) => p.codec === codec && p.subject === r.subject);
      return (c * INFLIGHT.length + i) * pairs.length + s;
    };
    return [...rows].sort((a, b) => rank(a) - rank(b));
  },
};
export default rpc;
