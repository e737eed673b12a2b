/**
 * Transfers that end early, told apart: the receiver stopping says so to
 * the sender (NETKIT_TRANSFER_STOPPED) and keeps the part; a sender that
 * leaves after its files are whole is reported as leaving early
 * (NETKIT_TRANSFER_INCOMPLETE) with those files counted, not as a broken
 * protocol; a part whose bytes all arrived is kept and resumed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { isNetkitError, type TransferError } from '../../src/errors.js';
import { sendFiles, serveFiles, type TransferEvent, type TransferSummary } from '../../src/transfer/index.js';
import { until } from '../helpers/net.js';
import { encode, fileFrame, layout, RawSender, sha256, startReceiver, tempDir, tree } from './helpers.js';

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
  const err = await sendFiles([file], receiver.addr.address).catch((e: unknown) => e);
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
  const done = await sendFiles([file], again.address, { onEvent: (e) => events.push(e) });
  assert.equal(done.sentBytes, content.length - kept);
  const start = events.find((e) => e.type === 'file-start');
  assert.equal(start?.type === 'file-start' && start.offset, kept, 'resumed where the part ends');
  assert.equal(sha256(await readFile(path.join(dirs.target, 'big.bin'))), sha256(content));
});

test('the receiver closed while a raw sender is mid-file: an error frame with NETKIT_TRANSFER_STOPPED arrives before the end', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target });
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
    const recv = await startReceiver(t, { dir: dirs.target });
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
  const recv = await startReceiver(t, { dir: dirs.target });
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

  const done = await sendFiles([file], recv.address);
  assert.equal(done.sentBytes, 0, 'nothing left to send: the part was whole');
  assert.equal(sha256(await readFile(path.join(dirs.target, 'big.bin'))), sha256(content));
  assert.deepEqual(await tree(dirs.target), ['big.bin']);
});
