/**
 * RELIABILITY 36 for HTTP pipelining: a client that pipelines requests it
 * makes the server wait on (`?delay=`) is read at most maxPendingRequests
 * ahead; its memory stays bounded, other clients see no stall, and a reset
 * tears down a short queue. Raw sockets, because no well-behaved client
 * pipelines; the primary measure is how many requests the server parsed.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { request } from '../../src/http/client/index.js';
import { type HttpServerOptions, serveHttp } from '../../src/http/server/index.js';
import { HeadSplitter } from '../../src/http/server/pipeline.js';
import { sleep, until } from '../helpers/net.js';

/** pieces runs the splitter over `chunks` and returns the [start, end) offsets of what it hands out. */
function pieces(chunks: Buffer[]): [number, number][] {
  const splitter = new HeadSplitter();
  const out: [number, number][] = [];
  let offset = 0;
  for (const chunk of chunks) {
    let rest = chunk;
    while (rest.length > 0) {
      const n = splitter.next(rest);
      assert.ok(n > 0 && n <= rest.length, `next returned ${n} of ${rest.length}`);
      out.push([offset, offset + n]);
      offset += n;
      rest = rest.subarray(n);
    }
  }
  return out;
}

/** headEnds lists where each `\r\n\r\n` ends, scanning on after each one. */
function headEnds(stream: Buffer): number[] {
  const ends: number[] = [];
  for (let at = stream.indexOf('\r\n\r\n'); at >= 0; at = stream.indexOf('\r\n\r\n', at + 4))
    ends.push(at + 4);
  return ends;
}

const STREAM = Buffer.from(
  'GET /a HTTP/1.1\r\nHost: x\r\n\r\n' +
    'POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\n\r\n\r\nbody' +
    '\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n' +
    'POST /d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n' +
    'GET /e HTTP/1.0\r\n\r\n',
);

describe('HeadSplitter', () => {
  const check = (chunks: Buffer[], label: string) => {
    const ends = headEnds(STREAM);
    const got = pieces(chunks);
    assert.equal(got.at(-1)?.[1], STREAM.length, `${label}: every byte handed out`);
    for (const [start, end] of got) {
      const inside = ends.filter((e) => e > start && e <= end);
      assert.ok(inside.length <= 1, `${label}: piece ${start}-${end} completes ${inside.length} heads`);
      if (inside.length === 1)
        assert.equal(inside[0], end, `${label}: piece ${start}-${end} runs past a head`);
    }
    const cuts = new Set(got.map(([, end]) => end));
    for (const e of ends) assert.ok(cuts.has(e), `${label}: no cut after the head ending at ${e}`);
  };

  it('cuts after every head end, whole or split at any point into two chunks', () => {
    for (let k = 0; k <= STREAM.length; k++) check([STREAM.subarray(0, k), STREAM.subarray(k)], `split ${k}`);
  });

  it('cuts after every head end when fed one byte at a time', () => {
    check(
      Array.from({ length: STREAM.length }, (_, i) => STREAM.subarray(i, i + 1)),
      'bytewise',
    );
  });

  it('finds a head end split across three chunks', () => {
    const splitter = new HeadSplitter();
    assert.equal(splitter.next(Buffer.from('GET / HTTP/1.1\r')), 15);
    assert.equal(splitter.next(Buffer.from('\n\r')), 2);
    assert.equal(splitter.next(Buffer.from('\nGET /b HTTP/1.1\r\n\r\n')), 1);
  });
});

const DELAYED = Buffer.from('GET /?delay=30s HTTP/1.1\r\nHost: x\r\n\r\n');

interface Started {
  address: string;
  close: () => Promise<void>;
  /** parsed counts the requests the server parsed and handled. */
  parsed: () => number;
  /** bytesRead is how many bytes the server read from its connections, closed ones included. */
  bytesRead: () => number;
}

async function start(t: TestContext, options: HttpServerOptions = {}): Promise<Started> {
  let parsed = 0;
  const server = await serveHttp('127.0.0.1:0', {
    ...options,
    onRequest: () => {
      parsed++;
    },
  });
  t.after(() => server.close());
  const sockets: net.Socket[] = [];
  server.server.on('connection', (s: net.Socket) => sockets.push(s));
  return {
    address: server.address,
    close: () => server.close(),
    parsed: () => parsed,
    bytesRead: () => sockets.reduce((n, s) => n + s.bytesRead, 0),
  };
}

async function connect(t: TestContext, address: string): Promise<net.Socket> {
  const colon = address.lastIndexOf(':');
  const socket = net.connect(Number(address.slice(colon + 1)), address.slice(0, colon));
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

/** timers counts this process's active timers. */
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** timed runs `fn` and returns how long it took in ms. */
async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

const hello = (address: string) => request(`http://${address}/other`, { timeout: 10_000 });

describe('pipelining limits (serveHttp)', () => {
  it('RELIABILITY 36: a pipelining client is read only maxPendingRequests ahead; others are not stalled, its reset is cheap', {
    timeout: 20_000,
  }, async (t) => {
    const max = 8;
    const server = await start(t, { maxPendingRequests: max, shutdownTimeout: 100 });
    const rss0 = process.memoryUsage().rss;
    const client = await connect(t, server.address);
    // Two requests in one write: the second arrives while the first is owed, which is pipelining.
    client.write(Buffer.concat([DELAYED, DELAYED]));
    await until(() => server.parsed() === 2, 5000, 'the first two requests');
    // 100,000 more (3.8 MB): unbounded, the server would parse them all and hold ~400 MB.
    client.write(Buffer.concat(Array(100_000).fill(DELAYED)));
    await until(() => server.parsed() >= max, 5000, `${max} requests parsed`);
    await sleep(300);
    assert.equal(server.parsed(), max, 'requests parsed while none is answered');
    // The rest waits in the kernel: the server read little more than a socket buffer's worth.
    assert.ok(server.bytesRead() < 512 * 1024, `the server read ${server.bytesRead()} bytes`);
    const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
    assert.ok(grew < 100, `memory grew by ${grew.toFixed(0)} MiB`);

    const during = await timed(async () => assert.equal((await hello(server.address)).status, 200));
    assert.ok(during < 2000, `another client waited ${during.toFixed(0)} ms`);

    const loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
    client.resetAndDestroy();
    const after = await timed(async () => assert.equal((await hello(server.address)).status, 200));
    // A paused connection notices a reset when it next writes; close() tears it down now.
    const closing = await timed(() => server.close());
    loop.disable();
    const stallMs = loop.max / 1e6;
    t.diagnostic(
      `parsed ${server.parsed()}, read ${server.bytesRead()} B, rss +${grew.toFixed(0)} MiB, other client ${during.toFixed(0)} ms, after reset ${after.toFixed(0)} ms, close ${closing.toFixed(0)} ms, stall ${stallMs.toFixed(0)} ms`,
    );
    assert.ok(after < 2000, `after the reset another client waited ${after.toFixed(0)} ms`);
    assert.ok(closing < 2000, `close() took ${closing.toFixed(0)} ms`);
    assert.ok(stallMs < 1000, `the event loop stalled ${stallMs.toFixed(0)} ms`);
  });

  it('RELIABILITY 36: a read that pipelines more than 4 × maxPendingRequests owed requests closes that connection', {
    timeout: 20_000,
  }, async (t) => {
    const max = 8;
    const server = await start(t, { maxPendingRequests: max });
    const rss0 = process.memoryUsage().rss;
    const timers0 = timers();
    const client = await connect(t, server.address);
    const closed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    // Node's parser parses a whole read (up to 64 KiB, ~1,700 of these) before anything can stop it.
    client.write(Buffer.concat(Array(100_000).fill(DELAYED)));
    await closed;
    const oneRead = Math.ceil(65536 / DELAYED.length);
    assert.ok(server.parsed() <= oneRead, `${server.parsed()} requests parsed, one read holds ${oneRead}`);
    assert.ok(server.bytesRead() <= 2 * 65536, `the server read ${server.bytesRead()} bytes`);
    // Nothing the closed connection asked for is held until its delay is up.
    await until(() => timers() <= timers0 + 2, 2000, 'the delays to be cleared');
    const grew = (process.memoryUsage().rss - rss0) / 2 ** 20;
    assert.ok(grew < 100, `memory grew by ${grew.toFixed(0)} MiB`);
    const other = await timed(async () => assert.equal((await hello(server.address)).status, 200));
    assert.ok(other < 2000, `another client waited ${other.toFixed(0)} ms`);
  });

  it('a burst of pipelined requests answered at once is served in full, however deep', {
    timeout: 20_000,
  }, async (t) => {
    // start() sets onRequest, so even these are answered a tick after they are parsed.
    const server = await start(t, { maxPendingRequests: 8 });
    const client = await connect(t, server.address);
    let text = '';
    client.setEncoding('latin1');
    client.on('data', (d: string) => {
      text += d;
    });
    const n = 500;
    client.write(Array.from({ length: n }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
    await until(() => (text.match(/Hello, you've requested: /g) ?? []).length === n, 10_000, `${n} answers`);
    assert.equal(client.destroyed, false);
  });

  it('RELIABILITY 36: reading resumes as answers go out; every pipelined request is answered in order', {
    timeout: 20_000,
  }, async (t) => {
    const max = 4;
    const delayMs = 40;
    const server = await start(t, { maxPendingRequests: max });
    const client = await connect(t, server.address);
    let text = '';
    client.setEncoding('latin1');
    client.on('data', (d: string) => {
      text += d;
    });
    const n = 24;
    const reqs = Array.from(
      { length: n },
      (_, i) => `GET /${i}?delay=${delayMs}ms HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    const began = performance.now();
    client.write(reqs.slice(0, 2).join(''));
    await until(() => server.parsed() === 2);
    client.write(reqs.slice(2).join(''));
    await until(() => (text.match(/Hello, you've requested: /g) ?? []).length === n, 10_000, `${n} answers`);
    const took = performance.now() - began;
    const order = [...text.matchAll(/Hello, you've requested: \/(\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      order,
      Array.from({ length: n }, (_, i) => i),
    );
    // At most `max` delays run at once, so n requests take at least n / max delays; unbounded, all
    // but the first two would run together and finish in about two.
    const floor = (n / max) * delayMs * 0.8;
    t.diagnostic(`answered in ${took.toFixed(0)} ms (floor ${floor} ms)`);
    assert.ok(took >= floor, `answered in ${took.toFixed(0)} ms, expected at least ${floor} ms`);
  });

  it('a pipelining client that half-closes after its last request gets every answer', {
    timeout: 20_000,
  }, async (t) => {
    // node:http ends the connection when the client's FIN is read, so a FIN held back behind
    // requests not yet handed to the parser must stay behind them. (Answers still owed when it is
    // read are lost, as without a limit, unless httpAllowHalfOpen is set.)
    const server = await start(t, { maxPendingRequests: 4 });
    const client = await connect(t, server.address);
    let text = '';
    client.setEncoding('latin1');
    client.on('data', (d: string) => {
      text += d;
    });
    const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
    const reqs = Array.from({ length: 200 }, (_, i) => `GET /${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    client.write(reqs.slice(0, 2).join(''));
    await until(() => server.parsed() === 2);
    client.end(reqs.slice(2).join(''));
    await ended;
    const order = [...text.matchAll(/Hello, you've requested: \/(\d+)/g)].map((m) => Number(m[1]));
    assert.equal(order.length, 200);
    assert.deepEqual(
      order,
      Array.from({ length: 200 }, (_, i) => i),
    );
  });

  it('an upgrade pipelined on a limited connection gets the bytes after its head', {
    timeout: 20_000,
  }, async (t) => {
    const server = await serveHttp('127.0.0.1:0', { maxPendingRequests: 2 });
    t.after(() => server.close());
    const upgraded = new Promise<[string, Duplex]>((resolve) => {
      server.server.on('upgrade', (_req, socket: Duplex, head: Buffer) => {
        let got = head.toString('latin1');
        socket.on('data', (d: Buffer) => {
          got += d.toString('latin1');
          if (got.length >= 4) resolve([got, socket]);
        });
        if (got.length >= 4) resolve([got, socket]);
      });
    });
    const client = await connect(t, server.address);
    let text = '';
    client.on('data', (d: Buffer) => {
      text += d.toString('latin1');
    });
    client.write('GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => (text.match(/Hello/g) ?? []).length === 2);
    client.write('GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\nPING');
    const [got, socket] = await upgraded;
    // node:http no longer tracks an upgraded socket: close() would wait for it.
    socket.destroy();
    assert.equal(got, 'PING');
  });

  it('rejects a bad maxPendingRequests with NETKIT_INVALID_ARGUMENT', { timeout: 20_000 }, async () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      await assert.rejects(serveHttp('127.0.0.1:0', { maxPendingRequests: bad }), {
        code: 'NETKIT_INVALID_ARGUMENT',
        option: 'maxPendingRequests',
      });
    }
  });
});
