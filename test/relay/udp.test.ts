/**
 * The UDP relay on real loopback sockets: a socket per client, datagram
 * boundaries, idle expiry, the client table limit under a flood, ICMP
 * port-unreachable from the target, and close().
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { relayUdp, type UdpClientSummary, type UdpRelay, type UdpRelayOptions } from '../../src/relay/udp.js';
import { bind, type DatagramSocket, dial } from '../../src/udp/index.js';
import { openFds, sleep, until } from '../helpers/net.js';

/**
 * echoTarget answers every datagram to its sender; with `prefix` the reply
 * starts with the sender's port and a colon, which shows which of the
 * relay's per-client sockets carried it.
 */
async function echoTarget(t: TestContext, prefix = false, address = '127.0.0.1:0'): Promise<DatagramSocket> {
  const s = await bind(address);
  const loop = (async () => {
    for await (const d of s) {
      const reply = prefix ? Buffer.concat([Buffer.from(`${d.from.port}:`), d.data]) : d.data;
      await s.send(reply, d.from);
    }
  })();
  t.after(async () => {
    await s.close();
    await loop;
  });
  return s;
}

async function relay(t: TestContext, options: UdpRelayOptions): Promise<UdpRelay> {
  const r = await relayUdp(options);
  t.after(() => r.close());
  return r;
}

async function client(t: TestContext, address: string): Promise<DatagramSocket> {
  const c = await dial(address);
  t.after(() => c.close());
  return c;
}

async function roundTrip(c: DatagramSocket, data: string): Promise<string> {
  await c.send(data);
  return (await c.receive({ timeout: 2000 })).data.toString();
}

test('each client gets its own socket to the target and only its own replies', async (t) => {
  const target = await echoTarget(t, true);
  const r = await relay(t, { listen: '127.0.0.1:0', target: target.localAddr.address });
  const opened: { id: number; client: string }[] = [];
  r.on('open', (o) => opened.push(o));
  const clients = await Promise.all(Array.from({ length: 5 }, () => client(t, r.address)));

  const ports = new Set<string>();
  for (let round = 0; round < 3; round++) {
    // All clients send before any reads, so replies could be crossed if the mapping were wrong.
    await Promise.all(clients.map((c, i) => c.send(`c${i} r${round}`)));
    for (const [i, c] of clients.entries()) {
      const reply = (await c.receive({ timeout: 2000 })).data.toString();
      const [port, text] = reply.split(':');
      assert.equal(text, `c${i} r${round}`, `#${i}: got ${reply}`);
      if (round === 0) ports.add(port!);
      else assert.ok(ports.has(port!), `#${i}: reply came through a new socket ${port}`);
    }
  }
  assert.equal(ports.size, 5);
  assert.equal(r.clients, 5);
  assert.deepEqual(
    opened.map((o) => o.id).sort((a, b) => a - b),
    [1, 2, 3, 4, 5],
  );
  assert.deepEqual(new Set(opened.map((o) => o.client)), new Set(clients.map((c) => c.localAddr.address)));
});

test('datagram boundaries are kept, empty and 65,507-byte datagrams included', async (t) => {
  const target = await echoTarget(t);
  const seen: { id: number; stream: string; offset: number; size: number }[] = [];
  const r = await relay(t, {
    listen: '127.0.0.1:0',
    target: target.localAddr.address,
    onDatagram: (d) => seen.push({ id: d.id, stream: d.stream, offset: d.offset, size: d.bytes.length }),
  });
  const c = await client(t, r.address);
  const sizes = [0, 1, 1472, 0, 65_507, 7];
  for (const size of sizes) {
    const payload = Buffer.alloc(size);
    for (let i = 0; i < size; i++) payload[i] = (i * 7 + size) % 251;
    await c.send(payload);
    const back = (await c.receive({ timeout: 2000 })).data;
    assert.equal(back.length, size, `size ${size}: got ${back.length} bytes`);
    assert.ok(back.equals(payload), `size ${size}: contents differ`);
  }
  const closed = new Promise<UdpClientSummary>((resolve) => r.once('close', resolve));
  await r.close();
  const s = await closed;
  const total = sizes.reduce((a, b) => a + b, 0);
  assert.equal(s.reason, 'closed');
  assert.equal(s.datagramsUp, sizes.length);
  assert.equal(s.datagramsDown, sizes.length);
  assert.equal(s.up, total);
  assert.equal(s.down, total);
  assert.equal(s.target, target.localAddr.address);
  assert.equal(s.client, c.localAddr.address);

  let offset = 0;
  const up = seen.filter((d) => d.stream === 'upstream');
  assert.deepEqual(
    up.map((d) => d.size),
    sizes,
  );
  for (const d of up) {
    assert.equal(d.id, 1);
    assert.equal(d.offset, offset);
    offset += d.size;
  }
  assert.equal(seen.filter((d) => d.stream === 'downstream').length, sizes.length);
});

test('a datagram too large for the target family is dropped and reported', async (t) => {
  let v6: DatagramSocket;
  try {
    v6 = await bind('[::1]:0', { network: 'udp6' });
  } catch {
    return t.skip('no IPv6 loopback');
  }
  await v6.close();
  const target = await echoTarget(t);
  const r = await relay(t, { listen: '[::1]:0', target: target.localAddr.address });
  const drops: { client: string; reason: string }[] = [];
  r.on('drop', (d) => drops.push(d));
  const c = await client(t, r.address);
  // 65,527 bytes fit in IPv6 but not in IPv4's 65,507.
  await c.send(Buffer.alloc(65_527));
  await until(() => drops.length === 1, 2000, 'drop');
  assert.deepEqual(drops, [{ client: c.localAddr.address, reason: 'too large' }]);
  assert.equal(r.dropped, 1);
  assert.equal(await roundTrip(c, 'small'), 'small');
});

test('a client idle for idleTimeout is closed; traffic either way keeps it', async (t) => {
  const target = await echoTarget(t);
  const r = await relay(t, { listen: '127.0.0.1:0', target: target.localAddr.address, idleTimeout: 150 });
  const closes: UdpClientSummary[] = [];
  r.on('close', (s) => closes.push(s));
  const c = await client(t, r.address);

  for (let i = 0; i < 8; i++) {
    assert.equal(await roundTrip(c, `keep ${i}`), `keep ${i}`);
    await sleep(50);
  }
  assert.equal(r.clients, 1);
  assert.equal(closes.length, 0, 'a client with traffic every 50 ms expired');

  await until(() => r.clients === 0, 2000, 'idle expiry');
  assert.equal(closes.length, 1);
  assert.equal(closes[0]!.reason, 'idle');
  assert.equal(closes[0]!.id, 1);
  assert.equal(closes[0]!.datagramsUp, 8);
  assert.ok(closes[0]!.ms >= 150 + 7 * 50, `ms ${closes[0]!.ms}`);

  // The same address later is a new client with a new number.
  const opened = new Promise<{ id: number }>((resolve) => r.once('open', resolve));
  assert.equal(await roundTrip(c, 'again'), 'again');
  assert.equal((await opened).id, 2);
});

test('datagrams from the target alone keep a client', async (t) => {
  // A target that, once asked, streams ticks every 40 ms for 400 ms: the
  // client never sends again, so only downstream traffic keeps it alive.
  const target = await bind('127.0.0.1:0');
  t.after(() => target.close());
  const r = await relay(t, { listen: '127.0.0.1:0', target: target.localAddr.address, idleTimeout: 150 });
  const c = await client(t, r.address);
  await c.send('subscribe');
  const { from } = await target.receive({ timeout: 2000 });
  for (let i = 0; i < 10; i++) {
    await target.send(`tick ${i}`, from);
    assert.equal((await c.receive({ timeout: 2000 })).data.toString(), `tick ${i}`);
    await sleep(40);
  }
  assert.equal(r.clients, 1);
  await until(() => r.clients === 0, 2000, 'idle expiry');
});

test('one sweep expires many clients', async (t) => {
  const target = await echoTarget(t);
  // 300 ms, not less: 50 round trips at once must all finish before any client's silence counts,
  // even when the machine is busy.
  const r = await relay(t, { listen: '127.0.0.1:0', target: target.localAddr.address, idleTimeout: 300 });
  const clients = await Promise.all(Array.from({ length: 50 }, () => client(t, r.address)));
  await Promise.all(clients.map((c, i) => roundTrip(c, `${i}`)));
  assert.equal(r.clients, 50);
  await until(() => r.clients === 0, 3000, 'all clients to expire');
});

test('maxClients: a flood of new clients is dropped and counted; existing clients keep working', async (t) => {
  const target = await echoTarget(t, true);
  const r = await relay(t, { listen: '127.0.0.1:0', target: target.localAddr.address, maxClients: 100 });
  const drops: string[] = [];
  r.on('drop', (d) => {
    assert.equal(d.reason, 'table full');
    drops.push(d.client);
  });
  const first = await client(t, r.address);
  const before = await roundTrip(first, 'first');

  const flood = await Promise.all(Array.from({ length: 300 }, () => client(t, r.address)));
  // In batches, so that the listen socket's receive buffer never overflows
  // and every datagram is the relay's to count.
  for (let i = 0; i < flood.length; i += 50) {
    await Promise.all(flood.slice(i, i + 50).map((c) => c.send('flood')));
    const expected = Math.min(i + 50, flood.length) + 1;
    await until(() => r.clients + r.dropped === expected, 2000, `batch at ${i}`);
  }
  assert.equal(r.clients, 100);
  assert.equal(r.dropped, 201);
  assert.equal(drops.length, 201);
  // The clients that got in are the first 99 of the flood; the rest were refused.
  const refused = new Set(flood.slice(99).map((c) => c.localAddr.address));
  assert.deepEqual(new Set(drops), refused);

  assert.equal(await roundTrip(first, 'still here'), `${before.split(':')[0]}:still here`);
  assert.match((await flood[0]!.receive({ timeout: 2000 })).data.toString(), /^\d+:flood$/);
  assert.match(await roundTrip(flood[0]!, 'admitted'), /^\d+:admitted$/);
  await assert.rejects(flood[200]!.receive({ timeout: 50 }), { code: 'NETKIT_TIMEOUT' });
  await flood[200]!.send('still refused');
  await until(() => r.dropped === 202, 2000, 'another drop');
});

test('target down: ICMP port-unreachable is counted, the client is kept and works once the target is back', async (t) => {
  const gone = await bind('127.0.0.1:0');
  const address = gone.localAddr.address;
  await gone.close();
  const r = await relay(t, { listen: '127.0.0.1:0', target: address });
  const closes: UdpClientSummary[] = [];
  r.on('close', (s) => closes.push(s));
  const c = await client(t, r.address);

  for (let i = 0; i < 3; i++) {
    await c.send(`nobody ${i}`);
    await sleep(30);
  }
  await until(() => r.refused >= 2, 2000, 'ECONNREFUSED to be counted');
  assert.equal(r.clients, 1);
  assert.equal(closes.length, 0);

  let target: DatagramSocket;
  try {
    target = await echoTarget(t, false, address);
  } catch {
    return t.skip(`${address} was taken meanwhile`);
  }
  assert.ok(target);
  assert.equal(await roundTrip(c, 'back'), 'back');
  await r.close();
  assert.equal(closes.length, 1);
  assert.equal(closes[0]!.id, 1);
  assert.ok(closes[0]!.refused >= 2);
});

test('close() closes every client socket and the listen socket, once', async (t) => {
  const target = await echoTarget(t);
  const fds = openFds();
  const r = await relayUdp({ listen: '127.0.0.1:0', target: target.localAddr.address });
  const listen = r.address;
  const closes: UdpClientSummary[] = [];
  r.on('close', (s) => closes.push(s));
  const clients: DatagramSocket[] = [];
  for (let i = 0; i < 10; i++) {
    const c = await client(t, r.address);
    assert.equal(await roundTrip(c, `${i}`), `${i}`);
    clients.push(c);
  }
  // 10 client sockets here, the relay's listen socket and one per client there.
  assert.equal(openFds(), fds + 21);
  await Promise.all([r.close(), r.close()]);
  await r.close();
  assert.equal(r.clients, 0);
  assert.equal(closes.length, 10);
  assert.ok(closes.every((s) => s.reason === 'closed'));
  await Promise.all(clients.map((c) => c.close()));
  assert.equal(openFds(), fds);
  // The port is free again.
  const again = await bind(listen);
  await again.close();
});

test('close() while a new client is still connecting leaves no socket behind', async (t) => {
  const target = await echoTarget(t);
  const fds = openFds();
  const r = await relayUdp({ listen: '127.0.0.1:0', target: target.localAddr.address });
  const c = await dial(r.address);
  const opened = new Promise((resolve) => r.once('open', resolve));
  await c.send('x');
  await opened;
  await r.close();
  await c.close();
  assert.equal(openFds(), fds);
});

test('aborting the signal closes the relay', async (t) => {
  const target = await echoTarget(t);
  const ac = new AbortController();
  const r = await relayUdp({ listen: '127.0.0.1:0', target: target.localAddr.address, signal: ac.signal });
  const c = await client(t, r.address);
  assert.equal(await roundTrip(c, 'hi'), 'hi');
  const closed = new Promise<UdpClientSummary>((resolve) => r.once('close', resolve));
  ac.abort();
  assert.equal((await closed).reason, 'closed');
  await r.close();
  assert.equal(r.clients, 0);
  await assert.rejects(
    relayUdp({ listen: '127.0.0.1:0', target: target.localAddr.address, signal: ac.signal }),
    { code: 'NETKIT_ABORTED' },
  );
});

test('options are checked before anything is bound, each failure naming its option', async () => {
  const ok = { listen: '127.0.0.1:0', target: '127.0.0.1:9' };
  const cases: [Record<string, unknown>, string][] = [
    [{ ...ok, listen: '' }, 'listen'],
    [{ ...ok, listen: 5353 }, 'listen'],
    [{ ...ok, listen: '127.0.0.1' }, 'listen'],
    [{ ...ok, target: undefined }, 'target'],
    [{ ...ok, target: '[::1:53' }, 'target'],
    [{ ...ok, target: '127.0.0.1:0' }, 'target'],
    [{ ...ok, idleTimeout: 0 }, 'idleTimeout'],
    [{ ...ok, idleTimeout: -1 }, 'idleTimeout'],
    [{ ...ok, idleTimeout: '60s' }, 'idleTimeout'],
    [{ ...ok, maxClients: 0 }, 'maxClients'],
    [{ ...ok, maxClients: 1.5 }, 'maxClients'],
    [{ ...ok, network: 'tcp' }, 'network'],
    [{ ...ok, signal: {} }, 'signal'],
    [{ ...ok, onDatagram: 'log' }, 'onDatagram'],
  ];
  for (const [i, [options, option]] of cases.entries()) {
    await assert.rejects(
      relayUdp(options as unknown as UdpRelayOptions),
      (e) => e instanceof InvalidArgumentError && e.option === option,
      `#${i}: want InvalidArgumentError for ${option}`,
    );
  }
  await assert.rejects(relayUdp(undefined as unknown as UdpRelayOptions), {
    code: 'NETKIT_INVALID_ARGUMENT',
  });
});
