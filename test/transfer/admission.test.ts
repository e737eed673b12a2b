/**
 * RELIABILITY 37: connections that have not said who they are get a short
 * deadline and a budget of their own, so they can never lock senders out of
 * a receiver; only real transfers (that proved the code) count against
 * maxConnections, and a sender beyond it is told the receiver is busy. The
 * limits are the same for encrypted and plain receivers; both are tested.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { isNetkitError, type TransferError } from '../../src/errors.js';
import type { Conn } from '../../src/tcp/index.js';
import { Admission, SQUAT_MS } from '../../src/transfer/admission.js';
import { MAGIC, RECEIVER_DEFAULTS } from '../../src/transfer/index.js';
import { until } from '../helpers/net.js';
import {
  encode,
  fileFrame,
  layout,
  RawSender,
  type Recv,
  SealedSender,
  send,
  sha256,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

const CODE = 'purple tiger';

async function source(t: TestContext, content = 'payload'): Promise<string> {
  const file = path.join(await tempDir(t), 'f.txt');
  await writeFile(file, content);
  return file;
}

/** silent opens a socket that never sends a byte; `closed` settles when the receiver closes it. */
async function silent(t: TestContext, port: number): Promise<{ socket: net.Socket; closed: Promise<void> }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  // It reads (and drops) what it is told, a "busy" when it is dropped to make room: only its end matters.
  socket.resume();
  t.after(() => socket.destroy());
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return { socket, closed };
}

/** within rejects when `p` takes longer than `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('RELIABILITY 37: 300 silent connections do not lock a sender out', async (t) => {
  const dirs = await layout(t);
  const file = await source(t);
  // Default limits: 16 transfers, a 5 s handshake deadline; the silent sockets would hold 30 s of idle timeout.
  const recv = await startReceiver(t, { dir: dirs.target });
  let closed = 0;
  for (let i = 0; i < 300; i++) void (await silent(t, recv.port)).closed.then(() => closed++);
  const summary = await within(send([file], recv), 3000, 'a send past 300 silent sockets');
  assert.equal(summary.files, 1);
  assert.deepEqual(await tree(dirs.target), ['f.txt']);
  // The receiver holds at most its handshake budget (64) of them, not all 300.
  await until(
    () => closed >= 300 - RECEIVER_DEFAULTS.maxHandshakes,
    3000,
    'the oldest silent sockets to be dropped',
  );
});

test('RELIABILITY 37: a connection that has not said hello is closed at the handshake deadline, even one dripping bytes', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, handshakeTimeout: 300 });
  const started = Date.now();
  const quiet = await silent(t, recv.port);
  // One byte of the magic every 50 ms: never idle, never done.
  const drip = await silent(t, recv.port);
  let at = 0;
  const timer = setInterval(() => {
    if (at < MAGIC.length) drip.socket.write(MAGIC.subarray(at, ++at));
    else drip.socket.write('x');
  }, 50);
  t.after(() => clearInterval(timer));
  await within(
    Promise.all([quiet.closed, drip.closed]),
    3000,
    'closing connections past their handshake deadline',
  );
  const took = Date.now() - started;
  assert.ok(took >= 250, `closed after ${took} ms, before the deadline`);
  assert.equal(recv.summaries.length, 0, 'neither counts as a transfer');
});

/** unproved says hello with the right code's share (encrypted) or without a proof (plain), and proves nothing. */
async function unproved(t: TestContext, recv: Recv): Promise<RawSender> {
  const raw = await RawSender.connect(recv.port);
  t.after(() => raw.destroy());
  if (recv.plain) assert.equal((await raw.hello()).auth, true);
  else assert.equal(typeof (await raw.pakeHello(CODE)).confirm, 'string');
  return raw;
}

for (const plain of [false, true]) {
  const mode = plain ? ' (plain)' : '';

  test(`RELIABILITY 37${mode}: with a code, a peer that says hello but never proves the code is closed at the deadline`, async (t) => {
    const dirs = await layout(t);
    const recv = await startReceiver(t, { dir: dirs.target, code: CODE, plain, handshakeTimeout: 300 });
    const raw = await unproved(t, recv);
    await within(raw.closed, 3000, 'closing a peer that never proved the code');
    assert.equal(recv.summaries.length, 0);
  });

  test(`RELIABILITY 37${mode}: with a code, connections that have not proved it do not count against maxConnections`, async (t) => {
    const dirs = await layout(t);
    const file = await source(t);
    const recv = await startReceiver(t, { dir: dirs.target, code: CODE, plain, maxConnections: 1 });
    // Three hold their handshake open; two more come and go with a wrong code.
    for (let i = 0; i < 3; i++) await unproved(t, recv);
    for (let i = 0; i < 2; i++) {
      await assert.rejects(send([file], recv, { code: 'wrong tiger' }), (err) =>
        isNetkitError(err, 'NETKIT_TRANSFER_AUTH'),
      );
    }
    const summary = await within(send([file], recv), 3000, 'the real sender');
    assert.equal(summary.files, 1);
    assert.equal((await recv.summary()).files, 1, 'the only transfer the receiver reports');
  });

  test(`RELIABILITY 37${mode}: at its limit the receiver tells a sender it is busy (NETKIT_TRANSFER_BUSY), then serves it once there is room`, async (t) => {
    const dirs = await layout(t);
    const file = await source(t);
    const recv = await startReceiver(t, { dir: dirs.target, plain, maxConnections: 1 });
    // One real transfer holds the only place, mid-file.
    const holder = plain
      ? await RawSender.connect(recv.port)
      : await SealedSender.connect(recv.address, recv.code!);
    t.after(() => holder.destroy());
    if (holder instanceof RawSender) await holder.hello();
    const content = Buffer.from('0123456789');
    await holder.write(
      Buffer.concat([encode(fileFrame('held.bin', content.length)), encode({ type: 'plan' })]),
    );
    assert.equal((await holder.next())?.type, 'accept');
    await holder.write(Buffer.concat([encode({ type: 'data', offset: 0 }), content.subarray(0, 5)]));

    const busy = await send([file], recv).catch((err: unknown) => err);
    assert.ok(isNetkitError(busy, 'NETKIT_TRANSFER_BUSY'), String(busy));
    assert.equal((busy as TransferError).remote, true);
    assert.ok(!(await tree(dirs.target)).includes('f.txt'), 'nothing of the refused sender is written');

    // The encrypted end frame carries no checksum: the records' tags proved the bytes.
    const end = plain ? { type: 'end', sha256: sha256(content) } : { type: 'end' };
    await holder.write(Buffer.concat([content.subarray(5), encode(end)]));
    assert.equal((await holder.next())?.type, 'done');
    await holder.send({ type: 'bye' });
    assert.equal((await holder.next())?.type, 'bye');
    await recv.summary(1);
    // The place is free again.
    const ok = await send([file], recv);
    assert.equal(ok.files, 1);
    const refusals = recv.summaries.filter((s) => s.error?.code === 'NETKIT_TRANSFER_BUSY');
    assert.equal(refusals.length, 0, 'a busy refusal is not a transfer');
  });
}

test('Admission: the oldest handshake makes room for the newest; admitted transfers never do', () => {
  const conns = Array.from({ length: 5 }, (_, i) => fakeConn(i));
  const a = new Admission({ maxConnections: 1, maxHandshakes: 2, handshakeTimeout: 0 });
  const tickets = conns.slice(0, 2).map((c) => a.arrive(c));
  tickets[0]!.admit();
  assert.deepEqual([a.served, a.handshakes], [1, 1]);
  // Admitted: out of the handshake budget, so two more arrive without dropping it.
  const t2 = a.arrive(conns[2]!);
  assert.deepEqual(
    conns.map((c) => c.destroyed),
    [false, false, false, false, false],
  );
  a.arrive(conns[3]!);
  assert.deepEqual(
    conns.map((c) => c.destroyed),
    [false, true, false, false, false],
    'conn 1, the oldest still in its handshake, made room',
  );
  assert.throws(
    () => t2.admit(),
    (err: unknown) => isNetkitError(err, 'NETKIT_TRANSFER_BUSY'),
  );
  tickets[0]!.leave();
  t2.admit();
  assert.deepEqual([a.served, a.handshakes], [1, 1]);
  t2.leave();
  t2.leave();
  assert.equal(a.served, 0, 'leaving twice gives one place back');
});

test('Admission: when every slot is taken, a sender silent (or trickling) for SQUAT_MS gives its slot to a newcomer; a talking one never does', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: 0 });
  const [squatter, talker, late, later] = Array.from({ length: 4 }, (_, i) => fakeConn(i));
  const a = new Admission({ maxConnections: 2, maxHandshakes: 8, handshakeTimeout: 0 });
  a.arrive(squatter!).admit();
  a.arrive(talker!).admit();
  const t1 = a.arrive(late!);
  t.mock.timers.tick(SQUAT_MS / 2);
  (talker!.socket as { bytesRead: number }).bytesRead = 100_000;
  (squatter!.socket as { bytesRead: number }).bytesRead = 5; // a byte now and then: a slowloris
  // Half the window needed: still busy, nobody dropped.
  assert.throws(
    () => t1.admit(),
    (err: unknown) => isNetkitError(err, 'NETKIT_TRANSFER_BUSY'),
  );
  assert.deepEqual([squatter!.destroyed, talker!.destroyed], [false, false]);
  t.mock.timers.tick(SQUAT_MS);
  (talker!.socket as { bytesRead: number }).bytesRead = 300_000;
  (squatter!.socket as { bytesRead: number }).bytesRead = 20;
  t1.admit();
  assert.deepEqual([squatter!.destroyed, talker!.destroyed], [true, false], 'the silent one made room');
  assert.equal(a.served, 2);
  // The talker keeps talking: a later newcomer finds nobody silent long enough.
  const t2 = a.arrive(later!);
  t.mock.timers.tick(SQUAT_MS * 2);
  (talker!.socket as { bytesRead: number }).bytesRead = 900_000;
  (late!.socket as { bytesRead: number }).bytesRead = 50_000;
  assert.throws(
    () => t2.admit(),
    (err: unknown) => isNetkitError(err, 'NETKIT_TRANSFER_BUSY'),
  );
});

function fakeConn(i: number): Conn & { destroyed: boolean } {
  const c = {
    destroyed: false,
    socket: { bytesRead: 0 },
    remoteAddr: { address: `127.0.0.1:${1000 + i}` },
    destroy() {
      c.destroyed = true;
    },
  };
  return c as unknown as Conn & { destroyed: boolean };
}

test('RELIABILITY 37: a connection dropped to make room for a newer handshake is told NETKIT_TRANSFER_BUSY, not just closed', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, code: CODE, maxHandshakes: 1 });
  const first = await RawSender.connect(recv.port);
  t.after(() => first.destroy());
  // Answered, and now waiting for its confirmation: still in its handshake.
  assert.equal((await first.pakeHello(CODE)).type, 'hello');
  const second = await RawSender.connect(recv.port);
  t.after(() => second.destroy());
  const told = await first.next();
  assert.equal(told?.type, 'error');
  assert.equal(told?.code, 'NETKIT_TRANSFER_BUSY');
  assert.equal(await first.next(), null);
});
