import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { dialJsonRpc2, serveJsonRpc2Http, serveJsonRpc2Tcp } from '../../../src/rpc/jsonrpc2/index.js';
import { Registry } from '../../../src/rpc/registry.js';
import { dial } from '../../../src/tcp/index.js';
import { readAll, sleep } from '../../helpers/net.js';
import { arithRegistry, exchangeTcp, post, startHttp, startTcp } from './helpers.js';

const call = (id: number, params: unknown = { A: 6, B: 7 }) =>
  JSON.stringify({ jsonrpc: '2.0', method: 'Arith.Multiply', params, id });

test('http: a body over maxBodyBytes gets 413, declared or streamed', async (t) => {
  const server = await startHttp(t, arithRegistry(), { maxBodyBytes: 1024 });
  const big = call(1, { A: 1, B: 2, pad: 'x'.repeat(2000) });
  const declared = await post(server.url, big);
  assert.equal(declared.status, 413);
  assert.equal(declared.headers.connection, 'close');
  const streamed = await post(server.url, big, { chunked: true });
  assert.equal(streamed.status, 413);
  // A declared oversize body is refused from its headers alone, before any of it is sent.
  const conn = await dial(server.address);
  t.after(() => conn.destroy());
  await conn.write(
    `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10485760\r\n\r\n`,
  );
  assert.match((await conn.readLine({ signal: AbortSignal.timeout(2000) }))!, /^HTTP\/1\.1 413 /);
  // Just under the limit is served.
  const fits = await post(server.url, call(2, { A: 1, B: 2, pad: 'x'.repeat(900) }));
  assert.equal(fits.status, 200);
  assert.deepEqual(JSON.parse(fits.body), { jsonrpc: '2.0', result: 2, id: 2 });
});

test('http: methods other than POST get 405 with Allow: POST', async (t) => {
  const server = await startHttp(t, arithRegistry());
  for (const method of ['GET', 'PUT', 'DELETE']) {
    const reply = await post(server.url, '', { method });
    assert.equal(reply.status, 405, method);
    assert.equal(reply.headers.allow, 'POST');
  }
});

test('tcp: a value over maxValueBytes is answered Parse error, then the connection closes', async (t) => {
  const server = await startTcp(t, arithRegistry(), { maxValueBytes: 1024 });
  // A valid call first, answered; then 64 KiB of one unfinished string.
  const got = await exchangeTcp(
    server.address,
    `${call(1)}\n{"jsonrpc":"2.0","method":"${'x'.repeat(65536)}`,
  );
  assert.equal(got.length, 2);
  assert.deepEqual(got[0], { jsonrpc: '2.0', result: 42, id: 1 });
  const err = got[1] as { error: { code: number; message: string; data: string }; id: null };
  assert.equal(err.error.code, -32700);
  assert.equal(err.error.message, 'Parse error');
  assert.match(err.error.data, /maxValueBytes \(1024\)/);
  assert.equal(err.id, null);
});

test('tcp: the connection closes after bad JSON even while the client keeps sending', async (t) => {
  const server = await startTcp(t, arithRegistry());
  const conn = await dial(server.address);
  t.after(() => conn.destroy());
  await conn.write('{"jsonrpc":"2.0",]');
  const answer = await conn.readLine();
  assert.deepEqual(JSON.parse(answer!), {
    jsonrpc: '2.0',
    error: { code: -32700, message: 'Parse error' },
    id: null,
  });
  // The server stops reading and closes: the stream ends (FIN) instead of more answers.
  await conn.write(call(2)).catch(() => {});
  const rest = await readAll(conn).catch(() => Buffer.alloc(0));
  assert.equal(rest.length, 0);
});

test('a batch over maxBatch is one Invalid Request; the TCP connection stays usable', async (t) => {
  const batch = (n: number) => `[${Array.from({ length: n }, (_, i) => call(i + 1)).join(',')}]`;
  const want = {
    jsonrpc: '2.0',
    error: { code: -32600, message: 'Invalid Request', data: 'batch of 4 requests exceeds maxBatch (3)' },
    id: null,
  };
  const http = await startHttp(t, arithRegistry(), { maxBatch: 3 });
  assert.deepEqual(JSON.parse((await post(http.url, batch(4))).body), want);
  assert.equal(JSON.parse((await post(http.url, batch(3))).body).length, 3);
  const tcp = await startTcp(t, arithRegistry(), { maxBatch: 3 });
  const got = await exchangeTcp(tcp.address, `${batch(4)}\n${call(9)}`);
  assert.deepEqual(got, [want, { jsonrpc: '2.0', result: 42, id: 9 }]);
  // netkit's client sees the refusal as the batch's rejection.
  const client = await dialJsonRpc2(http.url);
  t.after(() => client.close());
  const items = Array.from({ length: 4 }, () => ({ method: 'Arith.Multiply', params: { A: 1, B: 1 } }));
  await assert.rejects(client.batch(items), { code: 'NETKIT_RPC_SERVER_ERROR', rpcCode: -32600 });
});

test('nesting deeper than maxDepth is a Parse error (HTTP) and closes the connection (TCP)', async (t) => {
  // The outer object and params are two levels; `deep` adds n more.
  const deep = (n: number) =>
    `{"jsonrpc":"2.0","method":"Arith.Multiply","params":{"A":2,"B":3,"deep":${'['.repeat(n)}${']'.repeat(n)}},"id":1}`;
  const http = await startHttp(t, arithRegistry(), { maxDepth: 8 });
  assert.deepEqual(JSON.parse((await post(http.url, deep(6))).body), { jsonrpc: '2.0', result: 6, id: 1 });
  const refused = JSON.parse((await post(http.url, deep(7))).body);
  assert.equal(refused.error.code, -32700);
  assert.match(refused.error.data, /maxDepth \(8\)/);
  // The default limit (256) holds for a hostile 100,000 levels.
  const defaults = await startHttp(t, arithRegistry());
  const hostile = JSON.parse((await post(defaults.url, deep(100_000))).body);
  assert.match(hostile.error.data, /maxDepth \(256\)/);
  const tcp = await startTcp(t, arithRegistry(), { maxDepth: 8 });
  const got = await exchangeTcp(tcp.address, `${deep(7)}${call(2)}`);
  assert.equal(got.length, 1, 'nothing after the failure is served');
  assert.match((got[0] as { error: { data: string } }).error.data, /maxDepth \(8\)/);
});

test('maxConcurrency bounds a batch (HTTP) and a pipelining connection (TCP); answers keep request order', async (t) => {
  let running = 0;
  let peak = 0;
  const registry = new Registry().register('Busy', {
    Work: async (n) => {
      running++;
      peak = Math.max(peak, running);
      await sleep(10 + Math.random() * 10);
      running--;
      return n;
    },
  });
  const batch = `[${Array.from({ length: 12 }, (_, i) => JSON.stringify({ jsonrpc: '2.0', method: 'Busy.Work', params: [i], id: i })).join(',')}]`;
  const http = await startHttp(t, registry, { maxConcurrency: 3 });
  const answers = JSON.parse((await post(http.url, batch)).body) as { id: number; result: number }[];
  assert.deepEqual(
    answers.map((a) => a.id),
    Array.from({ length: 12 }, (_, i) => i),
  );
  assert.equal(peak, 3);
  peak = 0;
  const tcp = await startTcp(t, registry, { maxConcurrency: 2 });
  const pipelined = Array.from({ length: 10 }, (_, i) =>
    JSON.stringify({ jsonrpc: '2.0', method: 'Busy.Work', params: [i], id: i }),
  ).join('\n');
  const got = (await exchangeTcp(tcp.address, pipelined)) as { result: number }[];
  assert.equal(got.length, 10);
  assert.equal(peak, 2);
});

test('tcp: a connection whose calls are all busy is not read any further (backpressure)', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const registry = new Registry().register('Gate', { Wait: () => gate });
  const server = await startTcp(t, registry, { maxConcurrency: 1 });
  let bytesRead = () => 0;
  server.server.on('open', (c) => (bytesRead = () => c.bytesRead));
  const client = await dial(server.address);
  t.after(() => client.destroy());
  const request = `${JSON.stringify({ jsonrpc: '2.0', method: 'Gate.Wait', id: 1 })}\n`;
  const flood = Buffer.from(request.repeat(Math.ceil((4 * 1024 * 1024) / request.length)));
  void client.write(flood).catch(() => {});
  await sleep(500);
  assert.ok(bytesRead() < 512 * 1024, `server read ${bytesRead()} of ${flood.length} bytes`);
  release();
});

test('servers validate options up front and map bind failures to NETKIT_LISTEN_FAILED', async (t) => {
  await assert.rejects(serveJsonRpc2Http('127.0.0.1:0', arithRegistry(), { maxBatch: 0 }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'maxBatch',
  });
  await assert.rejects(serveJsonRpc2Tcp('127.0.0.1:0', arithRegistry(), { maxConcurrency: -1 }), {
    option: 'maxConcurrency',
  });
  await assert.rejects(serveJsonRpc2Http('127.0.0.1:0', arithRegistry(), { maxBodyBytes: 0 }), {
    option: 'maxBodyBytes',
  });
  const taken = net.createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => taken.close(r)));
  const address = `127.0.0.1:${(taken.address() as net.AddressInfo).port}`;
  await assert.rejects(serveJsonRpc2Http(address, arithRegistry()), { code: 'NETKIT_LISTEN_FAILED' });
  await assert.rejects(serveJsonRpc2Tcp(address, arithRegistry()), { code: 'NETKIT_LISTEN_FAILED' });
});
