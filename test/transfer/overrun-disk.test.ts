/**
 * RELIABILITY 26: a sender that sends more than it announced is cut off at
 * the announced size; a full disk is an error, and the partial file is
 * removed so the space comes back.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, statfs, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { isNetkitError, type TransferError } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import {
  encode,
  fileFrame,
  layout,
  RawSender,
  send,
  sha256,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

const execFileP = promisify(execFile);

test('26: a sender that sends 10,000 bytes after announcing 10 is cut off; nothing is kept', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const next = rng(26);
  const junk = Buffer.from(Array.from({ length: 10_000 }, () => Math.floor(next() * 256)));
  const raw = await RawSender.connect(recv.port);
  t.after(() => raw.destroy());
  await raw.hello();
  const [answer] = await raw.announce(fileFrame('small.bin', 10));
  assert.equal(answer?.type, 'accept');
  // The first 10 bytes are the file; the rest can only be read as the `end` frame, which it is not.
  await raw.write(Buffer.concat([encode({ type: 'data', offset: 0 }), junk])).catch(() => {});
  const reply = await raw.next();
  assert.equal(reply?.type, 'error');
  assert.equal(reply?.code, 'NETKIT_TRANSFER_PROTOCOL');
  assert.match(String(reply?.message), /more bytes than the 10 announced/);
  const summary = await recv.summary();
  assert.equal(summary.error?.code, 'NETKIT_TRANSFER_PROTOCOL');
  assert.equal(summary.sentBytes, 10);
  // The receiver never took a byte past the announced size, so no file ever grew beyond it.
  for (const e of recv.events) if (e.type === 'progress') assert.ok(e.bytes <= 10, JSON.stringify(e));
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});

test('26: bytes after the announced size that form a frame are still not file data', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const raw = await RawSender.connect(recv.port);
  t.after(() => raw.destroy());
  await raw.hello();
  await raw.announce(fileFrame('small.bin', 10));
  const file = Buffer.from('0123456789');
  // A sender that "forgot" the size: it sends 20 bytes, then an `end` claiming all 20.
  const extra = Buffer.from('abcdefghij');
  const all = Buffer.concat([file, extra]);
  await raw.write(
    Buffer.concat([encode({ type: 'data', offset: 0 }), all, encode({ type: 'end', sha256: sha256(all) })]),
  );
  const reply = await raw.next();
  assert.equal(reply?.code, 'NETKIT_TRANSFER_PROTOCOL');
  await recv.summary();
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});

/** tmpfs mounts a small tmpfs at a fresh directory, or skips (fails under CI=true) when mounting is not allowed. */
async function tmpfs(t: TestContext, size: string): Promise<string | undefined> {
  // Not tempDir(): its recursive rm must never run while the tmpfs is still mounted there.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-fulldisk-'));
  const mnt = path.join(dir, 'mnt');
  await mkdir(mnt);
  try {
    await execFileP('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt]);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    const msg = `cannot mount a tmpfs to fill (needs root): ${(err as Error).message.trim()}`;
    if (process.env.CI === 'true') throw new Error(`${msg}; CI must allow it`);
    t.skip(msg);
    return undefined;
  }
  t.after(async () => {
    // A lazy unmount if something still holds it, so a failed test never leaves a mount behind.
    await execFileP('umount', [mnt]).catch(() => execFileP('umount', ['-l', mnt]));
    await rm(dir, { recursive: true, force: true });
  });
  return mnt;
}

test('26: a full disk is NETKIT_TRANSFER_WRITE on both sides, and the partial file is removed', async (t) => {
  const mnt = await tmpfs(t, '1m');
  if (mnt === undefined) return;
  const target = path.join(mnt, 'target');
  await mkdir(target);
  const src = await tempDir(t);
  const source = path.join(src, 'big.bin');
  await writeFile(source, randomBytes(3 * 1024 * 1024));
  const free = (await statfs(mnt)).bfree;
  const recv = await startReceiver(t, { dir: target });

  const err = await send([source], recv).then(
    () => assert.fail('sendFiles resolved on a full disk'),
    (e: unknown) => e,
  );
  assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_WRITE'), String(err));
  assert.equal((err as TransferError).remote, true);
  const summary = await recv.summary();
  assert.equal(summary.ok, false);
  assert.equal(summary.error?.code, 'NETKIT_TRANSFER_WRITE');
  assert.match(summary.error?.message ?? '', /no space left/);
  // The disk full of partial file is not kept: nothing left, and the space is back.
  assert.deepEqual(await tree(target), []);
  const after = (await statfs(mnt)).bfree;
  assert.ok(after >= free - 1, `free blocks ${free} before, ${after} after`);

  // The receiver keeps serving: a file that fits arrives.
  const fits = path.join(src, 'fits.txt');
  await writeFile(fits, 'fits');
  await send([fits], recv);
  assert.deepEqual(await tree(target), ['fits.txt']);
});

test("26: running out of space in a file's last write (the one made after its `end`) fails the same way", async (t) => {
  const mnt = await tmpfs(t, '1m');
  if (mnt === undefined) return;
  const target = path.join(mnt, 'target');
  await mkdir(target);
  const src = await tempDir(t);
  const recv = await startReceiver(t, { dir: target });
  // Under a MiB, or a MiB and a page: all or the tail of it is written only after the `end` frame.
  for (const [i, size] of [1024 * 1024 - 1, 1024 * 1024 + 4096].entries()) {
    const source = path.join(src, `f${i}.bin`);
    await writeFile(source, randomBytes(size));
    await assert.rejects(send([source], recv), (e) => isNetkitError(e, 'NETKIT_TRANSFER_WRITE'));
    assert.equal((await recv.summary(i + 1)).error?.code, 'NETKIT_TRANSFER_WRITE');
    assert.deepEqual(await tree(target), []);
  }
});
