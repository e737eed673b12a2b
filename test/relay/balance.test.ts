/**
 * Balancing over three real backends, each answering with its name:
 * round-robin spreads evenly, least-conns fills the emptiest, a backend
 * killed mid-run is taken out by its health check (or at once by a
 * refused connect) and gets connections again once it is back, and no
 * client notices while another backend is up. Backends are counted by
 * the name each client reads, not by the relay's own events, so a relay
 * that lies about where it sent a connection fails too.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import type { HealthCheck, Relay, TargetChange } from '../../src/relay/index.js';
import { listen, serve } from '../../src/tcp/index.js';
import { readAll } from '../helpers/net.js';
import { startRelay } from '../helpers/relay.js';

const T = { timeout: 20_000 };
/** FAST checks catch a dead backend within a few tens of milliseconds. */
const FAST: HealthCheck = { interval: 25, timeout: 500, fall: 2, rise: 2 };
/** NEVER runs the checks once at start and not again during the test: only passive ejection acts. */
const NEVER: HealthCheck = { interval: 600_000, timeout: 500, fall: 1, rise: 1 };

/** Backend answers every connection with its name and a newline, then waits for the client to hang up. */
class Backend {
  readonly name: string;
  port = 0;
  #server: net.Server | undefined;
  #sockets = new Set<net.Socket>();

  constructor(name: string) {
    this.name = name;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** start listens on its old port after a kill(), or a new one the first time. */
  async start(): Promise<void> {
    const server = net.createServer((s) => {
      this.#sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => this.#sockets.delete(s));
      s.write(`${this.name}\n`);
    });
    server.listen(this.port, '127.0.0.1');
    await once(server, 'listening');
    this.port = (server.address() as net.AddressInfo).port;
    this.#server = server;
  }

  /** kill stops listening and drops every connection, as a crashed server would. */
  async kill(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

async function backends(t: TestContext, names = ['a', 'b', 'c']): Promise<Backend[]> {
  const list = names.map((n) => new Backend(n));
  for (const b of list) await b.start();
  t.after(() => Promise.all(list.map((b) => b.kill())));
  return list;
}

/** Client is one connection through the relay and the backend that answered it. */
interface Client {
  socket: net.Socket;
  name: string;
}

/** hello connects to `address` and resolves once a backend named itself; the socket stays open. */
function hello(t: TestContext, address: string, ms = 5000): Promise<Client> {
  const at = address.lastIndexOf(':');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
    t.after(() => socket.destroy());
    let buf = '';
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error(`no backend answered within ${ms} ms`)), ms);
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      buf += d;
      const eol = buf.indexOf('\n');
      if (eol < 0) return;
      clearTimeout(timer);
      resolve({ socket, name: buf.slice(0, eol) });
    });
    socket.once('end', () =>
      fail(new Error(`closed before a backend answered (got ${JSON.stringify(buf)})`)),
    );
    socket.once('error', fail);
  });
}

/** names connects `n` clients one after another, hanging each up once answered, and returns who answered. */
async function names(t: TestContext, address: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = await hello(t, address);
    c.socket.destroy();
    out.push(c.name);
  }
  return out;
}

function count(list: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of list) out[n] = (out[n] ?? 0) + 1;
  return out;
}

/** targetEvent resolves with the next `target` event for `target` saying `up`, or rejects after `ms`. */
function targetEvent(r: Relay, target: string, up: boolean, ms = 5000): Promise<TargetChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      r.off('target', on);
      reject(
        new Error(
          `no target event {${target}, up: ${up}} within ${ms} ms; targets: ${JSON.stringify(r.targets)}`,
        ),
      );
    }, ms);
    const on = (c: TargetChange) => {
      if (c.target !== target || c.up !== up) return;
      clearTimeout(timer);
      r.off('target', on);
      resolve(c);
    };
    r.on('target', on);
  });
}

/** closed resolves after the relay has closed `n` more connections, or rejects after `ms`. */
function closed(r: Relay, n: number, ms = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let left = n;
    const timer = setTimeout(() => {
      r.off('close', on);
      reject(new Error(`${left} of ${n} connections still open after ${ms} ms`));
    }, ms);
    const on = () => {
      if (--left > 0) return;
      clearTimeout(timer);
      r.off('close', on);
      resolve();
    };
    r.on('close', on);
  });
}

test(
  'round-robin: new connections go to each backend in turn, one after another and all at once',
  T,
  async (t) => {
    const [a, b, c] = await backends(t);
    const r = await startRelay(t, {
      listen: '127.0.0.1:0',
      targets: [a!.address, b!.address, c!.address],
      healthCheck: false,
    });
    const seq = await names(t, r.address, 9);
    assert.deepEqual(seq, ['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);

    const burst = await Promise.all(Array.from({ length: 30 }, () => hello(t, r.address)));
    assert.deepEqual(count(burst.map((x) => x.name)), { a: 10, b: 10, c: 10 });
  },
);

test('least-conns: a new connection goes to the backend with the fewest open', T, async (t) => {
  const [a, b, c] = await backends(t);
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [a!.address, b!.address, c!.address],
    balance: 'least-conns',
    healthCheck: false,
  });
  const held: Client[] = [];
  for (let i = 0; i < 6; i++) held.push(await hello(t, r.address));
  // Equal backends share evenly.
  assert.deepEqual(count(held.map((x) => x.name)), { a: 2, b: 2, c: 2 });

  const hangUp = async (name: string, n: number) => {
    const gone = closed(r, n);
    for (const x of held.filter((h) => h.name === name).slice(0, n)) {
      x.socket.destroy();
      held.splice(held.indexOf(x), 1);
    }
    await gone;
  };
  // b: 1 open, a and c: 2 → b, then all at 2.
  await hangUp('b', 1);
  const next = await hello(t, r.address);
  assert.equal(next.name, 'b');
  held.push(next);
  // c: 0 open → c twice before anyone else.
  await hangUp('c', 2);
  const two = [await hello(t, r.address), await hello(t, r.address)];
  assert.deepEqual(
    two.map((x) => x.name),
    ['c', 'c'],
  );
  held.push(...two);
  assert.deepEqual(
    r.targets.map((x) => x.active),
    [2, 2, 2],
  );
});

test(
  'least-conns counts connections still being dialled: a burst over TLS targets does not pile on one',
  T,
  async (t) => {
    // A TLS handshake keeps each dial in flight for a few event-loop turns, so a burst's dials overlap.
    const addresses: string[] = [];
    for (const name of ['a', 'b', 'c']) {
      const listener = await listen('127.0.0.1:0', { tls: true });
      const server = serve(listener, async (conn) => {
        await conn.write(`${name}\n`);
        await readAll(conn).catch(() => {});
      });
      t.after(() => server.close({ timeout: 100 }));
      addresses.push(`tls:${listener.addr.address}`);
    }
    const r = await startRelay(t, {
      listen: '127.0.0.1:0',
      targets: addresses,
      balance: 'least-conns',
      healthCheck: false,
      targetTls: { insecure: true },
    });
    const held: Client[] = [];
    for (let i = 0; i < 6; i++) held.push(await hello(t, r.address));
    const gone = closed(r, 2);
    for (const x of held.filter((h) => h.name === 'a')) x.socket.destroy();
    await gone;
    // a: 0, b: 2, c: 2. Five at once: two fill a up to the others, then one each.
    const burst = await Promise.all(Array.from({ length: 5 }, () => hello(t, r.address)));
    assert.deepEqual(count(burst.map((x) => x.name)), { a: 3, b: 1, c: 1 });
    assert.deepEqual(
      r.targets.map((x) => x.active),
      [3, 3, 3],
    );
  },
);

test('a backend killed mid-run: its health check takes it out, then rise brings it back', T, async (t) => {
  const [a, b, c] = await backends(t);
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [a!.address, b!.address, c!.address],
    healthCheck: FAST,
  });
  assert.deepEqual(count(await names(t, r.address, 6)), { a: 2, b: 2, c: 2 });

  // No client connects while b dies, so only the check can notice.
  const down = targetEvent(r, b!.address, false);
  await b!.kill();
  const ev = await down;
  assert.match(ev.reason, /^health check: connection refused$/);
  assert.deepEqual(
    r.targets.map((x) => [x.target, x.up]),
    [
      [a!.address, true],
      [b!.address, false],
      [c!.address, true],
    ],
  );
  assert.deepEqual(count(await names(t, r.address, 10)), { a: 5, c: 5 });

  const up = targetEvent(r, b!.address, true);
  await b!.start();
  assert.equal((await up).reason, 'health check passed');
  assert.deepEqual(count(await names(t, r.address, 9)), { a: 3, b: 3, c: 3 });
});

test(
  'passive ejection: a refused connect takes the target out at once and the client is served by another',
  T,
  async (t) => {
    const [a, b, c] = await backends(t);
    const r = await startRelay(t, {
      listen: '127.0.0.1:0',
      targets: [a!.address, b!.address, c!.address],
      healthCheck: NEVER,
    });
    const fails: unknown[] = [];
    r.on('fail', (f) => fails.push(f));
    const changes: TargetChange[] = [];
    r.on('target', (ch) => changes.push(ch));
    assert.deepEqual(await names(t, r.address, 3), ['a', 'b', 'c']);

    await b!.kill();
    // The next pick is a, then b: b's refusal must not reach the client.
    const seq = await names(t, r.address, 8);
    assert.deepEqual(count(seq), { a: 4, c: 4 });
    assert.deepEqual(fails, []);
    assert.equal(changes.length, 1, JSON.stringify(changes));
    assert.equal(changes[0]!.target, b!.address);
    assert.equal(changes[0]!.up, false);
    assert.match(changes[0]!.reason, /refused/i);
    assert.equal(r.targets[1]!.reason, changes[0]!.reason);
  },
);

/** Phase is what a test is doing while traffic runs. */
type Phase = 'before' | 'dying' | 'down' | 'returning' | 'back';

test('traffic never stops while a backend dies and comes back: no client sees an error', T, async (t) => {
  const [a, b, c] = await backends(t);
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [a!.address, b!.address, c!.address],
    healthCheck: FAST,
  });
  const fails: unknown[] = [];
  r.on('fail', (f) => fails.push(f));
  // phase is what the test is doing when a client is answered; clients run back to back throughout.
  let phase = 'before' as Phase;
  const answered: { phase: Phase; name: string }[] = [];
  let stop = false;
  const traffic = (async () => {
    while (!stop) {
      const x = await hello(t, r.address);
      x.socket.destroy();
      answered.push({ phase, name: x.name });
    }
  })();
  const served = async (n: number) => {
    const want = answered.length + n;
    const deadline = Date.now() + 5000;
    while (answered.length < want) {
      if (Date.now() > deadline) throw new Error(`fewer than ${n} clients served within 5000 ms`);
      await new Promise((res) => setImmediate(res));
    }
  };
  try {
    await served(6);
    phase = 'dying';
    // Passive ejection or the check, whichever comes first: either way b is out.
    const down = targetEvent(r, b!.address, false);
    await b!.kill();
    await down;
    phase = 'down';
    await served(20);
    phase = 'returning';
    const up = targetEvent(r, b!.address, true);
    await b!.start();
    await up;
    phase = 'back';
    await served(9);
  } finally {
    stop = true;
    await traffic;
  }
  assert.deepEqual(fails, []);
  const of = (p: Phase) => count(answered.filter((x) => x.phase === p).map((x) => x.name));
  assert.equal(of('down').b, undefined, JSON.stringify(of('down')));
  assert.ok((of('back').b ?? 0) >= 2, JSON.stringify(of('back')));
});

test(
  'every target down: the client is closed with a fail event; the first to return serves the next',
  T,
  async (t) => {
    const [a, b] = await backends(t, ['a', 'b']);
    const r = await startRelay(t, {
      listen: '127.0.0.1:0',
      targets: [a!.address, b!.address],
      healthCheck: NEVER,
    });
    await a!.kill();
    await b!.kill();
    const failed = once(r, 'fail');
    await assert.rejects(hello(t, r.address), /closed before a backend answered/);
    const [f] = (await failed) as [{ code: string }];
    assert.equal(f.code, 'NETKIT_DIAL_FAILED');
    assert.deepEqual(
      r.targets.map((x) => x.up),
      [false, false],
    );
    // With no check due for ten minutes, only trying down targets can find b again.
    const up = targetEvent(r, b!.address, true);
    await b!.start();
    assert.equal((await hello(t, r.address)).name, 'b');
    assert.equal((await up).reason, 'connected');
  },
);
