/**
 * The relay page's data source over a real RelayHub on loopback: what a
 * connection does shows up as events (open, batched byte counts, close
 * with who closed first and how), its traffic renders as --dump does and
 * stays within its bounds, and the page's /api mount answers only JSON
 * requests from the page's own origin.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { serveRelayLive } from '../../src/live/relay/index.js';
import { type ConnView, RelayLiveSource } from '../../src/live/relay/source.js';
import { RelayHub } from '../../src/relay/hub.js';
import { backend, connected, echoed } from '../helpers/relay.js';

interface Setup {
  hub: RelayHub;
  source: RelayLiveSource;
  listen: string;
  echo: { address: string; sockets: Set<net.Socket> };
  events: { event: string; data: unknown }[];
  /** next resolves with the first event (already seen or to come) named `event` that `match` accepts. */
  next: <T>(event: string, match?: (d: T) => boolean) => Promise<T>;
}

async function setup(
  t: TestContext,
  options: ConstructorParameters<typeof RelayLiveSource>[1] = {},
): Promise<Setup> {
  const sockets = new Set<net.Socket>();
  const echo = {
    ...(await backend(t, (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.pipe(s);
    })),
    sockets,
  };
  const hub = new RelayHub({ shutdownTimeout: 0 });
  t.after(() => hub.close());
  const source = new RelayLiveSource(hub, { bytesInterval: 20, ...options });
  t.after(() => source.close());
  const events: { event: string; data: unknown }[] = [];
  const waiters = new Set<() => void>();
  source.subscribe((event, data) => {
    events.push({ event, data });
    for (const w of waiters) w();
  });
  const relay = await hub.create({ name: 'echo', upstream: echo.address });
  const next = <T>(event: string, match: (d: T) => boolean = () => true) =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no ${event} event; got ${JSON.stringify(events)}`));
      }, 5000);
      const check = () => {
        const e = events.find((x) => x.event === event && match(x.data as T));
        if (e === undefined) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(e.data as T);
      };
      waiters.add(check);
      check();
    });
  return { hub, source, listen: relay.address, echo, events, next };
}

type Closed = { key: number; up: number; down: number; closed: { first: string; how: string } };

test('a connection appears, its bytes each way are reported, and it closes with FIN', {
  timeout: 20_000,
}, async (t) => {
  const { source, listen, next } = await setup(t);
  const s = await connected(t, listen);
  const opened = await next<ConnView>('opened');
  assert.equal(opened.proxy, 'echo');
  assert.equal(opened.client, `127.0.0.1:${s.localPort}`);
  assert.equal(opened.up, 0);

  assert.equal((await echoed(s, 'hello relay')).toString(), 'hello relay');
  await next<{ conns: number[][] }>('bytes', (d) =>
    d.conns.some(([k, up, down]) => k === opened.key && up === 11 && down === 11),
  );
  const snap = source.snapshot();
  const conn = snap.conns.find((c) => c.key === opened.key);
  assert.ok(conn, 'the open connection is in the snapshot');
  assert.equal(conn.up, 11);
  assert.equal(conn.down, 11);
  assert.equal(conn.closed, undefined);
  assert.deepEqual(
    snap.proxies.map((p) => p.name),
    ['echo'],
  );

  s.end();
  const closed = await next<Closed>('closed', (d) => d.key === opened.key);
  assert.equal(closed.closed.first, 'client');
  assert.equal(closed.closed.how, 'fin');
  assert.equal(closed.up, 11);
  assert.equal(closed.down, 11);
  assert.equal(source.snapshot().conns.find((c) => c.key === opened.key)?.closed?.how, 'fin');
});

test('a reset is reported as RST, from the client and from the target', { timeout: 20_000 }, async (t) => {
  const { listen, next, echo } = await setup(t);
  const a = await connected(t, listen);
  const first = await next<ConnView>('opened');
  await echoed(a, 'x');
  a.resetAndDestroy();
  const c1 = await next<Closed>('closed', (d) => d.key === first.key);
  assert.deepEqual([c1.closed.first, c1.closed.how], ['client', 'rst']);

  const b = await connected(t, listen);
  const second = await next<ConnView>('opened', (d) => d.key !== first.key);
  await echoed(b, 'y');
  for (const s of echo.sockets) s.resetAndDestroy();
  const c2 = await next<Closed>('closed', (d) => d.key === second.key);
  assert.deepEqual([c2.closed.first, c2.closed.how], ['target', 'rst']);
});

test('byte counts are batched: many chunks make few events', { timeout: 20_000 }, async (t) => {
  const { listen, next, events } = await setup(t, { bytesInterval: 200 });
  const s = await connected(t, listen);
  const opened = await next<ConnView>('opened');
  const started = Date.now();
  for (let i = 0; i < 50; i++) await echoed(s, `chunk ${i}\n`);
  const total = Array.from({ length: 50 }, (_, i) => `chunk ${i}\n`.length).reduce((a, b) => a + b);
  await next<{ conns: number[][] }>('bytes', (d) =>
    d.conns.some(([k, up]) => k === opened.key && up === total),
  );
  const elapsed = Date.now() - started;
  const n = events.filter((e) => e.event === 'bytes').length;
  // One event per 200 ms interval at most, against 100 chunks relayed.
  assert.ok(n <= Math.ceil(elapsed / 200) + 1, `${n} bytes events in ${elapsed} ms`);
});

test('the traffic view renders chunks as --dump does, escaped, and keeps only the latest bytes', {
  timeout: 20_000,
}, async (t) => {
  const { source, listen, next } = await setup(t, { maxTrafficBytes: 1024 });
  const s = await connected(t, listen);
  const opened = await next<ConnView>('opened');
  await echoed(s, Buffer.from('<b>hi</b>\u0001\n', 'latin1'));
  const v = source.traffic(opened.key, 'text');
  assert.ok(v);
  assert.deepEqual(
    v.chunks.map((c) => c.stream),
    ['upstream', 'downstream'],
  );
  assert.equal(v.chunks[0]?.body, '  <b>hi</b>\\x01\\n');
  assert.match(v.chunks[0]?.head ?? '', /^> \S+Z #1 client → target {2}offset 0 {2}\(11 bytes\)$/);
  const hex = source.traffic(opened.key, 'hex', v.chunks[0]?.seq);
  assert.equal(hex?.chunks.length, 1, 'only the chunks after `after`');
  assert.match(hex?.chunks[0]?.body ?? '', /^ {2}00000000: 3c62 3e68 693c 2f62 3e01 0a/);

  // 8 KiB each way against a 1 KiB bound: only the latest kilobyte is kept, the rest is marked gone.
  const big = Buffer.alloc(8192, 'a');
  big.write('THE END', 8192 - 7);
  await echoed(s, big);
  const after = source.traffic(opened.key, 'text');
  assert.ok(after);
  const kept = after.chunks.reduce((n, c) => n + c.length, 0);
  assert.ok(kept <= 1024, `${kept} bytes kept`);
  assert.ok(after.first > 1, 'the oldest chunks were dropped');
  assert.ok(after.gap, 'a view from the start says chunks are missing');
  assert.match(after.chunks.at(-1)?.body ?? '', /THE END$/);
});

test('closed connections are remembered up to maxClosed, and total traffic is capped', {
  timeout: 20_000,
}, async (t) => {
  const { source, listen, next } = await setup(t, {
    maxClosed: 2,
    maxTrafficBytes: 1024,
    maxTotalTrafficBytes: 2048,
  });
  const keys: number[] = [];
  for (let i = 0; i < 4; i++) {
    const s = await connected(t, listen);
    const o = await next<ConnView>('opened', (d) => !keys.includes(d.key));
    keys.push(o.key);
    await echoed(s, Buffer.alloc(600, 'z'));
    s.end();
    await next<Closed>('closed', (d) => d.key === o.key);
  }
  const snap = source.snapshot();
  assert.deepEqual(
    snap.conns.map((c) => c.key),
    keys.slice(2),
  );
  assert.equal(source.traffic(keys[0]!, 'text'), undefined, 'a forgotten connection has no traffic');
  // 2 × (600 up + 600 down) is over the 2 KiB total: the older connection lost its traffic.
  const older = source.traffic(keys[2]!, 'text');
  const newer = source.traffic(keys[3]!, 'text');
  const size = (v: typeof older) => (v?.chunks ?? []).reduce((n, c) => n + c.length, 0);
  assert.ok(size(older) + size(newer) <= 2048, `${size(older)} + ${size(newer)} bytes kept`);
  assert.ok(size(newer) > 0);
});

test('faults changed through the hub are pushed as proxy events', { timeout: 20_000 }, async (t) => {
  const { hub, next } = await setup(t);
  hub.get('echo').toxics.add({ type: 'latency', attributes: { latency: 50 } });
  const p = await next<{ name: string; toxics: { name: string }[] }>('proxy', (d) => d.toxics.length === 1);
  assert.equal(p.toxics[0]?.name, 'latency_downstream');
  await hub.update('echo', { enabled: false });
  await next<{ enabled: boolean }>('proxy', (d) => d.enabled === false);
});

/** request sends one HTTP request to the live server and resolves with its status and body. */
function request(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test("the page's /api: the Toxiproxy API for browsers of the same origin, JSON only", {
  timeout: 20_000,
}, async (t) => {
  const { hub, listen } = await setup(t);
  const live = await serveRelayLive('127.0.0.1:0', hub);
  t.after(() => live.close());
  const base = `http://${live.address}`;
  const browser = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Chrome/120', origin: base };
  const json = { ...browser, 'content-type': 'application/json' };
  const toxic = JSON.stringify({ type: 'latency', attributes: { latency: 10 } });

  const listed = await request(`${base}/api/proxies`, 'GET', browser);
  assert.equal(listed.status, 200);
  assert.equal(JSON.parse(listed.body).echo.listen, listen);

  const plain = await request(
    `${base}/api/proxies/echo/toxics`,
    'POST',
    { ...browser, 'content-type': 'text/plain' },
    toxic,
  );
  assert.equal(plain.status, 415);
  assert.equal(hub.get('echo').toxics.size, 0);

  const other = await request(
    `${base}/api/proxies/echo/toxics`,
    'POST',
    { ...json, origin: 'http://evil.example' },
    toxic,
  );
  assert.equal(other.status, 403);
  assert.equal(hub.get('echo').toxics.size, 0);

  const added = await request(`${base}/api/proxies/echo/toxics`, 'POST', json, toxic);
  assert.equal(added.status, 200);
  assert.equal(hub.get('echo').toxics.size, 1);
  const bad = await request(
    `${base}/api/proxies/echo/toxics`,
    'POST',
    json,
    '{"type":"latency","attributes":{"latency":-1}}',
  );
  assert.equal(bad.status, 400);
  assert.match(JSON.parse(bad.body).error, /latency/);
  const removed = await request(`${base}/api/proxies/echo/toxics/latency_downstream`, 'DELETE', json);
  assert.equal(removed.status, 204);
  assert.equal(hub.get('echo').toxics.size, 0);

  const missing = await request(`${base}/api/traffic/999`, 'GET', browser);
  assert.equal(missing.status, 404);
});

test('a proxy removed ends the connections it had, and is reported gone', { timeout: 20_000 }, async (t) => {
  const { hub, listen, next } = await setup(t);
  const s = await connected(t, listen);
  const opened = await next<ConnView>('opened');
  await echoed(s, 'bye');
  await hub.remove('echo');
  await next<{ name: string }>('proxy-removed', (d) => d.name === 'echo');
  const closed = await next<Closed>('closed', (d) => d.key === opened.key);
  assert.equal(closed.closed.first, 'relay');
  assert.equal(closed.up, 3);
});
