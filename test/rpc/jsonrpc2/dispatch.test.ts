import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { parseJson } from '../../../src/rpc/codec/lossless-json.js';
import { Dispatcher } from '../../../src/rpc/jsonrpc2/dispatch.js';
import { createJsonRpc2Handler, dialJsonRpc2, serveJsonRpc2Tcp } from '../../../src/rpc/jsonrpc2/index.js';
import { Limiter } from '../../../src/rpc/jsonrpc2/limiter.js';
import { argsToParams, paramsToArgs } from '../../../src/rpc/jsonrpc2/protocol.js';
import { type CallInfo, Registry } from '../../../src/rpc/registry.js';
import { listen } from '../../../src/tcp/index.js';
import { sleep, until } from '../../helpers/net.js';
import { arithRegistry, post, startHttp } from './helpers.js';

function dispatcher(registry: Registry, maxBatch = 1000) {
  const d = new Dispatcher(registry, { maxBatch });
  const ctx = { remote: '192.0.2.1:4242', signal: new AbortController().signal, limiter: new Limiter(4) };
  return async (message: unknown) => {
    const out = await d.handle(message, ctx);
    // biome-ignore lint/suspicious/noExplicitAny: responses are checked field by field below
    return (out === undefined ? undefined : parseJson(out)) as any;
  };
}

test('params map to the one args value a method takes', () => {
  // [params, args the method receives]
  const CASES: [unknown, unknown][] = [
    [
      { A: 7, B: 8 },
      { A: 7, B: 8 },
    ],
    [[{ A: 7, B: 8 }], { A: 7, B: 8 }],
    [[5], 5],
    [[[1, 2]], [1, 2]],
    [
      [1, 2],
      [1, 2],
    ],
    [[], []],
    [undefined, undefined],
  ];
  for (const [i, [params, args]] of CASES.entries()) {
    assert.deepEqual(paramsToArgs(params as never), args, `#${i}`);
  }
  // And the client's inverse: scalars travel as [value].
  const BACK: [unknown, unknown][] = [
    [{ A: 1 }, { A: 1 }],
    [
      [1, 2],
      [1, 2],
    ],
    [5, [5]],
    ['s', ['s']],
    [null, [null]],
    [undefined, undefined],
  ];
  for (const [i, [args, params]] of BACK.entries()) assert.deepEqual(argsToParams(args), params, `#${i}`);
});

test('request checks: ids, versions and params', async () => {
  const run = dispatcher(new Registry().register('T', { Echo: (a) => a ?? 'none' }));
  const invalid = (id: unknown) => ({
    jsonrpc: '2.0',
    error: { code: -32600, message: 'Invalid Request' },
    id,
  });
  const badParams = (id: unknown) => ({
    jsonrpc: '2.0',
    error: { code: -32602, message: 'Invalid params' },
    id,
  });
  // [request, answer (undefined: none)]
  const CASES: [unknown, unknown][] = [
    [
      { jsonrpc: '2.0', method: 'T.Echo', id: null },
      { jsonrpc: '2.0', result: 'none', id: null },
    ],
    [
      { jsonrpc: '2.0', method: 'T.Echo', id: 'a-b' },
      { jsonrpc: '2.0', result: 'none', id: 'a-b' },
    ],
    [
      { jsonrpc: '2.0', method: 'T.Echo', id: 1.5 },
      { jsonrpc: '2.0', result: 'none', id: 1.5 },
    ],
    [{ jsonrpc: '2.0', method: 'T.Echo', id: { x: 1 } }, invalid(null)],
    [{ jsonrpc: '2.0', method: 'T.Echo', id: true }, invalid(null)],
    [{ jsonrpc: '1.0', method: 'T.Echo', id: 7 }, invalid(7)],
    [{ method: 'T.Echo', id: 7 }, invalid(7)],
    [{ jsonrpc: '2.0', id: 7 }, invalid(7)],
    [{ jsonrpc: '2.0', method: 'T.Echo', params: 'bar', id: 8 }, badParams(8)],
    [{ jsonrpc: '2.0', method: 'T.Echo', params: null, id: 8 }, badParams(8)],
    [{ jsonrpc: '2.0', method: 'T.Echo', params: 3 }, undefined],
    [{ jsonrpc: '2.0', method: 'T.Echo' }, undefined],
    [null, invalid(null)],
    ['T.Echo', invalid(null)],
    [
      { jsonrpc: '2.0', method: 'rpc.discover', id: 1 },
      { jsonrpc: '2.0', error: { code: -32601, message: "rpc: can't find service rpc.discover" }, id: 1 },
    ],
    [
      { jsonrpc: '2.0', method: 'T.Nope', id: 1 },
      { jsonrpc: '2.0', error: { code: -32601, message: "rpc: can't find method T.Nope" }, id: 1 },
    ],
  ];
  for (const [i, [request, want]] of CASES.entries()) {
    assert.deepEqual(await run(request), want, `#${i}: ${JSON.stringify(request)}`);
  }
});

test('a thrown error becomes -32000 with its message and data; an unencodable result is -32603', async () => {
  const registry = new Registry().register('T', {
    Data: () => {
      throw Object.assign(new Error('nope'), { data: { field: 'A' } });
    },
    Cyclic: () => {
      throw Object.assign(new Error('cyclic data'), { data: 10n });
    },
    Str: () => {
      throw 'a string';
    },
    Big: () => 2n ** 64n,
    Cycle: () => {
      const o: Record<string, unknown> = {};
      o.self = o;
      return o;
    },
    Fn: () => () => 1,
  });
  const run = dispatcher(registry);
  const req = (method: string) => ({ jsonrpc: '2.0', method, id: 1 });
  assert.deepEqual(await run(req('T.Data')), {
    jsonrpc: '2.0',
    error: { code: -32000, message: 'nope', data: { field: 'A' } },
    id: 1,
  });
  assert.deepEqual((await run(req('T.Cyclic'))).error, { code: -32000, message: 'cyclic data' });
  assert.deepEqual((await run(req('T.Str'))).error, { code: -32000, message: 'a string' });
  // Integers beyond 2^53 are sent exactly (as bigint); a result that is not JSON is an internal error.
  assert.equal((await run(req('T.Big'))).result, 2n ** 64n);
  const cycle = await run(req('T.Cycle'));
  assert.equal(cycle.error.code, -32603);
  assert.equal(cycle.error.message, 'Internal error');
  assert.equal('result' in cycle, false, 'never both result and error');
  assert.deepEqual(await run(req('T.Fn')), { jsonrpc: '2.0', result: null, id: 1 });
});

test('methods get CallInfo and are counted in the registry stats', async () => {
  const seen: CallInfo[] = [];
  const registry = new Registry().register('T', {
    Who: (_a, call) => {
      seen.push(call);
      return call.remote;
    },
  });
  const run = dispatcher(registry);
  assert.equal((await run({ jsonrpc: '2.0', method: 'T.Who', id: 1 })).result, '192.0.2.1:4242');
  await run([
    { jsonrpc: '2.0', method: 'T.Who' },
    { jsonrpc: '2.0', method: 'T.Who' },
  ]);
  assert.equal(seen[0]?.serviceMethod, 'T.Who');
  assert.equal(seen[0]?.signal.aborted, false);
  assert.deepEqual(registry.stats(), [{ service: 'T', method: 'Who', calls: 3 }]);
});

test('over HTTP a method sees the caller address and a signal that aborts when the caller hangs up', async (t) => {
  let aborted = false;
  const registry = new Registry().register('T', {
    Who: (_a, call) => call.remote,
    Wait: (_a, call) =>
      new Promise((resolve) =>
        call.signal.addEventListener('abort', () => {
          aborted = true;
          resolve('gone');
        }),
      ),
  });
  const server = await startHttp(t, registry);
  const reply = JSON.parse((await post(server.url, '{"jsonrpc":"2.0","method":"T.Who","id":1}')).body);
  assert.match(reply.result, /^127\.0\.0\.1:\d+$/);
  const req = http.request(server.url, { method: 'POST', agent: false });
  req.on('error', () => {});
  req.end('{"jsonrpc":"2.0","method":"T.Wait","id":2}');
  await sleep(50);
  assert.equal(aborted, false);
  req.destroy();
  await until(() => aborted, 2000, 'the call to see the hang-up');
});

test('the handlers mount on servers the caller made: node:http and a netkit Listener', async (t) => {
  const registry = arithRegistry();
  const plain = http.createServer(createJsonRpc2Handler(registry));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => plain.close(r)));
  const url = `http://127.0.0.1:${(plain.address() as AddressInfo).port}/rpc`;
  const reply = await post(url, '{"jsonrpc":"2.0","method":"Arith.Multiply","params":{"A":3,"B":4},"id":1}');
  assert.deepEqual(JSON.parse(reply.body), { jsonrpc: '2.0', result: 12, id: 1 });
  const listener = await listen('127.0.0.1:0');
  const server = await serveJsonRpc2Tcp(listener, registry);
  t.after(() => server.close());
  assert.equal(server.address, listener.addr.address);
  const client = await dialJsonRpc2(server.address);
  t.after(() => client.close());
  assert.equal(await client.call('Arith.Multiply', { A: 5, B: 6 }), 30);
});
