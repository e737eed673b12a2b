/**
 * Transfers that end early, told apart: the receiver stopping says so to
 * the sender (NETKIT_TRANSFER_STOPPED) and keeps the part; a sender that
 * leaves after its files are whole is reported as leaving early
 * (NETKIT_TRANSFER_INCOMPLETE) with those files counted, not as a broken
 * protocol; a part whose bytes all arrived is kept and resumed. Sending a
 * whole directory again after any of these completes it: files that
 * arrived whole are skipped as already received, the cut one resumes.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { isNetkitError, type TransferError } from '../../src/errors.js';
import { sendFiles, serveFiles, type TransferEvent, type TransferSummary } from '../../src/transfer/index.js';
import { until } from '../helpers/net.js';
import {
  encode,
  type Frame,
  fileFrame,
  layout,
  RawSender,
  send,
  sha256,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

const MiB = 1024 * 1024;
const MTIME = 1_700_000_000_000;

async function bigSource(t: TestContext, size = 8 * MiB): Promise<{ file: string; content: Buffer }> {
  const content = randomBytes(size);
  const file = path.join(await tempDir(t), 'big.bin');
  await writeFile(file, content);
  await utimes(file, MTIME / 1000, MTIME / 1000);
  return { file, content };
}

test('the receiver closed mid-file: the sender gets NETKIT_TRANSFER_STOPPED naming the file, the part stays, sending again resumes', async (t) => {
  const dirs = await layout(t);
  const { file, content } = await bigSource(t);
  const summaries: TransferSummary[] = [];
  const receiver = await serveFiles('127.0.0.1:0', {
    dir: dirs.target,
    onTransfer: (s) => summaries.push(s),
    // Stopped as soon as the file's first bytes are in: mid-file, whatever the speed of the machine.
    onEvent: (e) => {
      if (e.type === 'progress') void receiver.close();
    },
  });
  t.after(() => receiver.close());
  const err = await sendFiles([file], receiver.addr.address, { code: receiver.code }).catch(
    (e: unknown) => e,
  );
  assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_STOPPED'), String(err));
  assert.equal((err as TransferError).remote, true);
  assert.equal((err as TransferError).path, 'big.bin');
  await receiver.close();
  // Its summary is there before the receiver reports it is done.
  assert.equal((await receiver.next())?.error?.code, 'NETKIT_TRANSFER_STOPPED');
  assert.equal(await receiver.next(), null);
  assert.deepEqual(
    summaries.map((s) => [s.ok, s.error?.code]),
    [[false, 'NETKIT_TRANSFER_STOPPED']],
  );
  assert.deepEqual(await tree(dirs.target), ['big.bin.part', 'big.bin.part.meta']);
  const kept = (await stat(path.join(dirs.target, 'big.bin.part'))).size;
  assert.ok(kept > 0 && kept < content.length, `kept ${kept}`);

  const again = await startReceiver(t, { dir: dirs.target });
  const events: TransferEvent[] = [];
  const done = await send([file], again, { onEvent: (e) => events.push(e) });
  assert.equal(done.sentBytes, content.length - kept);
  const start = events.find((e) => e.type === 'file-start');
  assert.equal(start?.type === 'file-start' && start.offset, kept, 'resumed where the part ends');
  assert.equal(sha256(await readFile(path.join(dirs.target, 'big.bin'))), sha256(content));
});

test('the receiver closed while a raw sender is mid-file: an error frame with NETKIT_TRANSFER_STOPPED arrives before the end', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const raw = await RawSender.connect(recv.port);
  t.after(() => raw.destroy());
  await raw.hello();
  const content = randomBytes(64 * 1024);
  assert.equal((await raw.announce(fileFrame('x.bin', 2 * content.length)))[0]?.type, 'accept');
  await raw.write(Buffer.concat([encode({ type: 'data', offset: 0 }), content]));
  await until(() => recv.events.some((e) => e.type === 'progress' && e.bytes === content.length));
  const closing = recv.receiver.close();
  const notice = await raw.next();
  assert.equal(notice?.type, 'error');
  assert.equal(notice?.code, 'NETKIT_TRANSFER_STOPPED');
  assert.equal(notice?.path, 'x.bin');
  assert.equal(await raw.next(), null, 'then the receiver hangs up');
  await closing;
  assert.equal((await stat(path.join(dirs.target, 'x.bin.part'))).size, content.length);
});

/** sendWhole announces files, sends each whole, and reads their "done"s: all a sender does but say "bye". */
async function sendWhole(raw: RawSender, files: [string, Buffer][]): Promise<void> {
  await raw.hello();
  const answers = await raw.announce(...files.map(([name, b]) => fileFrame(name, b.length)));
  assert.deepEqual(
    answers.map((a) => a.type),
    files.map(() => 'accept'),
  );
  for (const [, b] of files) assert.equal((await raw.sendFile(b))?.type, 'done');
}

for (const how of ['closes', 'resets'] as const) {
  test(`a sender that ${how} the connection after its last file is whole: NETKIT_TRANSFER_INCOMPLETE, its files counted and kept`, async (t) => {
    const dirs = await layout(t);
    const recv = await startReceiver(t, { dir: dirs.target, plain: true });
    const raw = await RawSender.connect(recv.port);
    t.after(() => raw.destroy());
    const files: [string, Buffer][] = [
      ['a', randomBytes(10)],
      ['b', randomBytes(2000)],
      ['c', randomBytes(300_000)],
    ];
    await sendWhole(raw, files);
    if (how === 'closes') raw.socket.end();
    else raw.socket.resetAndDestroy();
    const s = await recv.summary(1);
    assert.equal(s.ok, false);
    assert.equal(s.error?.code, 'NETKIT_TRANSFER_INCOMPLETE', s.error?.message);
    assert.equal(s.files, 3);
    assert.equal(s.bytes, 302_010);
    assert.deepEqual(await tree(dirs.target), ['a', 'b', 'c']);
    for (const [name, b] of files) assert.ok((await readFile(path.join(dirs.target, name))).equals(b));
  });
}

test('a sender killed after its file’s last byte but before the "end" frame: the whole part is kept, and resumed to the end', async (t) => {
  const dirs = await layout(t);
  const { file, content } = await bigSource(t, 2 * MiB);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const raw = await RawSender.connect(recv.port);
  t.after(() => raw.destroy());
  await raw.hello();
  assert.equal((await raw.announce(fileFrame('big.bin', content.length, MTIME)))[0]?.type, 'accept');
  await raw.write(Buffer.concat([encode({ type: 'data', offset: 0 }), content]));
  await until(() => recv.events.some((e) => e.type === 'progress' && e.bytes === content.length));
  raw.socket.end();
  const s = await recv.summary(1);
  assert.equal(s.error?.code, 'NETKIT_TRANSFER_INCOMPLETE', s.error?.message);
  assert.equal(s.files, 0);
  assert.equal((await stat(path.join(dirs.target, 'big.bin.part'))).size, content.length);

  const done = await send([file], recv);
  assert.equal(done.sentBytes, 0, 'nothing left to send: the part was whole');
  assert.equal(sha256(await readFile(path.join(dirs.target, 'big.bin'))), sha256(content));
  assert.deepEqual(await tree(dirs.target), ['big.bin']);
});

/** ALREADY is the reason a skipped file carries when the receiver has it whole (same size and time). */
const ALREADY = 'already received: same size and time';

test('a directory sent again after the receiver stopped mid-way: whole files are skipped as already received, the cut file resumes, the rest arrives', async (t) => {
  const dirs = await layout(t);
  const src = path.join(await tempDir(t), 'photos');
  await mkdir(src);
  // Their times are the file system's own (nanoseconds, not whole milliseconds), as in a real re-send.
  const files: Record<string, Buffer> = {
    'a.bin': randomBytes(10_000),
    'b.bin': randomBytes(300_000),
    'c.bin': randomBytes(8 * MiB),
    'd.bin': randomBytes(20_000),
  };
  for (const [name, b] of Object.entries(files)) await writeFile(path.join(src, name), b);
  const first = await serveFiles('127.0.0.1:0', {
    dir: dirs.target,
    // Stopped once c.bin's first bytes are in: a and b are whole, c is cut, d never started.
    onEvent: (e) => {
      if (e.type === 'progress' && e.path === 'photos/c.bin') void first.close();
    },
  });
  t.after(() => first.close());
  const err = await sendFiles([src], first.addr.address, { code: first.code }).catch((e: unknown) => e);
  assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_STOPPED'), String(err));
  await first.close();
  assert.deepEqual(await tree(dirs.target), [
    'photos/',
    'photos/a.bin',
    'photos/b.bin',
    'photos/c.bin.part',
    'photos/c.bin.part.meta',
  ]);
  const kept = (await stat(path.join(dirs.target, 'photos/c.bin.part'))).size;
  const size = files['c.bin']!.length;
  assert.ok(kept > 0 && kept < size, `kept ${kept}`);

  // The default policy: neither overwrite nor skip-existing.
  const again = await startReceiver(t, { dir: dirs.target });
  const events: TransferEvent[] = [];
  const done = await send([src], again, { onEvent: (e) => events.push(e) });
  const ends = events.flatMap((e) =>
    e.type === 'file-end' ? [[e.path, e.status, e.resumedFrom, e.sentBytes, e.reason]] : [],
  );
  assert.deepEqual(ends, [
    ['photos/a.bin', 'skipped', 0, 0, ALREADY],
    ['photos/b.bin', 'skipped', 0, 0, ALREADY],
    ['photos/c.bin', 'sent', kept, size - kept, undefined],
    ['photos/d.bin', 'sent', 0, 20_000, undefined],
  ]);
  assert.ok(size - kept < size, 'the cut file resumed: less than its size crossed the wire');
  assert.deepEqual(
    [done.ok, done.files, done.skipped, done.alreadyReceived, done.sentBytes],
    [true, 2, 2, 2, size - kept + 20_000],
  );
  const r = await again.summary();
  assert.deepEqual(
    [r.ok, r.files, r.skipped, r.alreadyReceived, r.sentBytes],
    [true, 2, 2, 2, size - kept + 20_000],
  );
  assert.deepEqual(
    again.events.flatMap((e) =>
      e.type === 'file-end' && e.status === 'skipped' ? [[e.path, e.reason]] : [],
    ),
    [
      ['photos/a.bin', ALREADY],
      ['photos/b.bin', ALREADY],
    ],
  );
  assert.deepEqual(await tree(dirs.target), [
    'photos/',
    'photos/a.bin',
    'photos/b.bin',
    'photos/c.bin',
    'photos/d.bin',
  ]);
  for (const [name, b] of Object.entries(files)) {
    assert.ok((await readFile(path.join(dirs.target, 'photos', name))).equals(b), name);
  }
});

test('a directory sent again after the sender left mid-way: it completes under the default policy', async (t) => {
  const dirs = await layout(t);
  const src = path.join(await tempDir(t), 'docs');
  await mkdir(src);
  const files: [string, Buffer][] = [
    ['a.txt', randomBytes(100)],
    ['b.txt', randomBytes(5000)],
    ['c.txt', randomBytes(70_000)],
  ];
  for (const [name, b] of files) await writeFile(path.join(src, name), b);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  // A raw sender announces the first two exactly as sendFiles would, sends them whole, and leaves.
  const raw = await RawSender.connect(recv.port);
  t.after(() => raw.destroy());
  await raw.hello();
  const dir = await stat(src);
  const announced: Frame[] = [{ type: 'dir', path: 'docs', mode: dir.mode & 0o7777, mtime: dir.mtimeMs }];
  for (const [name, b] of files.slice(0, 2)) {
    const st = await stat(path.join(src, name));
    announced.push(fileFrame(`docs/${name}`, b.length, st.mtimeMs, st.mode & 0o7777));
  }
  await raw.announce(...announced);
  for (const [, b] of files.slice(0, 2)) assert.equal((await raw.sendFile(b))?.type, 'done');
  raw.socket.end();
  assert.equal((await recv.summary(1)).error?.code, 'NETKIT_TRANSFER_INCOMPLETE');

  const done = await send([src], recv);
  assert.deepEqual([done.files, done.skipped, done.alreadyReceived, done.sentBytes], [1, 2, 2, 70_000]);
  for (const [name, b] of files) assert.ok((await readFile(path.join(dirs.target, 'docs', name))).equals(b));
});

test('a file whose announced time has a fraction of a millisecond is recognised when it is announced again', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const content = randomBytes(1000);
  // The receiver sets times with microsecond precision, and a double cannot hold every nanosecond: not exact.
  const mtime = 1_700_000_000_123.4568;
  const raw = await RawSender.connect(recv.port);
  t.after(() => raw.destroy());
  await raw.hello();
  assert.equal((await raw.announce(fileFrame('f.bin', content.length, mtime)))[0]?.type, 'accept');
  assert.equal((await raw.sendFile(content))?.type, 'done');
  assert.equal((await raw.finish())?.type, 'bye');
  const stored = (await stat(path.join(dirs.target, 'f.bin'))).mtimeMs;
  assert.ok(Math.abs(stored - mtime) < 0.01, `stored ${stored}`);

  const again = await RawSender.connect(recv.port);
  t.after(() => again.destroy());
  await again.hello();
  assert.deepEqual(await again.announce(fileFrame('f.bin', content.length, mtime)), [
    { type: 'skip', reason: 'received' },
  ]);
  assert.equal((await again.finish())?.type, 'bye');
  assert.equal((await recv.summary(2)).alreadyReceived, 1);
});

test('a different file under the name (another size or time) is still refused with NETKIT_TRANSFER_EXISTS and left untouched', async (t) => {
  const WHEN = 1_600_000_000_000;
  const cases = [
    { name: 'another size', size: 11, mtime: WHEN },
    { name: 'another time', size: 10, mtime: WHEN + 1000 },
    { name: 'a millisecond later', size: 10, mtime: WHEN + 1 },
  ];
  for (const c of cases) {
    await t.test(c.name, async (t) => {
      const dirs = await layout(t);
      const dest = path.join(dirs.target, 'f.bin');
      const old = Buffer.from('0123456789');
      await writeFile(dest, old);
      await utimes(dest, WHEN / 1000, WHEN / 1000);
      const before = await stat(dest);
      const recv = await startReceiver(t, { dir: dirs.target, plain: true });
      const raw = await RawSender.connect(recv.port);
      t.after(() => raw.destroy());
      await raw.hello();
      const [answer] = await raw.announce(fileFrame('f.bin', c.size, c.mtime));
      assert.equal(answer?.type, 'error');
      assert.equal(answer?.code, 'NETKIT_TRANSFER_EXISTS');
      assert.equal(answer?.path, 'f.bin');
      assert.equal((await recv.summary()).error?.code, 'NETKIT_TRANSFER_EXISTS');
      assert.ok((await readFile(dest)).equals(old));
      const after = await stat(dest);
      assert.deepEqual([after.mtimeMs, after.ino, after.mode], [before.mtimeMs, before.ino, before.mode]);
      assert.deepEqual(await tree(dirs.target), ['f.bin']);
    });
  }
});
