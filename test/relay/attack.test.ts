// test: alone
/**
 * The relay under attack (RELIABILITY.md items 33–37 and 41), on real
 * loopback sockets: 1,000 idle clients reaped by the idle sweep while a
 * talking one is kept, 2,000 short connections in a row, a target that
 * never reads, clients that vanish without a FIN, WebSocket messages over
 * maxPayload and a slowloris on the upgrade, a burst past maxConnections,
 * 200 hostile API requests at once, and 50 clients racing for 4 exec:
 * children. Each ends with the relay's connections, the process's fds and
 * its children back where they started.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import WebSocket from 'ws';
import {
  type ConnFail,
  type ConnSummary,
  type Relay,
  RelayHub,
  serveRelayApi,
} from '../../src/relay/index.js';
import { RESET_PROBE_MS } from '../../src/relay/pipe.js';
import { openFds, sleep, until } from '../helpers/net.js';
import { backend, hostPort, roundTrip, startRelay, streamingBackend } from '../helpers/relay.js';

const MiB = 2 ** 20;
/** SLACK is how late a close may come on a loaded 2-core machine. */
const SLACK = 3000;
/** FD_SLACK allows for fds Node opens lazily (a DNS or signal handle) while a test runs. */
const FD_SLACK = 4;

/** Client is a raw TCP client that records what it reads, how it ended, and when. */
class Client {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  bytes = 0;
  chunks: Buffer[] = [];
  error: string | undefined;
  ended = false;
  isClosed = false;
  closedAt = 0;
  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.bytes += d.length;
      this.chunks.push(d);
    });
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      this.error = e.code ?? e.message;
    });
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.closedAt = performance.now();
        resolve();
      }),
    );
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString();
  }
  static open(address: string, allowHalfOpen = false): Promise<Client> {
    const s = net.connect({ ...hostPort(address), allowHalfOpen });
    const c = new Client(s);
    return new Promise((resolve, reject) => {
      s.once('connect', () => resolve(c));
      s.once('error', reject);
    });
  }
}

/** openMany opens `n` clients, `batch` at a time (a bounded SYN burst), all connected when it resolves. */
async function openMany(address: string, n: number, batch = 100): Promise<Client[]> {
  const all: Client[] = [];
  for (let i = 0; i < n; i += batch) {
    const k = Math.min(batch, n - i);
    all.push(...(await Promise.all(Array.from({ length: k }, () => Client.open(address)))));
  }
  return all;
}

/** within rejects when `p` takes longer than `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** closeOf resolves when `s` closes, however it fails (events.once would reject on its 'error'). */
const closeOf = (s: net.Socket) => new Promise<void>((resolve) => s.once('close', () => resolve()));

/** tcpHandles counts this process's live TCP sockets and servers (node's own view, not fds). */
function tcpHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap')
    .length;
}

/** settled waits for the relay to carry nothing and the fds to come back to `base`. */
async function settled(r: Relay, base: number, what: string): Promise<number> {
  await until(() => r.connections === 0, SLACK, `${what}: relay connections back to 0 (${r.connections})`);
  await until(() => openFds() <= base + FD_SLACK, SLACK, `${what}: fds back to ${base} (${openFds()})`);
  return openFds();
}

/** watch records a relay's close summaries and failures. */
function watch(r: Relay): { closes: ConnSummary[]; fails: ConnFail[] } {
  const w = { closes: [] as ConnSummary[], fails: [] as ConnFail[] };
  r.on('close', (s) => w.closes.push(s));
  r.on('fail', (f) => w.fails.push(f));
  return w;
}

test('1,000 idle clients are closed by the idle sweep, a talking one among them never is', async (t) => {
  const N = 1000;
  // Longer than opening 1,000 connections takes on a loaded machine, so they are all held at once.
  const IDLE = 3000;
  const b = await backend(t, (s) => s.pipe(s));
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [b.address],
    idleTimeout: IDLE,
    shutdownTimeout: 0,
  });
  const base = openFds();
  const w = watch(r);
  let peak = 0;
  r.on('open', () => {
    peak = Math.max(peak, r.connections);
  });

  const talker = await Client.open(r.address);
  t.after(() => talker.socket.destroy());
  let sent = 0;
  const ping = setInterval(() => {
    talker.socket.write('ping\n');
    sent += 5;
  }, IDLE / 5);
  t.after(() => clearInterval(ping));

  const t0 = performance.now();
  const idle = await openMany(r.address, N);
  const opened = performance.now() - t0;
  const peakFds = openFds();
  await within(Promise.all(idle.map((c) => c.closed)), IDLE + 10 * SLACK, 'every idle client closed');
  const allClosed = performance.now() - t0;
  assert.ok(peak > N / 2, `only ${peak} connections were relayed at once`);

  assert.equal(w.fails.length, 0, `fails: ${JSON.stringify(w.fails.slice(0, 3))}`);
  await until(() => w.closes.length >= N, SLACK, `a summary per idle client (${w.closes.length})`);
  assert.equal(w.closes.length, N, 'one summary per idle client, none for the talker');
  for (const [i, s] of w.closes.entries()) {
    assert.equal(s.first, 'relay', `#${i}: closed first by ${s.first}`);
    assert.match(s.reason ?? '', /idleTimeout/, `#${i}: reason ${s.reason}`);
    assert.ok(s.ms >= IDLE, `#${i}: closed after ${s.ms} ms, before idleTimeout ${IDLE}`);
    assert.equal(s.up + s.down, 0, `#${i}: an idle client moved bytes`);
  }
  for (const c of idle) assert.ok(c.ended || c.error !== undefined, 'an idle client was not told');

  // The talker is still open and its echo is current.
  assert.equal(talker.isClosed, false, 'the talking client was closed');
  clearInterval(ping);
  await until(() => talker.bytes === sent, SLACK, `the talker's echo (${talker.bytes}/${sent})`);
  assert.equal(r.connections, 1);
  talker.socket.end();
  await talker.closed;
  const after = await settled(r, base, 'after the idle flood');
  t.diagnostic(
    `${N} clients opened in ${opened.toFixed(0)} ms, peak ${peak} relayed, fds ${base} → ${peakFds} → ${after}; all closed ${allClosed.toFixed(0)} ms after the first connect`,
  );
});

test('2,000 short connections in batches: every echo whole, no failure, nothing left behind', async (t) => {
  const N = 2000;
  const BATCH = 100;
  const served = { n: 0 };
  const b = await backend(t, (s) => {
    served.n++;
    s.pipe(s);
  });
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
  const w = watch(r);
  const listeners = r.eventNames().map((e) => [e, r.listenerCount(e)]);
  const base = openFds();
  const handles = tcpHandles();
  const payload = (i: number) => Buffer.from(`connection ${i} `.repeat(64));
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const ids = Array.from({ length: BATCH }, (_, k) => i + k);
    const got = await Promise.all(ids.map((id) => roundTrip(r.address, payload(id))));
    for (const [k, g] of got.entries()) {
      assert.equal(g.toString(), payload(ids[k]!).toString(), `#${ids[k]}: echo differs`);
    }
  }
  const ms = performance.now() - t0;
  assert.equal(w.fails.length, 0, `fails: ${JSON.stringify(w.fails.slice(0, 3))}`);
  await until(() => w.closes.length === N, SLACK, `${N} summaries (${w.closes.length})`);
  assert.equal(served.n, N);
  let total = 0;
  for (let i = 0; i < N; i++) total += payload(i).length;
  assert.equal(
    w.closes.reduce((n, s) => n + s.up, 0),
    total,
    'bytes relayed up differ from bytes sent',
  );
  for (const s of w.closes) assert.equal(s.down, s.up, `#${s.id}: down ${s.down} != up ${s.up}`);
  const after = await settled(r, base, 'after the churn');
  await until(() => tcpHandles() <= handles, SLACK, `TCP handles back to ${handles} (${tcpHandles()})`);
  assert.deepEqual(
    r.eventNames().map((e) => [e, r.listenerCount(e)]),
    listeners,
    'listeners grew on the relay',
  );
  t.diagnostic(`${N} round trips in ${ms.toFixed(0)} ms; fds ${base} → ${after}`);
});

test('a target that never reads: TCP stops the client, the relay holds little, a reset frees it', async (t) => {
  const held: net.Socket[] = [];
  const b = await backend(t, (s) => {
    s.pause();
    held.push(s);
  });
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
  const base = openFds();
  const rss0 = process.memoryUsage.rss();
  const c = await Client.open(r.address);
  await until(() => held.length === 1, SLACK, 'the target accepted');

  // Write as fast as the client socket takes it, never past its own high-water mark.
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const CAP = 512 * MiB;
  let acked = 0;
  let queued = 0;
  let stop = false;
  const pump = () => {
    while (!stop && queued < CAP) {
      queued += chunk.length;
      if (!c.socket.write(chunk, () => (acked += chunk.length))) {
        c.socket.once('drain', pump);
        return;
      }
    }
  };
  pump();
  // Stalled: nothing more acknowledged for 500 ms.
  let last = -1;
  let since = performance.now();
  await until(
    () => {
      if (acked !== last) {
        last = acked;
        since = performance.now();
      }
      return performance.now() - since > 500;
    },
    15_000,
    'the client to stall',
  );
  const stalled = acked;
  const rss = process.memoryUsage.rss() - rss0;
  stop = true;
  assert.ok(acked < 64 * MiB, `${(acked / MiB).toFixed(1)} MiB went in before TCP stopped the client`);
  assert.ok(queued - acked <= 2 * 64 * 1024 + c.socket.writableHighWaterMark, 'the client queued more');
  assert.ok(rss < 64 * MiB, `RSS grew by ${(rss / MiB).toFixed(1)} MiB`);
  await sleep(300);
  assert.equal(acked, stalled, 'writes kept completing after the stall');
  assert.equal(r.connections, 1);

  // A client that gives up resets; the relay, paused on it, must still notice and drop the target.
  const closed = once(r, 'close');
  const t1 = performance.now();
  c.socket.resetAndDestroy();
  const [summary] = (await within(closed, RESET_PROBE_MS + SLACK, 'the relay saw the reset')) as [
    ConnSummary,
  ];
  const noticed = performance.now() - t1;
  assert.equal(summary.first, 'client');
  assert.equal(summary.how, 'rst');
  // The target, paused as well, sees its end only once it reads. libuv reports an RST that
  // follows a partial read as EOF, so an end is as good as a close here.
  const gone = new Promise<void>((resolve) => {
    held[0]!.once('end', resolve);
    held[0]!.once('close', resolve);
  });
  held[0]!.resume();
  await within(gone, SLACK, 'the target side ended');
  const after = await settled(r, base, 'after the reset');
  t.diagnostic(
    `client stalled after ${(stalled / MiB).toFixed(2)} MiB (kernel buffers); RSS +${(rss / MiB).toFixed(1)} MiB; reset seen after ${noticed.toFixed(0)} ms; fds ${base} → ${after}`,
  );
});

test('a client that vanishes without FIN while the target streams: the target side is closed', async (t) => {
  for (const reading of [true, false]) {
    const streams: net.Socket[] = [];
    let written = 0;
    const b = await backend(t, (s) => {
      streams.push(s);
      const chunk = Buffer.alloc(64 * 1024, 0x62);
      const pump = () => {
        while (written < 1024 * MiB && !s.destroyed) {
          written += chunk.length;
          if (!s.write(chunk)) return void s.once('drain', pump);
        }
      };
      pump();
    });
    const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [b.address] });
    const w = watch(r);
    const base = openFds();
    const c = await Client.open(r.address);
    if (reading) await until(() => c.bytes >= MiB, SLACK, 'a MiB streamed');
    else {
      c.socket.pause();
      // Stalled: the target's writes stop once every buffer on the way is full.
      let last = -1;
      await until(
        () => {
          const same = written === last;
          last = written;
          return same && written > 0;
        },
        10_000,
        'the target to stall',
      );
      assert.ok(written < 64 * MiB, `${written / MiB} MiB written into a client that never reads`);
    }
    c.socket.resetAndDestroy();
    await within(closeOf(streams[0]!), SLACK, `${reading ? 'reading' : 'paused'}: target side closed`);
    await settled(r, base, reading ? 'reading client reset' : 'paused client reset');
    assert.equal(w.closes.length, 1);
    assert.equal(w.closes[0]!.first, 'client');
    assert.equal(w.closes[0]!.how, 'rst');
    r.destroy();
  }
});

test('a client black-holed by a timeout fault is reaped by idleTimeout; the target is stopped by TCP', async (t) => {
  const IDLE = 500;
  const s = await streamingBackend(t, 1024 * MiB);
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [s.address],
    idleTimeout: IDLE,
    faults: [{ type: 'timeout', stream: 'downstream', attributes: { timeout: 0 } }],
  });
  const w = watch(r);
  const base = openFds();
  const rss0 = process.memoryUsage.rss();
  const c = await Client.open(r.address);
  const t0 = performance.now();
  await within(c.closed, IDLE + 10 * SLACK, 'the black-holed client closed');
  const ms = performance.now() - t0;
  const rss = process.memoryUsage.rss() - rss0;
  assert.equal(c.bytes, 0, 'bytes came out of the black hole');
  assert.ok(s.paused(), 'the target was never stopped');
  assert.ok(s.written() < 64 * MiB, `${s.written() / MiB} MiB went into the black hole`);
  assert.ok(rss < 64 * MiB, `RSS grew by ${(rss / MiB).toFixed(1)} MiB`);
  await settled(r, base, 'after the black hole');
  assert.equal(w.closes.length, 1);
  assert.match(w.closes[0]!.reason ?? '', /idleTimeout/);
  t.diagnostic(
    `closed after ${ms.toFixed(0)} ms; target wrote ${(s.written() / MiB).toFixed(2)} MiB before TCP stopped it; RSS +${(rss / MiB).toFixed(1)} MiB`,
  );
});

/** wsOpen opens a WebSocket client and waits for the upgrade. */
async function wsOpen(t: TestContext, url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  ws.on('error', () => {});
  t.after(() => ws.terminate());
  await once(ws, 'open');
  return ws;
}

/** wsEcho sends `text` and resolves with what comes back, across however many messages. */
async function wsEcho(ws: WebSocket, text: string): Promise<string> {
  let got = '';
  const done = new Promise<string>((resolve) => {
    const onMessage = (d: Buffer) => {
      got += d.toString();
      if (got.length >= text.length) {
        ws.off('message', onMessage);
        resolve(got);
      }
    };
    ws.on('message', onMessage);
  });
  ws.send(text);
  return within(done, SLACK, `the echo of ${text}`);
}

test('ws:// listen side: a message over maxPayload closes that client with 1009, others carry on', async (t) => {
  const MAX = 1024;
  const b = await backend(t, (s) => s.pipe(s));
  const r = await startRelay(t, {
    listen: 'ws://127.0.0.1:0/tunnel',
    targets: [b.address],
    maxPayload: MAX,
  });
  const base = openFds();
  const good = await wsOpen(t, r.address);
  assert.equal(await wsEcho(good, 'before'), 'before');
  for (const size of [MAX, MAX + 1, 16 * MAX]) {
    const bad = await wsOpen(t, r.address);
    const closed = once(bad, 'close');
    bad.send(Buffer.alloc(size, 0x63));
    if (size <= MAX) {
      const [d] = (await within(once(bad, 'message'), SLACK, 'the echo of a message at maxPayload')) as [
        Buffer,
      ];
      assert.equal(d.length, size);
      bad.close();
      await closed;
      continue;
    }
    const [code] = (await within(closed, SLACK, `a ${size}-byte message closed`)) as [number];
    assert.equal(code, 1009, `${size} bytes: close code ${code}`);
    assert.equal(await wsEcho(good, `after ${size}`), `after ${size}`);
  }
  const late = await wsOpen(t, r.address);
  assert.equal(await wsEcho(late, 'late'), 'late');
  good.close();
  late.close();
  await settled(r, base, 'after the WebSocket clients');
});

test('ws:// listen side: a slowloris upgrade is closed at headersTimeout, real clients meanwhile served', async (t) => {
  const HEADERS = 500;
  const b = await backend(t, (s) => s.pipe(s));
  const r = await startRelay(t, {
    listen: 'ws://127.0.0.1:0/tunnel',
    targets: [b.address],
    headersTimeout: HEADERS,
  });
  const base = openFds();
  const url = new URL(r.address);
  const t0 = performance.now();
  const slow = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const c = await Client.open(`${url.hostname}:${url.port}`);
      // Half a request, then nothing: never the blank line that ends the headers.
      c.socket.write(i % 2 === 0 ? 'GET /tunnel HTTP/1.1\r\nHost: x\r\n' : 'GET /tun');
      return c;
    }),
  );
  const ws = await wsOpen(t, r.address);
  assert.equal(await wsEcho(ws, 'served meanwhile'), 'served meanwhile');
  await within(Promise.all(slow.map((c) => c.closed)), HEADERS + SLACK, 'the slow clients closed');
  const times = slow.map((c) => c.closedAt - t0);
  const first = Math.min(...times);
  const last = Math.max(...times);
  assert.ok(first >= HEADERS - 50, `a slow client was closed after ${first.toFixed(0)} ms`);
  assert.equal(ws.readyState, WebSocket.OPEN, 'the real client was closed too');
  assert.equal(await wsEcho(ws, 'still here'), 'still here');
  ws.close();
  await settled(r, base, 'after the slowloris');
  t.diagnostic(`50 slow upgrades closed ${first.toFixed(0)}–${last.toFixed(0)} ms after they came`);
});

test('a burst of 500 clients at maxConnections 100: exactly 400 reset, 100 served, then room again', async (t) => {
  const N = 500;
  const MAX = 100;
  const b = await backend(t, (s) => s.pipe(s));
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [b.address],
    maxConnections: MAX,
    shutdownTimeout: 0,
  });
  const w = watch(r);
  const base = openFds();
  // Every client says hello at once and holds on: served ones get the echo, refused ones a reset.
  const clients = await Promise.all(
    Array.from({ length: N }, async () => {
      const c = await Client.open(r.address).catch(() => undefined);
      c?.socket.write('hello');
      return c;
    }),
  );
  const connected = clients.filter((c) => c !== undefined);
  await within(
    until(() => connected.every((c) => c.bytes === 5 || c.isClosed), 15_000),
    20_000,
    'every client served or refused',
  );
  const served = connected.filter((c) => c.bytes === 5 && !c.isClosed);
  const refused = connected.filter((c) => c.isClosed);
  assert.equal(served.length, MAX, `${served.length} served`);
  assert.equal(refused.length + (N - connected.length), N - MAX, `${refused.length} refused`);
  for (const c of refused) {
    assert.equal(c.bytes, 0, 'a refused client got bytes');
    assert.match(c.error ?? '', /ECONNRESET|EPIPE/, `a refused client closed with ${c.error ?? 'FIN'}`);
  }
  assert.equal(w.fails.length, N - MAX);
  assert.ok(w.fails.every((f) => f.code === 'NETKIT_RELAY_LIMIT'));
  assert.equal(r.connections, MAX);

  for (const c of served) c.socket.end();
  await settled(r, base, 'after the burst');
  const again = await Promise.all(Array.from({ length: MAX }, (_, i) => roundTrip(r.address, `again ${i}`)));
  assert.deepEqual(
    again.map((g) => g.toString()),
    Array.from({ length: MAX }, (_, i) => `again ${i}`),
  );
  assert.equal(w.fails.length, N - MAX, 'a client was refused with room to spare');
  await settled(r, base, 'after the second round');
});

/** apiCall sends one request on its own connection and resolves with its status, or the socket's error. */
function apiCall(
  base: string,
  method: string,
  path: string,
  body?: string | Buffer,
): Promise<{ status: number; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.request(
      `${base}${path}`,
      { method, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
      },
    );
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    req.end(body);
  });
}

test('the API under 200 hostile requests at once: each refused with a 4xx, and it still works after', async (t) => {
  const echo = await backend(t, (s) => s.pipe(s));
  const hub = new RelayHub({ shutdownTimeout: 0 });
  const api = await serveRelayApi('127.0.0.1:0', { hub, maxBodyBytes: 64 * 1024 });
  t.after(async () => {
    await api.close();
    await hub.close();
  });
  const base = `http://${api.address}`;
  const made = await apiCall(base, 'POST', '/proxies', JSON.stringify({ name: 'p', upstream: echo.address }));
  assert.equal('status' in made && made.status, 201);
  const fds = openFds();
  const deep = (n: number) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
  // [what, method, path, body, the statuses it may get]
  const attacks: [string, string, string, string | Buffer, number[]][] = [
    ['bad JSON', 'POST', '/proxies', '{"name":', [400]],
    ['bad JSON in a toxic', 'POST', '/proxies/p/toxics', '{"type":"latency",}', [400]],
    ['not UTF-8', 'POST', '/proxies/p/toxics', Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), [400]],
    ['empty body', 'POST', '/proxies', '', [400]],
    ['a huge body', 'POST', '/proxies', Buffer.alloc(1024 * 1024, 0x20), [413]],
    ['a body just over the cap', 'POST', '/proxies/p/toxics', Buffer.alloc(64 * 1024 + 1, 0x20), [413]],
    ['an unknown toxic type', 'POST', '/proxies/p/toxics', '{"type":"nope"}', [400]],
    [
      'deep nesting in attributes',
      'POST',
      '/proxies/p/toxics',
      `{"type":"latency","attributes":${deep(5000)}}`,
      [400],
    ],
    ['deep arrays', 'POST', '/proxies', `${'['.repeat(30000)}${']'.repeat(30000)}`, [400]],
    ['a number for a name', 'POST', '/proxies', '{"name":5,"upstream":[]}', [400]],
    [
      'a string for latency',
      'POST',
      '/proxies/p/toxics',
      '{"type":"latency","attributes":{"latency":"x"}}',
      [400],
    ],
    [
      'a negative latency',
      'POST',
      '/proxies/p/toxics',
      '{"type":"latency","attributes":{"latency":-1}}',
      [400],
    ],
    ['toxicity as text', 'POST', '/proxies/p/toxics', '{"type":"latency","toxicity":"1"}', [400]],
    ['toxicity over 1', 'POST', '/proxies/p/toxics', '{"type":"latency","toxicity":2}', [400]],
    ['a bad stream', 'POST', '/proxies/p/toxics', '{"type":"latency","stream":"sideways"}', [400]],
    ['enabled as text', 'POST', '/proxies/p', '{"enabled":"yes"}', [400]],
    ['populate with an object', 'POST', '/populate', '{"x":1}', [400]],
    ['an exec: upstream', 'POST', '/proxies', '{"name":"sh","upstream":"exec:/bin/sh"}', [400]],
    ['a proto key', 'POST', '/proxies/p/toxics', '{"__proto__":{"type":"latency"},"type":"nope"}', [400]],
    ['an unknown proxy', 'POST', '/proxies/nope/toxics', '{"type":"latency"}', [404]],
  ];
  const TOTAL = 200;
  const t0 = performance.now();
  const results = await within(
    Promise.all(
      Array.from({ length: TOTAL }, (_, i) => {
        const [, method, path, body] = attacks[i % attacks.length]!;
        return apiCall(base, method, path, body);
      }),
    ),
    30_000,
    'every hostile request answered',
  );
  const ms = performance.now() - t0;
  for (const [i, got] of results.entries()) {
    const [what, , , , want] = attacks[i % attacks.length]!;
    if ('error' in got) {
      // A server that stops reading an oversized body may close before the client has sent it.
      assert.ok(want.includes(413), `#${i} ${what}: ${got.error}`);
      assert.match(got.error, /ECONNRESET|EPIPE/, `#${i} ${what}`);
      continue;
    }
    assert.ok(want.includes(got.status), `#${i} ${what}: got ${got.status} want ${want} (${got.body})`);
    assert.equal(JSON.parse(got.body).status, got.status, `#${i} ${what}: body ${got.body}`);
  }
  // Nothing the attacks sent was kept, and a good request still works.
  assert.deepEqual(
    hub.list().map((r) => r.name),
    ['p'],
  );
  assert.equal(hub.get('p').toxics.all().length, 0, 'a hostile request added a toxic');
  const good = await apiCall(
    base,
    'POST',
    '/proxies/p/toxics',
    JSON.stringify({ name: 'slow', type: 'latency', attributes: { latency: 10 } }),
  );
  assert.equal('status' in good && good.status, 200, JSON.stringify(good));
  assert.equal((await roundTrip(hub.get('p').address, 'through p')).toString(), 'through p');
  await until(() => openFds() <= fds + FD_SLACK, SLACK, `API fds back to ${fds} (${openFds()})`);
  t.diagnostic(`${TOTAL} hostile requests answered in ${ms.toFixed(0)} ms`);
});

/** children lists this process's child processes from /proc: pid, program name and state (`Z`: a zombie). */
function children(): { pid: number; comm: string; state: string }[] {
  const out: { pid: number; comm: string; state: string }[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // comm is in parentheses and may hold spaces or parentheses itself; the fields follow the last ')'.
    const close = stat.lastIndexOf(')');
    const [state = '', ppid = ''] = stat.slice(close + 2).split(' ');
    if (Number(ppid) === process.pid) {
      out.push({ pid: Number(d), comm: stat.slice(stat.indexOf('(') + 1, close), state });
    }
  }
  return out;
}

test('50 clients against exec:/bin/cat with maxChildren 4: 4 children at most, the rest closed, no zombie', async (t) => {
  const N = 50;
  const MAX = 4;
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: ['exec:/bin/cat'],
    maxChildren: MAX,
    shutdownTimeout: 0,
  });
  const w = watch(r);
  const cats = () => children().filter((c) => c.comm === 'cat');
  // Other children (tsx's esbuild service) are not ours to count, unless they are zombies.
  const leftovers = () => children().filter((c) => c.comm === 'cat' || c.state === 'Z');
  assert.equal(cats().length, 0, 'cat children before the test');
  let peak = 0;
  let samples = 0;
  const sample = () => {
    samples++;
    peak = Math.max(peak, cats().length);
  };
  const sampler = setInterval(sample, 5);
  t.after(() => clearInterval(sampler));
  r.on('open', sample);
  r.on('fail', sample);

  const clients = await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const c = await Client.open(r.address);
      c.socket.write(`hello ${i}\n`);
      return c;
    }),
  );
  const echoed = (c: Client, i: number) => c.text === `hello ${i}\n`;
  await until(
    () => clients.every((c, i) => c.isClosed || echoed(c, i)),
    15_000,
    'every client served or refused',
  );
  sample();
  const served = clients.filter((c, i) => echoed(c, i) && !c.isClosed);
  const refused = clients.filter((c) => c.isClosed);
  assert.equal(served.length, MAX, `${served.length} served`);
  assert.equal(refused.length, N - MAX, `${refused.length} refused`);
  for (const c of refused) assert.equal(c.bytes, 0, 'a refused client got bytes');
  assert.equal(w.fails.length, N - MAX);
  assert.ok(
    w.fails.every((f) => f.code === 'NETKIT_EXEC_LIMIT'),
    `fail codes: ${[...new Set(w.fails.map((f) => f.code))]}`,
  );
  assert.equal(cats().length, MAX);

  // Each served client half-closes: cat sees EOF, exits, and its output's end reaches the client.
  for (const c of served) c.socket.end();
  await within(Promise.all(served.map((c) => c.closed)), SLACK, 'the served clients closed');
  await until(() => r.connections === 0, SLACK, 'relay connections back to 0');
  await until(() => leftovers().length === 0, SLACK, `children reaped (${JSON.stringify(leftovers())})`);

  // The children are gone, so there is room again.
  const again = await Promise.all(
    Array.from({ length: MAX }, (_, i) => roundTrip(r.address, `again ${i}\n`)),
  );
  assert.deepEqual(
    again.map((g) => g.toString()),
    Array.from({ length: MAX }, (_, i) => `again ${i}\n`),
  );
  await until(() => leftovers().length === 0, SLACK, `children reaped (${JSON.stringify(leftovers())})`);

  // Clients that reset while their cat runs: the children are stopped and reaped all the same.
  const resetters = await Promise.all(
    Array.from({ length: MAX }, async (_, i) => {
      const c = await Client.open(r.address);
      c.socket.write(`bye ${i}\n`);
      return c;
    }),
  );
  await until(
    () => resetters.every((c, i) => c.text === `bye ${i}\n`),
    SLACK,
    'the echoes before the resets',
  );
  for (const c of resetters) c.socket.resetAndDestroy();
  await until(() => leftovers().length === 0, SLACK, `children reaped (${JSON.stringify(leftovers())})`);
  await until(() => r.connections === 0, SLACK, 'relay connections back to 0');
  clearInterval(sampler);
  assert.ok(peak <= MAX, `${peak} cat children at once`);
  assert.equal(peak, MAX, 'the limit was never reached: the test proves nothing');
  t.diagnostic(`peak ${peak} children over ${samples} samples of /proc; ${w.fails.length} refused`);
});
