/** dial() with TLS and over Unix sockets: the shared client TLS cases (test/helpers/tls-suite.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dial, echoHandler, serve } from '../../src/tcp/index.js';
import { readAll } from '../helpers/net.js';
import { clientTlsSuite, outcomeOf } from '../helpers/tls-suite.js';

clientTlsSuite('dial', {
  serve: async (t, listener) => {
    const server = serve(listener, echoHandler({ frame: 'none' }));
    t.after(() => server.close({ timeout: 100 }));
  },
  call: (t, address, tls) =>
    outcomeOf(async () => {
      const conn = await dial(address, { tls, timeout: 5000 });
      t.after(() => conn.destroy());
      await conn.write('ping\n');
      await conn.closeWrite();
      assert.equal((await readAll(conn)).toString(), 'ping\n');
    }),
});

test('dial validates tls up front, naming the option', async () => {
  await assert.rejects(dial('127.0.0.1:1', { tls: { pin: 'sha1:00' } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'tls.pin',
  });
  await assert.rejects(dial('127.0.0.1:1', { tls: { cert: 'x' } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'tls.key',
  });
  await assert.rejects(dial('127.0.0.1:1', { tls: { ca: 'not pem' } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'tls.ca',
  });
});
