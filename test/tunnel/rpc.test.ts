/** dialRpc through a real forward proxy: plain net/rpc and Go's HTTP CONNECT inside the tunnel. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arith } from '../../src/rpc/arith.js';
import { dialRpc, Registry, serveRpc } from '../../src/rpc/index.js';
import { startDante, startTinyproxy } from '../helpers/forward-proxies.js';

for (const [name, start] of [
  ['danted', startDante],
  ['tinyproxy', startTinyproxy],
] as const) {
  test(`dialRpc through ${name}: gob calls, and rpc.DialHTTP's CONNECT inside the tunnel`, async (t) => {
    const proxy = await start(t);
    if (!proxy) return;
    for (const http of [false, true]) {
      const server = await serveRpc('127.0.0.1:0', new Registry().register('Arith', arith), { http });
      t.after(() => server.close());
      const client = await dialRpc(server.address, { proxy: proxy.url, http, timeout: 5000 });
      t.after(() => client.close());
      assert.equal(await client.call('Arith.Multiply', { A: 6, B: 7 }, { timeout: 5000 }), 42);
    }
  });
}

test('dialJsonRpc2 over TCP through danted; an http:// target refuses a proxy, naming the option', async (t) => {
  const { dialJsonRpc2, serveJsonRpc2Tcp } = await import('../../src/rpc/jsonrpc2/index.js');
  const { InvalidArgumentError } = await import('../../src/errors.js');
  const proxy = await startDante(t);
  if (!proxy) return;
  const server = await serveJsonRpc2Tcp('127.0.0.1:0', new Registry().register('Arith', arith));
  t.after(() => server.close());
  const client = await dialJsonRpc2(server.address, { proxy: proxy.url, timeout: 5000 });
  t.after(() => client.close());
  assert.equal(await client.call('Arith.Multiply', { A: 6, B: 7 }), 42);
  // With the proxy gone the same dial fails: the option is used, not ignored.
  await proxy.stop();
  await assert.rejects(
    dialJsonRpc2(server.address, { proxy: proxy.url, timeout: 5000 }),
    (err: Error & { code?: string }) =>
      ['NETKIT_DIAL_FAILED', 'NETKIT_TUNNEL_FAILED'].includes(err.code ?? ''),
  );
  await assert.rejects(
    dialJsonRpc2('http://127.0.0.1:1/', { proxy: proxy.url }),
    (err) => err instanceof InvalidArgumentError && err.option === 'proxy',
  );
});
