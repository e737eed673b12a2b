/**
 * relay() over real loopback sockets: bytes both ways, half-close relayed
 * in each direction while the other keeps flowing, RST mirrored as RST,
 * bounded buffering against a reader that never reads, the connection
 * cap, idle timeout, an unreachable target (the client is closed, the
 * relay keeps serving), Unix sockets, the per-connection summary and
 * option checks.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { type ConnSummary, type Relay, type RelayOptions, relay } from '../../src/relay/index.js';
import { until } from '../helpers/net.js';
import { backend, startRelay, streamingBackend } from '../helpers/relay.js';

/** lastError is the last error each client socket saw (they keep a listener, so a reset never crashes a test). */
const lastError = new WeakMap<net.Socket, NodeJS.ErrnoException>();

function connect(address: string): Promise<net.Socket> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const s = net.connect(
      { host: address.slice(0, at), port: Number(address.slice(at + 1)), allowHalfOpen: true },
      () => resolve(s),
    );
    s.on('error', (err) => {
      lastError.set(s, err);
      reject(err);
    });
  });
}

/** closedWith waits for `s` to close and returns the error code it closed with ('' for none). */
async function closedWith(s: net.Socket): Promise<string> {
  if (!s.closed) await new Promise((resolve) => s.once('close', resolve));
  return lastError.get(s)?.code ?? '';
}

function readToEnd(s: net.Socket): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.once('end', () => resolve(Buffer.concat(chunks)));
    s.once('error', reject);
  });
}

const nextClose = (r: Relay) => once(r, 'close').then(([s]) => s as ConnSummary);

test('bytes go both ways and the summary counts them', async (t) => {
  const b = await backend(t, (s) => s.pipe(s));
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
  const c = await connect(r.address);
  const closed = nextClose(r);
  const payload = Buffer.alloc(1 << 20, 7);
  c.end(payload);
  const got = await readToEnd(c);
  assert.equal(Buffer.compare(got, payload), 0);
  c.destroy();
  const s = await closed;
  assert.equal(s.up, payload.length);
  assert.equal(s.down, payload.length);
  assert.equal(s.first, 'client');
  assert.equal(s.how, 'fin');
  assert.equal(s.target, b.address);
  assert.match(s.client, /^127\.0\.0\.1:\d+$/);
});

test("a client's FIN reaches the server while the server's reply still flows back", async (t) => {
  // The server answers only once it has seen the client's FIN: the reply must still arrive.
  const b = await backend(t, (s) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      s.write('got ');
      setTimeout(() => s.end(Buffer.concat(chunks)), 20);
    });
  });
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
  const closed = nextClose(r);
  const c = await connect(r.address);
  c.end('question');
  assert.equal((await readToEnd(c)).toString(), 'got question');
  const s = await closed;
  assert.equal(s.first, 'client');
  assert.equal(s.how, 'fin');
});

test("a server's FIN reaches the client while the client can still send", async (t) => {
  let heard = '';
  const serverEnded = new Promise<void>((resolve) => {
    void backend(t, (s) => {
      s.end('bye');
      s.on('data', (c: Buffer) => (heard += c));
      s.on('end', () => resolve());
    }).then((b) => started(b.address));
  });
  let started!: (a: string) => void;
  const address = await new Promise<string>((r) => (started = r));
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [address] });
  const closed = nextClose(r);
  const c = await connect(r.address);
  const got = await readToEnd(c);
  assert.equal(got.toString(), 'bye');
  c.end('after your FIN');
  await serverEnded;
  assert.equal(heard, 'after your FIN');
  const s = await closed;
  assert.equal(s.first, 'target');
});

test('an RST from the server reaches the client as a reset', async (t) => {
  const b = await backend(t, (s) => s.once('data', () => s.resetAndDestroy()));
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
  const c = await connect(r.address);
  const closed = nextClose(r);
  c.write('hello');
  c.resume();
  assert.equal(await closedWith(c), 'ECONNRESET');
  const s = await closed;
  assert.equal(s.first, 'target');
  assert.equal(s.how, 'rst');
});

test('an RST from the client reaches the server as a reset', async (t) => {
  let serverSaw: Promise<NodeJS.ErrnoException | 'end'> | undefined;
  const b = await backend(t, (s) => {
    serverSaw = new Promise((resolve) => {
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e));
      s.once('end', () => resolve('end'));
      s.resume();
    });
  });
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
  const c = await connect(r.address);
  c.write('x');
  await once(r, 'open');
  await until(() => serverSaw !== undefined);
  c.resetAndDestroy();
  const saw = await serverSaw;
  assert.notEqual(saw, 'end');
  assert.equal((saw as NodeJS.ErrnoException).code, 'ECONNRESET');
});

test('a client that never reads: the relay holds a bounded amount, the server is paused', async (t) => {
  const b = await streamingBackend(t, 256 * 1024 * 1024);
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
  const c = await connect(r.address);
  c.pause();
  await until(() => b.paused(), 5000, 'the server to be paused');
  // Let the kernel buffers fill, then check the total stays put: the relay stopped reading.
  let last = -1;
  await until(
    () => {
      const stable = b.written() === last;
      last = b.written();
      return stable;
    },
    10_000,
    'the server to stop writing',
  );
  const mem = process.memoryUsage().rss;
  assert.ok(
    b.written() < 64 * 1024 * 1024,
    `the server wrote ${b.written()} bytes into a client that never reads`,
  );
  assert.ok(mem < 1024 * 1024 * 1024);
  c.destroy();
});

test('maxConnections resets clients past the cap and says so; the relay keeps serving', async (t) => {
  const b = await backend(t, (s) => s.pipe(s));
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address], maxConnections: 2 });
  const held = [await connect(r.address), await connect(r.address)];
  await until(() => r.connections === 2);
  const failed = once(r, 'fail');
  // The reset may come before the client's own connect completes: either way it is a reset.
  const third = connect(r.address).then(
    (s) => closedWith(s.resume()),
    (err: NodeJS.ErrnoException) => err.code,
  );
  const [f] = await failed;
  assert.equal(f.code, 'NETKIT_RELAY_LIMIT');
  assert.equal(await third, 'ECONNRESET');
  held[0]?.destroy();
  await until(() => r.connections === 1);
  const again = await connect(r.address);
  again.end('ok');
  assert.equal((await readToEnd(again)).toString(), 'ok');
  held[1]?.destroy();
});

test('idleTimeout closes a silent connection and names the reason', async (t) => {
  const b = await backend(t, (s) => s.resume());
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address], idleTimeout: 150 });
  const closed = nextClose(r);
  const c = await connect(r.address);
  c.on('data', () => {});
  const s = await closed;
  assert.equal(s.first, 'relay');
  assert.match(s.reason ?? '', /idle/);
  c.destroy();
});

test('an unreachable target: a fail event with the reason, the client closed, the relay still serving', async (t) => {
  const gone = net.createServer().listen(0, '127.0.0.1');
  await once(gone, 'listening');
  const dead = `127.0.0.1:${(gone.address() as net.AddressInfo).port}`;
  await new Promise<void>((r) => gone.close(() => r()));
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [dead] });
  const failed = once(r, 'fail');
  const c = await connect(r.address);
  const [f] = await failed;
  assert.equal(f.code, 'NETKIT_DIAL_FAILED');
  assert.match(f.reason, /connection refused/);
  // The relay closed the client (FIN): the client reads the end of the stream.
  assert.equal((await readToEnd(c)).length, 0);
  c.destroy();
  const failed2 = once(r, 'fail');
  (await connect(r.address)).resume();
  await failed2;
});

test('unix: on both sides', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nk-relay-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const server = net.createServer((s) => s.pipe(s));
  server.listen(path.join(dir, 'b.sock'));
  await once(server, 'listening');
  t.after(() => server.close());
  const r = await startRelay(t, {
    listen: `unix:${path.join(dir, 'r.sock')}`,
    targets: [`unix:${path.join(dir, 'b.sock')}`],
  });
  assert.equal(r.address, `unix:${path.join(dir, 'r.sock')}`);
  const c = net.connect({ path: path.join(dir, 'r.sock'), allowHalfOpen: true });
  const closed = nextClose(r);
  c.end('over unix');
  assert.equal((await readToEnd(c)).toString(), 'over unix');
  const s = await closed;
  assert.equal(s.client, 'unix');
});

test('options are checked up front, each failure naming the option', async () => {
  const cases: [RelayOptions, string][] = [
    [{ listen: '', targets: ['127.0.0.1:1'] }, 'listen'],
    [{ listen: '127.0.0.1:0', targets: [] }, 'targets'],
    [{ listen: '127.0.0.1:0', targets: ['nope'] }, 'targets[0]'],
    [{ listen: '127.0.0.1:0', targets: ['ftp://x:1'] }, 'targets[0]'],
    [{ listen: 'exec:cat', targets: ['127.0.0.1:1'] }, 'listen'],
    [{ listen: '127.0.0.1:0', targets: ['127.0.0.1:1'], balance: 'random' as never }, 'balance'],
    [{ listen: '127.0.0.1:0', targets: ['127.0.0.1:1'], maxConnections: 0 }, 'maxConnections'],
    [{ listen: '127.0.0.1:0', targets: ['ws://127.0.0.1:1/'], sendProxy: 'v2' }, 'sendProxy'],
    [{ listen: '0.0.0.0:0', targets: ['exec:cat'] }, 'allowRemoteExec'],
    [{ listen: '127.0.0.1:0', targets: ['-'] }, 'stdio'],
    [{ listen: '127.0.0.1:0', targets: ['exec:cat', '127.0.0.1:1'] }, 'targets'],
  ];
  for (const [o, option] of cases) {
    await assert.rejects(relay(o), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, `${JSON.stringify(o)}: ${String(err)}`);
      assert.equal(err.option, option, JSON.stringify(o));
      return true;
    });
  }
});

test('a fault added at runtime reaches a connection that has been silent', async (t) => {
  const b = await backend(t, (s) => s.resume());
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
  const opened = once(r, 'open');
  const c = await connect(r.address);
  await opened;
  const closed = nextClose(r);
  const added = performance.now();
  // Toxiproxy's timeout: no data gets through, and the connection is closed after 200 ms.
  r.toxics.add({ type: 'timeout', stream: 'upstream', attributes: { timeout: 200 } });
  const s = await closed;
  const ms = performance.now() - added;
  assert.ok(ms >= 190 && ms < 3000, `closed after ${ms} ms`);
  assert.equal(s.first, 'relay');
  c.destroy();
});

test('a target whose name does not resolve: a fail event naming the lookup, the relay keeps serving', async (t) => {
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: ['no-such-host.invalid:80'] });
  const failed = once(r, 'fail');
  const c = await connect(r.address);
  const [f] = await failed;
  assert.equal(f.code, 'NETKIT_LOOKUP_FAILED');
  assert.match(f.reason, /no-such-host\.invalid/);
  assert.equal((await readToEnd(c)).length, 0);
  c.destroy();
  assert.equal(r.connections, 0);
});
