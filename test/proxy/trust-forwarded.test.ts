import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { clientAddress } from '../../src/proxy/forwarded.js';
import { TrustList } from '../../src/proxy/trust.js';

test('TrustList: CIDR ranges and bare addresses, IPv4-mapped peers match IPv4 ranges', () => {
  const t = new TrustList(['10.0.0.0/8', '127.0.0.1', '::1/128', '2001:db8::/32']);
  assert.ok(t.trusts('10.1.2.3'));
  assert.ok(t.trusts('::ffff:10.9.9.9'));
  assert.ok(t.trusts('127.0.0.1'));
  assert.ok(!t.trusts('127.0.0.2'));
  assert.ok(t.trusts('::1'));
  assert.ok(t.trusts('2001:db8:1::5'));
  assert.ok(!t.trusts('2001:db9::1'));
  assert.ok(!t.trusts('unknown'));
  assert.ok(!t.trusts(undefined));
  for (const bad of ['10.0.0.0/33', 'nope', '10.0.0.0/8/1', '::1/129', '1.2.3.4/x', '']) {
    assert.throws(
      () => new TrustList([bad]),
      (e) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'),
      bad,
    );
  }
});

const trust = new TrustList(['127.0.0.1/32', '10.0.0.0/8']);
const peer = { ip: '127.0.0.1', port: 5000 };

test('X-Forwarded-For is read right to left through trusted hops only', () => {
  assert.deepEqual(clientAddress(peer, { 'x-forwarded-for': '203.0.113.7' }, trust), {
    ip: '203.0.113.7',
    via: 'x-forwarded-for',
  });
  // A client-written spoof on the left stops at the first untrusted hop from the right.
  assert.equal(
    clientAddress(peer, { 'x-forwarded-for': '6.6.6.6, 203.0.113.7, 10.1.1.1' }, trust).ip,
    '203.0.113.7',
  );
  // Every hop trusted: the leftmost is the client.
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '10.2.2.2, 10.1.1.1' }, trust).ip, '10.2.2.2');
  // Repeated headers are one list, in order.
  assert.equal(
    clientAddress(peer, { 'x-forwarded-for': ['6.6.6.6', '198.51.100.9'] } as never, trust).ip,
    '198.51.100.9',
  );
  // From an untrusted peer the headers mean nothing.
  assert.deepEqual(clientAddress({ ip: '198.51.100.1', port: 1 }, { 'x-forwarded-for': '1.1.1.1' }, trust), {
    ip: '198.51.100.1',
    port: 1,
    via: 'socket',
  });
  // Without a trust list nothing is believed.
  assert.equal(clientAddress(peer, { 'x-forwarded-for': '1.1.1.1' }, undefined).via, 'socket');
});

test('Forwarded (RFC 7239): for= with quotes, IPv6 brackets, ports, obfuscated nodes; it wins over X-Forwarded-For', () => {
  const h = (v: string) => ({ forwarded: v, 'x-forwarded-for': '9.9.9.9' });
  assert.deepEqual(clientAddress(peer, h('for=192.0.2.60;proto=http;by=203.0.113.43'), trust), {
    ip: '192.0.2.60',
    via: 'forwarded',
  });
  assert.deepEqual(clientAddress(peer, h('for="[2001:db8:cafe::17]:4711"'), trust), {
    ip: '2001:db8:cafe::17',
    port: 4711,
    via: 'forwarded',
  });
  assert.equal(clientAddress(peer, h('for=192.0.2.43, for=10.0.0.5'), trust).ip, '192.0.2.43');
  assert.equal(clientAddress(peer, h('For="_gazonk", for=10.0.0.5'), trust).ip, '_gazonk');
  assert.equal(clientAddress(peer, h('for=unknown'), trust).ip, 'unknown');
});
