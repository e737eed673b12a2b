/** Conn.frames(): the socket-fed frame iterator behind every framed server. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDecoder } from '../../src/framing/index.js';
import { type Conn, dial } from '../../src/tcp/index.js';
import { collectFrames, connectTo, sleep, startServer, until } from '../helpers/net.js';

function frame(s: string): Buffer {
  const b = Buffer.alloc(4 + Buffer.byteLength(s));
  b.writeUInt32BE(Buffer.byteLength(s), 0);
  b.write(s, 4);
  return b;
}

test('bytes read before the loop starts are decoded first', async (t) => {
  const { client } = await connectTo(t, async (conn) => {
    await conn.write(Buffer.concat([frame('early'), frame('late')]));
  });
  await until(() => client.bytesRead > 0);
  assert.deepEqual(await collectFrames(client, createDecoder('len32')), {
    frames: ['early', 'late'],
    error: undefined,
  });
});

test('frames decoded before a reset are delivered, then the reset is thrown', async (t) => {
  const { client } = await connectTo(t, async (conn) => {
    await conn.write(Buffer.concat([frame('a'), frame('b'), Buffer.from([0, 0])]));
    await sleep(30);
    conn.reset();
  });
  const { frames, error } = await collectFrames(client, createDecoder('len32'));
  assert.equal(error?.code, 'NETKIT_CONNECTION_RESET');
  assert.deepEqual(frames, ['a', 'b']);
});

test('a stream ending mid-frame throws NETKIT_FRAME_TRUNCATED and delivers no partial frame', async (t) => {
  const { client } = await connectTo(t, async (conn) => {
    await conn.write(Buffer.concat([frame('whole'), frame('cut short').subarray(0, 7)]));
  });
  const { frames, error } = await collectFrames(client, createDecoder('len32'));
  assert.equal(error?.code, 'NETKIT_FRAME_TRUNCATED');
  assert.deepEqual(frames, ['whole']);
});

test('the read deadline ends a waiting frames() loop with NETKIT_TIMEOUT', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await sleep(1000);
    conn.destroy();
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  c.setReadDeadline(Date.now() + 100);
  const start = Date.now();
  await assert.rejects(
    async () => {
      for await (const _ of c.frames(createDecoder('line'))) assert.fail('no frame expected');
    },
    { code: 'NETKIT_TIMEOUT' },
  );
  assert.ok(Date.now() - start >= 90);
  // Already past the deadline: a new loop fails at once.
  await assert.rejects(c.frames(createDecoder('line')).next(), { code: 'NETKIT_TIMEOUT' });
});

test('an AbortSignal ends a waiting frames() loop with NETKIT_ABORTED', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await sleep(1000);
    conn.destroy();
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(
    async () => {
      for await (const _ of c.frames(createDecoder('line'), { signal: ac.signal }))
        assert.fail('no frame expected');
    },
    { code: 'NETKIT_ABORTED' },
  );
});

test('leaving the loop early hands later bytes back to read()', async (t) => {
  let server!: Conn;
  const { address } = await startServer(t, async (conn) => {
    server = conn;
    await conn.write('one\n');
    await sleep(100);
    await conn.write('raw bytes');
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  for await (const f of c.frames(createDecoder('line'))) {
    assert.equal(f.toString(), 'one');
    break;
  }
  assert.equal((await c.read())?.toString(), 'raw bytes');
  assert.ok(server);
});

test('only one frames() loop at a time', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await sleep(200);
    conn.destroy();
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  const first = c.frames(createDecoder('line'));
  assert.throws(() => c.frames(createDecoder('line')), { code: 'NETKIT_INVALID_ARGUMENT', option: 'frames' });
  await first.return?.();
  c.frames(createDecoder('line'));
});

test('a consumer that stops reading pauses the socket: memory stays bounded', async (t) => {
  let sent = 0;
  const { address } = await startServer(t, async (conn) => {
    const f = frame('x'.repeat(1000));
    try {
      for (let i = 0; i < 50_000; i++) {
        await conn.write(f);
        sent += f.length;
      }
    } catch {
      // the client went away
    }
  });
  const c = await dial(address, { highWaterMark: 64 * 1024 });
  t.after(() => c.destroy());
  const it = c.frames(createDecoder('len32'));
  await it.next(); // take one frame, then stall
  await sleep(300);
  const stalledAt = c.bytesRead;
  await sleep(200);
  // The kernel buffers some, but Node stops reading: nothing more arrives in JS.
  assert.equal(c.bytesRead, stalledAt, 'socket kept reading while the consumer stalled');
  assert.ok(stalledAt < 1 << 20, `read ${stalledAt} bytes while stalled`);
  // Resume consuming: everything arrives.
  let n = 1;
  for await (const _ of it) n++;
  assert.equal(n, 50_000);
  assert.equal(sent, 50_000 * 1004);
});

test('consumeFrames calls back for every frame and resolves at FIN', async (t) => {
  const seen: string[] = [];
  const { address } = await startServer(t, async (conn) => {
    await conn.consumeFrames(createDecoder('line'), (f) => {
      seen.push(f.toString());
      conn.send(`${f.length}\n`);
    });
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  await c.write('a\nbb\nccc\n');
  await c.closeWrite();
  const replies: string[] = [];
  for await (const f of c.frames(createDecoder('line'))) replies.push(f.toString());
  assert.deepEqual(seen, ['a', 'bb', 'ccc']);
  assert.deepEqual(replies, ['1', '2', '3']);
});

test('consumeFrames pauses reading while the peer leaves answers unread', async (t) => {
  let server!: Conn;
  const { address } = await startServer(t, async (conn) => {
    server = conn;
    const big = Buffer.alloc(64 * 1024, 'y');
    await conn.consumeFrames(createDecoder('line'), () => conn.send(big)).catch(() => {});
  });
  const c = await dial(address);
  t.after(() => c.destroy());
  // Pipeline 20,000 requests (20 MB of answers) without reading any answer.
  const requests = Buffer.from('q\n'.repeat(20_000));
  void c.write(requests).catch(() => {});
  await sleep(500);
  const written = server.bytesWritten;
  await sleep(300);
  // Answers stop at the socket's buffer, not 1.3 GB of queued replies.
  assert.equal(server.bytesWritten, written, 'server kept answering while answers piled up');
  assert.ok(server.socket.writableLength < 4 << 20, `server queued ${server.socket.writableLength} bytes`);
  // Reading the answers lets the server continue to the end.
  await c.closeWrite();
  let got = 0;
  for await (const chunk of c) got += chunk.length;
  assert.equal(got, 20_000 * 64 * 1024);
});

test('consumeFrames: an exception from the callback ends it with that error', async (t) => {
  const boom = new Error('bad frame');
  const errors: unknown[] = [];
  const { address, server } = await startServer(t, (conn) =>
    conn.consumeFrames(createDecoder('line'), (f) => {
      if (f.toString() === 'boom') throw boom;
      conn.send('ok\n');
    }),
  );
  server.on('handlerError', (e) => errors.push(e));
  const c = await dial(address);
  t.after(() => c.destroy());
  await c.write('fine\nboom\nnever\n');
  assert.equal(await c.readLine(), 'ok');
  assert.equal(await c.read().catch(() => null), null);
  await until(() => errors.length === 1);
  assert.equal(errors[0], boom);
});
