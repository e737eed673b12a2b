/**
 * What `netkit recv` lets a sender do: the overwrite policy for files that
 * exist (refuse, --skip-existing, --overwrite) and the shared --code, as
 * the sender's exit status and output show them.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { sleep } from '../helpers/net.js';
import { fileFields, only, startRecv, tempDir } from '../helpers/transfer.js';

const CODE = 'purple tiger seven';

test('an existing file: refused by default, kept with --skip-existing, replaced with --overwrite', async (t) => {
  const src = await tempDir(t);
  const dest = await tempDir(t);
  const f = path.join(src, 'notes.txt');
  const got = () => readFile(path.join(dest, 'notes.txt'), 'utf8');
  await writeFile(f, 'first version\n');

  const refusing = await startRecv(t, dest, ['--json']);
  const first = await cli(['send', f, refusing.address, '--code', refusing.code!]);
  assert.equal(first.code, 0, first.stderr);
  // The same file again (same size and time): already received, so skipped, not refused.
  const same = await cli(['send', f, refusing.address, '--code', refusing.code!, '--json']);
  assert.equal(same.code, 0, same.stdout + same.stderr);
  assert.deepEqual(
    only(same.stdout, 'file').map((l) => [l.path, l.status, l.reason]),
    [['notes.txt', 'skipped', 'already received: same size and time']],
  );
  const sameSummary = only(same.stdout, 'summary')[0]!;
  assert.deepEqual([sameSummary.files, sameSummary.skipped, sameSummary.alreadyReceived], [0, 1, 1]);
  // Same size, another time: another file, refused.
  await writeFile(f, 'first VERSION\n');
  await utimes(f, new Date('2019-05-06T07:08:09.000Z'), new Date('2019-05-06T07:08:09.000Z'));
  const later = await cli(['send', f, refusing.address, '--code', refusing.code!, '--json']);
  assert.equal(later.code, 1, later.stdout);
  assert.equal(only(later.stdout, 'error')[0]?.code, 'NETKIT_TRANSFER_EXISTS');
  assert.equal(await got(), 'first version\n');
  await writeFile(f, 'second version, longer\n');
  const again = await cli(['send', f, refusing.address, '--code', refusing.code!]);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /notes\.txt.*exists.*\[NETKIT_TRANSFER_EXISTS\]/);
  const againJson = await cli(['send', f, refusing.address, '--code', refusing.code!, '--json']);
  assert.equal(againJson.code, 1);
  assert.equal(only(againJson.stdout, 'error')[0]?.code, 'NETKIT_TRANSFER_EXISTS');
  assert.equal(await got(), 'first version\n');
  // The refusal leaves no partial file behind either.
  assert.deepEqual(await readdir(dest), ['notes.txt']);
  refusing.run.abort();
  assert.equal(await refusing.run.done, 0);

  const skipping = await startRecv(t, dest, ['--skip-existing', '--json']);
  const skipped = await cli(['send', f, skipping.address, '--code', skipping.code!, '--json']);
  assert.equal(skipped.code, 0, skipped.stdout);
  assert.deepEqual(only(skipped.stdout, 'file').map(fileFields), [
    { path: 'notes.txt', size: 23, sentBytes: 0, resumedFrom: 0, status: 'skipped' },
  ]);
  const summary = only(skipped.stdout, 'summary')[0]!;
  assert.deepEqual([summary.files, summary.skipped, summary.sentBytes, summary.ok], [0, 1, 0, true]);
  assert.equal(await got(), 'first version\n');
  skipping.run.abort();
  assert.equal(await skipping.run.done, 0);

  const when = new Date('2020-01-02T03:04:05.000Z');
  await utimes(f, when, when);
  const replacing = await startRecv(t, dest, ['--overwrite', '--once']);
  const replaced = await cli(['send', f, replacing.address, '--code', replacing.code!]);
  assert.equal(replaced.code, 0, replaced.stderr);
  assert.equal(await replacing.run.done, 0);
  assert.equal(await got(), 'second version, longer\n');
  assert.equal((await stat(path.join(dest, 'notes.txt'))).mtimeMs, when.getTime());
  assert.deepEqual(await readdir(dest), ['notes.txt']);

  const both = await cli(['recv', '127.0.0.1:0', '--dir', dest, '--overwrite', '--skip-existing']);
  assert.equal(both.code, 2, both.stderr);
  assert.match(both.stderr, /--skip-existing/);
});

test('--code: a wrong code writes nothing and does not use up recv --once; the right one does', async (t) => {
  const src = await tempDir(t);
  const dest = await tempDir(t);
  const f = path.join(src, 'secret.bin');
  await writeFile(f, 'for the right receiver only\n');
  const recv = await startRecv(t, dest, ['--once', '--code', CODE, '--json']);
  let recvExit: number | undefined;
  void recv.run.done.then((c) => {
    recvExit = c;
  });

  const wrong = await cli(['send', f, recv.address, '--code', 'purple tiger eight']);
  assert.equal(wrong.code, 1, wrong.stderr);
  assert.match(wrong.stderr, /\[NETKIT_TRANSFER_AUTH\]/);
  // A cleartext sender knows no code at all: refused as the wrong protocol, before any file.
  const none = await cli(['send', f, recv.address, '--plain', '--json']);
  assert.equal(none.code, 1, none.stdout);
  assert.equal(only(none.stdout, 'error')[0]?.code, 'NETKIT_TRANSFER_PROTOCOL');
  assert.deepEqual(await readdir(dest), []);
  // Give a wrongly ended receiver the time to exit, so the check below means something.
  await sleep(200);
  assert.equal(recvExit, undefined, `recv --once exited after a stranger: ${recv.run.stdout()}`);
  assert.equal(only(recv.run.stdout(), 'summary').length, 0, 'strangers are not transfers');

  // Whitespace between the words is not part of the code.
  const right = await cli(['send', f, recv.address, '--code', '  purple  tiger\tseven ', '--json']);
  assert.equal(right.code, 0, right.stdout + right.stderr);
  assert.equal(await recv.run.done, 0, recv.run.stdout());
  assert.equal(await readFile(path.join(dest, 'secret.bin'), 'utf8'), 'for the right receiver only\n');
});

test('--plain: --code sent to a receiver without one is refused by the sender: it cannot tell who it talks to', async (t) => {
  const src = await tempDir(t);
  const dest = await tempDir(t);
  const f = path.join(src, 'secret.bin');
  await writeFile(f, 'x');
  // Only the cleartext protocol has receivers without a code.
  const recv = await startRecv(t, dest, ['--plain', '--json']);
  const sent = await cli(['send', f, recv.address, '--plain', '--code', CODE]);
  assert.equal(sent.code, 1, sent.stderr);
  assert.match(sent.stderr, /does not use a code.*\[NETKIT_TRANSFER_AUTH\]/);
  assert.deepEqual(await readdir(dest), []);
});
