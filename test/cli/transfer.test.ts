/**
 * `netkit send` and `netkit recv` end to end, in-process: what arrives on
 * disk, what each side prints (JSON and human), the classic protocol, and
 * how bad arguments and unsafe names are refused. Overwrite and code rules
 * are in transfer-policy.test.ts; kill-and-resume in transfer-resume.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { fileEntry, SealedSender } from '../helpers/sealed-sender.js';
import { fileFields, lines, only, startRecv, tempDir, tree } from '../helpers/transfer.js';

/** A fixed past time: if the receiver left its own clock's time, the comparison shows it. */
const WHEN = new Date('2021-03-04T05:06:07.089Z');

test('send a file and a directory to recv --once --json: contents, modes, times and tree arrive', async (t) => {
  const src = await tempDir(t);
  const dest = path.join(await tempDir(t), 'in');
  const a = randomBytes(1000);
  const x = randomBytes(70_000);
  await writeFile(path.join(src, 'a.txt'), a);
  await mkdir(path.join(src, 'dir', 'sub'), { recursive: true });
  await mkdir(path.join(src, 'dir', 'empty'));
  await writeFile(path.join(src, 'dir', 'sub', 'x'), x);
  await chmod(path.join(src, 'a.txt'), 0o640);
  await chmod(path.join(src, 'dir', 'sub', 'x'), 0o755);
  await chmod(path.join(src, 'dir', 'empty'), 0o750);
  // A symlink inside a directory may point anywhere: reported, never followed.
  await symlink('/etc/passwd', path.join(src, 'dir', 'link'));
  // Directories last: creating their contents moved their times.
  for (const p of ['a.txt', 'dir/sub/x', 'dir/empty', 'dir/sub', 'dir'])
    await utimes(path.join(src, p), WHEN, WHEN);

  const recv = await startRecv(t, dest, ['--once', '--json']);
  const sent = await cli([
    'send',
    path.join(src, 'a.txt'),
    `${path.join(src, 'dir')}/`,
    recv.address,
    '--code',
    recv.code!,
    '--json',
  ]);
  assert.equal(sent.code, 0, sent.stderr + sent.stdout);
  assert.equal(await recv.run.done, 0, recv.run.stderr());

  assert.deepEqual(only(sent.stdout, 'file').map(fileFields), [
    { path: 'a.txt', size: 1000, sentBytes: 1000, resumedFrom: 0, status: 'sent' },
    { path: 'dir/sub/x', size: 70_000, sentBytes: 70_000, resumedFrom: 0, status: 'sent' },
  ]);
  assert.deepEqual(only(sent.stdout, 'skipped'), [
    { event: 'skipped', path: 'dir/link', reason: 'symlink (not followed)' },
  ]);
  const events = lines(sent.stdout);
  const summary = events.at(-1)!;
  assert.equal(summary.event, 'summary', 'the summary is the last line');
  assert.deepEqual(
    { ...summary, seconds: typeof summary.seconds, mibPerSec: typeof summary.mibPerSec },
    {
      event: 'summary',
      role: 'send',
      peer: recv.address,
      files: 2,
      skipped: 0,
      alreadyReceived: 0,
      dirs: 3,
      bytes: 71_000,
      sentBytes: 71_000,
      seconds: 'number',
      mibPerSec: 'number',
      ok: true,
    },
  );

  const received = lines(recv.run.stdout());
  assert.equal(received[0]!.event, 'listening');
  const rs = received.filter((l) => l.event === 'summary');
  assert.equal(rs.length, 1);
  assert.deepEqual([rs[0]!.role, rs[0]!.files, rs[0]!.bytes, rs[0]!.ok], ['recv', 2, 71_000, true]);
  assert.deepEqual(
    received.filter((l) => l.event === 'file').map((l) => [l.path, l.status]),
    [
      ['a.txt', 'received'],
      ['dir/sub/x', 'received'],
    ],
  );

  // No .part or .part.meta left, the empty directory included.
  assert.deepEqual(await tree(dest), ['a.txt', 'dir', 'dir/empty', 'dir/sub', 'dir/sub/x']);
  assert.ok((await readFile(path.join(dest, 'a.txt'))).equals(a));
  assert.ok((await readFile(path.join(dest, 'dir/sub/x'))).equals(x));
  for (const [p, mode] of [
    ['a.txt', 0o640],
    ['dir/sub/x', 0o755],
    ['dir/empty', 0o750],
  ] as const) {
    const st = await stat(path.join(dest, p));
    assert.equal((st.mode & 0o777).toString(8), mode.toString(8), `${p} mode`);
    assert.ok(Math.abs(st.mtimeMs - WHEN.getTime()) <= 1, `${p} mtime ${new Date(st.mtimeMs).toISOString()}`);
  }
  assert.deepEqual(await readdir(path.join(dest, 'dir/empty')), []);
});

test('human output when piped: one line per file, then the summary', async (t) => {
  const src = await tempDir(t);
  const dest = await tempDir(t);
  await writeFile(path.join(src, 'one'), randomBytes(3000));
  await writeFile(path.join(src, 'two'), 'hello\n');
  const recv = await startRecv(t, dest, ['--once']);
  const sent = await cli([
    'send',
    path.join(src, 'one'),
    path.join(src, 'two'),
    recv.address,
    '--code',
    recv.code!,
  ]);
  assert.equal(sent.code, 0, sent.stderr);
  // Piped, nothing is drawn: no bars, no escapes, stderr stays empty.
  assert.equal(sent.stderr, '');
  const out = sent.stdout.trimEnd().split('\n');
  assert.match(out.at(-1)!, /^sent 2 files, .* in [\d.]+ s \(.*\/s\) to 127\.0\.0\.1:\d+$/);
  assert.match(out[0]!, /^sent +one {2}2\.9 KiB$/);
  assert.match(out[1]!, /^sent +two {2}6 B$/);
  assert.equal(await recv.run.done, 0);
  assert.match(recv.run.stdout(), /^received 2 files, .* in [\d.]+ s \(.*\/s\) from 127\.0\.0\.1:\d+$/m);
});

test('--compat between netkit and netkit: a file arrives; a directory is refused before connecting', async (t) => {
  const src = await tempDir(t);
  const dest = await tempDir(t);
  const data = randomBytes(200_000);
  await writeFile(path.join(src, 'a.txt'), data);
  const recv = await startRecv(t, dest, ['--compat', '--once', '--json']);

  const dir = await cli(['send', '--compat', src, recv.address]);
  assert.equal(dir.code, 1, dir.stderr);
  assert.match(dir.stderr, /\[NETKIT_TRANSFER_SOURCE\]/);

  const sent = await cli(['send', '--compat', path.join(src, 'a.txt'), recv.address, '--json']);
  assert.equal(sent.code, 0, sent.stderr + sent.stdout);
  const summary = only(sent.stdout, 'summary')[0]!;
  assert.deepEqual([summary.files, summary.bytes, summary.ok], [1, 200_000, true]);
  assert.equal(await recv.run.done, 0, recv.run.stdout());
  assert.deepEqual(await tree(dest), ['a.txt']);
  assert.ok((await readFile(path.join(dest, 'a.txt'))).equals(data));
});

test('send: bad usage exits 2, a missing file 1, nobody listening 3', async (t) => {
  const src = await tempDir(t);
  const f = path.join(src, 'f');
  await writeFile(f, 'x');
  const closed = `127.0.0.1:${await freePort()}`;

  const one = await cli(['send', 'onlyonearg']);
  assert.equal(one.code, 2, one.stderr);

  // Encrypted by default: to a receiver's address, its code is required.
  const noCode = await cli(['send', f, closed, '--json']);
  assert.equal(noCode.code, 2, noCode.stdout);
  const [usage] = only(noCode.stdout, 'error');
  assert.equal(usage?.code, 'NETKIT_INVALID_ARGUMENT');
  assert.match(usage!.message!, /\bcode\b/);

  const missing = await cli(['send', path.join(src, 'missing-file'), closed, '--code', 'x']);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /no such file or directory.*\[NETKIT_TRANSFER_SOURCE\]/);

  const refused = await cli(['send', f, closed, '--code', 'x']);
  assert.equal(refused.code, 3, refused.stderr);

  // The classic protocol cannot check a code: refused on both sides rather than ignored.
  const compatCode = await cli(['send', f, closed, '--compat', '--code', 'x']);
  assert.equal(compatCode.code, 2, compatCode.stderr);
  const recvCompatCode = await cli(['recv', '127.0.0.1:0', '--dir', src, '--compat', '--code', 'x']);
  assert.equal(recvCompatCode.code, 2, recvCompatCode.stderr);
});

test('a name holding ESC is refused by the sender, and its message prints no raw escape', async (t) => {
  const src = await tempDir(t);
  const evil = path.join(src, 'evil\x1b[31mname');
  await writeFile(evil, 'x');
  await mkdir(path.join(src, 'tree'));
  await writeFile(path.join(src, 'tree', 'evil\x1b]0;title\x07'), 'x');
  const recv = await startRecv(t, await tempDir(t), ['--json']);

  for (const arg of [evil, path.join(src, 'tree')]) {
    const human = await cli(['send', arg, recv.address, '--code', recv.code!]);
    assert.equal(human.code, 1, human.stderr);
    assert.match(human.stderr, /unsafe path ".*evil\\+x1b.*\[NETKIT_TRANSFER_PATH\]/);
    assert.ok(!human.stderr.includes('\x1b') && !human.stdout.includes('\x1b'), JSON.stringify(human.stderr));
    const json = await cli(['send', arg, recv.address, '--code', recv.code!, '--json']);
    assert.equal(json.code, 1);
    assert.equal(only(json.stdout, 'error')[0]?.code, 'NETKIT_TRANSFER_PATH');
  }
  // Refused before connecting: the receiver saw no transfer.
  assert.equal(only(recv.run.stdout(), 'summary').length, 0);
});

test('an escaped name reads the way docs/transfer.md shows it: ESC as \\x1b, one backslash', {}, async (t) => {
  const src = await tempDir(t);
  await writeFile(path.join(src, 'evil\x1b[31mname'), 'x');
  const r = await cli([
    'send',
    path.join(src, 'evil\x1b[31mname'),
    `127.0.0.1:${await freePort()}`,
    '--code',
    'x',
  ]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^netkit: unsafe path "evil\\x1b\[31mname": /);
});

test('recv refuses a peer-sent name holding ESC and prints it escaped', async (t) => {
  const dest = await tempDir(t);
  const recv = await startRecv(t, dest, ['--once']);
  // The netkit sender never announces such a name, so speak the protocol by hand.
  const sender = await SealedSender.connect(recv.address, recv.code!);
  t.after(() => sender.destroy());
  const [reply] = await sender.announce(fileEntry('evil\x1b[2Jname', 1, Date.now()));
  assert.equal(reply?.type, 'error', JSON.stringify(reply));
  assert.equal(reply?.type === 'error' && reply.code, 'NETKIT_TRANSFER_PATH');
  sender.destroy();

  assert.equal(await recv.run.done, 1, 'with --once the failed transfer sets the exit status');
  const out = recv.run.stdout() + recv.run.stderr();
  assert.ok(!out.includes('\x1b'), JSON.stringify(out));
  assert.match(
    recv.run.stdout(),
    /^receive from 127\.0\.0\.1:\d+ failed after 0 files: unsafe path "evil\\+x1b\[2Jname.*\[NETKIT_TRANSFER_PATH\]$/m,
  );
  assert.deepEqual(await tree(dest), []);
});
