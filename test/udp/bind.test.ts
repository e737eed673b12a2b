import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError, isNetkitError } from '../../src/errors.js';
import { bind, dial } from '../../src/udp/index.js';

test('bind on 127.0.0.1:0 reports the real port', async () => {
  await using s = await bind('127.0.0.1:0');
  assert.ok(s.localAddr.port > 0);
  assert.equal(s.localAddr.address, `127.0.0.1:${s.localAddr.port}`);
  assert.equal(s.remoteAddr, undefined);
});

test('an empty host binds per network: udp dual-stack, udp4 0.0.0.0, udp6 IPv6-only', async (t) => {
  await using dual = await bind(':0');
  assert.equal(dual.localAddr.ip, '::');
  await using v4 = await bind(':0', { network: 'udp4' });
  assert.equal(v4.localAddr.ip, '0.0.0.0');
  await using v6 = await bind(':0', { network: 'udp6' });
  assert.equal(v6.localAddr.ip, '::');

  // The dual-stack socket hears an IPv4 peer and answers it; the IPv6-only one does not hear it.
  await using c4 = await dial(`127.0.0.1:${dual.localAddr.port}`);
  await c4.send('v4');
  const d = await dual.receive({ timeout: 2000 });
  assert.equal(d.from.family, 4);
  assert.equal(d.from.address, c4.localAddr.address);
  await dual.send('back', d.from);
  assert.equal((await c4.receive({ timeout: 2000 })).data.toString(), 'back');
  await dual.send('named', `127.0.0.1:${c4.localAddr.port}`);
  assert.equal((await c4.receive({ timeout: 2000 })).data.toString(), 'named');

  await using c6only = await dial(`127.0.0.1:${v6.localAddr.port}`);
  await c6only.send('nobody');
  await assert.rejects(v6.receive({ timeout: 100 }), { code: 'NETKIT_TIMEOUT' });
  await assert.rejects(v6.send('x', `127.0.0.1:${c4.localAddr.port}`), {
    code: 'NETKIT_NO_SUITABLE_ADDRESS',
  });
  await assert.rejects(v6.send('x', { ip: '127.0.0.1', port: c4.localAddr.port }), {
    code: 'NETKIT_INVALID_ARGUMENT',
  });
  await assert.rejects(v4.send('x', `[::1]:${c4.localAddr.port}`), { code: 'NETKIT_NO_SUITABLE_ADDRESS' });
  t.diagnostic('dual-stack, udp4 and udp6-only binds behave as in Go');
});

test('dial connects: send takes no destination and remoteAddr is the peer', async () => {
  await using s = await bind('127.0.0.1:0');
  await using c = await dial(s.localAddr.address);
  assert.equal(c.remoteAddr?.address, s.localAddr.address);
  await c.send('ping');
  const d = await s.receive({ timeout: 2000 });
  assert.equal(d.data.toString(), 'ping');
  await s.send('pong', d.from);
  assert.equal((await c.receive({ timeout: 2000 })).data.toString(), 'pong');
  await assert.rejects(
    c.send('x', s.localAddr.address),
    (e) => e instanceof InvalidArgumentError && e.option === 'to',
  );
});

test('a dialed socket only receives its peer’s datagrams', async () => {
  await using peer = await bind('127.0.0.1:0');
  await using stranger = await bind('127.0.0.1:0');
  await using c = await dial(peer.localAddr.address);
  await stranger.send('intruder', c.localAddr);
  await peer.send('friend', c.localAddr);
  assert.equal((await c.receive({ timeout: 2000 })).data.toString(), 'friend');
  await assert.rejects(c.receive({ timeout: 100 }), { code: 'NETKIT_TIMEOUT' });
});

test('ICMP port unreachable on a dialed socket rejects receive with NETKIT_CONNECTION_RESET, not a crash', async () => {
  const s = await bind('127.0.0.1:0');
  const address = s.localAddr.address;
  await s.close();
  await using c = await dial(address);
  await c.send('anyone?');
  await assert.rejects(c.receive({ timeout: 2000 }), (e) => {
    assert.ok(isNetkitError(e, 'NETKIT_CONNECTION_RESET'));
    assert.equal((e.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    assert.match((e as Error).message, /: connection refused$/);
    return true;
  });
});

test('validation errors name the option', async () => {
  const option = (name: string) => (e: unknown) => e instanceof InvalidArgumentError && e.option === name;
  await assert.rejects(bind('127.0.0.1:0', { maxQueue: 0 }), option('maxQueue'));
  await assert.rejects(bind('127.0.0.1:0', { maxQueue: 1.5 }), option('maxQueue'));
  await assert.rejects(bind('127.0.0.1:0', { maxDatagramBytes: 70_000 }), option('maxDatagramBytes'));
  await assert.rejects(bind('127.0.0.1:0', { signal: 'x' as unknown as AbortSignal }), option('signal'));
  await assert.rejects(bind(42 as unknown as string), option('address'));
  await assert.rejects(dial('127.0.0.1:0'), option('address'));
  await assert.rejects(bind('127.0.0.1:0', { network: 'tcp' }), { code: 'NETKIT_UNKNOWN_NETWORK' });
  await assert.rejects(bind('127.0.0.1'), { code: 'NETKIT_MISSING_PORT' });
  await using s = await bind('127.0.0.1:0');
  await assert.rejects(s.send('x'), option('to'));
  await assert.rejects(s.send(42 as unknown as string, s.localAddr), option('data'));
  await assert.rejects(s.send('x', { ip: 'nope', port: 1 }), option('to'));
  await assert.rejects(s.send('x', { ip: '127.0.0.1', port: 0 }), option('to.port'));
  await assert.rejects(s.receive({ timeout: -1 }), option('timeout'));
});

test('bind fails with NETKIT_LISTEN_FAILED on a taken port and NETKIT_ABORTED on an aborted signal', async () => {
  await using s = await bind('127.0.0.1:0');
  // In Go's words, as listen() on TCP says it, not Node's "bind EADDRINUSE 127.0.0.1:…".
  await assert.rejects(bind(s.localAddr.address), {
    code: 'NETKIT_LISTEN_FAILED',
    message: `listen udp ${s.localAddr.address}: bind: address already in use`,
  });
  await assert.rejects(bind('127.0.0.1:0', { signal: AbortSignal.abort() }), { code: 'NETKIT_ABORTED' });
  await assert.rejects(dial(s.localAddr.address, { signal: AbortSignal.abort() }), {
    code: 'NETKIT_ABORTED',
  });
});

test('options.signal closes the socket', async () => {
  const ac = new AbortController();
  const s = await bind('127.0.0.1:0', { signal: ac.signal });
  const pending = s.receive();
  ac.abort();
  await assert.rejects(pending, { code: 'NETKIT_SOCKET_CLOSED' });
  assert.equal(s.closed, true);
});
