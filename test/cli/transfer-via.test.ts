/**
 * `netkit send --via` and `netkit recv --via` through a real
 * `netkit relay --rendezvous` process: the sender prints a code, the
 * receiver takes the transfer with it, and both exit 0; a wrong code
 * fails both sides with NETKIT_TRANSFER_AUTH; usage mistakes exit 2.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { cli, type Proc, spawnNetkit, startCli } from '../helpers/cli.js';
import { only, tempDir } from '../helpers/transfer.js';

async function rendezvous(t: TestContext): Promise<string> {
  const proc: Proc = spawnNetkit(['relay', '--rendezvous', '127.0.0.1:0', '--json']);
  t.after(() => proc.kill('SIGKILL'));
  const [, address] = await proc.waitFor(/"event":"listening","kind":"rendezvous","address":"([^"]+)"/);
  return address!;
}

test('send --via prints a code; recv --via with it takes the transfer; both exit 0', async (t) => {
  const via = await rendezvous(t);
  const src = await tempDir(t);
  const dst = await tempDir(t);
  const bytes = randomBytes(300_000);
  await writeFile(path.join(src, 'a.bin'), bytes);
  const send = startCli(['send', '--via', via, path.join(src, 'a.bin'), '--json']);
  const [, code] = await send.waitFor(/"event":"code","code":"([^"]+)"/);
  assert.match(code!, /^\d{1,4}(-[a-z]+){3}$/);
  const recv = await cli(['recv', '--via', via, code!, '--dir', dst, '--json']);
  assert.equal(recv.code, 0, recv.stderr);
  assert.equal(only(recv.stdout, 'waiting').length + only(recv.stdout, 'summary').length >= 1, true);
  const [summary] = only(recv.stdout, 'summary');
  assert.equal(summary?.ok, true);
  assert.equal(summary?.files, 1);
  assert.equal(await send.done, 0, send.stderr());
  assert.deepEqual(await readFile(path.join(dst, 'a.bin')), bytes);
});

test('recv --via waiting first, then send --via --code with the wrong code: both fail with NETKIT_TRANSFER_AUTH, nothing written', async (t) => {
  const via = await rendezvous(t);
  const src = await tempDir(t);
  const dst = await tempDir(t);
  await writeFile(path.join(src, 'a.bin'), 'secret');
  const recv = startCli(['recv', '--via', via, '--code', '55-right-words-here', '--dir', dst, '--json']);
  await recv.waitFor(/"event":"waiting","room":"55"/);
  const send = await cli(['send', '--via', via, '--code', '55-wrong-words-here', path.join(src, 'a.bin')]);
  assert.equal(send.code, 1);
  assert.match(send.stderr, /wrong code.*\[NETKIT_TRANSFER_AUTH\]/);
  assert.equal(await recv.done, 1);
  assert.match(recv.stdout(), /"code":"NETKIT_TRANSFER_AUTH"/);
  assert.deepEqual(await readdir(dst), []);
});

test('usage: recv --via needs a code; send without --code needs --via or --plain; a code without a room cannot meet', async (t) => {
  const dst = await tempDir(t);
  const noCode = await cli(['recv', '--via', '127.0.0.1:1', '--dir', dst]);
  assert.equal(noCode.code, 2);
  assert.match(noCode.stderr, /--code.*NETKIT_INVALID_ARGUMENT/);
  const direct = await cli(['send', 'x', '127.0.0.1:1']);
  assert.equal(direct.code, 2);
  assert.match(direct.stderr, /--code/);
  assert.match(direct.stderr, /--plain/);
  const noRoom = await cli(['send', '--via', '127.0.0.1:1', '--code', 'justoneword', 'x']);
  assert.equal(noRoom.code, 2);
  assert.match(noRoom.stderr, /ROOM-secret/);
  const both = await cli(['send', '--via', '127.0.0.1:1', '--plain', 'x']);
  assert.equal(both.code, 2);
});
