/**
 * The pools over real connections: createTcpPool drops idle connections
 * the server ended (FIN or RST) before anyone borrows them, and
 * createRpcPool spreads calls over a few clients and replaces a dead one.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineClient } from '../../src/pool/index.js';
import { arith } from '../../src/rpc/arith.js';
import type { RpcClient } from '../../src/rpc/client/client.js';
import { createRpcPool } from '../../src/rpc/client/pool.js';
import { Registry } from '../../src/rpc/registry.js';
import { serveRpc } from '../../src/rpc/server/serve.js';
import { type Conn, replyHandler } from '../../src/tcp/index.js';
import { startServer, until } from '../helpers/net.js';

test('createTcpPool drops an idle connection the server closed (FIN) or reset (RST); the next requests do not fail', async (t) => {
  const { address, server } = await startServer(t, replyHandler('pong'));
  const serverSide: Conn[] = [];
  server.on('open', (c) => serverSide.push(c));
  const client = new LineClient(address, { pool: { max: 2 } });
  t.after(() => client.close());
  const dropped: { reason: string; peerClose: string | null }[] = [];
  client.pool.on('destroy', (e) => dropped.push({ reason: e.reason, peerClose: e.resource.peerClose }));

  assert.deepEqual(await Promise.all([client.request('a'), client.request('b')]), ['pong', 'pong']);
  assert.deepEqual([client.pool.stats().idle, serverSide.length], [2, 2]);

  // The server ends both while they sit idle in the pool: one politely, one abruptly.
  void serverSide[0]!.close();
  serverSide[1]!.socket.resetAndDestroy();
  // The pool hears of it from the socket, without a borrow: nothing is left to hand out.
  await until(() => dropped.length === 2, 2000, 'both idle connections to be dropped');
  assert.deepEqual(dropped.map((d) => `${d.reason}:${d.peerClose}`).sort(), ['dead:fin', 'dead:rst']);
  assert.equal(client.pool.stats().size, 0);

  assert.deepEqual(await Promise.all([client.request('c'), client.request('d')]), ['pong', 'pong']);
  const s = client.pool.stats();
  assert.deepEqual([s.created, s.createErrors, s.destroyed], [4, 0, 2]);
});

test('createRpcPool spreads 50 concurrent Arith.Multiply calls over at most max clients and replaces a dead one', async (t) => {
  const server = await serveRpc('127.0.0.1:0', new Registry().register('Arith', arith));
  t.after(() => server.close());
  const serverSide: Conn[] = [];
  let peakConns = 0;
  server.tcp.on('open', (c) => {
    serverSide.push(c);
    peakConns = Math.max(peakConns, server.tcp.connections);
  });
  const max = 4;
  const pool = createRpcPool(server.address, { max });
  t.after(() => pool.drain());
  const clients = new Set<RpcClient>();
  const reasons: string[] = [];
  pool.on('create', (e) => clients.add(e.resource));
  pool.on('destroy', (e) => reasons.push(e.reason));

  const calls = Array.from({ length: 50 }, (_, i) =>
    pool.use(async (c) => {
      assert.ok(clients.has(c));
      return c.call('Arith.Multiply', { A: i, B: 7 });
    }),
  );
  assert.deepEqual(
    await Promise.all(calls),
    Array.from({ length: 50 }, (_, i) => i * 7),
  );
  assert.equal(clients.size, max);
  assert.ok(peakConns <= max, `the server saw ${peakConns} connections at once`);
  assert.equal(pool.stats().idle, max);

  // The server drops one connection; its client notices and is closed while idle.
  serverSide[0]!.destroy();
  await until(() => [...clients].some((c) => c.closed), 2000, 'a client to see its connection die');
  const again = await Promise.all(
    Array.from({ length: max }, (_, i) => pool.use((c) => c.call('Arith.Multiply', { A: i, B: 2 }))),
  );
  assert.deepEqual(again, [0, 2, 4, 6]);
  assert.deepEqual(reasons, ['invalid']);
  assert.equal(pool.stats().created, max + 1);
  assert.equal(pool.stats().size, max);
});
