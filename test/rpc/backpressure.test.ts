/**
 * RELIABILITY 36 for the RPC servers: a client that pipelines calls and never
 * reads the replies must stop being read once its replies cannot be written,
 * so the server holds a bounded amount for it, and other clients are answered
 * meanwhile. What is measured is deterministic: how many bytes the server
 * took from the socket, and how many reply bytes it queued in user space.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { dialRpc } from '../../src/rpc/client/dial.js';
import { GobClientCodec } from '../../src/rpc/codec/gob.js';
import { dialJsonRpc2, serveJsonRpc2Tcp } from '../../src/rpc/jsonrpc2/index.js';
import { Registry } from '../../src/rpc/registry.js';
import { serveRpc } from '../../src/rpc/server/serve.js';
import type { Conn, Server } from '../../src/tcp/index.js';

/** OFFERED is how much a greedy client tries to send: far more than any bound below. */
const OFFERED = 64 * 1024 * 1024;
/** REPLY_BYTES makes each reply outweigh its request, so unread replies pile up fast. */
const REPLY_BYTES = 1024;
/** The bounds the server must keep for that client. */
const MAX_READ = OFFERED / 4;
const MAX_QUEUED_REPLIES = 2 * 1024 * 1024;
const MAX_RSS_GROWTH = 160 * 1024 * 1024;

interface Case {
  name: string;
  start(registry: Registry): Promise<{ address: string; tcp: Server; close(): Promise<void> }>;
  /** first is the opening request (gob sends its type definitions there); then `next` over and over. */
  first(): Buffer;
  next(): Buffer;
  call(address: string): Promise<unknown>;
}

let gobCodec = new GobClientCodec({ maxMessageBytes: 1 << 20 });
const json = (seq: number) => `{"method":"Blob.Get","params":[${REPLY_BYTES}],"id":${seq}}\n`;
const json2 = (seq: number) =>
  `{"jsonrpc":"2.0","method":"Blob.Get","params":[${REPLY_BYTES}],"id":${seq}}\n`;

const CASES: Case[] = [
  {
    name: 'net/rpc gob',
    start: (registry) => serveRpc('127.0.0.1:0', registry, { codec: 'gob' }),
    first() {
      gobCodec = new GobClientCodec({ maxMessageBytes: 1 << 20 });
      return gobCodec.encodeRequest('Blob.Get', 0, REPLY_BYTES);
    },
    next: () => gobCodec.encodeRequest('Blob.Get', 1, REPLY_BYTES),
    async call(address) {
      const c = await dialRpc(address, { codec: 'gob' });
      try {
        return await c.call('Blob.Get', 3, { timeout: 5000 });
      } finally {
        await c.close();
      }
    },
  },
  {
    name: 'net/rpc json',
    start: (registry) => serveRpc('127.0.0.1:0', registry, { codec: 'json' }),
    first: () => Buffer.from(json(0)),
    next: () => Buffer.from(json(1)),
    async call(address) {
      const c = await dialRpc(address, { codec: 'json' });
      try {
        return await c.call('Blob.Get', 3, { timeout: 5000 });
      } finally {
        await c.close();
      }
    },
  },
  {
    name: 'JSON-RPC 2.0 over TCP',
    async start(registry) {
      const s = await serveJsonRpc2Tcp('127.0.0.1:0', registry, { shutdownTimeout: 200 });
      return { address: s.address, tcp: s.server, close: () => s.close() };
    },
    first: () => Buffer.from(json2(0)),
    next: () => Buffer.from(json2(1)),
    async call(address) {
      const c = await dialJsonRpc2(address);
      try {
        return await c.call('Blob.Get', [3], { timeout: 5000 });
      } finally {
        await c.close();
      }
    },
  },
];

/** greedy connects, sends `first`, then `block` over and over (honouring its own socket's backpressure), and never reads. */
function greedy(address: string, first: Buffer, block: Buffer): net.Socket {
  const i = address.lastIndexOf(':');
  const sock = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
  sock.on('error', () => {});
  let sent = 0;
  const pump = () => {
    while (sent < OFFERED) {
      sent += block.length;
      if (!sock.write(block)) return;
    }
  };
  sock.once('connect', () => {
    sock.write(first);
    sent = first.length;
    pump();
  });
  sock.on('drain', pump);
  return sock;
}

/** steady waits until the server has stopped taking bytes from `conn` (or took everything); it records the peak reply queue. */
async function steady(conn: Conn): Promise<{ read: number; peakQueued: number }> {
  let last = -1;
  let still = 0;
  let peakQueued = 0;
  const deadline = Date.now() + 30_000;
  while (still < 10 && conn.bytesRead < OFFERED && Date.now() < deadline) {
    await sleep(50);
    peakQueued = Math.max(peakQueued, conn.socket.writableLength);
    if (conn.bytesRead === last) still++;
    else {
      still = 0;
      last = conn.bytesRead;
    }
  }
  return { read: conn.bytesRead, peakQueued };
}

function blobRegistry(counter: { calls: number }): Registry {
  return new Registry().register('Blob', {
    Get(n) {
      counter.calls++;
      const size = Array.isArray(n) ? Number(n[0]) : Number(n);
      return 'x'.repeat(size);
    },
  });
}

async function run(t: TestContext, c: Case): Promise<void> {
  const counter = { calls: 0 };
  const server = await c.start(blobRegistry(counter));
  t.after(() => server.close());
  const opened = new Promise<Conn>((resolve) => server.tcp.once('open', resolve));
  const first = c.first();
  const next = c.next();
  const block = Buffer.concat(Array.from({ length: Math.floor(65536 / next.length) }, () => next));
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const sock = greedy(server.address, first, block);
  t.after(() => sock.destroy());
  const conn = await opened;
  const { read, peakQueued } = await steady(conn);
  const rssGrowth = process.memoryUsage().rss - rssBefore;
  t.diagnostic(
    `read ${(read / 2 ** 20).toFixed(1)} MiB of ${OFFERED / 2 ** 20} MiB, ${counter.calls} calls answered, ` +
      `peak reply queue ${(peakQueued / 1024).toFixed(0)} KiB, RSS +${(rssGrowth / 2 ** 20).toFixed(0)} MiB`,
  );
  assert.ok(read < MAX_READ, `the server kept reading a client that never reads: ${read} bytes`);
  assert.ok(peakQueued <= MAX_QUEUED_REPLIES, `replies queued in user space: ${peakQueued} bytes`);
  // Everything answered was read: the calls are bounded by the bytes read, not by what was offered.
  assert.ok(counter.calls <= read / next.length + 1);
  assert.ok(rssGrowth < MAX_RSS_GROWTH, `RSS grew by ${rssGrowth} bytes`);
  // Another client is served promptly while that one is stuck.
  const started = performance.now();
  assert.equal(await c.call(server.address), 'xxx');
  assert.ok(performance.now() - started < 1000, 'another client waited');
}

describe('RELIABILITY 36: a client that pipelines calls and never reads the replies', () => {
  for (const c of CASES) {
    it(`RELIABILITY 36: ${c.name}: the server stops reading it, holds a bounded amount, and serves others`, async (t) => {
      await run(t, c);
    });
  }
});
