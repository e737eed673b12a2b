/**
 * Encrypted transfers through a rendezvous (`netkit relay --rendezvous`):
 * pairs meet by the code's room, several at once, a third party is turned
 * away, and a transfer cut by a killed receiver resumes, still encrypted,
 * through the rendezvous.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import {
  type Rendezvous,
  type RendezvousEvent,
  receiveFiles,
  sendFiles,
  serveRendezvous,
} from '../../src/transfer/index.js';
import { spawnNetkit } from '../helpers/cli.js';
import { until } from '../helpers/net.js';
import { startRelay } from '../helpers/relay.js';
import { tempDir } from './helpers.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function rendezvous(
  t: Parameters<typeof tempDir>[0],
  events: RendezvousEvent[] = [],
): Promise<Rendezvous> {
  const rv = await serveRendezvous('127.0.0.1:0', { onEvent: (e) => events.push(e) });
  t.after(() => rv.close());
  return rv;
}

/** sendVia starts a sender with a generated code and resolves with the code once the room is held. */
function sendVia(paths: string[], via: string, options: Record<string, unknown> = {}) {
  let told!: (code: string) => void;
  const code = new Promise<string>((resolve) => {
    told = resolve;
  });
  const done = sendFiles(paths, { via, onCode: told, ...options });
  // A sender that fails before its room is held must fail the test, not hang it.
  done.catch(() => {});
  return {
    code: Promise.race([code, done.then(() => Promise.reject(new Error('sent without a code')))]),
    done,
  };
}

test('three pairs through one rendezvous at once each get their own files', async (t) => {
  const events: RendezvousEvent[] = [];
  const rv = await rendezvous(t, events);
  const pairs = await Promise.all(
    [0, 1, 2].map(async (n) => {
      const src = await tempDir(t, `netkit-rv-src${n}-`);
      const bytes = randomBytes(256 * 1024 + n);
      await writeFile(path.join(src, `only-for-pair-${n}.bin`), bytes);
      return { n, src, bytes, dst: await tempDir(t, `netkit-rv-dst${n}-`) };
    }),
  );
  const runs = pairs.map((p) => ({
    p,
    s: sendVia([path.join(p.src, `only-for-pair-${p.n}.bin`)], rv.addr.address),
  }));
  const codes = await Promise.all(runs.map((r) => r.s.code));
  assert.equal(new Set(codes).size, 3);
  for (const c of codes) assert.match(c, /^\d{1,4}(-[a-z]+){3}$/);
  const received = await Promise.all(
    runs.map((r, i) => receiveFiles({ via: rv.addr.address, code: codes[i]!, dir: r.p.dst })),
  );
  for (const [i, r] of runs.entries()) {
    const sent = await r.s.done;
    assert.equal(sent.files, 1);
    assert.equal(received[i]!.ok, true, received[i]!.error?.message);
    assert.deepEqual(await readdir(r.p.dst), [`only-for-pair-${r.p.n}.bin`]);
    assert.equal(sha(await readFile(path.join(r.p.dst, `only-for-pair-${r.p.n}.bin`))), sha(r.p.bytes));
  }
  assert.equal(events.filter((e) => e.type === 'paired').length, 3);
});

test('a third party is refused with NETKIT_RENDEZVOUS_FULL, and the pair goes on', async (t) => {
  const rv = await rendezvous(t);
  const src = await tempDir(t, 'netkit-rv-src-');
  const dst = await tempDir(t, 'netkit-rv-dst-');
  const other = await tempDir(t, 'netkit-rv-other-');
  const bytes = randomBytes(8 * 1024 * 1024);
  await writeFile(path.join(src, 'payload.bin'), bytes);
  const code = '812-harvest-pilot-cabin';
  // The receiver comes first and waits.
  let waiting!: () => void;
  const isWaiting = new Promise<void>((resolve) => {
    waiting = resolve;
  });
  const recv = receiveFiles({ via: rv.addr.address, code, dir: dst, onWaiting: waiting });
  await isWaiting;
  // A second receiver for the same room: its role is taken.
  await assert.rejects(
    receiveFiles({ via: rv.addr.address, code, dir: other }),
    (e: unknown) => isNetkitError(e, 'NETKIT_RENDEZVOUS_FULL') && /812/.test((e as Error).message),
  );
  // Slow the sender down so that the room is still paired when a third party knocks.
  const slow = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [rv.addr.address],
    faults: [{ type: 'bandwidth', stream: 'upstream', attributes: { rate: 8000 } }],
  });
  const sent = sendFiles([path.join(src, 'payload.bin')], { via: slow.address, code });
  await until(() => rv.rooms().some((r) => r.room === '812' && r.state === 'paired'), 5000, 'the pair');
  await assert.rejects(
    sendFiles([path.join(src, 'payload.bin')], { via: rv.addr.address, code }),
    (e: unknown) => isNetkitError(e, 'NETKIT_RENDEZVOUS_FULL'),
  );
  assert.equal((await sent).files, 1);
  const got = await recv;
  assert.equal(got.ok, true, got.error?.message);
  assert.equal(sha(await readFile(path.join(dst, 'payload.bin'))), sha(bytes));
  assert.deepEqual(await readdir(other), []);
});

test('a receiver killed mid-file through the rendezvous: the same code again resumes from its verified part', async (t) => {
  const rv = await rendezvous(t);
  const src = await tempDir(t, 'netkit-rv-src-');
  const dst = await tempDir(t, 'netkit-rv-dst-');
  const bytes = randomBytes(24 * 1024 * 1024);
  const file = path.join(src, 'big.bin');
  await writeFile(file, bytes);
  const code = '3071-meadow-copper-violin';
  // 8 MB/s toward the rendezvous: the kill lands well inside the file.
  const slow = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [rv.addr.address],
    faults: [{ type: 'bandwidth', stream: 'upstream', attributes: { rate: 8000 } }],
  });
  const first = spawnNetkit(['recv', '--via', rv.addr.address, code, '--dir', dst, '--json']);
  t.after(() => first.kill('SIGKILL'));
  await first.waitFor(/"event":"waiting"/);
  const cut = sendFiles([file], { via: slow.address, code, idleTimeout: 5000 }).catch((e: unknown) => e);
  await first.waitFor(/"event":"progress".*"bytes":\d{7,}/, 15_000);
  await first.kill('SIGKILL');
  const err = await cut;
  assert.ok(err instanceof Error, 'the first send fails once its receiver is gone');
  const names = await readdir(dst);
  assert.ok(names.includes('big.bin.part'), `a part stays: ${names}`);
  assert.ok(!names.includes('big.bin'));

  const second = spawnNetkit(['recv', '--via', rv.addr.address, code, '--dir', dst, '--json']);
  t.after(() => second.kill('SIGKILL'));
  await second.waitFor(/"event":"waiting"/);
  const sum = await sendFiles([file], { via: rv.addr.address, code });
  assert.equal(sum.files, 1);
  assert.ok(sum.sentBytes < bytes.length, `resumed: sent ${sum.sentBytes} of ${bytes.length}`);
  const exit = await second.exited;
  assert.equal(exit.code, 0, second.stderr());
  const fileLine = second
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"event":"file"'))
    .map((l) => JSON.parse(l) as { resumedFrom: number; status: string })[0];
  assert.ok(fileLine && fileLine.resumedFrom > 0 && fileLine.status === 'received', second.stdout());
  assert.equal(sha(await readFile(path.join(dst, 'big.bin'))), sha(bytes));
  assert.deepEqual((await readdir(dst)).sort(), ['big.bin']);
});
