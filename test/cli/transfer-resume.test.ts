/**
 * A 256 MiB transfer between real `netkit send` and `netkit recv`
 * processes: SIGKILL the receiver mid-file, start it again on the same
 * directory, send again, and only the rest crosses the wire. Also the
 * progress events --json prints along the way.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { type Proc, spawnNetkit } from '../helpers/cli.js';
import { sleep } from '../helpers/net.js';
import { fileFields, type Line, lines, only, tempDir } from '../helpers/transfer.js';

const MiB = 2 ** 20;
/** SIZE is large enough that a loopback transfer lasts long enough to be killed mid-file. */
const SIZE = 256 * MiB;
const NAME = 'big.bin';

/** bigFile writes SIZE random bytes, on /dev/shm when there is one: the test should wait on the network, not the disk. */
async function bigFile(t: TestContext): Promise<string> {
  const dir = await tempDir(t, existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir());
  const p = path.join(dir, NAME);
  const fh = await open(p, 'w');
  try {
    for (let at = 0; at < SIZE; at += 8 * MiB) await fh.write(randomBytes(8 * MiB));
  } finally {
    await fh.close();
  }
  return p;
}

async function sha256(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(p, { highWaterMark: 4 * MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** exited waits for a process to end, failing (with what it printed) if it takes longer than `ms`. */
async function exited(p: Proc, what: string, ms = 30_000): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} still running after ${ms} ms:\n${p.stdout()}\n${p.stderr()}`)),
      ms,
    );
  });
  try {
    return (await Promise.race([p.exited, late])).code;
  } finally {
    clearTimeout(timer);
  }
}

/** spawn starts a netkit process that is killed after the test if it is still running. */
function spawn(t: TestContext, args: string[]): Proc {
  const p = spawnNetkit(args);
  t.after(() => p.kill('SIGKILL'));
  return p;
}

async function startRecv(
  t: TestContext,
  dir: string,
  args: string[] = [],
): Promise<{ proc: Proc; address: string; code: string }> {
  const proc = spawn(t, ['recv', '127.0.0.1:0', '--dir', dir, '--json', ...args]);
  const [line] = await proc.waitFor(/^\{"event":"listening".*\}$/m);
  const { address, code } = JSON.parse(line) as Line;
  return { proc, address: address!, code: code! };
}

test('kill the receiver mid-file, restart it, send again: the transfer resumes and the file is whole', {
  timeout: 120_000,
}, async (t) => {
  const big = await bigFile(t);
  const dest = await tempDir(t);
  const part = path.join(dest, `${NAME}.part`);

  const first = await startRecv(t, dest);
  const sender = spawn(t, ['send', big, first.address, '--code', first.code, '--json']);
  let size = 0;
  const deadline = Date.now() + 60_000;
  while (size < SIZE / 4) {
    if (existsSync(path.join(dest, NAME)) || sender.child.exitCode !== null) {
      assert.fail(
        `the transfer ended before the receiver could be killed (.part at ${size} of ${SIZE} bytes); use a bigger file\n${sender.stdout()}${sender.stderr()}`,
      );
    }
    if (Date.now() > deadline) assert.fail(`${NAME}.part reached only ${size} bytes in 60 s`);
    await sleep(5);
    size = (await stat(part).catch(() => null))?.size ?? 0;
  }
  await first.proc.kill('SIGKILL');

  const kept = (await stat(part)).size;
  assert.ok(
    kept < SIZE,
    `the whole file arrived before the receiver was killed (${kept} bytes); use a bigger file`,
  );
  assert.ok(!existsSync(path.join(dest, NAME)), 'the final name never holds a partial file');
  assert.ok(existsSync(`${part}.meta`), 'the .part.meta that a resume needs is there');
  const failed = await exited(sender, 'the sender to a killed receiver');
  assert.notEqual(
    failed,
    0,
    `the sender must fail when the receiver dies:\n${sender.stdout()}${sender.stderr()}`,
  );
  assert.notEqual(failed, null, 'the sender ends by itself, not by a signal');
  assert.equal(only(sender.stdout(), 'error').length, 1, 'and says why, as a JSON error event');
  t.diagnostic(`receiver killed at ${kept} of ${SIZE} bytes; the sender exited ${failed}`);

  // A new process generates a new code: the part is resumed under another session's key.
  const second = await startRecv(t, dest, ['--once']);
  const resumed = spawn(t, ['send', big, second.address, '--code', second.code, '--json']);
  assert.equal(await exited(resumed, 'the resumed sender'), 0, resumed.stdout() + resumed.stderr());
  assert.equal(await exited(second.proc, 'recv --once'), 0, second.proc.stdout() + second.proc.stderr());

  // Only the rest crossed the wire: the part the killed receiver kept was not sent again.
  const [file] = only(resumed.stdout(), 'file');
  assert.deepEqual(fileFields(file!), {
    path: NAME,
    size: SIZE,
    sentBytes: SIZE - kept,
    resumedFrom: kept,
    status: 'sent',
  });
  const [summary] = only(resumed.stdout(), 'summary');
  assert.deepEqual(
    [summary!.files, summary!.bytes, summary!.sentBytes, summary!.ok],
    [1, SIZE, SIZE - kept, true],
  );
  const [recvSummary] = only(second.proc.stdout(), 'summary');
  assert.deepEqual([recvSummary!.role, recvSummary!.sentBytes, recvSummary!.ok], ['recv', SIZE - kept, true]);

  assert.deepEqual(await readdir(dest), [NAME], 'no .part or .part.meta left');
  assert.equal(await sha256(path.join(dest, NAME)), await sha256(big));
});

test('send --json reports progress of a large file: path, bytes, total, rate', {
  timeout: 120_000,
}, async (t) => {
  const big = await bigFile(t);
  const dest = await tempDir(t);
  const recv = await startRecv(t, dest, ['--once']);
  const sender = spawn(t, ['send', big, recv.address, '--code', recv.code, '--json']);
  assert.equal(await exited(sender, 'the sender'), 0, sender.stdout() + sender.stderr());
  assert.equal(await exited(recv.proc, 'recv --once'), 0, recv.proc.stderr());

  const progress = only(sender.stdout(), 'progress');
  assert.ok(progress.length >= 1, `no progress event in ${sender.stdout()}`);
  let last = 0;
  for (const p of progress) {
    assert.deepEqual(Object.keys(p).sort(), ['bytes', 'event', 'path', 'rate', 'total']);
    assert.equal(p.path, NAME);
    assert.equal(p.total, SIZE);
    assert.ok(p.bytes! > last && p.bytes! <= SIZE, `bytes ${p.bytes} after ${last}`);
    assert.ok(Number.isInteger(p.rate) && p.rate! >= 0, `rate ${p.rate}`);
    last = p.bytes!;
  }
  // Progress comes before the file's end, and the summary last.
  const order = lines(sender.stdout()).map((l) => l.event);
  assert.deepEqual(order.slice(order.lastIndexOf('progress') + 1), ['file', 'summary']);
  assert.equal((await stat(path.join(dest, NAME))).size, SIZE);
});
