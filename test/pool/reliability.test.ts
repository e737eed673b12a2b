// test: alone
/**
 * RELIABILITY.md items 29–31 for the connection pool, against real TCP
 * servers on loopback: a server restart mid-load, a server that is down,
 * and queue overflow, misuse and drain.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { isNetkitError, TimeoutError } from '../../src/errors.js';
import { createTcpPool, LineClient } from '../../src/pool/index.js';
import { dial, listen, replyHandler, serve } from '../../src/tcp/index.js';
import { freePort, openFds, sleep, until } from '../helpers/net.js';

/**
 * LINE_SERVER answers each line with `pong`. It runs in a child process so
 * that a restart reaches the client as it would from another host (the
 * FIN or RST arrives while the client's event loop is elsewhere), and so
 * that this process's fds are the client's alone.
 */
const LINE_SERVER = `
const net = require('node:net');
const connections = new Set();
const srv = net.createServer((s) => {
  connections.add(s);
  s.on('close', () => connections.delete(s));
  s.on('error', () => {});
  let buf = '';
  s.on('data', (d) => {
    buf += d;
    for (let i; (i = buf.indexOf('\\n')) >= 0; buf = buf.slice(i + 1)) s.write('pong\\n');
  });
});
srv.listen(Number(process.argv[1]), '127.0.0.1', () => console.log(srv.address().port));
process.on('SIGTERM', () => {
  srv.close();
  for (const s of connections) s.end();
  setTimeout(() => process.exit(0), 20);
});
`;

/** lineServer starts LINE_SERVER on `port` (0: any) and resolves once it listens. */
async function lineServer(port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', LINE_SERVER, String(port)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  // Close our end of its stdout now, so the only fds this test adds are the client's sockets.
  child.stdout!.destroy();
  return { child, port: Number(line.toString().trim()) };
}

/** stop ends the server (SIGKILL: the kernel closes its sockets, RST where data is unread; SIGTERM: FIN). */
async function stop(child: ChildProcess, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  await exited;
}

test('#29 a server restart mid-load: dead idle connections are replaced, no request fails twice, sockets stay within max', async (t) => {
  const max = 4;
  let server = await lineServer(0);
  const { port } = server;
  t.after(() => stop(server.child, 'SIGKILL'));
  const fds0 = openFds();
  const client = new LineClient(`127.0.0.1:${port}`, {
    pool: { max, acquireTimeout: 3000, createRetry: { initial: 10, max: 50 } },
  });
  t.after(() => client.close());
  const reasons = new Map<string, number>();
  client.pool.on('destroy', (e) => reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1));

  // Sample while the load runs: the pool's size, and this process's fds, which are its sockets.
  const peak = { size: 0, fds: 0 };
  const sampler = setInterval(() => {
    peak.size = Math.max(peak.size, client.pool.stats().size);
    peak.fds = Math.max(peak.fds, openFds());
  }, 5);
  t.after(() => clearInterval(sampler));

  let started = 0;
  let done = 0;
  let failedOnce = 0;
  const failedTwice: string[] = [];
  const total = 1200;
  const deadline = Date.now() + 6000;
  const loop = async () => {
    for (let i = 1; started < total && Date.now() < deadline; i++) {
      started++;
      try {
        assert.equal(await client.request('ping', { timeout: 2000 }), 'pong');
      } catch {
        // One failure is allowed: the request was on a connection the restart cut. The retry
        // waits a moment, as a client's retry backoff would, so that every FIN or RST of that
        // restart has arrived: it can then only fail if the pool hands out a connection it
        // could have known was dead (an immediate retry can meet a FIN still in flight).
        failedOnce++;
        await sleep(5);
        try {
          assert.equal(await client.request('ping', { timeout: 2000 }), 'pong');
        } catch (err) {
          failedTwice.push(String(err));
        }
      }
      done++;
      // Bursts and pauses of random length leave connections idle in the pool for a while,
      // long enough for a restart to reach them there.
      if (i % 10 === 0) await sleep(5 + Math.random() * 20);
    }
  };
  const restarts = (async () => {
    for (const [at, signal] of [
      [total / 3, 'SIGKILL'],
      [(2 * total) / 3, 'SIGTERM'],
    ] as const) {
      // Restart while some connections sit idle, so the pool has dead idle ones to notice.
      await until(() => done >= at && client.pool.stats().idle >= 2, 5000, `${at} requests`);
      await stop(server.child, signal);
      // Listening again takes a node start-up: dials are refused meanwhile, and back off.
      server = await lineServer(port);
    }
  })();
  await Promise.all([...Array.from({ length: 8 }, loop), restarts]);
  clearInterval(sampler);

  assert.equal(done, total, 'the load did not finish in time');
  assert.deepEqual(failedTwice, []);
  const dead = (reasons.get('dead') ?? 0) + (reasons.get('invalid') ?? 0);
  assert.ok(dead >= 1, `no dead idle connection was detected: ${JSON.stringify([...reasons])}`);
  assert.ok(peak.size <= max, `pool size reached ${peak.size}`);
  // One fd of slack: a replaced connection's fd may close just after its successor opens,
  // and a restarted server's stdout pipe is open until its port is read.
  assert.ok(peak.fds <= fds0 + max + 1, `fds peaked at ${peak.fds} from a baseline of ${fds0}`);
  t.diagnostic(`failed once: ${failedOnce}; destroy reasons: ${JSON.stringify([...reasons])}`);
  await client.close();
  await until(() => openFds() <= fds0, 2000, `fds back to ${fds0}`);
});

test('#30 server down: acquire times out naming the refusal, dials back off, and the pool recovers when it is up', async (t) => {
  const port = await freePort();
  const pool = createTcpPool(`127.0.0.1:${port}`, {
    max: 2,
    acquireTimeout: 300,
    createRetry: { initial: 50, max: 200 },
  });
  t.after(() => pool.drain());
  let dials = 0;
  pool.on('createError', () => dials++);

  const start = performance.now();
  await assert.rejects(
    pool.acquire(),
    (e) => e instanceof TimeoutError && e.code === 'NETKIT_TIMEOUT' && /connection refused/.test(e.message),
  );
  const took = performance.now() - start;
  assert.ok(took >= 295 && took < 400, `acquire took ${took.toFixed(0)} ms`);

  // A waiter keeps the pool dialling for a second; backoff keeps that to a handful of tries.
  const waiting = pool.acquire({ timeout: 1000 }).catch((e: unknown) => e);
  await sleep(1000);
  assert.ok(isNetkitError(await waiting, 'NETKIT_TIMEOUT'));
  assert.ok(dials >= 4 && dials <= 15, `${dials} dials in 1.3 s`);
  assert.equal(pool.stats().createErrors, dials);

  const listener = await listen(`127.0.0.1:${port}`);
  const server = serve(listener, replyHandler('pong'));
  t.after(() => Promise.all([pool.drain(), server.close({ timeout: 100 })]));
  // The next dial may wait out one backoff delay (at most 200 ms).
  const conn = await pool.acquire({ timeout: 1000 });
  await conn.write('hi\n');
  assert.equal(await conn.readLine(), 'pong');
  pool.release(conn);
  await pool.drain();
  await server.close({ timeout: 100 });
});

test('#31 maxWaiting overflow, double and foreign release, and drain closing every connection', async (t) => {
  const fds0 = openFds();
  const listener = await listen('127.0.0.1:0');
  const server = serve(listener, replyHandler('pong'));
  let opened = 0;
  let closed = 0;
  server.on('open', () => opened++);
  server.on('close', () => closed++);
  const pool = createTcpPool(listener.addr.address, { max: 3, maxWaiting: 1 });
  t.after(() => Promise.all([pool.drain(), server.close({ timeout: 100 })]));
  const client = new LineClient(pool);

  // One at a time: maxWaiting also counts acquires waiting for a dial (see pool.test.ts).
  const conns = [await pool.acquire(), await pool.acquire(), await pool.acquire()];
  const queued = pool.acquire();
  const start = performance.now();
  await assert.rejects(pool.acquire(), { code: 'NETKIT_POOL_EXHAUSTED' });
  assert.ok(performance.now() - start < 20);

  pool.release(conns[0]!); // goes to the queued acquire
  assert.equal(await queued, conns[0]);
  pool.release(conns[0]!);
  assert.throws(() => pool.release(conns[0]!), { code: 'NETKIT_POOL_MISUSE' });
  const foreign = await dial(listener.addr.address);
  assert.throws(() => pool.release(foreign), { code: 'NETKIT_POOL_MISUSE' });
  foreign.destroy();
  assert.equal(await client.request('ping'), 'pong');

  // Two connections are still borrowed: drain waits for them and closes them too.
  const draining = pool.drain();
  await assert.rejects(pool.acquire(), { code: 'NETKIT_POOL_CLOSED' });
  await assert.rejects(client.request('ping'), { code: 'NETKIT_POOL_CLOSED' });
  pool.release(conns[1]!);
  pool.release(conns[2]!);
  await draining;
  assert.equal(opened, 4); // three pooled and the foreign one
  await until(() => closed === opened, 2000, 'the server to see every connection end');
  await server.close({ timeout: 100 });
  await until(() => openFds() <= fds0, 2000, `fds back to ${fds0}`);
});
