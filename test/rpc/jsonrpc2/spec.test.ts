// The examples section of the JSON-RPC 2.0 specification
// (https://www.jsonrpc.org/specification#examples), sent byte for byte over
// HTTP and over TCP, with the exact response objects expected. Two
// deliberate differences from the page: methods live in a Registry, so the
// spec's `subtract`, `sum`, … are `Spec.subtract`, `Spec.sum`, …; and
// Method not found carries Go's lookup text as its message (documented in
// docs/jsonrpc2.md), where the page shows "Method not found".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from '../../../src/rpc/registry.js';
import { exchangeTcp, post, startHttp, startTcp } from './helpers.js';

/** specRegistry implements the methods the examples call, counting notifications. */
function specRegistry(seen: string[]): Registry {
  return new Registry().register('Spec', {
    subtract: (p) => {
      if (Array.isArray(p)) return p[0] - p[1];
      const { minuend, subtrahend } = p as { minuend: number; subtrahend: number };
      return minuend - subtrahend;
    },
    sum: (p) => (p as number[]).reduce((a, b) => a + b, 0),
    update: (p) => void seen.push(`update ${JSON.stringify(p)}`),
    notify_hello: (p) => void seen.push(`notify_hello ${JSON.stringify(p)}`),
    notify_sum: (p) => void seen.push(`notify_sum ${JSON.stringify(p)}`),
    get_data: () => ['hello', 5],
  });
}

const invalidRequest = { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request' }, id: null };
const parseError = { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null };

// [name, request text, expected response (undefined: none at all), notifications that must have run]
const EXAMPLES: [string, string, unknown, string[]][] = [
  [
    'positional parameters',
    '{"jsonrpc": "2.0", "method": "Spec.subtract", "params": [42, 23], "id": 1}',
    { jsonrpc: '2.0', result: 19, id: 1 },
    [],
  ],
  [
    'positional parameters, swapped',
    '{"jsonrpc": "2.0", "method": "Spec.subtract", "params": [23, 42], "id": 2}',
    { jsonrpc: '2.0', result: -19, id: 2 },
    [],
  ],
  [
    'named parameters',
    '{"jsonrpc": "2.0", "method": "Spec.subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}',
    { jsonrpc: '2.0', result: 19, id: 3 },
    [],
  ],
  [
    'named parameters, reordered',
    '{"jsonrpc": "2.0", "method": "Spec.subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}',
    { jsonrpc: '2.0', result: 19, id: 4 },
    [],
  ],
  [
    'a notification',
    '{"jsonrpc": "2.0", "method": "Spec.update", "params": [1,2,3,4,5]}',
    undefined,
    ['update [1,2,3,4,5]'],
  ],
  ['a notification of a method that does not exist', '{"jsonrpc": "2.0", "method": "foobar"}', undefined, []],
  [
    'a non-existent method',
    '{"jsonrpc": "2.0", "method": "foobar", "id": "1"}',
    {
      jsonrpc: '2.0',
      error: { code: -32601, message: 'rpc: service/method request ill-formed: foobar' },
      id: '1',
    },
    [],
  ],
  ['invalid JSON', '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]', parseError, []],
  ['an invalid Request object', '{"jsonrpc": "2.0", "method": 1, "params": "bar"}', invalidRequest, []],
  [
    'a batch with invalid JSON',
    `[
  {"jsonrpc": "2.0", "method": "Spec.sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]`,
    parseError,
    [],
  ],
  ['an empty array', '[]', invalidRequest, []],
  ['an invalid batch, but not empty', '[1]', [invalidRequest], []],
  ['an invalid batch', '[1,2,3]', [invalidRequest, invalidRequest, invalidRequest], []],
  [
    'a mixed batch',
    `[
        {"jsonrpc": "2.0", "method": "Spec.sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "Spec.notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "Spec.subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "Spec.get_data", "id": "9"}
    ]`,
    [
      { jsonrpc: '2.0', result: 7, id: '1' },
      { jsonrpc: '2.0', result: 19, id: '2' },
      invalidRequest,
      { jsonrpc: '2.0', error: { code: -32601, message: "rpc: can't find service foo.get" }, id: '5' },
      { jsonrpc: '2.0', result: ['hello', 5], id: '9' },
    ],
    // [7] is one element, so the method receives 7 (see the params mapping).
    ['notify_hello 7'],
  ],
  [
    'a batch of notifications only',
    `[
        {"jsonrpc": "2.0", "method": "Spec.notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "Spec.notify_hello", "params": [7]}
    ]`,
    undefined,
    ['notify_sum [1,2,4]', 'notify_hello 7'],
  ],
];

test('the specification examples over HTTP get exactly the specified answers', async (t) => {
  const seen: string[] = [];
  const server = await startHttp(t, specRegistry(seen));
  for (const [i, [name, request, want, notified]] of EXAMPLES.entries()) {
    seen.length = 0;
    const reply = await post(server.url, request);
    if (want === undefined) {
      assert.equal(reply.status, 204, `#${i} ${name}: status`);
      assert.equal(reply.body, '', `#${i} ${name}: body`);
    } else {
      assert.equal(reply.status, 200, `#${i} ${name}: status`);
      assert.match(String(reply.headers['content-type']), /^application\/json/, `#${i} ${name}`);
      assert.deepEqual(JSON.parse(reply.body), want, `#${i} ${name}: got ${reply.body}`);
    }
    assert.deepEqual(seen.sort(), [...notified].sort(), `#${i} ${name}: notifications run`);
  }
});

test('the specification examples over TCP get exactly the specified answers', async (t) => {
  const seen: string[] = [];
  const server = await startTcp(t, specRegistry(seen));
  for (const [i, [name, request, want, notified]] of EXAMPLES.entries()) {
    seen.length = 0;
    // One connection per example, half-closed after the request: everything the
    // server sends before closing is the answer, so "no answer" is observable.
    const got = await exchangeTcp(server.address, request);
    assert.deepEqual(got, want === undefined ? [] : [want], `#${i} ${name}: got ${JSON.stringify(got)}`);
    assert.deepEqual(seen.sort(), [...notified].sort(), `#${i} ${name}: notifications run`);
  }
});

test('over TCP the examples can also be pipelined on one connection, without newlines', async (t) => {
  const server = await startTcp(t, specRegistry([]));
  const valid = EXAMPLES.filter(([, , want]) => want !== parseError);
  const got = await exchangeTcp(server.address, valid.map(([, request]) => request).join(''));
  const want = valid.map(([, , w]) => w).filter((w) => w !== undefined);
  // Answers are written as they are ready; compare without order.
  const key = (v: unknown) => JSON.stringify(v);
  assert.deepEqual(got.map(key).sort(), want.map(key).sort());
});
