// Interop with jayson, the JSON-RPC 2.0 package a Node user would pick: its
// HTTP and TCP clients call netkit's servers, and netkit's client calls
// jayson's HTTP and TCP servers. jayson's TCP framing (lib/utils.js
// parseStream) is one JSON text per `\n`-terminated line, found by a scan
// that skips newlines inside strings; its TCP client opens one connection per
// request and ends it after the first answer.
import assert from 'node:assert/strict';
import type net from 'node:net';
import { test } from 'node:test';
import jayson from 'jayson';
import { dialJsonRpc2, JsonRpcError } from '../../../src/rpc/jsonrpc2/index.js';
import { arithRegistry, startHttp, startTcp } from './helpers.js';

type Response = {
  jsonrpc?: string;
  id?: unknown;
  result?: unknown;
  error?: { code: number; message: string };
};

/** request runs one jayson client request (or batch) and resolves with the raw response(s). */
function request(client: jayson.Client, method: string | unknown[], params?: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const callback = (err: unknown, response: unknown) => (err ? reject(err) : resolve(response));
    if (Array.isArray(method)) client.request(method as never, callback as never);
    else client.request(method, params as never, callback as never);
  });
}

/** jaysonBatch builds the same three-call batch for each client: a result, a thrown error, an unknown method. */
function jaysonBatch(client: jayson.Client): unknown[] {
  return [
    client.request('Arith.Multiply', { A: 2, B: 3 }),
    client.request('Arith.Divide', { A: 1, B: 0 }),
    client.request('Arith.Nope', { A: 1, B: 1 }),
  ];
}

async function checkJaysonClient(client: jayson.Client): Promise<void> {
  const product = (await request(client, 'Arith.Multiply', { A: 7, B: 8 })) as Response;
  assert.equal(product.jsonrpc, '2.0');
  assert.equal(product.result, 56);
  assert.equal(typeof product.id, 'string', 'jayson sends uuid string ids, echoed back');
  const failed = (await request(client, 'Arith.Divide', { A: 1, B: 0 })) as Response;
  assert.deepEqual(failed.error, { code: -32000, message: 'divide by zero' });
  const batch = await request(client, jaysonBatch(client));
  assert.ok(Array.isArray(batch));
  const [a, b, c] = batch as Response[];
  assert.equal(a?.result, 6);
  assert.deepEqual(b?.error, { code: -32000, message: 'divide by zero' });
  assert.deepEqual(c?.error, { code: -32601, message: "rpc: can't find method Arith.Nope" });
}

test("jayson's HTTP client calls netkit's HTTP server", async (t) => {
  const server = await startHttp(t, arithRegistry());
  await checkJaysonClient(jayson.Client.http(server.url as never));
});

test("jayson's TCP client calls netkit's TCP server", async (t) => {
  const server = await startTcp(t, arithRegistry());
  const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
  await checkJaysonClient(jayson.Client.tcp({ host, port }));
});

/** jaysonServer has the same Arith methods as arithRegistry(), written the jayson way. */
function jaysonServer(notes: unknown[]): jayson.Server {
  return new jayson.Server({
    'Arith.Multiply': (args: { A: number; B: number }, cb: (e: unknown, r?: unknown) => void) =>
      cb(null, args.A * args.B),
    'Arith.Divide': (args: { A: number; B: number }, cb: (e: unknown, r?: unknown) => void) => {
      if (args.B === 0) return cb({ code: -32000, message: 'divide by zero' });
      // A random delay, so answers to calls pipelined on one TCP connection come back out of order.
      setTimeout(
        () => cb(null, { Quo: Math.trunc(args.A / args.B), Rem: args.A % args.B }),
        Math.random() * 20,
      );
    },
    'Log.Note': (args: unknown, cb: (e: unknown, r?: unknown) => void) => {
      notes.push(args);
      cb(null);
    },
  } as never);
}

async function listenOn(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

async function checkNetkitClient(target: string, notes: unknown[]): Promise<void> {
  const client = await dialJsonRpc2(target, { timeout: 5000 });
  try {
    assert.equal(await client.call('Arith.Multiply', { A: 7, B: 8 }), 56);
    await assert.rejects(client.call('Arith.Divide', { A: 1, B: 0 }), (err) => {
      assert.ok(err instanceof JsonRpcError);
      assert.equal(err.code, 'NETKIT_RPC_SERVER_ERROR');
      assert.equal(err.rpcCode, -32000);
      assert.equal(err.message, 'divide by zero');
      return true;
    });
    await assert.rejects(client.call('Arith.Nope', {}), { rpcCode: -32601, message: 'Method not found' });
    const batch = await client.batch([
      { method: 'Arith.Multiply', params: { A: 2, B: 3 } },
      { method: 'Log.Note', params: { text: 'in a batch' }, notify: true },
      { method: 'Arith.Divide', params: { A: 1, B: 0 } },
      { method: 'Arith.Divide', params: { A: 17, B: 5 } },
    ]);
    assert.equal(batch.length, 4);
    assert.deepEqual(batch[0], { result: 6 });
    assert.deepEqual(batch[1], { result: undefined });
    assert.ok('error' in batch[2]! && batch[2].error.rpcCode === -32000);
    assert.deepEqual(batch[3], { result: { Quo: 3, Rem: 2 } });
    await client.notify('Log.Note', { text: 'alone' });
    // Many calls at once: over TCP they share one connection and come back in any order.
    const many = await Promise.all(
      Array.from({ length: 50 }, (_, i) => client.call('Arith.Divide', { A: i * 7 + 3, B: 7 })),
    );
    assert.deepEqual(
      many,
      Array.from({ length: 50 }, (_, i) => ({ Quo: i, Rem: 3 })),
    );
  } finally {
    await client.close();
  }
  const until = Date.now() + 2000;
  while (notes.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(notes, [{ text: 'in a batch' }, { text: 'alone' }]);
}

test("netkit's client calls jayson's HTTP server", async (t) => {
  const notes: unknown[] = [];
  const server = jaysonServer(notes).http();
  const port = await listenOn(server);
  t.after(() => new Promise((r) => server.close(r)));
  await checkNetkitClient(`http://127.0.0.1:${port}/`, notes);
});

test("netkit's client calls jayson's TCP server, every call on one connection", async (t) => {
  const notes: unknown[] = [];
  const server = jaysonServer(notes).tcp();
  let connections = 0;
  server.on('connection', () => connections++);
  const port = await listenOn(server);
  t.after(() => new Promise((r) => server.close(r)));
  await checkNetkitClient(`127.0.0.1:${port}`, notes);
  assert.equal(connections, 1);
});
