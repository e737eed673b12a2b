/**
 * RELIABILITY 40 behind a real HAProxy: in TCP mode with `send-proxy-v2`
 * in front of a netkit TLS listener, the PROXY header comes first and the
 * client's TLS handshake after it, through HAProxy untouched. The client
 * connects from 127.0.0.2 so its address differs from HAProxy's.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type tls from 'node:tls';
import { type Conn, dial, echoHandler, listen, serve } from '../../src/tcp/index.js';
import { haproxyInFront } from '../helpers/haproxy.js';
import { until } from '../helpers/net.js';

const CLIENT = '127.0.0.2';

test('#40 HAProxy send-proxy-v2 in front of a TLS tcp serve: echo through it, and remoteAddr is the client HAProxy saw', {
  timeout: 20_000,
}, async (t) => {
  const listener = await listen('127.0.0.1:0', { tls: true, proxy: { trust: ['127.0.0.1/32'] } });
  const conns: Conn[] = [];
  const server = serve(listener, (conn, ctx) => {
    conns.push(conn);
    return echoHandler()(conn, ctx);
  });
  t.after(() => server.close({ timeout: 100 }));
  const front = await haproxyInFront(t, listener.addr.address, [{ send: 'send-proxy-v2' }]);
  if (!front) return;
  const [port] = front.ports;
  const pin = listener.tls!.fingerprint;

  for (let i = 0; i < 3; i++) {
    const c = await dial(`127.0.0.1:${port}`, { localAddress: CLIENT, tls: { pin } });
    t.after(() => c.destroy());
    await c.write(`through haproxy ${i}\n`);
    assert.equal(await c.readLine(), `through haproxy ${i}`, front.haproxy.output());
    await until(() => conns.length === i + 1, 5000, 'the server to see the connection');
    const seen = conns[i]!;
    // HAProxy's own address is 127.0.0.1; the server reports the client's, port and all.
    assert.equal(seen.remoteAddr?.address, c.localAddr?.address);
    assert.equal(seen.remoteAddr?.ip, CLIENT);
    // And the address the client dialled, HAProxy's frontend, as the local end.
    assert.equal(seen.localAddr?.address, `127.0.0.1:${port}`);
    assert.equal((seen.socket as tls.TLSSocket).encrypted, true);
    c.destroy();
  }

  // A peer that skips HAProxy and speaks TLS straight to the trusted port sent no header: refused, not served.
  await assert.rejects(dial(listener.addr.address, { tls: { pin }, timeout: 5000 }), {
    code: 'NETKIT_TLS_FAILED',
  });
  assert.equal(conns.length, 3);
});
