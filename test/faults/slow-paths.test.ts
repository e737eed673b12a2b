// test: alone
/**
 * Every protocol over a slow path gives what it gives directly, only later.
 * Real netkit servers and clients on loopback talk through a relay that
 * adds 200 ms each way, limits both ways to 1 Mbit/s, or cuts every
 * segment to 1 byte, with no delay or 1 ms apart. Without a delay each
 * 1-byte piece still leaves on its own turn of the event loop (its own
 * write, as in Toxiproxy), so the reader sees small reads at full sizes;
 * 1 ms apart, every read is one byte, so each parser sees every split
 * point; it carries the small payloads. Each case runs once directly and
 * once per path; the results must be equal.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { createDecoder, createEncoder, type FrameFormat } from '../../src/framing/index.js';
import { request, serveHttp } from '../../src/http/index.js';
import { dialJsonRpc2, dialRpc, serveJsonRpc2Tcp, serveRpc } from '../../src/rpc/index.js';
import { dial, echoHandler, listen, serve } from '../../src/tcp/index.js';
import { sendFiles, serveFiles } from '../../src/transfer/index.js';
import { dialWs, serveWs, type WsMessage } from '../../src/ws/index.js';
import { figure, full, rounds } from '../helpers/figures.js';
import { startRelay } from '../helpers/relay.js';
import { Shape, testRegistry } from '../rpc/services.js';

/**
 * Path is one way from client to server; `small` paths carry the short
 * payloads. Every case takes at least `minMs` over it (one round trip, or
 * a few dozen bytes at 1 ms each): a faster run means the faults were not
 * applied, and equal results would prove nothing.
 */
interface Path {
  name: string;
  small: boolean;
  minMs: number;
  faults: readonly unknown[];
}

const both = (type: string, attributes: Record<string, number>) =>
  (['upstream', 'downstream'] as const).map((stream) => ({ type, stream, attributes }));

const PATHS: readonly Path[] = [
  { name: 'latency 200ms', small: false, minMs: 400, faults: both('latency', { latency: 200 }) },
  { name: '1 Mbit/s', small: false, minMs: 0, faults: both('bandwidth', { rate: 125 }) },
  // Each byte leaves on its own turn of the event loop (its own write): the suite's payloads take
  // seconds; the campaign's megabytes would take minutes, so there it carries the small ones.
  {
    name: '1-byte segments',
    small: full,
    minMs: 0,
    faults: both('slicer', { average_size: 1, size_variation: 0, delay: 0 }),
  },
  // At 1 ms a byte (Node's shortest timer), 64 KiB would take a minute: this path gets the small payloads.
  {
    name: '1-byte segments 1ms apart',
    small: true,
    minMs: 40,
    faults: both('slicer', { average_size: 1, size_variation: 0, delay: 1000 }),
  },
];

/** Scenario starts a server for one run and says how to talk to it at a given address. */
type Scenario<R> = (
  t: TestContext,
  small: boolean,
) => Promise<{ address: string; run: (a: string) => Promise<R> }>;

/**
 * OPTIONS bound each case in time. The suite runs a case's paths side by
 * side, as they mostly wait on timers; the campaign runs them one at a
 * time, so that its figures carry no other path's load. Over 1-byte
 * segments a 2-core machine moves about 20 KB/s with the other paths
 * running beside it, so the suite's payloads are sized to take under
 * 10 s there (a WebSocket message still crosses the 64-bit length), and
 * the bound leaves room for a slow machine.
 */
const OPTIONS = { timeout: rounds(60_000, 600_000), concurrency: rounds(PATHS.length, 1) };

/** across runs `scenario` directly and over every path, and asserts the results equal. */
async function across<R>(t: TestContext, protocol: string, scenario: Scenario<R>): Promise<void> {
  const direct = new Map<boolean, { result: R; ms: number }>();
  for (const small of [false, true]) {
    // The first run pays for lazy imports and compilation; the second is the one to compare with.
    const warm = await scenario(t, small);
    await warm.run(warm.address);
    const s = await scenario(t, small);
    const started = performance.now();
    const result = await s.run(s.address);
    direct.set(small, { result, ms: performance.now() - started });
  }
  const overPath = async (tt: TestContext, p: Path) => {
    const s = await scenario(tt, p.small);
    const r = await startRelay(tt, { listen: '127.0.0.1:0', targets: [s.address], faults: p.faults });
    const started = performance.now();
    const result = await s.run(r.address);
    const ms = performance.now() - started;
    const base = direct.get(p.small)!;
    assert.deepEqual(result, base.result, `${protocol} over ${p.name} differs from direct`);
    assert.ok(ms >= p.minMs, `${protocol} over ${p.name} took ${ms} ms, under ${p.minMs} ms`);
    figure(tt, `slow-paths ${protocol} / ${p.name}`, {
      ms: Math.round(ms),
      directMs: Math.round(base.ms * 10) / 10,
      timesDirect: Math.round(ms / base.ms),
      ok: true,
    });
  };
  await Promise.all(PATHS.map((p) => t.test(p.name, (tt) => overPath(tt, p))));
}

/** pattern is n bytes that differ from their neighbours, so a lost or doubled byte shows. */
function pattern(n: number, seed = 0): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

/** text is n printable bytes (no line ending, so a line frame can carry it). */
const text = (n: number, seed = 0) =>
  Buffer.from(Array.from({ length: n }, (_, i) => 0x21 + ((i * 13 + seed) % 94)));

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

for (const format of ['line', 'len32', 'uvarint'] as const satisfies readonly FrameFormat[]) {
  test(`framing ${format}: every frame arrives intact and in order`, OPTIONS, async (t) => {
    // Lengths across uvarint's 1-, 2- and 3-byte prefixes.
    const full = [0, 1, 2, 127, 128, 300, 1000, 16383, 16384, rounds(20_000, 200_000)];
    const frames = (small: boolean) =>
      (small ? [0, 1, 2, 5, 17, 40] : full).map((n, i) => (format === 'line' ? text(n, i) : pattern(n, i)));
    await across(t, `framing ${format}`, async (tt, small) => {
      const listener = await listen('127.0.0.1:0');
      const server = serve(listener, echoHandler({ frame: format }));
      tt.after(() => server.close({ timeout: 100 }));
      return {
        address: listener.addr.address,
        run: async (address) => {
          const sent = frames(small);
          const conn = await dial(address);
          try {
            const got: Buffer[] = [];
            const reading = (async () => {
              for await (const f of conn.frames(createDecoder(format))) got.push(Buffer.from(f));
            })();
            const encoder = createEncoder(format);
            for (const f of sent) await conn.write(encoder.encode(f));
            await conn.closeWrite();
            await reading;
            assert.deepEqual(
              got.map((f) => `${f.length} ${sha256(f)}`),
              sent.map((f) => `${f.length} ${sha256(f)}`),
            );
            return got.map(sha256);
          } finally {
            conn.destroy();
          }
        },
      };
    });
  });
}

/** shape is a Shape with `n` points and tags and `n * 8` raw bytes. */
function shape(n: number) {
  return {
    Name: 'polygon',
    Points: Array.from({ length: n }, (_, i) => ({ X: i, Y: i * -3 - 1 })),
    Tags: new Map(Array.from({ length: n }, (_, i) => [`tag-${i}`, i * i] as [string, number])),
    Center: { X: 7, Y: 8 },
    Scale: 1.5,
    Big: 2n ** 63n + 5n,
    Neg: -(2 ** 40),
    Ok: true,
    Raw: pattern(n * 8),
    Inner: { X: 9, Y: 0 },
  };
}

// The last is rpc.DialHTTP's CONNECT handshake, whose response head is read before gob starts.
for (const [codec, http] of [
  ['gob', false],
  ['json', false],
  ['gob', true],
] as const) {
  const name = `net/rpc ${codec}${http ? ' over HTTP CONNECT' : ''}`;
  test(`${name}: the same replies as direct`, OPTIONS, async (t) => {
    await across(t, name, async (tt, small) => {
      const server = await serveRpc('127.0.0.1:0', testRegistry(), { codec, http });
      tt.after(() => server.close());
      return {
        address: server.address,
        run: async (address) => {
          const client = await dialRpc(address, { codec, http });
          try {
            const sent = shape(small ? 2 : rounds(300, 3000));
            const [product, quotient, echoed] = await Promise.all([
              client.call('Arith.Multiply', { A: 7, B: 8 }),
              client.call('Arith.Divide', { A: 17, B: 5 }),
              client.call('Shapes.Echo', sent, { schema: Shape }),
            ]);
            // One more after the first: gob sends type definitions only once per connection.
            const again = await client.call('Arith.Multiply', { A: -3, B: 4 });
            assert.equal(product, 56);
            assert.deepEqual(quotient, { Quo: 3, Rem: 2 });
            assert.equal(again, -12);
            const e = echoed as typeof sent;
            assert.deepEqual(e.Points, sent.Points);
            assert.equal(e.Big, sent.Big);
            if (codec === 'gob') assert.deepEqual(e, sent);
            else assert.equal(e.Raw as unknown, sent.Raw.toString('base64'));
            return { product, quotient, echoed, again };
          } finally {
            await client.close();
          }
        },
      };
    });
  });
}

test('JSON-RPC 2.0 over TCP: the same replies as direct', OPTIONS, async (t) => {
  await across(t, 'JSON-RPC 2.0', async (tt, small) => {
    const server = await serveJsonRpc2Tcp('127.0.0.1:0', testRegistry());
    tt.after(() => server.close());
    return {
      address: server.address,
      run: async (address) => {
        const client = await dialJsonRpc2(address);
        try {
          const xs = Array.from({ length: small ? 3 : rounds(2000, 20_000) }, (_, i) => i * 7);
          const product = await client.call('Arith.Multiply', { A: 7, B: 8 });
          const [sum, batch] = await Promise.all([
            client.call('Shapes.Sum', xs),
            client.batch([
              { method: 'Arith.Divide', params: { A: 17, B: 5 } },
              { method: 'Arith.Divide', params: { A: 1, B: 0 } },
              { method: 'Shapes.Keys', params: [{ b: 2, a: 1 }] },
            ]),
          ]);
          assert.equal(product, 56);
          assert.equal(
            sum,
            xs.reduce((a, b) => a + b, 0),
          );
          const outcomes = batch.map((b) => ('error' in b ? { error: b.error.message } : b));
          assert.deepEqual(outcomes, [
            { result: { Quo: 3, Rem: 2 } },
            { error: 'divide by zero' },
            { result: ['a', 'b'] },
          ]);
          return { product, sum, outcomes };
        } finally {
          await client.close();
        }
      },
    };
  });
});

test('WebSocket: text and binary messages come back identical', OPTIONS, async (t) => {
  await across(t, 'WebSocket', async (tt, small) => {
    const server = await serveWs('127.0.0.1:0');
    tt.after(() => server.close());
    return {
      address: server.address,
      run: async (address) => {
        const sent: { data: Buffer; binary: boolean }[] = [
          { data: Buffer.from('hello'), binary: false },
          { data: Buffer.from('grüße, 世界 🌍'), binary: false },
          { data: pattern(small ? 3 : 200), binary: true },
          { data: pattern(small ? 130 : rounds(64 * 1024, 1024 * 1024), 1), binary: true },
          { data: text(small ? 20 : rounds(3_000, 70_000)), binary: false },
        ];
        const c = await dialWs(`ws://${address}/echo`);
        try {
          for (const m of sent) await c.send(m.data, { binary: m.binary });
          const got: WsMessage[] = [];
          for await (const m of c) {
            got.push(m);
            if (got.length === sent.length) break;
          }
          const seen = got.map((m) => ({ binary: m.binary, sha: sha256(m.data), bytes: m.data.length }));
          assert.deepEqual(
            seen,
            sent.map((m) => ({ binary: m.binary, sha: sha256(m.data), bytes: m.data.length })),
          );
          return seen;
        } finally {
          await c.close();
        }
      },
    };
  });
});

/** files lists every file under `dir` with its SHA-256, and every directory, by relative path. */
async function files(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const rel = path.relative(dir, path.join(e.parentPath, e.name));
    out[rel] = e.isDirectory() ? 'dir' : sha256(await readFile(path.join(dir, rel)));
  }
  return out;
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-slow-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('transfer: a directory arrives with identical bytes and the same tree', OPTIONS, async (t) => {
  const sources = new Map<boolean, string>();
  for (const small of [false, true]) {
    const src = path.join(await tempDir(t), 'tree');
    await mkdir(path.join(src, 'sub', 'deeper'), { recursive: true });
    await mkdir(path.join(src, 'empty-dir'));
    await writeFile(path.join(src, 'a.txt'), 'first file\n');
    await writeFile(path.join(src, 'empty'), '');
    await writeFile(
      path.join(src, 'sub', 'b.bin'),
      pattern(small ? 60 : rounds(48 * 1024, 2 * 1024 * 1024), 2),
    );
    await writeFile(
      path.join(src, 'sub', 'deeper', 'c.bin'),
      pattern(small ? 25 : rounds(24 * 1024, 1024 * 1024), 3),
    );
    sources.set(small, src);
  }
  await across(t, 'transfer', async (tt, small) => {
    const dir = await tempDir(tt);
    const receiver = await serveFiles('127.0.0.1:0', { dir });
    tt.after(() => receiver.close());
    const src = sources.get(small)!;
    return {
      address: receiver.address,
      run: async (address) => {
        const summary = await sendFiles([src], address, { code: receiver.code });
        const got = await files(path.join(dir, 'tree'));
        assert.deepEqual(got, await files(src));
        return { got, files: summary.files, bytes: summary.bytes, ok: summary.ok };
      },
    };
  });
});

test('HTTP: a request body of some KiB is seen and answered identically', OPTIONS, async (t) => {
  await across(t, 'HTTP', async (tt, small) => {
    const server = await serveHttp('127.0.0.1:0');
    tt.after(() => server.close());
    return {
      address: server.address,
      run: async (address) => {
        const body = text(small ? 30 : rounds(16 * 1024, 256 * 1024), 5).toString();
        const res = await request(`http://${address}/some/path?x=1`, {
          method: 'POST',
          headers: { accept: 'application/json', 'content-type': 'text/plain' },
          body,
        });
        assert.equal(res.status, 200);
        const info = JSON.parse(res.body.toString()) as {
          method: string;
          url: string;
          body: { text?: string };
        };
        assert.equal(info.body.text, body);
        const plain = await request(`http://${address}/hello`);
        return { status: res.status, method: info.method, url: info.url, body: info.body, plain: plain.body };
      },
    };
  });
});
