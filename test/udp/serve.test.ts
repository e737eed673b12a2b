// serve() hands datagrams to a handler and reply() answers without a promise:
// the path `netkit udp serve` runs. These pin down that it keeps the
// iterator's rules: queued datagrams first, the end of the socket is the end,
// a socket error (or a throwing handler) stops it, and reply() refuses what
// send() would refuse.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { bind, type DatagramSocket, dial } from '../../src/udp/index.js';

async function refusedPeer(): Promise<string> {
  const s = await bind('127.0.0.1:0');
  const address = s.localAddr.address;
  await s.close();
  return address;
}

/** echoServer serves `s` with a reply of each datagram, and returns serve()'s promise. */
function echo(s: DatagramSocket): Promise<void> {
  return s.serve((data, from) => s.reply(data, from));
}

test('serve() with reply(): an echo answers each datagram, queued ones first; close resolves serve()', async (t) => {
  const s = await bind('127.0.0.1:0');
  t.after(() => s.close());
  const c = await dial(s.localAddr.address);
  t.after(() => c.close());
  await c.send('queued');
  // Queued before serve() is called: wait until the server socket has it.
  await once(s.socket, 'message');
  const served = echo(s);
  assert.equal((await c.receive({ timeout: 2000 })).data.toString(), 'queued');
  for (const text of ['one', 'two', 'three']) {
    await c.send(text);
    assert.equal((await c.receive({ timeout: 2000 })).data.toString(), text);
  }
  await s.close();
  await served;
  assert.equal(await s.serve(() => {}), undefined, 'serve() on a closed socket resolves at once');
});

test('serve() on a dual-stack socket replies to an IPv4 peer through its mapped address', async (t) => {
  let s: DatagramSocket;
  try {
    s = await bind('[::]:0', { network: 'udp' });
  } catch (err) {
    t.skip(`no dual-stack UDP socket here: ${(err as Error).message}`);
    return;
  }
  t.after(() => s.close());
  const served = echo(s);
  const c = await dial(`127.0.0.1:${s.localAddr.port}`);
  t.after(() => c.close());
  await c.send('v4');
  assert.equal((await c.receive({ timeout: 2000 })).data.toString(), 'v4');
  await s.close();
  await served;
});

test('serve() rejects with the handler error and stops; later datagrams queue for receive()', async (t) => {
  const s = await bind('127.0.0.1:0');
  t.after(() => s.close());
  const c = await dial(s.localAddr.address);
  t.after(() => c.close());
  const boom = new Error('boom');
  const served = s.serve(() => {
    throw boom;
  });
  await c.send('first');
  await assert.rejects(served, (e) => e === boom);
  await c.send('second');
  assert.equal((await s.receive({ timeout: 2000 })).data.toString(), 'second');
});

test('serve() rejects with a socket error that arrives while it serves', async (t) => {
  const c = await dial(await refusedPeer());
  t.after(() => c.close());
  const served = c.serve(() => {});
  await c.send('anyone?');
  await assert.rejects(served, (e) => isNetkitError(e, 'NETKIT_CONNECTION_RESET'));
});

test('serve() rejects with a socket error queued before it was called', async (t) => {
  const c = await dial(await refusedPeer());
  t.after(() => c.close());
  const queued = once(c.socket, 'error');
  await c.send('anyone?');
  await queued;
  await assert.rejects(
    c.serve(() => {}),
    (e) => isNetkitError(e, 'NETKIT_CONNECTION_RESET'),
  );
});

test('serve() twice, or without a function, is NETKIT_INVALID_ARGUMENT', async (t) => {
  const s = await bind('127.0.0.1:0');
  t.after(() => s.close());
  const served = s.serve(() => {});
  await assert.rejects(
    s.serve(() => {}),
    (e) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'),
  );
  await assert.rejects(s.serve(undefined as unknown as () => void), (e) =>
    isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'),
  );
  await s.close();
  await served;
});

test('reply() throws for a destination this socket did not hand out, an oversized datagram, a closed socket', async (t) => {
  const s = await bind('127.0.0.1:0', { maxDatagramBytes: 4 });
  t.after(() => s.close());
  const c = await dial(s.localAddr.address);
  t.after(() => c.close());
  await c.send('hi');
  const { from } = await s.receive({ timeout: 2000 });
  assert.throws(
    () => s.reply('x', { ...from }),
    (e) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'),
  );
  assert.throws(
    () => s.reply('too long', from),
    (e) => isNetkitError(e, 'NETKIT_DATAGRAM_TOO_LARGE'),
  );
  assert.throws(
    () => s.reply(42 as unknown as string, from),
    (e) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'),
  );
  s.reply('ok', from);
  assert.equal((await c.receive({ timeout: 2000 })).data.toString(), 'ok');
  await s.close();
  assert.throws(
    () => s.reply('late', from),
    (e) => isNetkitError(e, 'NETKIT_SOCKET_CLOSED'),
  );
});

test('reply() on a dialed socket answers its peer', async (t) => {
  const s = await bind('127.0.0.1:0');
  t.after(() => s.close());
  const c = await dial(s.localAddr.address);
  t.after(() => c.close());
  await s.send('ping', c.localAddr.address);
  const { from } = await c.receive({ timeout: 2000 });
  c.reply('pong', from);
  assert.equal((await s.receive({ timeout: 2000 })).data.toString(), 'pong');
});
