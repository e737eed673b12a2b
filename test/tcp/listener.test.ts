/** The Listener's own behaviour, apart from the protocols on it: what close() does to connections not yet handed out. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { type ListenOptions, listen } from '../../src/tcp/index.js';

test('close() ends connections still in the pipeline: mid-PROXY header and mid-handshake', async (t) => {
  for (const options of [
    { proxy: { trust: ['127.0.0.1/32'] } },
    { tls: true },
    { proxy: { trust: ['127.0.0.1/32'] }, tls: true },
  ] as ListenOptions[]) {
    const l = await listen('127.0.0.1:0', options);
    t.after(() => l.close());
    const c = net.connect(l.addr.port, '127.0.0.1');
    t.after(() => c.destroy());
    c.on('error', () => {});
    await new Promise((r) => c.once('connect', r));
    // The listener has it (the PROXY header, or the ClientHello, is still awaited).
    await new Promise((r) => setTimeout(r, 50));
    const closed = new Promise((r) => c.once('close', r));
    const started = Date.now();
    await l.close();
    await closed;
    // The PROXY timeout (5 s) and the handshake timeout (5 s) are far off.
    assert.ok(
      Date.now() - started < 1000,
      `${Object.keys(options).join('+')}: closed after ${Date.now() - started} ms`,
    );
  }
});
