/**
 * RELIABILITY 25: an interrupted transfer never leaves a partial file under
 * the final name; a resume continues only from an offset the sender
 * verified; the checksum covers the whole file, resumed prefix included.
 *
 * The interruptions are made by hand, by a raw sender in the clear, so each
 * test has two receivers on one directory: `raw`, plain, takes them, and
 * `recv`, encrypted as users run it, takes the sendFiles() that resumes
 * (its prefix check is an HMAC under the session key). The checksum tests
 * are about protocol 1's SHA-256 and stay on `raw`.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { appendFile, lstat, open, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { TransferEvent } from '../../src/transfer/index.js';
import { spawnProc } from '../helpers/cli.js';
import { sleep, until } from '../helpers/net.js';
import { ROOT } from '../helpers/tools.js';
import {
  fileFrame,
  layout,
  RawSender,
  type Recv,
  send,
  sha256,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

const MiB = 1024 * 1024;
const SIZE = 4 * MiB;

interface Setup {
  /** raw is the plain receiver the raw senders interrupt. */
  raw: Recv;
  /** recv is the encrypted receiver sendFiles() resumes into. */
  recv: Recv;
  target: string;
  source: string;
  content: Buffer;
  final: string;
}

async function setup(t: TestContext): Promise<Setup> {
  const dirs = await layout(t);
  const src = await tempDir(t);
  const content = randomBytes(SIZE);
  const source = path.join(src, 'big.bin');
  await writeFile(source, content);
  const raw = await startReceiver(t, { dir: dirs.target, plain: true });
  const recv = await startReceiver(t, { dir: dirs.target });
  return { raw, recv, target: dirs.target, source, content, final: path.join(dirs.target, 'big.bin') };
}

const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

/**
 * interrupt announces the source file exactly as sendFiles would (same size
 * and mtime), sends its first bytes up to each of `stops` in turn (letting
 * the receiver settle in between, as a slow link would), and hangs up: the
 * sender died.
 */
async function interrupt(s: Setup, ...stops: number[]): Promise<void> {
  const before = s.raw.summaries.length;
  const seen = s.raw.events.length;
  const st = await stat(s.source);
  const raw = await RawSender.connect(s.raw.port);
  await raw.hello();
  const [answer] = await raw.announce(fileFrame('big.bin', st.size, st.mtimeMs, st.mode & 0o777));
  assert.equal(answer?.type, 'accept');
  assert.equal(answer?.offset, 0);
  await raw.send({ type: 'data', offset: 0 });
  let at = 0;
  for (const stop of stops) {
    await raw.write(s.content.subarray(at, stop));
    at = stop;
    const arrived = () => s.raw.events.slice(seen).some((e) => e.type === 'progress' && e.bytes === stop);
    await until(arrived, 5000, 'the bytes to arrive');
    await sleep(50);
  }
  // Mid-transfer: whatever arrived is in `.part`; the final name does not exist yet.
  assert.equal(await exists(s.final), false);
  raw.socket.end();
  await s.raw.summary(before + 1);
  raw.destroy();
}

/** resend runs sendFiles for the source to `recv` and returns its summary and the offset its file started at. */
async function resend(s: Setup, recv = s.recv) {
  const events: TransferEvent[] = [];
  const summary = await send([s.source], recv, { onEvent: (e) => events.push(e) });
  const start = events.find((e) => e.type === 'file-start');
  assert.ok(start?.type === 'file-start');
  return { summary, offset: start.offset };
}

async function arrivedIntact(s: Setup): Promise<void> {
  assert.equal(sha256(await readFile(s.final)), sha256(await readFile(s.source)));
  assert.deepEqual(await tree(s.target), ['big.bin']);
}

test('25: a sender dying mid-file leaves only `.part` + `.part.meta`; sendFiles then resumes from there', async (t) => {
  const s = await setup(t);
  await interrupt(s, MiB);
  assert.equal(s.raw.summaries[0]?.ok, false);
  assert.deepEqual(await tree(s.target), ['big.bin.part', 'big.bin.part.meta']);
  const part = await readFile(`${s.final}.part`);
  assert.equal(part.length, MiB);
  assert.ok(part.equals(s.content.subarray(0, MiB)));

  const { summary, offset } = await resend(s);
  assert.equal(offset, MiB);
  assert.equal(summary.sentBytes, SIZE - MiB);
  assert.equal(summary.bytes, SIZE);
  const done = s.recv.events.find((e) => e.type === 'file-end');
  assert.ok(done?.type === 'file-end' && done.resumedFrom === MiB, JSON.stringify(done));
  await arrivedIntact(s);
});

test('25: the part keeps every byte that arrived before the sender hung up', async (t) => {
  const s = await setup(t);
  const arrived = MiB + MiB / 2;
  await interrupt(s, MiB, arrived);
  assert.equal((await stat(`${s.final}.part`)).size, arrived);
  const { offset } = await resend(s);
  assert.equal(offset, arrived);
  await arrivedIntact(s);
});

test('25: a tampered `.part` fails the sender’s prefix check: it sends the whole file again', async (t) => {
  // The check is an HMAC under the session key when encrypted, the SHA-256 of the prefix when plain.
  for (const mode of ['encrypted', 'plain'] as const) {
    await t.test(mode, async (t) => {
      const s = await setup(t);
      await interrupt(s, MiB);
      const fh = await open(`${s.final}.part`, 'r+');
      const b = Buffer.alloc(1);
      await fh.read(b, 0, 1, 12_345);
      b[0]! ^= 0xff;
      await fh.write(b, 0, 1, 12_345);
      await fh.close();

      const { summary, offset } = await resend(s, mode === 'plain' ? s.raw : s.recv);
      assert.equal(offset, 0);
      assert.equal(summary.sentBytes, SIZE);
      await arrivedIntact(s);
    });
  }
});

test('25: a `.part` of a file that changed at the sender (size or mtime) is not resumed', async (t) => {
  for (const change of ['mtime', 'size'] as const) {
    await t.test(change, async (t) => {
      const s = await setup(t);
      await interrupt(s, MiB);
      if (change === 'mtime') {
        await utimes(s.source, new Date(), new Date(Date.now() + 60_000));
      } else {
        // Same prefix, one more byte: only the announced size tells it apart.
        await appendFile(s.source, 'x');
      }
      const { summary, offset } = await resend(s);
      assert.equal(offset, 0);
      assert.equal(summary.sentBytes, (await stat(s.source)).size);
      // The receiver offered nothing to resume: the sender had nothing to verify.
      const start = s.recv.events.findLast((e) => e.type === 'file-start');
      assert.equal(start?.type === 'file-start' && start.offset, 0);
      await arrivedIntact(s);
    });
  }
});

test('25: an `end` frame with the wrong SHA-256 is NETKIT_TRANSFER_CHECKSUM; nothing is kept', async (t) => {
  const s = await setup(t);
  const raw = await RawSender.connect(s.raw.port);
  t.after(() => raw.destroy());
  await raw.hello();
  const [answer] = await raw.announce(fileFrame('big.bin', SIZE));
  assert.equal(answer?.type, 'accept');
  const reply = await raw.sendFile(s.content, 0, '0'.repeat(64));
  assert.equal(reply?.type, 'error');
  assert.equal(reply?.code, 'NETKIT_TRANSFER_CHECKSUM');
  assert.equal((await s.raw.summary()).error?.code, 'NETKIT_TRANSFER_CHECKSUM');
  assert.deepEqual(await tree(s.target), []);
});

/** resumeRaw reconnects as a raw sender, takes the offered offset and sends the rest with `sum`. */
async function resumeRaw(s: Setup, sum: (offset: number) => string) {
  const st = await stat(s.source);
  const raw = await RawSender.connect(s.raw.port);
  try {
    await raw.hello();
    const [answer] = await raw.announce(fileFrame('big.bin', st.size, st.mtimeMs));
    assert.equal(answer?.type, 'accept');
    const offset = answer?.offset as number;
    assert.equal(offset, MiB);
    assert.equal(answer?.prefix, sha256(s.content.subarray(0, offset)));
    return await raw.sendFile(s.content.subarray(offset), offset, sum(offset));
  } finally {
    raw.destroy();
  }
}

test('25: after a resume the checksum covers the whole file, not just the bytes sent this time', async (t) => {
  const s = await setup(t);
  await interrupt(s, MiB);
  // The SHA-256 of only the resumed tail is refused, and the part is dropped (it cannot be trusted).
  const tail = await resumeRaw(s, (offset) => sha256(s.content.subarray(offset)));
  assert.equal(tail?.code, 'NETKIT_TRANSFER_CHECKSUM');
  await s.raw.summary(2);
  assert.deepEqual(await tree(s.target), []);

  await interrupt(s, MiB);
  const whole = await resumeRaw(s, () => sha256(s.content));
  assert.equal(whole?.type, 'done');
  await s.raw.summary(4);
  await arrivedIntact(s);
});

test('25: a `data` frame at an offset the receiver did not offer is a protocol error', async (t) => {
  const s = await setup(t);
  await interrupt(s, MiB);
  const st = await stat(s.source);
  const raw = await RawSender.connect(s.raw.port);
  t.after(() => raw.destroy());
  await raw.hello();
  await raw.announce(fileFrame('big.bin', st.size, st.mtimeMs));
  await raw.send({ type: 'data', offset: 2 * MiB });
  const reply = await raw.next();
  assert.equal(reply?.code, 'NETKIT_TRANSFER_PROTOCOL');
  // The verified part is still there for an honest sender.
  const { offset } = await resend(s);
  assert.equal(offset, MiB);
  await arrivedIntact(s);
});

test('25: a receiver process killed mid-file leaves no final name; a new receiver resumes from the part', async (t) => {
  const s = await setup(t);
  await Promise.all([s.raw.receiver.close(), s.recv.receiver.close()]);
  // The receiver runs in a child process, so it can be SIGKILLed: no cleanup code runs at all.
  // (.mts: a module, for the top-level await.)
  const script = path.join(path.dirname(s.source), 'recv.mts');
  const entry = pathToFileURL(path.join(ROOT, 'src', 'transfer', 'index.ts')).href;
  await writeFile(
    script,
    `import { serveFiles } from ${JSON.stringify(entry)};
const r = await serveFiles('127.0.0.1:0', { dir: ${JSON.stringify(s.target)}, plain: true });
console.log('port', r.addr.port);\n`,
  );
  const child = spawnProc(process.execPath, ['--import', 'tsx', script]);
  t.after(() => child.kill('SIGKILL'));
  const port = Number((await child.waitFor(/port (\d+)/))[1]);

  const st = await stat(s.source);
  const raw = await RawSender.connect(port);
  t.after(() => raw.destroy());
  await raw.hello();
  await raw.announce(fileFrame('big.bin', st.size, st.mtimeMs));
  await raw.send({ type: 'data', offset: 0 });
  await raw.write(s.content.subarray(0, 2 * MiB));
  await until(() => existsSync(`${s.final}.part`) && statSync(`${s.final}.part`).size >= MiB, 5000, 'part');
  await child.kill('SIGKILL');
  assert.equal(await exists(s.final), false);
  const part = await readFile(`${s.final}.part`);
  assert.ok(part.length > 0 && part.equals(s.content.subarray(0, part.length)));

  const again = await startReceiver(t, { dir: s.target });
  const { summary, offset } = await resend(s, again);
  assert.equal(offset, part.length);
  assert.equal(summary.sentBytes, SIZE - part.length);
  await arrivedIntact(s);
});

test('25: closing the receiver mid-file keeps the part for a resume', async (t) => {
  const s = await setup(t);
  const st = await stat(s.source);
  const raw = await RawSender.connect(s.raw.port);
  t.after(() => raw.destroy());
  await raw.hello();
  await raw.announce(fileFrame('big.bin', st.size, st.mtimeMs));
  await raw.send({ type: 'data', offset: 0 });
  await raw.write(s.content.subarray(0, MiB));
  await until(() => s.raw.events.some((e) => e.type === 'progress' && e.bytes === MiB), 5000, 'bytes in');
  await s.raw.receiver.close();
  await s.raw.summary();
  assert.deepEqual(await tree(s.target), ['big.bin.part', 'big.bin.part.meta']);
  const { offset } = await resend(s);
  assert.equal(offset, MiB);
  await arrivedIntact(s);
});
