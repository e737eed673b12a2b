/**
 * `netkit recv` and `netkit send` at their limits and with bad paths: a
 * --dir that cannot be one, unreadable sources, --handshake-timeout for
 * connections that never say hello, and --max-connections refusing a
 * sender with "busy" rather than a dropped connection. Every failure has
 * a netkit code, a sentence and its exit status.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { encodeFrame } from '../../src/transfer/protocol.js';
import { cli } from '../helpers/cli.js';
import { fileEntry, SealedSender } from '../helpers/sealed-sender.js';
import { only, startRecv, tempDir } from '../helpers/transfer.js';

test('recv --dir that cannot be a directory: exit 2, NETKIT_FILE_ACCESS and a sentence, nothing listens', async (t) => {
  const base = await tempDir(t);
  const file = path.join(base, 'a-file');
  await writeFile(file, 'x');
  await symlink(path.join(base, 'nowhere'), path.join(base, 'dangling'));
  const cases = [
    ['a file', file],
    ['below a file', path.join(file, 'sub')],
    ['a symlink to nothing', path.join(base, 'dangling')],
  ];
  for (const [what, dir] of cases) {
    const json = await cli(['recv', '127.0.0.1:0', '--dir', dir!, '--once', '--json']);
    assert.equal(json.code, 2, `${what}: ${json.stdout}${json.stderr}`);
    const [error] = only(json.stdout, 'error');
    assert.equal(error?.code, 'NETKIT_FILE_ACCESS', what);
    assert.equal(only(json.stdout, 'listening').length, 0, what);
    const human = await cli(['recv', '127.0.0.1:0', '--dir', dir!, '--once']);
    assert.equal(human.code, 2, what);
    assert.match(human.stderr, /^netkit: cannot receive into ".*": .*\[NETKIT_FILE_ACCESS\]$/m, what);
    assert.doesNotMatch(human.stderr, /EEXIST|ENOTDIR|ENOENT/, what);
  }
});

test('send: sources that cannot be read are NETKIT_TRANSFER_SOURCE sentences, never raw errno text (exit 1)', async (t) => {
  const base = await tempDir(t);
  const file = path.join(base, 'f');
  await writeFile(file, 'x');
  for (const [what, source, compat] of [
    ['missing', path.join(base, 'missing'), false],
    ['below a file', path.join(file, 'sub'), false],
    ['missing, --compat', path.join(base, 'missing'), true],
  ] as const) {
    const r = await cli(['send', source, '127.0.0.1:9', ...(compat ? ['--compat'] : ['--code', 'x'])]);
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, /\[NETKIT_TRANSFER_SOURCE\]$/m, what);
    assert.doesNotMatch(r.stderr, /ENOENT|ENOTDIR|, stat |, open /, what);
  }
});

test('RELIABILITY 37: recv --handshake-timeout closes a connection that never says hello', async (t) => {
  const recv = await startRecv(t, await tempDir(t), ['--handshake-timeout', '200ms', '--json']);
  const [host, port] = [recv.address.slice(0, recv.address.lastIndexOf(':')), recv.address.split(':').at(-1)];
  const started = Date.now();
  const socket = net.connect(Number(port), host);
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await new Promise((resolve) => socket.once('close', resolve));
  const took = Date.now() - started;
  assert.ok(took >= 150 && took < 3000, `closed after ${took} ms`);
});

test('RELIABILITY 37: recv --max-connections 1: a second sender is told the receiver is busy (NETKIT_TRANSFER_BUSY, exit 1)', async (t) => {
  const src = await tempDir(t);
  const f = path.join(src, 'f.txt');
  await writeFile(f, 'hello');
  const dest = path.join(await tempDir(t), 'in');
  await mkdir(dest);
  const recv = await startRecv(t, dest, ['--max-connections', '1', '--json']);
  // A sender that proved the code holds the one place, in the middle of a file.
  const holder = await SealedSender.connect(recv.address, recv.code!);
  t.after(() => holder.destroy());
  assert.equal((await holder.announce(fileEntry('held', 10)))[0]?.type, 'accept');
  await holder.write(Buffer.concat([encodeFrame({ type: 'data', offset: 0 }), Buffer.from('12345')]));

  const json = await cli(['send', f, recv.address, '--code', recv.code!, '--json']);
  assert.equal(json.code, 1, json.stdout);
  assert.equal(only(json.stdout, 'error')[0]?.code, 'NETKIT_TRANSFER_BUSY');
  const human = await cli(['send', f, recv.address, '--code', recv.code!]);
  assert.equal(human.code, 1);
  assert.match(human.stderr, /busy.*\[NETKIT_TRANSFER_BUSY\]$/m);
  assert.doesNotMatch(human.stderr, /mid-transfer/);
});
