/**
 * The RPC clients over TLS and Unix sockets — dialRpc (gob, and Go's HTTP
 * CONNECT), dialJsonRpc2 over TCP and over HTTP POST — against the
 * shared client TLS cases (test/helpers/tls-suite.ts).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arith } from '../../src/rpc/arith.js';
import {
  createRpcPool,
  dialJsonRpc2,
  dialRpc,
  Registry,
  serveJsonRpc2Http,
  serveJsonRpc2Tcp,
  serveRpc,
} from '../../src/rpc/index.js';
import { UNIX_PREFIX } from '../../src/tcp/index.js';
import { clientTlsSuite, outcomeOf, tlsListener } from '../helpers/tls-suite.js';

const registry = () => new Registry().register('Arith', arith);

for (const http of [false, true]) {
  clientTlsSuite(http ? 'dialRpc http' : 'dialRpc', {
    serve: async (t, listener) => {
      const server = await serveRpc(listener, registry(), { http });
      t.after(() => server.close());
    },
    call: (_t, address, tls) =>
      outcomeOf(async () => {
        const client = await dialRpc(address, { tls, http, timeout: 5000 });
        try {
          assert.equal(await client.call('Arith.Multiply', { A: 6, B: 7 }, { timeout: 5000 }), 42);
        } finally {
          await client.close();
        }
      }),
  });
}

clientTlsSuite('dialJsonRpc2 tcp', {
  serve: async (t, listener) => {
    const server = await serveJsonRpc2Tcp(listener, registry());
    t.after(() => server.close());
  },
  call: (_t, address, tls) =>
    outcomeOf(async () => {
      const client = await dialJsonRpc2(address, { tls, timeout: 5000 });
      try {
        assert.equal(await client.call('Arith.Multiply', { A: 6, B: 7 }), 42);
      } finally {
        await client.close();
      }
    }),
});

clientTlsSuite('dialJsonRpc2 http', {
  serve: async (t, listener) => {
    const server = await serveJsonRpc2Http(listener, registry());
    t.after(() => server.close());
  },
  call: (_t, address, tls) =>
    outcomeOf(async () => {
      const scheme = tls === undefined ? 'http' : 'https';
      // A Unix socket goes in the URL in got's form, as the server prints it.
      const url = address.startsWith(UNIX_PREFIX) ? `${scheme}://${address}:/` : `${scheme}://${address}/`;
      const client = await dialJsonRpc2(url, { tls, timeout: 5000 });
      try {
        assert.equal(await client.call('Arith.Multiply', { A: 6, B: 7 }), 42);
        // The keep-alive agent reuses the pinned connection for the next call.
        assert.equal(await client.call('Arith.Multiply', { A: 2, B: 3 }), 6);
      } finally {
        await client.close();
      }
    }),
});

test('createRpcPool: pinned connections; a bad pin is refused when the pool is made', async (t) => {
  const l = await tlsListener(t, true);
  const server = await serveRpc(l, registry());
  t.after(() => server.close());
  assert.throws(() => createRpcPool(l.addr.address, { dial: { tls: { pin: 'sha256:zz' } } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'tls.pin',
  });
  const pool = createRpcPool(l.addr.address, { dial: { tls: { pin: l.tls!.fingerprint } } });
  t.after(() => pool.drain());
  assert.equal(await pool.use((c) => c.call('Arith.Multiply', { A: 3, B: 5 })), 15);
});
