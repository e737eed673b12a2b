import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { DatagramError } from '../../src/errors.js';
import { bind, type DatagramSocket, dial } from '../../src/udp/index.js';

/** echoServer binds `address` and sends every datagram back to its sender until closed. */
async function echoServer(t: TestContext, address: string): Promise<DatagramSocket> {
  const s = await bind(address);
  const loop = (async () => {
    for await (const d of s) await s.send(d.data, d.from);
  })();
  t.after(async () => {
    await s.close();
    await loop;
  });
  return s;
}

/** countingSends wraps socket.send so a test can see whether anything reached dgram. */
function countingSends(s: DatagramSocket): () => number {
  let n = 0;
  const orig = s.socket.send.bind(s.socket) as (...a: unknown[]) => void;
  (s.socket as unknown as { send: (...a: unknown[]) => void }).send = (...a: unknown[]) => {
    n++;
    orig(...a);
  };
  return () => n;
}

for (const host of ['127.0.0.1', '[::1]']) {
  test(`send/receive round trip on ${host}`, async () => {
    await using a = await bind(`${host}:0`);
    await using b = await bind(`${host}:0`);
    await a.send('hello', b.localAddr.address);
    const d = await b.receive({ timeout: 2000 });
    assert.equal(d.data.toString(), 'hello');
    assert.equal(d.from.address, a.localAddr.address);
    await b.send(new Uint8Array([1, 2, 3]), { ip: d.from.ip, port: d.from.port });
    assert.deepEqual([...(await a.receive({ timeout: 2000 })).data], [1, 2, 3]);
  });
}

test('for await yields datagrams in order and ends when the socket is closed', async () => {
  const s = await bind('127.0.0.1:0');
  await using c = await dial(s.localAddr.address);
  const seen: string[] = [];
  const loop = (async () => {
    for await (const d of s) {
      seen.push(d.data.toString());
      if (seen.length === 3) await s.close();
    }
  })();
  for (const m of ['a', 'b', 'c']) await c.send(m);
  await loop;
  assert.deepEqual(seen, ['a', 'b', 'c']);
});

test('receive times out with NETKIT_TIMEOUT after about 100 ms', async () => {
  await using s = await bind('127.0.0.1:0');
  const start = Date.now();
  await assert.rejects(s.receive({ timeout: 100 }), { code: 'NETKIT_TIMEOUT' });
  const took = Date.now() - start;
  assert.ok(took >= 90 && took < 1000, `took ${took} ms`);
  // The socket still works after a timeout.
  await s.send('later', s.localAddr);
  assert.equal((await s.receive({ timeout: 2000 })).data.toString(), 'later');
});

test('receive rejects with NETKIT_ABORTED when its signal aborts, before or during the wait', async () => {
  await using s = await bind('127.0.0.1:0');
  await assert.rejects(s.receive({ signal: AbortSignal.abort() }), { code: 'NETKIT_ABORTED' });
  const ac = new AbortController();
  const p = s.receive({ signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(p, { code: 'NETKIT_ABORTED' });
});

test('close rejects pending receives and later calls with NETKIT_SOCKET_CLOSED', async () => {
  const s = await bind('127.0.0.1:0');
  const a = s.receive();
  const b = s.receive({ timeout: 5000 });
  await s.close();
  await assert.rejects(a, { code: 'NETKIT_SOCKET_CLOSED' });
  await assert.rejects(b, { code: 'NETKIT_SOCKET_CLOSED' });
  await assert.rejects(s.receive(), { code: 'NETKIT_SOCKET_CLOSED' });
  await assert.rejects(s.send('x', '127.0.0.1:9'), { code: 'NETKIT_SOCKET_CLOSED' });
  await s.close(); // idempotent
});

test('RELIABILITY 32: a 65,507-byte datagram is echoed intact over IPv4; 65,508 is refused unsent', async (t) => {
  const server = await echoServer(t, '127.0.0.1:0');
  await using c = await dial(server.localAddr.address);
  const payload = Buffer.alloc(65_507);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;
  await c.send(payload);
  const reply = await c.receive({ timeout: 5000 });
  assert.equal(reply.data.length, 65_507);
  assert.ok(reply.data.equals(payload));

  const sends = countingSends(c);
  await assert.rejects(c.send(Buffer.alloc(65_508)), (e: unknown) => {
    assert.ok(e instanceof DatagramError);
    assert.equal(e.code, 'NETKIT_DATAGRAM_TOO_LARGE');
    assert.equal(e.limit, 65_507);
    assert.equal(e.size, 65_508);
    return true;
  });
  assert.equal(sends(), 0);
  await assert.rejects(c.receive({ timeout: 100 }), { code: 'NETKIT_TIMEOUT' });
});

test('a bound IPv4 socket refuses 65,508 bytes too, whatever the destination form', async () => {
  await using s = await bind('127.0.0.1:0');
  const sends = countingSends(s);
  await assert.rejects(s.send(Buffer.alloc(65_508), s.localAddr.address), {
    code: 'NETKIT_DATAGRAM_TOO_LARGE',
  });
  await assert.rejects(s.send('x'.repeat(65_508), s.localAddr), { code: 'NETKIT_DATAGRAM_TOO_LARGE' });
  assert.equal(sends(), 0);
});

test('IPv6: a 65,527-byte datagram is echoed intact; 65,528 is refused with limit 65527', async (t) => {
  const server = await echoServer(t, '[::1]:0');
  await using c = await dial(server.localAddr.address);
  const payload = Buffer.alloc(65_527, 0x5a);
  payload.writeUInt32BE(0xdeadbeef, 65_523);
  await c.send(payload);
  const reply = await c.receive({ timeout: 5000 });
  assert.ok(reply.data.equals(payload));
  const sends = countingSends(c);
  await assert.rejects(c.send(Buffer.alloc(65_528)), {
    code: 'NETKIT_DATAGRAM_TOO_LARGE',
    limit: 65_527,
    size: 65_528,
  });
  assert.equal(sends(), 0);
});

test('maxDatagramBytes lowers the send limit', async () => {
  await using s = await bind('127.0.0.1:0', { maxDatagramBytes: 512 });
  await s.send(Buffer.alloc(512), s.localAddr);
  assert.equal((await s.receive({ timeout: 2000 })).data.length, 512);
  await assert.rejects(s.send(Buffer.alloc(513), s.localAddr), {
    code: 'NETKIT_DATAGRAM_TOO_LARGE',
    limit: 512,
  });
});

test('queue overflow: with maxQueue 100 and nobody reading, extra datagrams are dropped and counted', async () => {
  await using s = await bind('127.0.0.1:0', { maxQueue: 100 });
  await using c = await dial(s.localAddr.address);
  for (let i = 0; i < 2000; i++) await c.send(String(i));
  // Let the event loop deliver whatever the kernel still holds.
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(s.dropped > 0, `dropped ${s.dropped}`);
  // The oldest kept datagrams come out first, in order; nothing newer than 100 of them is queued.
  const got: number[] = [];
  for (let i = 0; i < 100; i++) got.push(Number((await s.receive({ timeout: 1000 })).data.toString()));
  assert.equal(got[0], 0);
  for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!);
  await assert.rejects(s.receive({ timeout: 50 }), { code: 'NETKIT_TIMEOUT' });
  // Reading made room again.
  await c.send('fresh');
  assert.equal((await s.receive({ timeout: 2000 })).data.toString(), 'fresh');
});
