import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bind } from '../../src/udp/index.js';
import { PEER_CACHE_MAX, PeerCache } from '../../src/udp/peers.js';

test('PeerCache gives one frozen endpoint per address and port, in Go’s form', () => {
  const c = new PeerCache();
  const a = c.get('127.0.0.1', 5000);
  assert.equal(c.get('127.0.0.1', 5000), a);
  assert.ok(Object.isFrozen(a));
  assert.deepEqual(
    { ...a },
    { network: 'udp', ip: '127.0.0.1', port: 5000, family: 4, address: '127.0.0.1:5000' },
  );
  assert.notEqual(c.get('127.0.0.1', 5001), a);
  const mapped = c.get('::ffff:10.0.0.1', 53);
  assert.equal(mapped.address, '10.0.0.1:53');
  assert.equal(c.get('::1', 53).address, '[::1]:53');
  assert.equal(c.size, 4);
});

test('PeerCache: only endpoints it made count as issued, so a lookalike is resolved as usual', () => {
  const c = new PeerCache();
  const a = c.get('127.0.0.1', 5000);
  assert.equal(c.issued(a), true);
  assert.equal(c.issued({ ...a }), false);
});

test('PeerCache stays within PEER_CACHE_MAX endpoints, whatever sources arrive', () => {
  const c = new PeerCache();
  const first = c.get('10.0.0.1', 1);
  for (let i = 0; i < 3 * PEER_CACHE_MAX; i++) {
    const e = c.get(`10.0.${i >> 8}.${i & 255}`, 1000 + (i % 7));
    assert.equal(e.port, 1000 + (i % 7));
    assert.ok(c.size <= PEER_CACHE_MAX);
  }
  // Started again since: a new endpoint for the same peer, still one the socket made.
  const again = c.get('10.0.0.1', 1);
  assert.deepEqual({ ...again }, { ...first });
  assert.equal(c.issued(first), true);
  assert.equal(c.issued(again), true);
});

test('datagrams from one peer share its endpoint, and a reply to it arrives', async (t) => {
  const server = await bind('127.0.0.1:0');
  const client = await bind('127.0.0.1:0');
  t.after(() => Promise.all([server.close(), client.close()]));
  await client.send('one', server.localAddr.address);
  await client.send('two', server.localAddr.address);
  const d1 = await server.receive();
  const d2 = await server.receive();
  assert.equal(d1.from, d2.from);
  assert.equal(d1.from.address, client.localAddr.address);
  await server.send(d2.data, d2.from);
  const reply = await client.receive({ timeout: 2000 });
  assert.equal(reply.data.toString(), 'two');
});
