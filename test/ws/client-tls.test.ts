/** dialWs() over wss and Unix sockets: the shared client TLS cases (test/helpers/tls-suite.ts). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UNIX_PREFIX } from '../../src/tcp/index.js';
import type { TlsClientOptions } from '../../src/tls/client.js';
import { dialWs, serveWs } from '../../src/ws/index.js';
import { clientTlsSuite, outcomeOf, tlsListener } from '../helpers/tls-suite.js';

/** wsUrl is the URL dialWs() takes for `address`: `host:port`, or `unix:/path` in got's form. */
function wsUrl(address: string, secure: boolean): string {
  const scheme = secure ? 'wss' : 'ws';
  return address.startsWith(UNIX_PREFIX) ? `${scheme}://${address}:/echo` : `${scheme}://${address}/echo`;
}

async function echo(address: string, tls: TlsClientOptions | undefined): Promise<void> {
  const url = wsUrl(address, tls !== undefined);
  const client = await dialWs(url, { tls, timeout: 5000 });
  try {
    assert.equal(client.url, url);
    await client.send('ping');
    const first = await client[Symbol.asyncIterator]().next();
    assert.equal(first.done, false);
    assert.equal(first.value?.text(), 'ping');
  } finally {
    await client.close();
  }
}

clientTlsSuite('dialWs', {
  serve: async (t, listener) => {
    const server = await serveWs(listener);
    t.after(() => server.close());
  },
  call: (_t, address, tls) => outcomeOf(() => echo(address, tls)),
});

test('dialWs: a TLS handshake that never ends is NETKIT_CONNECT_TIMEOUT at timeout', async (t) => {
  // A TCP listener that never answers the ClientHello.
  const silent = await tlsListener(t, undefined);
  const started = Date.now();
  await assert.rejects(dialWs(`wss://${silent.addr.address}/`, { timeout: 300, insecure: true }), {
    code: 'NETKIT_CONNECT_TIMEOUT',
  });
  assert.ok(Date.now() - started < 3000);
});

test('dialWs: ca and insecure fold into tls; validation names the option', async () => {
  await assert.rejects(dialWs('wss://127.0.0.1:1/', { insecure: 'yes' as unknown as boolean }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'insecure',
  });
  await assert.rejects(dialWs('wss://127.0.0.1:1/', { tls: { servername: '' } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'tls.servername',
  });
});
