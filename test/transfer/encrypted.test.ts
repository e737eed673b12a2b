/**
 * RELIABILITY 42, and the encrypted protocol's promises: what crosses the
 * network holds none of a file's bytes, names or sizes; a wrong code, a
 * record flipped, dropped, replayed or reordered on the path, and a
 * recorded session played again are each detected, and nothing lands
 * under a final name.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { dial } from '../../src/tcp/index.js';
import { MAGIC, sendFiles, type TransferEvent } from '../../src/transfer/index.js';
import { CodeSecret, sealAsSender } from '../../src/transfer/secure/handshake.js';
import { Wire } from '../../src/transfer/wire.js';
import { until } from '../helpers/net.js';
import { type Direction, startTap, type UnitHook } from '../helpers/record-tap.js';
import { encode, RawSender, sha256, startReceiver, tempDir } from './helpers.js';

const CODE = '4711-orbit-velvet-lantern';
/** SHARE is a valid SPAKE2 share, for hellos that never go further. */
const SHARE = new CodeSecret('1-stalled-hello').exchange('sender').share.toString('hex');
const BIG = 3 * 1024 * 1024 + 5; // an odd size: its decimal form is easy to look for
const NAME = 'quarterly-secret-plans.bin';

async function source(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t, 'netkit-enc-src-');
  const big = randomBytes(BIG);
  await writeFile(path.join(dir, NAME), big);
  await writeFile(path.join(dir, 'note.txt'), 'TOP-SECRET-NOTE-CONTENT-0042');
  return { dir, big, file: path.join(dir, NAME) };
}

function portOf(address: string) {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

test('42: traffic between the sides holds no file bytes, names or sizes, and record lengths are padded', async (t) => {
  const src = await source(t);
  const dst = await tempDir(t, 'netkit-enc-dst-');
  const recv = await startReceiver(t, { dir: dst, code: CODE });
  const tap = await startTap(t, portOf(recv.address));
  const sum = await sendFiles([src.dir], tap.address, { code: CODE });
  assert.equal(sum.files, 2);
  const got = await readFile(path.join(dst, path.basename(src.dir), NAME));
  assert.equal(sha256(got), sha256(src.big));
  const wire = Buffer.concat([tap.all('toTarget'), tap.all('toClient')]);
  assert.ok(tap.all('toTarget').length > BIG, 'the file crossed the tap');
  for (const needle of [NAME, 'quarterly', path.basename(src.dir), 'note.txt', 'TOP-SECRET', String(BIG)]) {
    assert.equal(wire.includes(Buffer.from(needle)), false, `${needle} is visible on the wire`);
  }
  // Windows of the file's own bytes, from its start, middle and end.
  for (const at of [0, 4096, BIG >> 1, BIG - 64]) {
    assert.equal(wire.includes(src.big.subarray(at, at + 32)), false, `file bytes at ${at} are visible`);
  }
  // The code never crosses either: only the room number would, through a rendezvous.
  assert.equal(wire.includes(Buffer.from('orbit')), false);
  // After the magic and two handshake frames, every unit is a record: 16 bytes of tag plus a multiple of 256.
  const units = split(tap.all('toTarget').subarray(6));
  assert.ok(units.length > 4);
  for (const u of units.slice(2)) assert.equal((u.length - 4 - 16) % 256, 0, `record of ${u.length} bytes`);
});

/** split cuts a stream into its 4-byte-length units. */
function split(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 4 <= b.length; ) {
    const len = b.readUInt32BE(at);
    out.push(b.subarray(at, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** Units toward the receiver: 0 hello, 1 confirm, then records (2: the batch, 3: "data", 4…: 1 MiB of the file each). */
const TARGET_RECORD = 5;

const attacks: { name: string; dir: Direction; hook: () => UnitHook }[] = [
  {
    name: 'a byte flipped in a record',
    dir: 'toTarget',
    hook: () => (_d, i, u) => {
      if (i === TARGET_RECORD) u[u.length >> 1]! ^= 0x01;
      return [u];
    },
  },
  { name: 'a record dropped', dir: 'toTarget', hook: () => (_d, i, u) => (i === TARGET_RECORD ? [] : [u]) },
  {
    name: 'a record replayed',
    dir: 'toTarget',
    hook: () => (_d, i, u) => (i === TARGET_RECORD ? [u, u] : [u]),
  },
  {
    name: 'two records reordered',
    dir: 'toTarget',
    hook: () => {
      let held: Buffer | undefined;
      return (_d, i, u) => {
        if (i === TARGET_RECORD) {
          held = u;
          return [];
        }
        if (i === TARGET_RECORD + 1 && held) return [u, held];
        return [u];
      };
    },
  },
  {
    name: 'one byte dropped from a record',
    dir: 'toTarget',
    hook: () => (_d, i, u) =>
      i === TARGET_RECORD ? [Buffer.concat([u.subarray(0, 100), u.subarray(101)])] : [u],
  },
  {
    name: "a byte flipped in the receiver's answer",
    dir: 'toClient',
    // Units toward the sender: 0 hello, 1 ready, 2 the batch's answers.
    hook: () => (_d, i, u) => {
      if (i === 2) u[u.length - 3]! ^= 0x80;
      return [u];
    },
  },
];

for (const a of attacks) {
  test(`42: ${a.name} on the path is NETKIT_TRANSFER_INTEGRITY; nothing lands under a final name`, async (t) => {
    const src = await source(t);
    const dst = await tempDir(t, 'netkit-enc-dst-');
    const recv = await startReceiver(t, { dir: dst, code: CODE });
    const hook = a.hook();
    const tap = await startTap(t, portOf(recv.address), (d, i, u) => (d === a.dir ? hook(d, i, u) : [u]));
    const err = await sendFiles([src.file], tap.address, { code: CODE, idleTimeout: 5000 }).then(
      () => assert.fail('the transfer succeeded'),
      (e: unknown) => e,
    );
    if (a.dir === 'toClient') {
      // The sender read the changed record itself.
      assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_INTEGRITY'), String(err));
      assert.equal((err as { remote?: boolean }).remote, false);
    } else {
      const s = await recv.summary();
      assert.equal(s.ok, false);
      assert.equal(s.error?.code, 'NETKIT_TRANSFER_INTEGRITY', s.error?.message);
      assert.match(s.error!.message, /changed, dropped, replayed or reordered/);
      // The receiver said so, inside the session the sender still reads.
      assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_INTEGRITY'), String(err));
    }
    assert.deepEqual(
      (await readdir(dst)).filter((n) => !n.includes('.part')),
      [],
      'no file under its final name',
    );
  });
}

test('42: a wrong code ends the session after one exchange: NETKIT_TRANSFER_AUTH on both sides, nothing written or counted', async (t) => {
  const src = await source(t);
  const dst = await tempDir(t, 'netkit-enc-dst-');
  const recv = await startReceiver(t, { dir: dst, code: CODE });
  const tap = await startTap(t, portOf(recv.address));
  const err = await sendFiles([src.file], tap.address, { code: '4711-orbit-velvet-lanterns' }).catch(
    (e) => e,
  );
  assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_AUTH'), String(err));
  assert.match((err as Error).message, /wrong code/);
  // The receiver learns it from the sender's refusal, which may still be on its way.
  await until(() => recv.events.some((e) => e.type === 'wrong-code'), 5000, 'the wrong-code event');
  // One exchange: the hello each way and the sender's refusal; no record crossed.
  assert.equal(split(tap.all('toTarget').subarray(6)).length, 2);
  const wrong = recv.events.filter((e) => e.type === 'wrong-code');
  assert.deepEqual(wrong, [{ type: 'wrong-code', failures: 1, delayMs: 0 }]);
  assert.deepEqual(await readdir(dst), []);
  assert.equal(recv.summaries.length, 0, 'a wrong code is not a transfer');
  // The right code still works, and resets the count.
  await sendFiles([src.file], recv.address, { code: CODE });
  assert.equal((await recv.summary()).ok, true);
});

test('42: a recorded session played back to a receiver with the same code gets no further than the code check', async (t) => {
  const src = await source(t);
  const first = await tempDir(t, 'netkit-enc-dst-');
  const recv = await startReceiver(t, { dir: first, code: CODE });
  const tap = await startTap(t, portOf(recv.address));
  await sendFiles([src.file], tap.address, { code: CODE });
  const recorded = tap.all('toTarget');

  const second = await tempDir(t, 'netkit-enc-dst-');
  const victim = await startReceiver(t, { dir: second, code: CODE });
  const answer = await new Promise<Buffer>((resolve, reject) => {
    const parts: Buffer[] = [];
    const s = net.connect(victim.port, '127.0.0.1', () => s.end(recorded));
    s.on('data', (d) => parts.push(d));
    s.on('close', () => resolve(Buffer.concat(parts)));
    s.on('error', reject);
  });
  const frames = split(answer).map((u) => JSON.parse(u.subarray(4).toString()) as Record<string, unknown>);
  assert.equal(frames[0]?.type, 'hello');
  assert.deepEqual(
    { type: frames[1]?.type, code: frames[1]?.code },
    { type: 'error', code: 'NETKIT_TRANSFER_AUTH' },
  );
  assert.equal(frames.length, 2);
  assert.deepEqual(
    victim.events.filter((e: TransferEvent) => e.type === 'wrong-code').length,
    1,
    'the replay counts as a wrong guess',
  );
  assert.deepEqual(await readdir(second), []);
  assert.equal(victim.summaries.length, 0);
});

test('wrong codes in a row slow the receiver down, and say so; the right code resets it', async (t) => {
  const src = await source(t);
  const dst = await tempDir(t, 'netkit-enc-dst-');
  const recv = await startReceiver(t, { dir: dst, code: CODE });
  const wrongCount = () => recv.events.filter((e) => e.type === 'wrong-code').length;
  const span: { from: number; to: number }[] = [];
  for (let i = 0; i < 4; i++) {
    const started = performance.now();
    const err = await sendFiles([src.file], recv.address, { code: `1-wrong-guess-${i}` }).catch((e) => e);
    span.push({ from: started, to: performance.now() });
    assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_AUTH'));
    await until(() => wrongCount() === i + 1, 5000, `wrong-code event ${i + 1}`);
  }
  const wrong = recv.events.filter((e) => e.type === 'wrong-code');
  assert.deepEqual(
    wrong.map((e) => (e.type === 'wrong-code' ? [e.failures, e.delayMs] : [])),
    [
      [1, 0],
      [2, 0],
      [3, 250],
      [4, 500],
    ],
  );
  // The fourth guess was answered only after the delay the third set.
  // The fourth answer came at least 250 ms after the third (which was answered within the third's span).
  const gap = span[3]!.to - span[2]!.from;
  assert.ok(gap >= 250, `the third and fourth guesses spanned only ${gap} ms`);
  await sendFiles([src.file], recv.address, { code: CODE });
  await sendFiles([src.file], recv.address, { code: '1-wrong-again' }).catch(() => {});
  await until(() => wrongCount() === 5, 5000, 'wrong-code event 5');
  const last = recv.events.filter((e) => e.type === 'wrong-code').at(-1);
  assert.deepEqual(last, { type: 'wrong-code', failures: 1, delayMs: 0 });
});

test('an encrypted sender and a plain receiver (and the reverse) refuse each other, naming --plain', async (t) => {
  const src = await source(t);
  const plainDir = await tempDir(t, 'netkit-enc-dst-');
  const plain = await startReceiver(t, { dir: plainDir, plain: true });
  const e1 = await sendFiles([src.file], plain.address, { code: CODE }).catch((e) => e);
  assert.ok(isNetkitError(e1, 'NETKIT_TRANSFER_PROTOCOL'), String(e1));
  assert.match((e1 as Error).message, /--plain/);
  const encDir = await tempDir(t, 'netkit-enc-dst-');
  const enc = await startReceiver(t, { dir: encDir, code: CODE });
  const e2 = await sendFiles([src.file], enc.address, { plain: true }).catch((e) => e);
  assert.ok(isNetkitError(e2, 'NETKIT_TRANSFER_PROTOCOL'), String(e2));
  assert.match((e2 as Error).message, /--plain/);
  assert.deepEqual(await readdir(plainDir), []);
  assert.deepEqual(await readdir(encDir), []);
});

test('sendFiles without a code in direct mode is refused before it dials, naming the code', async () => {
  await assert.rejects(
    sendFiles(['/nonexistent'], '127.0.0.1:1', {}),
    (e: unknown) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT') && /code/.test((e as Error).message),
  );
});

test('a guesser that leaves after the receiver answered still counts as a wrong code, so it cannot dodge the slow-down', async (t) => {
  const dst = await tempDir(t, 'netkit-enc-dst-');
  const recv = await startReceiver(t, { dir: dst, code: CODE });
  const wrongCount = () => recv.events.filter((e) => e.type === 'wrong-code').length;
  for (let i = 1; i <= 4; i++) {
    // The receiver's hello holds its confirmation: enough for the guesser to check its guess offline, then hang up.
    const raw = await RawSender.connect(recv.port);
    const hello = await raw.pakeHello(`1-probe-guess-${i}`);
    assert.equal(hello.type, 'hello');
    assert.equal(typeof hello.confirm, 'string');
    raw.destroy();
    await until(() => wrongCount() === i, 5000, `wrong-code event ${i}`);
  }
  const last = recv.events.filter((e) => e.type === 'wrong-code').at(-1);
  assert.deepEqual(last, { type: 'wrong-code', failures: 4, delayMs: 500 });
  assert.deepEqual(await readdir(dst), []);
});

test('hellos that stall while the receiver is slowed do not book turns ahead: a newcomer past the handshake deadline is told it is busy at once', async (t) => {
  const src = await source(t);
  const dst = await tempDir(t, 'netkit-enc-dst-');
  const recv = await startReceiver(t, { dir: dst, code: CODE, handshakeTimeout: 3000 });
  for (let i = 0; i < 6; i++)
    await sendFiles([src.file], recv.address, { code: `1-wrong-${i}` }).catch(() => {});
  await until(() => recv.events.filter((e) => e.type === 'wrong-code').length === 6, 5000, 'six wrong codes');
  // 4 s between answers now: twenty stalled hellos fill every turn the deadline allows.
  const stalled = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const raw = await RawSender.connect(recv.port);
      await raw.write(Buffer.concat([MAGIC, encode({ type: 'hello', version: 2, pake: SHARE })]));
      return raw;
    }),
  );
  t.after(() => {
    for (const s of stalled) s.destroy();
  });
  const started = performance.now();
  const err = await sendFiles([src.file], recv.address, { code: CODE }).catch((e) => e);
  assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_BUSY'), String(err));
  assert.match((err as Error).message, /slowing down after \d+ wrong codes/);
  assert.ok(performance.now() - started < 2000, 'refused at once, not after the deadline');
});

test('a guesser slows down its own address only: an honest sender on another address gets through at once', async (t) => {
  const src = await source(t);
  const dst = await tempDir(t, 'netkit-enc-dst-');
  const recv = await startReceiver(t, { dir: dst, code: CODE });
  // Eight wrong codes from 127.0.0.1: that address now waits 4 s per answer.
  for (let i = 0; i < 8; i++)
    await sendFiles([src.file], recv.address, { code: `1-wrong-${i}` }).catch(() => {});
  await until(
    () => recv.events.filter((e) => e.type === 'wrong-code').length === 8,
    10_000,
    'eight wrong codes',
  );
  assert.deepEqual(recv.events.at(-1), { type: 'wrong-code', failures: 8, delayMs: 4000 });
  // The right code from 127.0.0.2 (loopback is a /8) is answered without waiting.
  const started = performance.now();
  const conn = await dial(recv.address, { localAddress: '127.0.0.2' });
  t.after(() => conn.destroy());
  await sealAsSender(new Wire(conn, 'receiver'), new CodeSecret(CODE));
  assert.ok(performance.now() - started < 1500, `took ${performance.now() - started} ms`);
});
