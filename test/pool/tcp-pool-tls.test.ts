/** createTcpPool with TLS and Unix sockets (through LineClient): the shared client TLS cases (test/helpers/tls-suite.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTcpPool, LineClient } from '../../src/pool/index.js';
import { echoHandler, serve } from '../../src/tcp/index.js';
import { clientTlsSuite, outcomeOf } from '../helpers/tls-suite.js';

clientTlsSuite('createTcpPool', {
  serve: async (t, listener) => {
    const server = serve(listener, echoHandler({ frame: 'none' }));
    t.after(() => server.close({ timeout: 100 }));
  },
  call: async (_t, address, tls) => {
    const client = new LineClient(address, { pool: { dial: { tls, timeout: 5000 }, max: 2 } });
    // A pool retries a failed dial until the acquire times out (NETKIT_TIMEOUT, naming the last
    // error); what the dial failed with is in its createError events.
    let createError: unknown;
    client.pool.on('createError', ({ error }) => {
      createError ??= error;
    });
    const outcome = await outcomeOf(async () => {
      try {
        assert.deepEqual(
          await Promise.all([client.request('a', { timeout: 1500 }), client.request('b', { timeout: 1500 })]),
          ['a', 'b'],
        );
        // Idle connections go back to the pool secure, and are reused.
        assert.equal(await client.request('c'), 'c');
        assert.equal(client.pool.stats().created, 2);
      } finally {
        await client.close();
      }
    });
    if (outcome.ok || createError === undefined) return outcome;
    assert.equal(outcome.code, 'NETKIT_TIMEOUT');
    return outcomeOf(() => Promise.reject(createError));
  },
});

test('createTcpPool validates tls when the pool is made', () => {
  assert.throws(() => createTcpPool('127.0.0.1:1', { dial: { tls: { cert: 'x' } } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'tls.key',
  });
});
