/**
 * The Toxiproxy-compatible API driven by the real npm client
 * (toxiproxy-node-client) against a real echo server: latency added,
 * measured and removed on a live connection, limit_data and reset_peer
 * seen by a client, disable/enable, populate and reset; then every error
 * shape through raw fetch, and the server still answering after them.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { Toxiproxy } from 'toxiproxy-node-client';
import { InvalidArgumentError } from '../../src/errors.js';
import { RELAY_API_VERSION, type RelayApi, serveRelayApi } from '../../src/relay/api.js';
import { HubError, RelayHub } from '../../src/relay/hub.js';
import { relay } from '../../src/relay/relay.js';
import { until } from '../helpers/net.js';
import { echoBackend } from '../helpers/relay.js';

/** setup starts a hub, its API and the npm client pointed at it; all closed after the test. */
async function setup(
  t: TestContext,
): Promise<{ hub: RelayHub; api: RelayApi; client: Toxiproxy; base: string }> {
  const hub = new RelayHub({ shutdownTimeout: 0 });
  const api = await serveRelayApi('127.0.0.1:0', { hub });
  t.after(async () => {
    await api.close();
    await hub.close();
  });
  const base = `http://${api.address}`;
  return { hub, api, client: new Toxiproxy(base), base };
}

/** Line is a connection through a proxy that times one echo round trip at a time. */
class Line {
  readonly socket: net.Socket;
  #got = Buffer.alloc(0);
  #wait: (() => void) | undefined;
  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.#got = Buffer.concat([this.#got, d]);
      this.#wait?.();
    });
  }
  static async open(t: TestContext, address: string): Promise<Line> {
    const [host, port] = [
      address.slice(0, address.lastIndexOf(':')),
      Number(address.slice(address.lastIndexOf(':') + 1)),
    ];
    const socket = net.connect(port, host);
    socket.on('error', () => {});
    t.after(() => socket.destroy());
    await once(socket, 'connect');
    return new Line(socket);
  }
  /** rtt sends `text` and resolves with the ms until all of it came back. */
  async rtt(text = 'ping'): Promise<number> {
    this.#got = Buffer.alloc(0);
    const start = performance.now();
    this.socket.write(text);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no echo of ${text} in 5 s`)), 5000);
      this.#wait = () => {
        if (this.#got.length >= text.length) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    return performance.now() - start;
  }
}

/** ended resolves with what a socket got before it ended, and how it ended. */
async function ended(socket: net.Socket): Promise<{ data: string; error: string | undefined }> {
  const parts: Buffer[] = [];
  socket.on('data', (d: Buffer) => parts.push(d));
  let error: string | undefined;
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code;
  });
  // events.once would reject on the 'error' this wants to see.
  await new Promise((resolve) => socket.once('close', resolve));
  return { data: Buffer.concat(parts).toString(), error };
}

async function refused(address: string): Promise<string | undefined> {
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const s = net.connect(port, '127.0.0.1');
  const r = await ended(s);
  return r.error;
}

test('the npm client: create, read back, and latency added, measured and removed on a live connection', async (t) => {
  const upstream = await echoBackend(t);
  const { client } = await setup(t);
  assert.equal(JSON.parse(await client.getVersion()).version, RELAY_API_VERSION);
  const proxy = await client.createProxy({ name: 'echo', listen: '127.0.0.1:0', upstream });
  assert.match(proxy.listen, /^127\.0\.0\.1:[1-9]\d*$/, 'listen shows the bound port');
  assert.equal(proxy.enabled, true);
  assert.deepEqual(Object.keys(await client.getAll()), ['echo']);
  assert.equal((await client.get('echo')).listen, proxy.listen);

  const line = await Line.open(t, proxy.listen);
  const before = Math.min(await line.rtt(), await line.rtt(), await line.rtt());
  assert.ok(before < 100, `round trip before: ${before} ms`);

  const toxic = await proxy.addToxic({
    name: 'slow',
    type: 'latency',
    stream: 'downstream',
    toxicity: 1,
    attributes: { latency: 300, jitter: 0 },
  });
  assert.deepEqual(toxic.toJson(), {
    name: 'slow',
    type: 'latency',
    stream: 'downstream',
    toxicity: 1,
    attributes: { latency: 300, jitter: 0 },
  });
  const slowed = await line.rtt('pong');
  assert.ok(slowed >= 290 && slowed < 300 + 1000, `round trip with 300 ms latency: ${slowed} ms`);

  const updated = await toxic.update({ ...toxic.toJson(), attributes: { latency: 600, jitter: 0 } });
  assert.equal((updated.attributes as { latency: number }).latency, 600);
  const slower = await line.rtt('pang');
  assert.ok(slower >= 590 && slower < 600 + 1000, `round trip with 600 ms latency: ${slower} ms`);

  assert.equal((await proxy.getToxic('slow')).name, 'slow');
  await toxic.remove();
  const after = Math.min(await line.rtt(), await line.rtt());
  assert.ok(after < 100, `round trip once removed: ${after} ms`);
  assert.deepEqual(await (await fetch(`${client.host}/proxies/echo/toxics`)).json(), []);
});

test('limit_data: the client gets that many bytes, then the end', async (t) => {
  const upstream = await echoBackend(t);
  const { client } = await setup(t);
  const proxy = await client.createProxy({ name: 'lim', listen: '127.0.0.1:0', upstream });
  await proxy.addToxic({
    name: 'cap',
    type: 'limit_data',
    stream: 'downstream',
    toxicity: 1,
    attributes: { bytes: 5 },
  });
  const port = Number(proxy.listen.split(':')[1]);
  const s = net.connect(port, '127.0.0.1', () => s.write('hello world'));
  const r = await ended(s);
  assert.equal(r.data, 'hello');
});

test('reset_peer: the client sees a reset', async (t) => {
  const upstream = await echoBackend(t);
  const { client } = await setup(t);
  const proxy = await client.createProxy({ name: 'rst', listen: '127.0.0.1:0', upstream });
  await proxy.addToxic({
    name: 'rst',
    type: 'reset_peer',
    stream: 'upstream',
    toxicity: 1,
    attributes: { timeout: 0 },
  });
  const port = Number(proxy.listen.split(':')[1]);
  const s = net.connect(port, '127.0.0.1', () => s.write('hello'));
  const r = await ended(s);
  assert.equal(r.error, 'ECONNRESET');
  assert.equal(r.data, '');
});

test('disable closes the listener and drops connections; enable binds the same address again', async (t) => {
  const upstream = await echoBackend(t);
  const { client, hub } = await setup(t);
  const proxy = await client.createProxy({ name: 'flip', listen: '127.0.0.1:0', upstream });
  const line = await Line.open(t, proxy.listen);
  await line.rtt();
  const dropped = once(line.socket, 'close');
  const off = await proxy.update({ ...proxy.toJson(), enabled: false });
  assert.equal(off.enabled, false);
  assert.equal(off.listen, proxy.listen);
  await dropped;
  assert.equal(await refused(proxy.listen), 'ECONNREFUSED');
  const on = await off.update({ ...off.toJson(), enabled: true });
  assert.equal(on.enabled, true);
  assert.equal(on.listen, proxy.listen);
  assert.ok((await (await Line.open(t, on.listen)).rtt()) < 1000);
  assert.equal(hub.get('flip').enabled, true);
});

test('populate creates or replaces by name; an unchanged proxy keeps its toxics', async (t) => {
  const one = await echoBackend(t);
  const two = await echoBackend(t);
  const { client, hub } = await setup(t);
  const first = await client.populate([
    { name: 'a', listen: '127.0.0.1:0', upstream: one },
    { name: 'b', listen: '127.0.0.1:0', upstream: one },
  ]);
  assert.deepEqual(Object.keys(first).sort(), ['a', 'b']);
  await first.a!.addToxic({
    name: 'l',
    type: 'latency',
    stream: 'downstream',
    toxicity: 1,
    attributes: { latency: 1 },
  });
  const oldB = hub.get('b');
  const second = await client.populate([
    { name: 'a', listen: first.a!.listen, upstream: one },
    { name: 'b', listen: first.b!.listen, upstream: two },
    { name: 'c', listen: '127.0.0.1:0', upstream: two },
  ]);
  assert.equal(second.a!.listen, first.a!.listen);
  assert.equal(hub.get('a').toxics.size, 1, 'a was kept as it was');
  assert.equal(second.b!.upstream, two);
  assert.notEqual(hub.get('b'), oldB, 'b was made anew');
  assert.equal(second.b!.listen, first.b!.listen, 'on the address it was given');
  for (const p of Object.values(second)) assert.ok((await (await Line.open(t, p.listen)).rtt()) < 1000);
  assert.deepEqual(
    hub.list().map((r) => r.name),
    ['a', 'b', 'c'],
  );
});

test('reset enables every proxy and removes every toxic', async (t) => {
  const upstream = await echoBackend(t);
  const { client, hub } = await setup(t);
  const a = await client.createProxy({ name: 'a', listen: '127.0.0.1:0', upstream });
  const b = await client.createProxy({ name: 'b', listen: '127.0.0.1:0', upstream });
  await a.addToxic({
    name: 'x',
    type: 'latency',
    stream: 'upstream',
    toxicity: 1,
    attributes: { latency: 5 },
  });
  await b.addToxic({
    name: 'y',
    type: 'timeout',
    stream: 'downstream',
    toxicity: 0.5,
    attributes: { timeout: 0 },
  });
  await b.update({ ...b.toJson(), enabled: false });
  await client.reset();
  for (const p of Object.values(await client.getAll())) {
    assert.equal(p.enabled, true, p.name);
  }
  assert.equal(hub.get('a').toxics.size + hub.get('b').toxics.size, 0);
  assert.ok((await (await Line.open(t, b.listen)).rtt()) < 1000);
});

test('the hub emits its relays’ events with the relay attached', async (t) => {
  const upstream = await echoBackend(t);
  const { client, hub } = await setup(t);
  const seen: string[] = [];
  hub.on('open', (e, r) => seen.push(`open ${e.proxy} ${r.name}`));
  hub.on('close', (e, r) => seen.push(`close ${e.proxy} ${r.name}`));
  const p = await client.createProxy({ name: 'ev', listen: '127.0.0.1:0', upstream });
  const line = await Line.open(t, p.listen);
  await line.rtt();
  line.socket.end();
  await until(() => seen.length === 2, 5000, 'open and close');
  assert.deepEqual(seen, ['open ev ev', 'close ev ev']);
});

test('a new listen on a disabled proxy is where it binds when enabled', async (t) => {
  const upstream = await echoBackend(t);
  const { client, hub } = await setup(t);
  const never = await client.createProxy({ name: 'never', listen: '127.0.0.1:0', upstream, enabled: false });
  assert.equal(never.enabled, false);
  assert.equal(never.listen, '127.0.0.1:0', 'never bound: the listen given');
  const p = await client.createProxy({ name: 'mv', listen: '127.0.0.1:0', upstream });
  await p.update({ ...p.toJson(), enabled: false });
  const free = net.createServer().listen(0, '127.0.0.1');
  await once(free, 'listening');
  const port = (free.address() as net.AddressInfo).port;
  await new Promise<void>((r) => free.close(() => r()));
  await hub.update('mv', { listen: `127.0.0.1:${port}` });
  const on = await hub.update('mv', { enabled: true });
  assert.equal(on.address, `127.0.0.1:${port}`);
});

/** call sends a raw request and returns status, headers and parsed body. */
async function call(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{
  status: number;
  body: { error?: string; status?: number } & Record<string, unknown>;
  headers: Headers;
}> {
  const res = await fetch(`${base}${path}`, { method, ...(body !== undefined ? { body } : {}), headers });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : JSON.parse(text), headers: res.headers };
}

test('errors: Toxiproxy’s statuses and {"error", "status"} bodies, and the server keeps answering', async (t) => {
  const upstream = await echoBackend(t);
  const { base } = await setup(t);
  const made = await call(
    base,
    'POST',
    '/proxies',
    JSON.stringify({ name: 'db', listen: '127.0.0.1:0', upstream }),
  );
  assert.equal(made.status, 201);
  const listen = made.body.listen as string;
  await call(base, 'POST', '/proxies/db/toxics', JSON.stringify({ type: 'latency' }));

  const cases: [string, string, string | undefined, number, RegExp][] = [
    ['GET', '/proxies/nope', undefined, 404, /^proxy not found: nope$/],
    ['GET', '/proxies/db/toxics/nope', undefined, 404, /^toxic not found: nope$/],
    ['DELETE', '/proxies/nope', undefined, 404, /proxy not found/],
    [
      'POST',
      '/proxies',
      JSON.stringify({ name: 'db', listen: '127.0.0.1:0', upstream }),
      409,
      /^proxy already exists: db$/,
    ],
    [
      'POST',
      '/proxies/db/toxics',
      JSON.stringify({ type: 'latency' }),
      409,
      /toxic already exists: latency_downstream/,
    ],
    ['POST', '/proxies', '{"name": "x",', 400, /^body: is not JSON/],
    ['POST', '/proxies', '', 400, /^body: is empty/],
    ['POST', '/proxies', '[1]', 400, /must be an object/],
    ['POST', '/proxies', JSON.stringify({ upstream }), 400, /^name: is missing/],
    ['POST', '/proxies', JSON.stringify({ name: 'x' }), 400, /^upstream: is missing/],
    [
      'POST',
      '/proxies',
      JSON.stringify({ name: 'x', upstream, enabled: 'yes' }),
      400,
      /^enabled: must be true or false/,
    ],
    [
      'POST',
      '/proxies',
      JSON.stringify({ name: 'x', upstream, colour: 1 }),
      400,
      /^colour: is not a proxy field/,
    ],
    ['POST', '/proxies', JSON.stringify({ name: 'a/b', upstream }), 400, /^name: /],
    [
      'POST',
      '/proxies',
      JSON.stringify({ name: 'x', upstream: 'exec:sh' }),
      400,
      /^upstream: exec:sh: not a target over the API/,
    ],
    ['POST', '/proxies', JSON.stringify({ name: 'x', upstream: 'nonsense' }), 400, /missing port/i],
    [
      'POST',
      '/proxies',
      JSON.stringify({ name: 'x', listen, upstream }),
      500,
      /^listen tcp 127\.0\.0\.1:\d+: bind: address already in use$/,
    ],
    ['POST', '/proxies/db', JSON.stringify({ name: 'other' }), 400, /^name: a proxy cannot be renamed/],
    [
      'POST',
      '/proxies/db/toxics',
      JSON.stringify({ type: 'explode' }),
      400,
      /^type: "explode" is not a toxic type; the types are latency, /,
    ],
    [
      'POST',
      '/proxies/db/toxics',
      JSON.stringify({ type: 'latency', name: 'l2', attributes: { latency: -1 } }),
      400,
      /^attributes\.latency: must be a whole number/,
    ],
    [
      'POST',
      '/proxies/db/toxics',
      JSON.stringify({ type: 'latency', name: 'l3', attributes: { speed: 1 } }),
      400,
      /^attributes\.speed: is not an attribute of latency; its attributes are latency, jitter$/,
    ],
    [
      'POST',
      '/proxies/db/toxics',
      JSON.stringify({ type: 'latency', name: 'l4', stream: 'sideways' }),
      400,
      /^stream: must be upstream or downstream/,
    ],
    [
      'POST',
      '/proxies/db/toxics',
      JSON.stringify({ type: 'latency', name: 'l5', toxicity: 2 }),
      400,
      /^toxicity: must be a number from 0 to 1/,
    ],
    [
      'POST',
      '/proxies/db/toxics/latency_downstream',
      JSON.stringify({ attributes: { latency: 'x' } }),
      400,
      /^attributes\.latency/,
    ],
    ['POST', '/proxies/nope/toxics', JSON.stringify({ type: 'latency' }), 404, /proxy not found: nope/],
    ['POST', '/populate', JSON.stringify({ name: 'x' }), 400, /^proxies: must be an array/],
    [
      'POST',
      '/populate',
      JSON.stringify([{ name: 'p1', upstream }, { name: 'p2' }]),
      400,
      /^proxies\[1\]\.upstream: is missing/,
    ],
    ['PUT', '/proxies', '{}', 405, /^method not allowed: PUT; \/proxies takes GET, POST$/],
    ['DELETE', '/reset', undefined, 405, /method not allowed/],
    ['GET', '/nothing/here', undefined, 404, /^not found: GET \/nothing\/here; the routes are \/version, /],
    ['GET', '/proxies/%E0%A4%A', undefined, 400, /bad request path/],
  ];
  for (const [i, [method, path, body, status, error]] of cases.entries()) {
    const r = await call(base, method, path, body);
    assert.equal(
      r.status,
      status,
      `#${i} ${method} ${path}: got ${r.status} ${JSON.stringify(r.body)} want ${status}`,
    );
    assert.equal(r.body.status, status, `#${i}: body status`);
    assert.match(r.body.error ?? '', error, `#${i} ${method} ${path}`);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  }
  assert.equal((await call(base, 'PUT', '/proxies', '{}')).headers.get('allow'), 'GET, POST');
  const browser = await call(base, 'GET', '/proxies', undefined, { 'user-agent': 'Mozilla/5.0 (X11)' });
  assert.equal(browser.status, 403);

  const big = await call(base, 'POST', '/proxies', `"${'x'.repeat(1024 * 1024 + 10)}"`);
  assert.equal(big.status, 413);
  assert.match(big.body.error ?? '', /over 1048576 bytes/);

  // Nothing above changed the proxy, and the server still answers.
  const db = await call(base, 'GET', '/proxies/db');
  assert.equal(db.status, 200);
  assert.deepEqual(db.body, {
    name: 'db',
    listen,
    upstream,
    enabled: true,
    toxics: [
      {
        name: 'latency_downstream',
        type: 'latency',
        stream: 'downstream',
        toxicity: 1,
        attributes: { latency: 0, jitter: 0 },
      },
    ],
  });
  assert.equal((await call(base, 'DELETE', '/proxies/db/toxics/latency_downstream')).status, 204);
  assert.equal((await call(base, 'DELETE', '/proxies/db')).status, 204);
  assert.equal((await call(base, 'GET', '/proxies/db')).status, 404);
  // The address is free again at once, as Toxiproxy's tests expect.
  const again = await call(base, 'POST', '/proxies', JSON.stringify({ name: 'db2', listen, upstream }));
  assert.equal(again.status, 201, JSON.stringify(again.body));
});

test('populate stops at the first proxy it cannot bind and says which were made', async (t) => {
  const upstream = await echoBackend(t);
  const { base } = await setup(t);
  const taken = (await call(base, 'POST', '/proxies', JSON.stringify({ name: 'held', upstream }))).body
    .listen as string;
  const r = await call(
    base,
    'POST',
    '/populate',
    JSON.stringify([
      { name: 'ok', upstream },
      { name: 'clash', listen: taken, upstream },
      { name: 'never', upstream },
    ]),
  );
  assert.equal(r.status, 500);
  assert.match(r.body.error ?? '', /address already in use/);
  assert.deepEqual(
    (r.body.proxies as { name: string }[]).map((p) => p.name),
    ['ok'],
  );
  const all = await call(base, 'GET', '/proxies');
  assert.deepEqual(Object.keys(all.body).sort(), ['held', 'ok']);
});

test('RelayHub in-process: 404 and 409 as HubError, bad fields as InvalidArgumentError, toxics given at create, adopt', async (t) => {
  const upstream = await echoBackend(t);
  const hub = new RelayHub();
  t.after(() => hub.close());
  const r = await hub.create({
    name: 'h',
    upstream,
    toxics: [{ type: 'latency', attributes: { latency: 1 } }],
  });
  assert.equal(r.toxics.get('latency_downstream').attributes.latency, 1);
  assert.throws(
    () => hub.get('none'),
    (e) => e instanceof HubError && e.status === 404,
  );
  await assert.rejects(hub.create({ name: 'h', upstream }), (e) => e instanceof HubError && e.status === 409);
  await assert.rejects(hub.update('none', {}), (e) => e instanceof HubError && e.status === 404);
  assert.throws(() => hub.create({ name: 'x', upstream: '-' }), InvalidArgumentError);
  assert.throws(() => new RelayHub({ maxConnections: -1 }), InvalidArgumentError);
  await hub.remove('h');
  assert.deepEqual(hub.list(), []);

  const made = await relay({ name: 'cli', listen: '127.0.0.1:0', targets: [upstream] });
  hub.adopt(made);
  assert.throws(
    () => hub.adopt(made),
    (e) => e instanceof HubError && e.status === 409,
  );
  assert.equal(hub.get('cli'), made);
  await hub.update('cli', { enabled: false });
  assert.equal(made.enabled, false);
  await hub.close();
  assert.deepEqual(hub.list(), []);
});
