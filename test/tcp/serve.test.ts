import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ConnSummary } from '../../src/tcp/index.js';
import { dial, echoHandler, listen, replyHandler, serve } from '../../src/tcp/index.js';
import { readAll, sleep, startServer, until } from '../helpers/net.js';

test('replyHandler answers every line with the classic reply', async (t) => {
  const { address } = await startServer(t, replyHandler('Hello, Client!'));
  const c = await dial(address);
  await c.write('one\ntwo\r\nthree\n');
  assert.equal(await c.readLine(), 'Hello, Client!');
  assert.equal(await c.readLine(), 'Hello, Client!');
  assert.equal(await c.readLine(), 'Hello, Client!');
  await c.closeWrite();
  assert.equal(await c.read(), null);
  c.destroy();
});

test('echoHandler with len32 framing echoes frames, including empty ones', async (t) => {
  const { address } = await startServer(t, echoHandler({ frame: 'len32' }));
  const c = await dial(address);
  await c.write(Buffer.from('00000000' + '00000003616263', 'hex'));
  await c.closeWrite();
  assert.equal((await readAll(c)).toString('hex'), '00000000' + '00000003616263');
});

test('the close event reports FIN or RST, bytes and duration', async (t) => {
  const { address, server } = await startServer(t, echoHandler());
  const closed: ConnSummary[] = [];
  server.on('close', (_c, s) => closed.push(s));
  const a = await dial(address);
  await a.write('hi\n');
  assert.equal(await a.readLine(), 'hi');
  await a.closeWrite();
  await readAll(a);
  const b = await dial(address);
  await b.write('x\n');
  await b.readLine();
  b.reset();
  await until(() => closed.length === 2, 3000, 'two close events');
  const byPeer = new Map(closed.map((s) => [s.peerClose, s]));
  assert.equal(byPeer.get('fin')?.bytesRead, 3);
  assert.equal(byPeer.get('fin')?.bytesWritten, 3);
  assert.ok(byPeer.has('rst'), 'a reset shows as rst');
  assert.equal(byPeer.get('rst')?.error?.code, 'NETKIT_CONNECTION_RESET');
});

test('a handler that throws destroys only its own connection', async (t) => {
  const errors: string[] = [];
  const { address, server } = await startServer(t, async (conn) => {
    const line = await conn.readLine();
    if (line === 'boom') throw new Error('handler failed');
    await conn.write('ok\n');
  });
  server.on('handlerError', (e) => errors.push(e.message));
  const bad = await dial(address);
  await bad.write('boom\n');
  assert.equal(await bad.read().catch(() => null), null);
  const good = await dial(address);
  await good.write('fine\n');
  assert.equal(await good.readLine(), 'ok');
  assert.deepEqual(errors, ['handler failed']);
});

test('validates options up front, naming the option', async (t) => {
  const l = await listen('127.0.0.1:0');
  t.after(() => l.close());
  assert.throws(() => serve(l, () => {}, { maxConnections: 0 }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'maxConnections',
  });
  assert.throws(() => serve(l, () => {}, { idleTimeout: -5 }), { option: 'idleTimeout' });
  assert.throws(() => echoHandler({ frame: 'len32', maxFrameBytes: -1 }), {
    code: 'NETKIT_INVALID_ARGUMENT',
  });
});

test('an aborted signal starts a graceful shutdown', async () => {
  const ac = new AbortController();
  const l = await listen('127.0.0.1:0');
  const server = serve(l, echoHandler(), { signal: ac.signal });
  const c = await dial(l.addr.address);
  await c.write('a\n');
  assert.equal(await c.readLine(), 'a');
  ac.abort();
  // The idle echo connection is told to finish; it closes with FIN.
  assert.equal(await c.read(), null);
  await server.done;
  assert.equal(server.connections, 0);
  c.destroy();
});

test('shutdown lets a request in flight finish, then closes with FIN', async () => {
  const l = await listen('127.0.0.1:0');
  const server = serve(l, async (conn) => {
    await conn.readLine();
    await sleep(200); // slow work in progress when shutdown starts
    await conn.write('done\n');
  });
  const c = await dial(l.addr.address);
  await c.write('work\n');
  await sleep(50);
  const shut = server.close({ timeout: 2000 });
  assert.equal(await c.readLine(), 'done');
  assert.equal(await c.read(), null);
  assert.equal(c.peerClose, 'fin');
  await shut;
  c.destroy();
});

test('shutdown forces connections closed after its timeout', async () => {
  const l = await listen('127.0.0.1:0');
  const server = serve(l, async () => {
    await sleep(60_000); // a handler that never finishes on its own
  });
  const c = await dial(l.addr.address);
  await until(() => server.connections === 1);
  const start = Date.now();
  await server.close({ timeout: 200 });
  const took = Date.now() - start;
  assert.ok(took >= 190 && took < 2000, `shutdown took ${took} ms`);
  assert.equal(await c.read().catch(() => null), null);
  c.destroy();
});
