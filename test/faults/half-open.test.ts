// test: alone
/**
 * Half-open connections: the link goes silent after the connection is up
 * (host B black-holed: no FIN, no RST, nothing), so neither side learns
 * anything from the network. Keep-alive, the server's idle timeout and the
 * user timeout that goes with keep-alive must find the dead peer within
 * their bound and free the connection (RELIABILITY.md item 43).
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { type Conn, dial } from '../../src/tcp/index.js';
import { readTcpSockets } from '../../src/tcpstate/index.js';
import { type Figure, figure, rounds, spread } from '../helpers/figures.js';
import { type Lab, requireLab } from '../helpers/netns.js';
import { ROOT } from '../helpers/tools.js';

/** KEEPALIVE is short enough to test: a dead peer is known 1 + 1 × 3 = 4 s after the last byte. */
const KEEPALIVE = { idle: 1000, interval: 1000, count: 3 } as const;
const KEEPALIVE_BOUND_MS = KEEPALIVE.idle + KEEPALIVE.interval * KEEPALIVE.count;
/** SLACK covers timer granularity (jiffies, the sweep) and the time a log line takes to reach us. */
const SLACK_MS = 1500;

/**
 * SERVER is a library echo server for host B: the CLI has no keep-alive
 * flags, so this is how a server with keep-alive set gets into the lab.
 * It prints one JSON line per event; `close` carries the error and its OS cause.
 */
const SERVER = `
import { listen, serve, echoHandler } from ${JSON.stringify(path.join(ROOT, 'dist/tcp/index.js'))};
const { address, keepAlive, idleTimeout } = JSON.parse(process.argv[1]);
const print = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const listener = await listen(address, { keepAlive });
const server = serve(listener, echoHandler(), { idleTimeout });
server.on('open', (c) => print({ event: 'open', remote: c.remoteAddr.ip + ':' + c.remoteAddr.port }));
server.on('close', (c, s) => print({ event: 'close', error: s.error?.code, cause: s.error?.cause?.code }));
print({ event: 'listening', address: listener.addr.address });
`;

interface Peer {
  child: ChildProcess;
  address: string;
  /** next resolves with the next JSON event named `name` printed after this call, or rejects after `ms`. */
  next: (name: string, ms: number) => Promise<Record<string, unknown>>;
}

/** watch turns a child's stdout into awaited JSON events. */
function watch(child: ChildProcess, address: string): Peer {
  let buffered = '';
  const seen: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    buffered += d.toString();
    for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
      const line = buffered.slice(0, i);
      buffered = buffered.slice(i + 1);
      try {
        seen.push(JSON.parse(line));
      } catch {
        // Not an event (a human line); the events are what we time.
      }
    }
    for (const w of waiters) w();
  });
  return {
    child,
    address,
    next: (name, ms) => {
      const from = seen.length;
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = seen.slice(from).find((e) => e.event === name);
          if (hit === undefined) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no ${name} event within ${ms} ms`));
        }, ms);
        waiters.add(check);
      });
    },
  };
}

/** libraryServer starts SERVER in host B. */
async function libraryServer(lab: Lab, options: { keepAlive: unknown; idleTimeout: number }): Promise<Peer> {
  const config = JSON.stringify({ address: `${lab.b}:0`, ...options });
  const child = lab.spawn(process.execPath, ['--input-type=module', '-e', SERVER, config]);
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const peer = watch(child, '');
  const listening = await peer.next('listening', 15_000).catch((e: Error) => {
    throw new Error(`${e.message}\n${err}`);
  });
  return { ...peer, address: String(listening.address) };
}

/** fds counts the open file descriptors of a process in host B (one kernel: /proc is shared). */
async function fds(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

/** settle polls `read` until it returns `want` or `ms` pass, and returns the last value. */
async function settle(read: () => Promise<number>, want: number, ms: number): Promise<number> {
  const until = performance.now() + ms;
  let n = await read();
  while (n !== want && performance.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    n = await read();
  }
  return n;
}

/** connected dials the server and checks it answers, so both sides hold an established connection. */
async function connected(address: string, keepAlive: unknown): Promise<Conn> {
  const conn = await dial(address, { timeout: 2000, keepAlive: keepAlive as never });
  await conn.write('ping\n');
  assert.equal(await conn.readLine(), 'ping');
  return conn;
}

/** within races `p` against a timer, so a test that would hang fails instead. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * detectedWithin records a case's detection times as a figure (min, median, max,
 * the bound, then `extra`) and checks the slowest is within the bound
 * plus SLACK_MS; `why` says what took how long.
 */
function detectedWithin(
  t: TestContext,
  name: string,
  times: number[],
  boundMs: number,
  why: (max: number) => string,
  extra: Figure = {},
): void {
  const s = spread(times);
  figure(t, name, {
    detect_ms_min: s.min,
    detect_ms_p50: s.p50,
    detect_ms_max: s.max,
    bound_ms: boundMs,
    ...extra,
    rounds: times.length,
  });
  assert.ok(s.max <= boundMs + SLACK_MS, why(s.max));
}

test('keep-alive: a server in B frees a black-holed client within idle + interval × count', {
  timeout: 120_000,
}, async (t) => {
  const l = await requireLab(t);
  if (!l) return;
  const server = await libraryServer(l, { keepAlive: KEEPALIVE, idleTimeout: 0 });
  const pid = server.child.pid as number;
  // listen loaded sockopt before binding; one connection first still warms whatever else is lazy.
  const warm = server.next('close', 5000);
  await (await connected(server.address, false)).close();
  await warm;
  const baseline = await fds(pid);
  const times: number[] = [];
  let during = 0;
  let after = 0;
  for (let i = 0; i < rounds(2, 10); i++) {
    const opened = server.next('open', 5000);
    // Our side probes nothing, so only the server's keep-alive can notice.
    const conn = await connected(server.address, false);
    await opened;
    during = await fds(pid);
    assert.equal(during, baseline + 1, `#${i}: the connection holds one fd in the server`);
    const closed = server.next('close', KEEPALIVE_BOUND_MS + SLACK_MS + 5000);
    await l.blackhole();
    const started = performance.now();
    const event = await closed;
    times.push(performance.now() - started);
    assert.equal(event.error, 'NETKIT_CONNECTION_CLOSED', `#${i}: close event ${JSON.stringify(event)}`);
    assert.equal(event.cause, 'ETIMEDOUT', `#${i}: close event ${JSON.stringify(event)}`);
    after = await settle(() => fds(pid), baseline, 2000);
    assert.equal(after, baseline, `#${i}: fds after the close`);
    conn.destroy();
    await l.unblock();
  }
  detectedWithin(
    t,
    'half-open server keep-alive',
    times,
    KEEPALIVE_BOUND_MS,
    (max) => `detected in ${max} ms; bound ${KEEPALIVE_BOUND_MS} ms`,
    {
      fds_baseline: baseline,
      fds_connected: during,
      fds_after: after,
    },
  );
});

test('keep-alive: a client reading from a black-holed server fails within idle + interval × count', {
  timeout: 120_000,
}, async (t) => {
  const l = await requireLab(t);
  if (!l) return;
  const server = await l.netkit(['tcp', 'serve', `${l.b}:0`, '--echo', '-q']);
  const times: number[] = [];
  let code = '';
  let cause = '';
  for (let i = 0; i < rounds(2, 10); i++) {
    const conn = await connected(server.address, KEEPALIVE);
    const local = `${conn.localAddr?.ip}:${conn.localAddr?.port}`;
    await l.blackhole();
    const started = performance.now();
    const err = await within(
      conn.read().then(
        () => assert.fail(`#${i}: the read resolved`),
        (e: Error & { code: string; cause?: { code?: string } }) => e,
      ),
      KEEPALIVE_BOUND_MS + SLACK_MS + 5000,
      `#${i}: read from a black-holed server`,
    ).finally(() => conn.destroy());
    times.push(performance.now() - started);
    code = err.code;
    cause = err.cause?.code ?? '';
    assert.equal(code, 'NETKIT_CONNECTION_CLOSED', `#${i}: ${err.message}`);
    assert.equal(cause, 'ETIMEDOUT', `#${i}: ${err.message}`);
    await conn.closed;
    const left = (await readTcpSockets()).filter((s) => s.local === local);
    assert.deepEqual(
      left.map((s) => s.state),
      [],
      `#${i}: ${local} is still in the kernel's table`,
    );
    await l.unblock();
  }
  detectedWithin(
    t,
    'half-open client keep-alive',
    times,
    KEEPALIVE_BOUND_MS,
    (max) => `detected in ${max} ms; bound ${KEEPALIVE_BOUND_MS} ms`,
    {
      code,
      cause,
    },
  );
});

test('idle timeout: `tcp serve --idle-timeout 2s` frees a black-holed client before keep-alive would', {
  timeout: 120_000,
}, async (t) => {
  const l = await requireLab(t);
  if (!l) return;
  const IDLE_MS = 2000;
  // The CLI's keep-alive is the default (15 s idle), so a close before then is the idle timeout's.
  const started = await l.netkit(['tcp', 'serve', `${l.b}:0`, '--echo', '--idle-timeout', '2s']);
  const server = watch(started.child, started.address);
  const pid = started.child.pid as number;
  const baseline = await fds(pid);
  const times: number[] = [];
  let after = 0;
  for (let i = 0; i < rounds(2, 10); i++) {
    const opened = server.next('open', 5000);
    const conn = await connected(server.address, false);
    await opened;
    assert.equal(await fds(pid), baseline + 1, `#${i}: the connection holds one fd in the server`);
    const closed = server.next('close', IDLE_MS + SLACK_MS + 5000);
    await l.blackhole();
    const t0 = performance.now();
    const event = await closed;
    times.push(performance.now() - t0);
    assert.equal(event.error, 'NETKIT_TIMEOUT', `#${i}: close event ${JSON.stringify(event)}`);
    after = await settle(() => fds(pid), baseline, 2000);
    assert.equal(after, baseline, `#${i}: fds after the close`);
    conn.destroy();
    await l.unblock();
  }
  detectedWithin(
    t,
    'half-open server idle timeout',
    times,
    IDLE_MS,
    (max) => `closed in ${max} ms; --idle-timeout ${IDLE_MS} ms`,
    {
      fds_baseline: baseline,
      fds_after: after,
    },
  );
});

/**
 * writer dials with `keepAlive`, writes (and reads the echo) until 256 KiB
 * went through, and hands back the writing loop, whose promise settles
 * only when a write fails.
 */
async function writer(address: string, keepAlive: unknown): Promise<{ conn: Conn; writing: Promise<never> }> {
  const conn = await dial(address, { timeout: 2000, keepAlive: keepAlive as never });
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  let sent = 0;
  const writing = (async (): Promise<never> => {
    for (;;) {
      await conn.write(chunk);
      sent += chunk.length;
    }
  })();
  writing.catch(() => {});
  (async () => {
    while ((await conn.read()) !== null);
  })().catch(() => {});
  const until = performance.now() + 5000;
  while (sent < 256 * 1024 && performance.now() < until) await new Promise((r) => setTimeout(r, 5));
  assert.ok(sent >= 256 * 1024, `only ${sent} bytes went through before the partition`);
  return { conn, writing };
}

test('without userTimeout a writer caught by the black hole is still retransmitting past the keep-alive bound', {
  timeout: 60_000,
}, async (t) => {
  const l = await requireLab(t);
  if (!l) return;
  const server = await l.netkit(['tcp', 'serve', `${l.b}:0`, '--echo', '--frame', 'none', '-q']);
  const { conn, writing } = await writer(server.address, KEEPALIVE);
  t.after(() => conn.destroy());
  const local = `${conn.localAddr?.ip}:${conn.localAddr?.port}`;
  await l.blackhole();
  let failed = false;
  writing.catch(() => {
    failed = true;
  });
  await new Promise((r) => setTimeout(r, KEEPALIVE_BOUND_MS + SLACK_MS));
  const [sock] = (await readTcpSockets()).filter((s) => s.local === local);
  // Keep-alive probes only a silent connection: with data unacknowledged the kernel
  // retransmits instead, for about 15 minutes (tcp_retries2 = 15), and nothing fails.
  assert.equal(failed, false, 'the write failed: has a user timeout become the default?');
  assert.equal(sock?.state, 'ESTABLISHED');
  // `retransmit` when the partition caught data in flight; `probe` (the persist timer) when the
  // server's window happened to be full at that moment. Either way it is not keep-alive's timer.
  assert.ok(sock?.timer === 'retransmit' || sock?.timer === 'probe', `timer ${sock?.timer}`);
  figure(t, 'half-open client mid-write, no userTimeout', {
    timer: sock?.timer ?? '-',
    waited_ms: KEEPALIVE_BOUND_MS + SLACK_MS,
    failed,
    retransmits: sock?.retransmits ?? -1,
    send_queue_bytes: sock?.sendQueue ?? -1,
  });
});

test('keep-alive with userTimeout: a client writing into a black hole fails within the user timeout', {
  timeout: 120_000,
}, async (t) => {
  const l = await requireLab(t);
  if (!l) return;
  const server = await l.netkit(['tcp', 'serve', `${l.b}:0`, '--echo', '--frame', 'none', '-q']);
  const times: number[] = [];
  let code = '';
  let cause = '';
  for (let i = 0; i < rounds(2, 10); i++) {
    const { conn, writing } = await writer(server.address, { ...KEEPALIVE, userTimeout: KEEPALIVE_BOUND_MS });
    await l.blackhole();
    const t0 = performance.now();
    const err = await within(
      writing.then(
        () => assert.fail('unreachable'),
        (e: Error & { code: string; cause?: { code?: string } }) => e,
      ),
      KEEPALIVE_BOUND_MS + SLACK_MS + 10_000,
      `#${i}: a write into a black hole`,
    ).finally(() => conn.destroy());
    times.push(performance.now() - t0);
    code = err.code;
    cause = err.cause?.code ?? '';
    assert.equal(code, 'NETKIT_CONNECTION_CLOSED', `#${i}: ${err.message}`);
    assert.equal(cause, 'ETIMEDOUT', `#${i}: ${err.message}`);
    await l.unblock();
  }
  detectedWithin(
    t,
    'half-open client mid-write, userTimeout',
    times,
    KEEPALIVE_BOUND_MS,
    (max) => `failed in ${max} ms; userTimeout ${KEEPALIVE_BOUND_MS} ms`,
    {
      code,
      cause,
    },
  );
});

test('defaults: `tcp serve --idle-timeout 0` still frees a black-holed client, by keep-alive, in 15 s + 10 × 1 s', {
  timeout: 120_000,
}, async (t) => {
  const l = await requireLab(t);
  if (!l) return;
  // Go's 15 s idle, then libuv's fixed probes (1 s apart, 10 of them): 25 s on Linux.
  const DEFAULT_BOUND_MS = 15_000 + 10 * 1000;
  const started = await l.netkit(['tcp', 'serve', `${l.b}:0`, '--echo', '--idle-timeout', '0']);
  const server = watch(started.child, started.address);
  const pid = started.child.pid as number;
  const baseline = await fds(pid);
  const times: number[] = [];
  let after = 0;
  for (let i = 0; i < rounds(1, 3); i++) {
    const opened = server.next('open', 5000);
    const conn = await connected(server.address, false);
    await opened;
    const closed = server.next('close', DEFAULT_BOUND_MS + SLACK_MS + 5000);
    await l.blackhole();
    const t0 = performance.now();
    const event = await closed;
    times.push(performance.now() - t0);
    assert.equal(event.error, 'NETKIT_CONNECTION_CLOSED', `#${i}: close event ${JSON.stringify(event)}`);
    after = await settle(() => fds(pid), baseline, 2000);
    assert.equal(after, baseline, `#${i}: fds after the close`);
    conn.destroy();
    await l.unblock();
  }
  detectedWithin(
    t,
    'half-open server defaults',
    times,
    DEFAULT_BOUND_MS,
    (max) => `closed in ${max} ms; default bound ${DEFAULT_BOUND_MS} ms`,
    {
      fds_baseline: baseline,
      fds_after: after,
    },
  );
});
