/**
 * tls: 64-byte line ping-pong over TLS at 1 and 32 connections, and TLS
 * handshakes per second, full and resumed.
 *
 * The load generator is bench/go/loadgen with -tls (crypto/tls client,
 * verifying the server against the run's certificate): strict ping-pong as
 * in the tcp benchmark, the handshakes done before the clock starts; with
 * -handshake full, 8 dialers each loop dial → full handshake → close (no
 * session cache); with -handshake resume the same with one shared
 * tls.NewLRUClientSessionCache, counting the handshakes that resumed. Each
 * server is started fresh for each case, measured alone, and stopped with
 * SIGTERM before the next starts:
 *   netkit           node dist/cli/main.js tcp serve 127.0.0.1:0 --echo -q --tls --cert C --key K --json
 *   plain node:tls   bench/servers/plain-node-tls-echo.mjs (tls.createServer, data → write)
 *   Go crypto/tls    bench/go/tlsecho (bench/go/echoserver behind tls.Server)
 * All three use one ECDSA P-256 certificate for localhost and 127.0.0.1,
 * made with openssl for the run in a temporary folder (removed after). A
 * netkit whose `tcp serve` has no --tls yet (a usage error) gives skipped
 * rows, not failures.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { formatDuration } from './lib/args.js';
import { lastJsonLine } from './lib/json-line.js';
import { parseLoadgen, prepare, runRounds } from './lib/pingpong.js';
import { runCommand } from './lib/proc.js';
import { cpuPer, groupCpuMs, type ServerDef, serverDied, withServer } from './lib/server-run.js';
import { type BenchContext, type Benchmark, type Row, SkipBenchmark } from './lib/types.js';

const SIZE = 64;
const WARMUP_SEC = 1;
/** DIALERS is the number of concurrent handshake loops. */
const DIALERS = 8;

/** CASES in table order: ping-pong at 1 and 32 connections, then full and resumed handshakes. */
const CASES = [
  { name: 'echo × 1', mode: 'echo', conns: 1 },
  { name: 'echo × 32', mode: 'echo', conns: 32 },
  { name: `full hs × ${DIALERS}`, mode: 'full', conns: DIALERS },
  { name: `resumed hs × ${DIALERS}`, mode: 'resume', conns: DIALERS },
] as const;
type Case = (typeof CASES)[number];

const NETKIT = 'netkit';
const PLAIN = 'plain node:tls';
const GO = 'Go crypto/tls';

/** NO_TLS is the skip reason while netkit's tcp serve has no --tls. */
const NO_TLS = 'netkit tcp serve has no --tls';

/** HandshakeResult is the JSON line of loadgen -handshake. */
interface HandshakeResult {
  mode: string;
  conns: number;
  seconds: number;
  handshakes: number;
  resumed: number;
  rate: number;
  p50_us: number;
  p99_us: number;
  errors: number;
  tls_version: string;
}

/** Cert is the run's certificate: the PEM files and the SHA-256 fingerprint netkit should report. */
interface Cert {
  dir: string;
  cert: string;
  key: string;
  /** fingerprint is "sha256:<hex>", lower case, as netkit's listening event prints it. */
  fingerprint: string;
}

/** makeCert writes a self-signed ECDSA P-256 certificate for localhost and 127.0.0.1 into a new temporary folder. */
async function makeCert(ctx: BenchContext): Promise<Cert> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-bench-tls-'));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  let r: Awaited<ReturnType<typeof runCommand>>;
  try {
    r = await runCommand(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { cwd: ctx.root, timeoutMs: 30_000 },
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SkipBenchmark('openssl is not installed; it makes the certificate. Install Debian openssl.');
    }
    throw err;
  }
  if (r.code !== 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`openssl req failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr}`);
  }
  const x509 = new X509Certificate(await readFile(cert));
  const fingerprint = `sha256:${x509.fingerprint256.replace(/:/g, '').toLowerCase()}`;
  return { dir, cert, key, fingerprint };
}

/**
 * noTls reports whether a server that failed to start did so with netkit's
 * usage error (exit status 2) about the TLS options: a netkit without --tls.
 */
function noTls(error: string): boolean {
  return /exited \(code 2\) before listening/.test(error) && /--(?:tls|cert|key)\b/.test(error);
}

/** checkFingerprint compares netkit's reported certificate fingerprint with the run's. */
function checkFingerprint(firstLine: string, cert: Cert): string | undefined {
  let fp: unknown;
  try {
    fp = (JSON.parse(firstLine) as { fingerprint?: unknown }).fingerprint;
  } catch {
    return undefined; // not a JSON line: nothing to compare
  }
  if (fp === undefined) return 'the listening event has no "fingerprint"';
  // Compared without case or colons: "sha256:AB:CD:…" is the same fingerprint.
  if (typeof fp !== 'string' || fp.toLowerCase().replace(/:/g, '') !== cert.fingerprint.replace(/:/g, '')) {
    return `the listening event's fingerprint ${JSON.stringify(fp)} is not the certificate's ${cert.fingerprint}`;
  }
  return undefined;
}

/** measure starts `server`, runs loadgen for case `c` against it, and stops it. */
async function measure(
  ctx: BenchContext,
  loadgen: string,
  cert: Cert,
  server: ServerDef,
  c: Case,
  skips: Map<string, string>,
): Promise<Row> {
  const row: Row = {
    subject: server.subject,
    case: c.name,
    metrics: {},
    params: { mode: c.mode, conns: c.conns, size: SIZE },
  };
  const skipped = skips.get(server.subject);
  if (skipped) {
    row.skipped = skipped;
    return row;
  }
  ctx.log(`${server.subject}, ${c.name}`);
  const args =
    c.mode === 'echo'
      ? ['-tls', '-ca', cert.cert, '-conns', String(c.conns)]
      : ['-handshake', c.mode, '-ca', cert.cert, '-conns', String(c.conns)];
  const done = await withServer(ctx, server, row, async (srv) => {
    const running = runCommand(
      loadgen,
      [
        '-addr',
        srv.address,
        ...args,
        '-duration',
        formatDuration(ctx.durationSec),
        '-warmup',
        `${WARMUP_SEC}s`,
        '-size',
        String(SIZE),
      ],
      // loadgen bounds itself; this is the backstop.
      { cwd: ctx.root, timeoutMs: (WARMUP_SEC + ctx.durationSec + 20) * 1000 },
    );
    // CPU is sampled from the end of the warm-up to the end of the run.
    await sleep(WARMUP_SEC * 1000);
    const cpu0 = groupCpuMs(srv.pid);
    const r = await running;
    const cpu1 = groupCpuMs(srv.pid);
    const died = serverDied(srv);
    const fpProblem = server.subject === NETKIT ? checkFingerprint(srv.firstLine, cert) : undefined;
    if (fpProblem) row.warnings = [...(row.warnings ?? []), fpProblem];
    if (r.timedOut) {
      row.error = 'loadgen did not finish in time and was killed';
      return;
    }
    if (died) {
      row.error = died;
      return;
    }
    if (c.mode === 'echo') {
      const res = parseLoadgen(r.stdout, []);
      if (r.code !== 0 || !res) {
        row.error = `loadgen failed (${r.signal ?? `exit ${r.code}`}): ${r.stderr || r.stdout || 'no output'}`;
        return;
      }
      row.metrics = { rate: res.rate, p50_us: res.p50_us, p99_us: res.p99_us };
      const cpu = cpuPer(cpu0, cpu1, res.roundtrips);
      if (cpu !== undefined) row.metrics.cpu_us = cpu;
      row.detail = { loadgen: res, server: srv.firstLine };
      return;
    }
    const res = lastJsonLine<HandshakeResult>(r.stdout, [
      'handshakes',
      'resumed',
      'rate',
      'p50_us',
      'p99_us',
      'errors',
    ]);
    if (r.code !== 0 || !res || res.errors > 0) {
      const why = res && res.errors > 0 ? `${res.errors} dialer(s) failed` : (r.signal ?? `exit ${r.code}`);
      row.error = `loadgen -handshake ${c.mode} failed (${why}): ${r.stderr || r.stdout || 'no output'}`;
      return;
    }
    if (res.handshakes === 0) {
      row.error = `loadgen -handshake ${c.mode} completed no handshake in the measured ${formatDuration(ctx.durationSec)}`;
      return;
    }
    const resumedPct = (res.resumed / res.handshakes) * 100;
    if (c.mode === 'full' && res.resumed > 0) {
      row.error = `${res.resumed} of ${res.handshakes} handshakes resumed without a session cache`;
      return;
    }
    row.metrics = { rate: res.rate, p50_us: res.p50_us, p99_us: res.p99_us, resumed_pct: resumedPct };
    const cpu = cpuPer(cpu0, cpu1, res.handshakes);
    if (cpu !== undefined) row.metrics.cpu_us = cpu;
    row.detail = { loadgen: res, server: srv.firstLine };
    if (c.mode === 'resume' && resumedPct < 90) {
      row.warnings = [
        ...(row.warnings ?? []),
        `only ${resumedPct.toFixed(1)}% of the handshakes resumed a session: the server issues no usable tickets`,
      ];
    }
  });
  // A netkit without --tls: skip its rows from now on instead of failing them.
  if (done.error && server.subject === NETKIT && noTls(done.error)) {
    ctx.log(`${NETKIT}: skipped, ${NO_TLS}`);
    skips.set(server.subject, NO_TLS);
    return { subject: done.subject, case: done.case, metrics: {}, skipped: NO_TLS, params: done.params };
  }
  return done;
}

const tlsBench: Benchmark = {
  name: 'tls',
  description: `${SIZE}-byte line ping-pong over TLS (1, 32 conns) and full/resumed handshakes/s (netkit, node:tls, Go crypto/tls)`,
  table: (ctx) => ({
    title:
      `tls: ${SIZE}-byte line ping-pong and handshakes, ECDSA P-256 (loadgen -tls, ${formatDuration(ctx.durationSec)}, ` +
      `${WARMUP_SEC}s warm-up${ctx.rounds > 1 ? `, median of ${ctx.rounds} rounds` : ''})`,
    subjectHeader: 'server',
    caseHeader: 'case',
    metrics: [
      { key: 'rate', header: 'rate /s' },
      { key: 'p50_us', header: 'p50 µs', decimals: 1 },
      { key: 'p99_us', header: 'p99 µs', decimals: 1 },
      { key: 'cpu_us', header: 'server CPU µs/op', decimals: 2 },
      { key: 'resumed_pct', header: 'resumed %', decimals: 1 },
      ...(ctx.rounds > 1 ? [{ key: 'spread_pct', header: 'spread %', decimals: 1 }] : []),
    ],
    ratios: [
      { header: 'vs node:tls', metric: 'rate', baseline: PLAIN },
      { header: 'vs Go', metric: 'rate', baseline: GO },
      { header: 'CPU vs node:tls', metric: 'cpu_us', baseline: PLAIN },
    ],
    targets: [
      {
        subject: NETKIT,
        baseline: PLAIN,
        metric: 'rate',
        min: 0.95,
        short: '≥ 0.95× node:tls',
        cases: CASES.filter((c) => c.mode === 'echo').map((c) => c.name),
      },
    ],
    notes: [
      `echo × n: round trips/s of ${SIZE}-byte lines with n connections, one line in flight per connection,`,
      'the TLS handshakes done before the clock starts. full hs / resumed hs × n: TLS handshakes/s with n',
      'dialers, each dialing a new connection, completing the handshake and closing; full hs has no client',
      'session cache, resumed hs one shared LRU cache (a connection that did not resume does one ping-pong',
      'to read the TLS 1.3 ticket). p50/p99 are per round trip or per dial+handshake. server CPU µs/op is',
      "the server's user+system CPU per round trip or per handshake; lower is better. resumed % is the share",
      'of handshakes that resumed a session. loadgen (which verifies the certificate) shares the 2 cores',
      'with the server it measures, and a handshake costs the client more than the server.',
      ...(ctx.rounds > 1
        ? ["spread % is (max − min) / median of the rounds' rates; p50/p99 are from the median round."]
        : [
            'One run per cell; single runs can differ by 10% or more on a small machine: use --rounds 3 for medians.',
          ]),
    ],
  }),
  async run(ctx) {
    const { cli, bins } = await prepare(ctx, ['loadgen', 'tlsecho']);
    const cert = await makeCert(ctx);
    try {
      const node = process.execPath;
      const servers: ServerDef[] = [
        {
          subject: NETKIT,
          command: node,
          args: [
            cli,
            'tcp',
            'serve',
            '127.0.0.1:0',
            '--echo',
            '-q',
            '--tls',
            '--cert',
            cert.cert,
            '--key',
            cert.key,
            '--json',
          ],
        },
        {
          subject: PLAIN,
          command: node,
          args: [
            path.join(ctx.root, 'bench', 'servers', 'plain-node-tls-echo.mjs'),
            '--cert',
            cert.cert,
            '--key',
            cert.key,
          ],
        },
        {
          subject: GO,
          command: bins.tlsecho!,
          args: ['-addr', '127.0.0.1:0', '-cert', cert.cert, '-key', cert.key],
        },
      ];
      const skips = new Map<string, string>();
      // runRounds is keyed by a number per case; here that number is the index into CASES.
      const indexes = CASES.map((_, i) => i);
      const rows = await runRounds(ctx, servers, indexes, (server, i) =>
        measure(ctx, bins.loadgen!, cert, server, CASES[i]!, skips),
      );
      // A skipped subject has no numbers, not even a spread.
      return rows.map((r) =>
        r.skipped
          ? { subject: r.subject, case: r.case, metrics: {}, skipped: r.skipped, params: r.params }
          : r,
      );
    } finally {
      await rm(cert.dir, { recursive: true, force: true });
    }
  },
};

export default tlsBench;
