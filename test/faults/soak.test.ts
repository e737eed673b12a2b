// test: alone
/**
 * A mixed garbage soak (checklist 33, 34, 36, 37, 40): every netkit server
 * runs in this process on loopback, with its default limits and short
 * idle and header timeouts, while hundreds of garbage clients of every
 * kind hit every server, reopening as they are closed, and legitimate
 * clients of each protocol do real round trips alongside. No legitimate
 * round trip may fail; every server answers afterwards; once the garbage
 * stops, this process's fds return to baseline and the heap to about its
 * size (with --expose-gc; RSS is reported either way).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import tls from 'node:tls';
import { isNetkitError } from '../../src/errors.js';
import { createDecoder, DEFAULT_MAX_FRAME_BYTES } from '../../src/framing/index.js';
import { request, serveHttp } from '../../src/http/index.js';
import { dialJsonRpc2, dialRpc, serveJsonRpc2Tcp, serveRpc } from '../../src/rpc/index.js';
import { dial, echoHandler, listen, serve } from '../../src/tcp/index.js';
import { MAGIC, sendFiles, serveFiles } from '../../src/transfer/index.js';
import { dialWs, serveWs } from '../../src/ws/index.js';
import { figure, rounds } from '../helpers/figures.js';
import { openFds, sleep, until } from '../helpers/net.js';
import { testRegistry } from '../rpc/services.js';

const PROTOCOLS = ['tcp', 'http', 'ws', 'rpc', 'jsonrpc2', 'transfer'] as const;
type Protocol = (typeof PROTOCOLS)[number];

const KINDS = [
  'random',
  'prefix',
  'slowloris',
  'oversized',
  'tls-hello',
  'http',
  'never-reads',
  'rst',
  'half-close',
] as const;
type Kind = (typeof KINDS)[number];

/** Short timeouts bound the soak: a squatter is cut within about a second, a silent peer within two. */
const HEADER_MS = 1000;
const IDLE_MS = 2000;
/** CAP is the longest a garbage client keeps one connection before giving up on the server closing it. */
const CAP_MS = 3000;
/** FD_SLACK allows for lazily opened handles (DNS, timers' epoll, a worker) that stay. */
const FD_SLACK = 16;

interface Servers {
  address: Record<Protocol, string>;
  /** transferCode is the code the file receiver generated. */
  transferCode: string;
  close(): Promise<void>;
}

async function startServers(t: TestContext, dir: string): Promise<Servers> {
  const listener = await listen('127.0.0.1:0');
  const tcp = serve(listener, echoHandler({ frame: 'line' }), {
    idleTimeout: IDLE_MS,
    firstByteTimeout: HEADER_MS,
  });
  const http = await serveHttp('127.0.0.1:0', {
    headersTimeout: HEADER_MS,
    requestTimeout: IDLE_MS,
    keepAliveTimeout: HEADER_MS,
    idleTimeout: IDLE_MS,
  });
  const ws = await serveWs('127.0.0.1:0', { headersTimeout: HEADER_MS, heartbeat: IDLE_MS });
  const rpc = await serveRpc('127.0.0.1:0', testRegistry(), {
    firstByteTimeout: HEADER_MS,
    idleTimeout: IDLE_MS,
  });
  const jsonrpc2 = await serveJsonRpc2Tcp('127.0.0.1:0', testRegistry(), {
    firstByteTimeout: HEADER_MS,
    idleTimeout: IDLE_MS,
  });
  const transfer = await serveFiles('127.0.0.1:0', {
    dir,
    handshakeTimeout: HEADER_MS,
    idleTimeout: IDLE_MS,
  });
  const close = async () => {
    await Promise.all([
      tcp.close({ timeout: 100 }),
      http.close(),
      ws.close(),
      rpc.close(),
      jsonrpc2.close(),
      transfer.close(),
    ]);
  };
  t.after(close);
  return {
    address: {
      tcp: listener.addr.address,
      http: http.address,
      ws: ws.address,
      rpc: rpc.address,
      jsonrpc2: jsonrpc2.address,
      transfer: transfer.address,
    },
    transferCode: transfer.code!,
    close,
  };
}

/** within rejects if `p` has not settled after `ms`: a legitimate client that hangs is a failure too. */
async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Legit does one real round trip of a protocol against `address`, rejecting unless it is answered right. */
type Legit = (address: string, n: number) => Promise<void>;

function legitClients(src: string, transferCode: string): Record<Protocol, Legit> {
  return {
    tcp: async (a, n) => {
      const conn = await dial(a);
      try {
        await conn.write(Buffer.from(`ping ${n}\n`));
        for await (const f of conn.frames(createDecoder('line'))) {
          assert.equal(f.toString(), `ping ${n}`);
          return;
        }
        throw new Error('tcp: closed before the echo');
      } finally {
        conn.destroy();
      }
    },
    http: async (a) => {
      const res = await request(`http://${a}/hello`);
      assert.equal(res.status, 200);
    },
    ws: async (a, n) => {
      const c = await dialWs(`ws://${a}/echo`);
      try {
        await c.send(`ws ${n}`);
        for await (const m of c) {
          assert.equal(m.data.toString(), `ws ${n}`);
          return;
        }
        throw new Error('ws: closed before the echo');
      } finally {
        await c.close();
      }
    },
    rpc: async (a, n) => {
      const client = await dialRpc(a);
      try {
        assert.equal(await client.call('Arith.Multiply', { A: n, B: 3 }), n * 3);
      } finally {
        await client.close();
      }
    },
    jsonrpc2: async (a, n) => {
      const client = await dialJsonRpc2(a);
      try {
        assert.equal(await client.call('Arith.Multiply', { A: n, B: 5 }), n * 5);
      } finally {
        await client.close();
      }
    },
    transfer: async (a, n) => {
      // A new name each time: the receiver refuses to overwrite.
      const file = path.join(src, `f-${n}-${process.hrtime.bigint()}.txt`);
      await writeFile(file, `file ${n}\n`);
      // Garbage that replays a sender's opening (a valid key share) and leaves after the answer
      // is a wrong guess at the code to the receiver, which slows down and tells senders "busy,
      // try again later"; a real sender does (netkit send --retry). Every other failure counts.
      for (let attempt = 0; ; attempt++) {
        try {
          const summary = await sendFiles([file], a, { code: transferCode });
          assert.equal(summary.ok, true);
          return;
        } catch (err) {
          if (attempt >= 20 || !isNetkitError(err, 'NETKIT_TRANSFER_BUSY')) throw err;
          busyRetries++;
          await new Promise((r) => setTimeout(r, 50 + 50 * attempt));
        }
      }
    },
  };
}

/** busyRetries counts the real senders' retries after a "busy" answer (a figure, not a failure). */
let busyRetries = 0;

/**
 * capture records the first bytes a real client of a protocol sends (its
 * opening request, or a TLS ClientHello), so that garbage can start with a
 * valid prefix and a client that never reads can send valid requests.
 */
async function capture(run: (address: string) => Promise<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  const server = net.createServer((s) => {
    s.on('data', (d) => parts.push(d));
    s.on('error', () => {});
    setTimeout(() => s.destroy(), 300);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await within(
    5000,
    'capture',
    run(`127.0.0.1:${port}`).catch(() => {}),
  );
  await new Promise((r) => server.close(r));
  const bytes = Buffer.concat(parts);
  assert.ok(bytes.length > 0, 'the client sent nothing to capture');
  return bytes;
}

function clientHello(address: string): Promise<void> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.split(':').at(-1))];
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host, port, rejectUnauthorized: false, servername: 'soak.test' });
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

/** oversized is a head and a number of filler bytes that together exceed the protocol's limit. */
function oversized(p: Protocol, opening: Buffer): { head: Buffer; fill: number } {
  const gobHuge = Buffer.from([0xfc, 0x7f, 0xff, 0xff, 0xff]); // a gob message length of 2^31-1
  switch (p) {
    case 'tcp':
      return { head: Buffer.alloc(0), fill: DEFAULT_MAX_FRAME_BYTES + 1 };
    case 'http':
      return Math.random() < 0.5
        ? { head: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nX-Big: '), fill: 256 * 1024 }
        : {
            head: Buffer.from('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4000000\r\n\r\n'),
            fill: 2 * 1024 * 1024,
          };
    case 'ws': {
      // After the upgrade, a masked binary frame announcing 2^40 bytes (maxPayload is 1 MiB).
      const frame = Buffer.from([0x82, 0xff, 0, 0, 0x01, 0, 0, 0, 0, 0, 1, 2, 3, 4]);
      return { head: Buffer.concat([opening, frame]), fill: 64 * 1024 };
    }
    case 'rpc':
      return { head: gobHuge, fill: 64 * 1024 };
    case 'jsonrpc2':
      return {
        head: Buffer.from('{"jsonrpc":"2.0","id":1,"method":"x","params":["'),
        fill: 1024 * 1024 + 16,
      };
    case 'transfer':
      return { head: Buffer.concat([MAGIC, Buffer.from([0xff, 0xff, 0xff, 0xff])]), fill: 64 * 1024 };
  }
}

interface Tally {
  made: number;
  refused: number;
  closedByServer: number;
  gaveUp: number;
  byCombo: Map<string, number>;
}

/**
 * garbage opens one connection of `kind` to `address` and misbehaves until
 * the server closes it, CAP_MS passes, or `stop` aborts. It never throws.
 */
async function garbage(
  p: Protocol,
  kind: Kind,
  address: string,
  openings: Record<Protocol, Buffer>,
  hello: Buffer,
  tally: Tally,
  stop: AbortSignal,
  stopped: Promise<unknown>,
): Promise<void> {
  const port = Number(address.split(':').at(-1));
  const s = net.connect({ host: '127.0.0.1', port });
  let closed = false;
  const gone = new Promise<void>((r) =>
    s.once('close', () => {
      closed = true;
      r();
    }),
  );
  s.on('error', () => {});
  const connected = await Promise.race([
    new Promise<boolean>((r) => s.once('connect', () => r(true))),
    gone.then(() => false),
  ]);
  if (!connected) {
    tally.refused++;
    return;
  }
  tally.made++;
  const combo = `${p}/${kind}`;
  tally.byCombo.set(combo, (tally.byCombo.get(combo) ?? 0) + 1);
  const started = Date.now();
  const left = () => CAP_MS - (Date.now() - started);
  const done = () => closed || stop.aborted || left() <= 0;
  const wait = (ms: number) => Promise.race([gone, sleep(Math.max(0, Math.min(ms, left()))), stopped]);
  /** send writes with backpressure, a chunk at a time, until done. */
  const send = async (b: Buffer) => {
    if (done()) return;
    if (!s.write(b)) await Promise.race([gone, new Promise((r) => s.once('drain', r)), wait(CAP_MS)]);
    // The servers share this event loop: a write the kernel takes at once must still give them a turn.
    else await new Promise(setImmediate);
  };
  const opening = openings[p];
  if (kind !== 'never-reads') s.resume();
  switch (kind) {
    case 'random':
      await send(randomBytes(1 + Math.floor(Math.random() * 4096)));
      break;
    case 'prefix':
      await send(
        Buffer.concat([
          opening.subarray(0, 1 + Math.floor(Math.random() * opening.length)),
          randomBytes(512),
        ]),
      );
      break;
    case 'slowloris':
      for (let i = 0; !done(); i++) {
        await send(opening.subarray(i % opening.length, (i % opening.length) + 1));
        await wait(100);
      }
      break;
    case 'oversized': {
      const { head, fill } = oversized(p, opening);
      await send(head);
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      for (let sent = 0; sent < fill && !done(); sent += chunk.length)
        await send(chunk.subarray(0, Math.min(chunk.length, fill - sent)));
      break;
    }
    case 'tls-hello':
      await send(hello);
      break;
    case 'http':
      await send(Buffer.from('GET / HTTP/1.1\r\nHost: soak\r\n\r\n'));
      break;
    case 'never-reads':
      // The opening request over and over, reading nothing: the server must stop reading rather than buffer replies.
      while (!done()) await send(opening);
      break;
    case 'rst':
      if (Math.random() < 0.5) s.write(opening.subarray(0, Math.ceil(opening.length / 2)));
      s.resetAndDestroy();
      break;
    case 'half-close':
      await send(opening.subarray(0, Math.ceil(opening.length / 2)));
      s.end();
      break;
  }
  await wait(left());
  if (closed) tally.closedByServer++;
  else tally.gaveUp++;
  s.destroy();
  await gone;
}

interface Memory {
  rss: number;
  heap: number | undefined;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function memory(): Promise<Memory> {
  if (gc) {
    // Twice, with a turn between: the first pass lets finalizers and weak callbacks run.
    gc();
    await sleep(50);
    gc();
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heap: gc ? m.heapUsed : undefined };
}

const MiB = (n: number | undefined) => (n === undefined ? 'n/a' : Math.round((n / 2 ** 20) * 10) / 10);

test('mixed garbage soak: every server keeps serving, and fds and memory come back', {
  timeout: rounds(60_000, 240_000),
}, async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-soak-'));
  const src = await mkdtemp(path.join(os.tmpdir(), 'netkit-soak-src-'));
  t.after(() =>
    Promise.all([rm(dir, { recursive: true, force: true }), rm(src, { recursive: true, force: true })]),
  );
  const servers = await startServers(t, dir);
  const legit = legitClients(src, servers.transferCode);

  // Warm up: lazy imports, compiled paths and the first of every handle a protocol opens are not leaks.
  let n = 0;
  for (const p of PROTOCOLS) await within(10_000, p, legit[p](servers.address[p], ++n));
  const openings = Object.fromEntries(
    await Promise.all(PROTOCOLS.map(async (p) => [p, await capture((a) => legit[p](a, 1))] as const)),
  ) as Record<Protocol, Buffer>;
  const hello = await capture(clientHello);
  await sleep(200);

  // A warning under load (MaxListenersExceededWarning at the 11th connection) is a finding too.
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));

  const fdsBefore = openFds();
  const memBefore = await memory();
  let fdsPeak = fdsBefore;
  const sampler = setInterval(() => {
    fdsPeak = Math.max(fdsPeak, openFds());
  }, 50);
  t.after(() => clearInterval(sampler));

  const soakMs = rounds(5_000, 60_000);
  const clients = rounds(200, 1000);
  const stop = new AbortController();
  // One promise for all: a listener per wait would pile up on the signal.
  const stopped = new Promise((r) => stop.signal.addEventListener('abort', r, { once: true }));
  const tally: Tally = { made: 0, refused: 0, closedByServer: 0, gaveUp: 0, byCombo: new Map() };
  const combos = PROTOCOLS.flatMap((p) => KINDS.map((k) => [p, k] as const));
  const garbageDone = Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      // Each client walks the combinations from its own starting point, so all are busy at once.
      for (let j = i; !stop.signal.aborted; j += 7) {
        const [p, kind] = combos[j % combos.length]!;
        await garbage(p, kind, servers.address[p], openings, hello, tally, stop.signal, stopped);
      }
    }),
  );

  const legitCount = Object.fromEntries(PROTOCOLS.map((p) => [p, { done: 0, failed: 0 }])) as Record<
    Protocol,
    { done: number; failed: number }
  >;
  const failures: string[] = [];
  const deadline = Date.now() + soakMs;
  const legitDone = Promise.all(
    PROTOCOLS.flatMap((p) =>
      Array.from({ length: rounds(2, 4) }, async () => {
        while (Date.now() < deadline) {
          try {
            await within(10_000, p, legit[p](servers.address[p], ++n));
            legitCount[p].done++;
          } catch (err) {
            legitCount[p].failed++;
            if (failures.length < 10) failures.push(`${p}: ${(err as Error).stack ?? err}`);
          }
        }
      }),
    ),
  );

  await legitDone;
  stop.abort();
  await garbageDone;
  clearInterval(sampler);

  // Every server still answers.
  for (const p of PROTOCOLS) await within(10_000, `${p} after the soak`, legit[p](servers.address[p], ++n));

  // Server sides of the garbage close at their idle or header timeout at the latest.
  const settled = Date.now();
  await until(() => openFds() <= fdsBefore + FD_SLACK, IDLE_MS * 4, 'fds back to baseline').catch(() => {
    // Asserted below, with the numbers.
  });
  const fdsAfter = openFds();
  const settleMs = Date.now() - settled;
  const memAfter = await memory();

  const done = PROTOCOLS.reduce((a, p) => a + legitCount[p].done, 0);
  const failed = PROTOCOLS.reduce((a, p) => a + legitCount[p].failed, 0);
  figure(t, 'soak: mixed garbage against every server', {
    soak_ms: soakMs,
    garbage_clients: clients,
    garbage_connections: tally.made,
    garbage_refused: tally.refused,
    garbage_closed_by_server: tally.closedByServer,
    garbage_gave_up: tally.gaveUp,
    legit_done: done,
    legit_failed: failed,
    legit_transfer_busy_retries: busyRetries,
    ...Object.fromEntries(PROTOCOLS.map((p) => [`legit_${p}`, legitCount[p].done])),
    fds_before: fdsBefore,
    fds_peak: fdsPeak,
    fds_after: fdsAfter,
    fds_settle_ms: settleMs,
    rss_before_mib: MiB(memBefore.rss),
    rss_after_mib: MiB(memAfter.rss),
    heap_before_mib: MiB(memBefore.heap),
    heap_after_mib: MiB(memAfter.heap),
    gc: gc !== undefined,
    warnings: warnings.length,
  });

  assert.deepEqual(failures, [], 'legitimate round trips failed');
  assert.deepEqual(warnings, [], 'the process warned under load');
  for (const p of PROTOCOLS) assert.ok(legitCount[p].done > 0, `${p}: no legitimate round trip was done`);
  for (const [p, k] of combos) assert.ok((tally.byCombo.get(`${p}/${k}`) ?? 0) > 0, `${p}/${k} never ran`);
  assert.ok(
    fdsAfter <= fdsBefore + FD_SLACK,
    `fds: ${fdsBefore} before, ${fdsAfter} after (peak ${fdsPeak})`,
  );
  if (memBefore.heap !== undefined && memAfter.heap !== undefined)
    assert.ok(
      memAfter.heap < memBefore.heap + 64 * 2 ** 20,
      `heap grew from ${MiB(memBefore.heap)} MiB to ${MiB(memAfter.heap)} MiB`,
    );
  await servers.close();
});
