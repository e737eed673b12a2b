// receive() without options and the async iterator share one path that
// settles a waiter directly; receive() with a timeout or signal has its own.
// These pin down that both report errors and the end of the socket alike.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { bind, dial } from '../../src/udp/index.js';

async function refusedPeer(): Promise<string> {
  const s = await bind('127.0.0.1:0');
  const address = s.localAddr.address;
  await s.close();
  return address;
}

test('for await throws an ICMP error that arrives while it waits, with the same code as receive()', async () => {
  await using c = await dial(await refusedPeer());
  const it = c[Symbol.asyncIterator]();
  const next = it.next();
  await c.send('anyone?');
  await assert.rejects(next, (e) => isNetkitError(e, 'NETKIT_CONNECTION_RESET'));
});

test('for await throws an ICMP error queued before it asked', async () => {
  await using c = await dial(await refusedPeer());
  // The socket's own 'error' listener, added first, has queued the error by the time this one runs.
  const queued = once(c.socket, 'error');
  await c.send('anyone?');
  await queued;
  await assert.rejects(c[Symbol.asyncIterator]().next(), (e) => isNetkitError(e, 'NETKIT_CONNECTION_RESET'));
});

test('receive() without options: queued datagram first, then waits; closed rejects NETKIT_SOCKET_CLOSED', async () => {
  const s = await bind('127.0.0.1:0');
  await using c = await dial(s.localAddr.address);
  await c.send('queued');
  const first = await s.receive();
  assert.equal(first.data.toString(), 'queued');
  const waiting = s.receive();
  await c.send('later');
  assert.equal((await waiting).data.toString(), 'later');
  const pending = s.receive();
  const it = s[Symbol.asyncIterator]();
  const pendingNext = it.next();
  await s.close();
  await assert.rejects(pending, (e) => isNetkitError(e, 'NETKIT_SOCKET_CLOSED'));
  assert.deepEqual(await pendingNext, { value: undefined, done: true });
  await assert.rejects(s.receive(), (e) => isNetkitError(e, 'NETKIT_SOCKET_CLOSED'));
  assert.deepEqual(await it.next(), { value: undefined, done: true });
});
