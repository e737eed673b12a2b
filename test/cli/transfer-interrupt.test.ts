/**
 * `netkit recv` and `netkit send` when a transfer ends early: a receiver
 * stopped with Ctrl-C says so (exit 130), tells the sender and keeps the
 * part; the sender's error says the receiver stopped; a sender that leaves
 * after its last file is reported as leaving early, its files counted;
 * sending a directory again after a stop completes it under the default
 * policy, the files that arrived whole shown as already received.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { serveFiles } from '../../src/transfer/index.js';
import { encodeFrame } from '../../src/transfer/protocol.js';
import { cli, spawnNetkit, startCli } from '../helpers/cli.js';
import { until } from '../helpers/net.js';
import { fileEntry, SealedSender } from '../helpers/sealed-sender.js';
import { fileFields, type Line, only, startRecv, tempDir, tree } from '../helpers/transfer.js';

/** midFile connects a sender to `address` and leaves it in the middle of `x.bin` (64 KiB of 128 sent). */
async function midFile(address: string, code: string, dest: string): Promise<SealedSender> {
  const raw = await SealedSender.connect(address, code);
  assert.equal((await raw.announce(fileEntry('x.bin', 128 * 1024)))[0]?.type, 'accept');
  await raw.write(Buffer.concat([encodeFrame({ type: 'data', offset: 0 }), randomBytes(64 * 1024)]));
  // The part exists once the data frame is read; the bytes after it arrived with it.
  await until(() => existsSync(path.join(dest, 'x.bin.part')), 5000, 'x.bin.part');
  return raw;
}

/**
 * vanishingReceiver is a receiver that dies after the first MiB the sender
 * wrote: a proxy in front of a real one resets the sender's connection
 * without a word, as the kernel does for a killed process.
 */
async function vanishingReceiver(t: TestContext): Promise<{ address: string; code: string }> {
  const receiver = await serveFiles('127.0.0.1:0', { dir: await tempDir(t) });
  t.after(() => receiver.destroy());
  const server = net.createServer((s) => {
    const upstream = net.connect(receiver.addr.port, '127.0.0.1');
    s.on('error', () => upstream.destroy());
    upstream.on('error', () => s.destroy());
    upstream.pipe(s);
    let bytes = 0;
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      if (bytes <= 1024 * 1024) upstream.write(d);
      else {
        s.resetAndDestroy();
        upstream.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`, code: receiver.code! };
}

/**
 * classicReceiver answers a classic sender's name with "ok" and takes
 * bytes until it has `stopAt`; then it resets the connection (a killed
 * receiver) or just stops reading (a slow one), calling `onStop`.
 */
async function classicReceiver(t: TestContext, how: 'reset' | 'stall', onStop = () => {}): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    let bytes = -1;
    s.on('data', (d: Buffer) => {
      if (bytes < 0) {
        bytes = 0;
        s.write('ok');
        return;
      }
      bytes += d.length;
      if (bytes < 1024 * 1024) return;
      if (how === 'reset') s.resetAndDestroy();
      else s.pause();
      onStop();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    // A paused socket never reads the sender's close: ended here, or close() would wait for it.
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

test('send --compat: neither a broken connection nor Ctrl-C claims that sending again resumes', async (t) => {
  const f = path.join(await tempDir(t), 'big.bin');
  await writeFile(f, randomBytes(8 * 1024 * 1024));
  const broken = await cli(['send', '--compat', f, await classicReceiver(t, 'reset')]);
  assert.notEqual(broken.code, 0);
  assert.doesNotMatch(broken.stdout + broken.stderr, /resum/, broken.stderr);

  let stalled = false;
  const address = await classicReceiver(t, 'stall', () => {
    stalled = true;
  });
  const run = startCli(['send', '--compat', f, address]);
  await until(() => stalled, 5000, 'the classic receiver to stall');
  run.abort();
  assert.equal(await run.done, 130, run.stderr());
  assert.match(run.stderr(), /^interrupted; the classic protocol cannot resume$/m);
});

test('recv: Ctrl-C during a transfer exits 130, says it was interrupted, tells the sender, keeps the part', async (t) => {
  const dest = await tempDir(t);
  const recv = await startRecv(t, dest, ['--json']);
  const raw = await midFile(recv.address, recv.code!, dest);
  t.after(() => raw.destroy());
  recv.run.abort();
  const notice = await raw.next();
  assert.equal(notice?.type, 'error');
  assert.equal(notice?.code, 'NETKIT_TRANSFER_STOPPED');
  assert.equal(notice?.path, 'x.bin');
  assert.equal(await recv.run.done, 130, recv.run.stdout() + recv.run.stderr());
  assert.equal(only(recv.run.stdout(), 'interrupted').length, 1, recv.run.stdout());
  const [summary] = only(recv.run.stdout(), 'summary');
  assert.equal(summary?.error?.code, 'NETKIT_TRANSFER_STOPPED');
  assert.deepEqual(await tree(dest), ['x.bin.part', 'x.bin.part.meta']);
  assert.ok((await stat(path.join(dest, 'x.bin.part'))).size > 0);

  // Sending again resumes from the part.
  const again = await startRecv(t, dest, ['--json']);
  const resumed = await SealedSender.connect(again.address, again.code!);
  t.after(() => resumed.destroy());
  const [accept] = await resumed.announce(fileEntry('x.bin', 128 * 1024));
  assert.equal(accept?.type, 'accept');
  assert.equal(accept?.offset, (await stat(path.join(dest, 'x.bin.part'))).size);
});

test('recv --once: Ctrl-C while waiting exits 130; without --once and no transfer it is a normal end (0)', async (t) => {
  const once = await startRecv(t, await tempDir(t), ['--once', '--json']);
  once.run.abort();
  assert.equal(await once.run.done, 130);
  const serving = await startRecv(t, await tempDir(t), ['--json']);
  serving.run.abort();
  assert.equal(await serving.run.done, 0);
});

test('send: a receiver stopped mid-file fails the send with NETKIT_TRANSFER_STOPPED (exit 1)', async (t) => {
  const src = await tempDir(t);
  const dest = await tempDir(t);
  const f = path.join(src, 'big.bin');
  await writeFile(f, randomBytes(8 * 1024 * 1024));
  const receiver = await serveFiles('127.0.0.1:0', {
    dir: dest,
    onEvent: (e) => {
      if (e.type === 'progress') void receiver.close();
    },
  });
  t.after(() => receiver.close());
  const sent = await cli(['send', f, receiver.addr.address, '--code', receiver.code!, '--json']);
  assert.equal(sent.code, 1, sent.stdout + sent.stderr);
  assert.equal(only(sent.stdout, 'error')[0]?.code, 'NETKIT_TRANSFER_STOPPED');
});

test('send a directory again after the receiver stopped mid-way: exit 0, whole files skipped as already received, the cut one resumed', async (t) => {
  const src = path.join(await tempDir(t), 'photos');
  const dest = await tempDir(t);
  await mkdir(src);
  const files: [string, Buffer][] = [
    ['a.bin', randomBytes(4000)],
    ['b.bin', randomBytes(8 * 1024 * 1024)],
    ['c.bin', randomBytes(9000)],
  ];
  for (const [name, b] of files) await writeFile(path.join(src, name), b);
  const receiver = await serveFiles('127.0.0.1:0', {
    dir: dest,
    onEvent: (e) => {
      if (e.type === 'progress' && e.path === 'photos/b.bin') void receiver.close();
    },
  });
  t.after(() => receiver.close());
  const stopped = await cli(['send', src, receiver.addr.address, '--code', receiver.code!, '--json']);
  assert.equal(stopped.code, 1, stopped.stdout + stopped.stderr);
  assert.equal(only(stopped.stdout, 'error')[0]?.code, 'NETKIT_TRANSFER_STOPPED');
  await receiver.close();
  const kept = (await stat(path.join(dest, 'photos/b.bin.part'))).size;
  assert.ok(kept > 0 && kept < 8 * 1024 * 1024, `kept ${kept}`);

  const recv = await startRecv(t, dest, ['--once', '--json']);
  const sent = await cli(['send', src, recv.address, '--code', recv.code!, '--json']);
  assert.equal(sent.code, 0, sent.stdout + sent.stderr);
  const already = 'already received: same size and time';
  assert.deepEqual(
    only(sent.stdout, 'file').map((l) => ({ ...fileFields(l), reason: l.reason })),
    [
      { path: 'photos/a.bin', size: 4000, sentBytes: 0, resumedFrom: 0, status: 'skipped', reason: already },
      {
        path: 'photos/b.bin',
        size: 8 * 1024 * 1024,
        sentBytes: 8 * 1024 * 1024 - kept,
        resumedFrom: kept,
        status: 'sent',
        reason: undefined,
      },
      {
        path: 'photos/c.bin',
        size: 9000,
        sentBytes: 9000,
        resumedFrom: 0,
        status: 'sent',
        reason: undefined,
      },
    ],
  );
  const [summary] = only(sent.stdout, 'summary');
  assert.deepEqual(
    [summary?.ok, summary?.files, summary?.skipped, summary?.alreadyReceived],
    [true, 2, 1, 1],
  );
  assert.ok(summary!.sentBytes! < 8 * 1024 * 1024 + 9000, 'the cut file was not sent whole again');
  assert.equal(await recv.run.done, 0, recv.run.stdout());
  const [recvSummary] = only(recv.run.stdout(), 'summary');
  assert.deepEqual([recvSummary?.files, recvSummary?.skipped, recvSummary?.alreadyReceived], [2, 1, 1]);
  assert.deepEqual(await tree(dest), ['photos', 'photos/a.bin', 'photos/b.bin', 'photos/c.bin']);
  for (const [name, b] of files) assert.ok((await readFile(path.join(dest, 'photos', name))).equals(b), name);

  // The human lines say so too.
  const last = await startRecv(t, dest);
  const human = await cli(['send', src, last.address, '--code', last.code!]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^skipped {2}photos\/a\.bin \(already received: same size and time\)$/m);
  assert.match(human.stdout, /^sent 0 files \(3 already there\), 0 B in /m);
});

test('send: a receiver that vanishes mid-file (killed) leaves a "resumable" note naming the file', async (t) => {
  const f = path.join(await tempDir(t), 'big.bin');
  await writeFile(f, randomBytes(8 * 1024 * 1024));
  const vanishing = await vanishingReceiver(t);
  const sent = await cli(['send', f, vanishing.address, '--code', vanishing.code, '--json']);
  assert.notEqual(sent.code, 0);
  assert.deepEqual(
    only(sent.stdout, 'resumable').map((l) => l.path),
    ['big.bin'],
    sent.stdout,
  );
});

test('recv --once: a sender that leaves after its last file is whole exits 1 with NETKIT_TRANSFER_INCOMPLETE, the files counted', async (t) => {
  const dest = await tempDir(t);
  const recv = await startRecv(t, dest, ['--once', '--json']);
  const raw = await SealedSender.connect(recv.address, recv.code!);
  t.after(() => raw.destroy());
  const files = [randomBytes(100), randomBytes(5000), randomBytes(70_000)];
  const names = ['a', 'b', 'c'];
  await raw.announce(...files.map((b, i) => fileEntry(names[i]!, b.length)));
  for (const b of files) assert.equal((await raw.sendFile(b))?.type, 'done');
  await raw.end();
  assert.equal(await recv.run.done, 1, recv.run.stdout());
  const [summary] = only(recv.run.stdout(), 'summary');
  assert.equal(summary?.error?.code, 'NETKIT_TRANSFER_INCOMPLETE');
  assert.equal(summary?.files, 3);
  assert.deepEqual(await tree(dest), names);
  for (const [i, b] of files.entries()) assert.ok((await readFile(path.join(dest, names[i]!))).equals(b));
});

test('recv (a real process): SIGINT mid-file exits 130 and the sender is told NETKIT_TRANSFER_STOPPED', async (t) => {
  const dest = await tempDir(t);
  const proc = spawnNetkit(['recv', '127.0.0.1:0', '--dir', dest, '--json']);
  t.after(() => proc.kill('SIGKILL'));
  const [line] = await proc.waitFor(/^\{"event":"listening".*\}$/m);
  const listening = JSON.parse(line) as Line;
  const raw = await midFile(listening.address!, listening.code!, dest);
  t.after(() => raw.destroy());
  proc.child.kill('SIGINT');
  const notice = await raw.next();
  assert.equal(notice?.type, 'error');
  assert.equal(notice?.code, 'NETKIT_TRANSFER_STOPPED');
  const { code } = await proc.exited;
  assert.equal(code, 130, proc.stdout() + proc.stderr());
  assert.deepEqual(await tree(dest), ['x.bin.part', 'x.bin.part.meta']);
});
