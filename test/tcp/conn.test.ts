import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConnectionError, FrameError, TimeoutError } from '../../src/errors.js';
import { createDecoder } from '../../src/framing/index.js';
import { type Conn, dial } from '../../src/tcp/index.js';
import { readAll, sleep, startServer, until } from '../helpers/net.js';

test('read, readLine and readFull share one buffer and keep leftovers', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.write('line one\r\nline two\nABCDEFGH');
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  assert.equal(await c.readLine(), 'line one');
  assert.equal(await c.readLine(), 'line two');
  assert.equal((await c.readFull(4)).toString(), 'ABCD');
  assert.equal((await readAll(c)).toString(), 'EFGH');
  assert.equal(await c.read(), null);
  assert.equal(c.peerClose, 'fin');
});

test('readLine returns a final line without newline, then null', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.write('tail');
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  assert.equal(await c.readLine(), 'tail');
  assert.equal(await c.readLine(), null);
});

test('readLine rejects a line over maxBytes with NETKIT_FRAME_TOO_LARGE', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.write(`${'x'.repeat(100)}\n`);
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  await assert.rejects(
    c.readLine({ maxBytes: 99 }),
    (e: FrameError) => e instanceof FrameError && e.code === 'NETKIT_FRAME_TOO_LARGE' && e.limit === 99,
  );
});

test('readFull rejects with NETKIT_FRAME_TRUNCATED when the stream ends early', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.write('abc');
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  await assert.rejects(c.readFull(10), { code: 'NETKIT_FRAME_TRUNCATED' });
});

test('frames() splits merged writes with any decoder', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    const payload = Buffer.concat(
      ['a', 'bb', '', 'ccc'].map((s) => Buffer.concat([Buffer.from([0, 0, 0, s.length]), Buffer.from(s)])),
    );
    // Byte-at-a-time writes and one big write must decode the same.
    for (const b of payload) await conn.write(Buffer.from([b]));
    await conn.write(payload);
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  const got: string[] = [];
  for await (const f of c.frames(createDecoder('len32'))) got.push(f.toString());
  assert.deepEqual(got, ['a', 'bb', '', 'ccc', 'a', 'bb', '', 'ccc']);
});

test('closeWrite sends FIN and keeps reading (half-close)', async (t) => {
  let serverSaw: string | null = null;
  const { address } = await startServer(t, async (conn) => {
    const data = await readAll(conn);
    serverSaw = conn.peerClose;
    await conn.write(`got ${data.length} bytes`);
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  await c.write('hello');
  await c.closeWrite();
  await assert.rejects(c.write('more'), (e: ConnectionError) => e.code === 'NETKIT_CONNECTION_CLOSED');
  assert.equal((await readAll(c)).toString(), 'got 5 bytes');
  assert.equal(serverSaw, 'fin');
});

test('a peer reset surfaces as NETKIT_CONNECTION_RESET and peerClose rst, never a crash', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.readLine();
    conn.reset();
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  await c.write('x\n');
  await assert.rejects(
    readAll(c),
    (e: ConnectionError) => e instanceof ConnectionError && e.code === 'NETKIT_CONNECTION_RESET',
  );
  assert.equal(c.peerClose, 'rst');
  const s = await c.closed;
  assert.equal(s.peerClose, 'rst');
  assert.equal(s.error?.code, 'NETKIT_CONNECTION_RESET');
});

test('writes after the peer reset reject instead of throwing asynchronously', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await sleep(20); // a reset racing the handshake fails the dial instead; that is tested elsewhere
    conn.reset();
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  await until(() => c.peerClose === 'rst' || c.socket.destroyed, 2000, 'reset to arrive');
  await assert.rejects(
    async () => {
      for (let i = 0; i < 100; i++) await c.write(Buffer.alloc(65536));
    },
    (e: Error) => e instanceof ConnectionError,
  );
});

test('read deadline: pending read times out, data is kept, extending the deadline reads it', async (t) => {
  let send!: (s: string) => void;
  const { address } = await startServer(t, async (conn) => {
    await new Promise<void>((resolve) => {
      send = (s) => {
        void conn.write(s).then(resolve);
      };
    });
    await readAll(conn);
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  const start = Date.now();
  c.setReadDeadline(Date.now() + 100);
  await assert.rejects(
    c.read(),
    (e: TimeoutError) => e instanceof TimeoutError && e.code === 'NETKIT_TIMEOUT' && e.op === 'read',
  );
  assert.ok(Date.now() - start >= 90, 'timed out too early');
  // Still past the deadline: fails at once, as in Go.
  await assert.rejects(c.read(), { code: 'NETKIT_TIMEOUT' });
  await until(() => send !== undefined);
  send('late data');
  await sleep(50);
  c.setReadDeadline(null);
  assert.equal((await c.read())?.toString(), 'late data');
});

test('a deadline already in the past fails the pending read at once', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await readAll(conn);
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  const pending = c.read();
  c.setDeadline(new Date(Date.now() - 1));
  await assert.rejects(pending, { code: 'NETKIT_TIMEOUT' });
});

test('write deadline fails a write stuck on backpressure', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await sleep(2000); // never reads: the client's buffers fill up
    conn.destroy();
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  c.setWriteDeadline(Date.now() + 200);
  const big = Buffer.alloc(1 << 20);
  await assert.rejects(
    async () => {
      for (let i = 0; i < 256; i++) await c.write(big);
    },
    (e: TimeoutError) => e.code === 'NETKIT_TIMEOUT' && e.op === 'write',
  );
});

test('write resolves only when the socket can take more (backpressure)', async (t) => {
  let reader!: Conn;
  const { address } = await startServer(t, async (conn) => {
    reader = conn;
    await sleep(300);
    await readAll(conn);
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  const big = Buffer.alloc(4 << 20);
  let resolved = false;
  const p = c.write(big).then(() => {
    resolved = true;
  });
  await sleep(100);
  assert.equal(resolved, false, 'a 4 MiB write to a peer that is not reading resolved at once');
  await p;
  assert.ok(reader);
});

test('read honours an AbortSignal', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await readAll(conn);
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  const ac = new AbortController();
  const p = c.read({ signal: ac.signal });
  ac.abort();
  await assert.rejects(p, { code: 'NETKIT_ABORTED' });
});

test('reads after a local close reject with NETKIT_CONNECTION_CLOSED', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await readAll(conn);
  });
  const c = await dial(address);
  const pending = c.read();
  await c.close();
  await assert.rejects(pending, { code: 'NETKIT_CONNECTION_CLOSED' });
  await assert.rejects(c.read(), { code: 'NETKIT_CONNECTION_CLOSED' });
  await assert.rejects(c.write('x'), { code: 'NETKIT_CONNECTION_CLOSED' });
});

test('summary reports addresses, byte counts and how the peer closed', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.write('0123456789');
  });
  const c = await dial(address);
  await c.write('abc');
  await readAll(c);
  const s = await c.close();
  assert.equal(s.bytesRead, 10);
  assert.equal(s.bytesWritten, 3);
  assert.equal(s.peerClose, 'fin');
  assert.equal(s.remoteAddr?.address, address);
  assert.equal(s.localAddr?.ip, '127.0.0.1');
});
