/**
 * The encrypted transfer under attack, on loopback: a stranger sending
 * malformed key-exchange shares and oversized or misplaced frames, bytes
 * that are not records after the handshake, guessers opening connections in
 * parallel, and a peer that knows the code and sends what `netkit send`
 * never would. The receiver refuses each with the right code, writes
 * nothing outside its directory, and never holds more than its limits.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { MAGIC } from '../../src/transfer/index.js';
import { BATCH_ENTRIES, magicOf } from '../../src/transfer/protocol.js';
import { CodeSecret } from '../../src/transfer/secure/handshake.js';
import { until } from '../helpers/net.js';
import { fileEntry } from '../helpers/sealed-sender.js';
import {
  encode,
  type Frame,
  layout,
  RawSender,
  SealedSender,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

const CODE = '4711-orbit-velvet-lantern';
/** file announces a regular file; `path` goes out exactly as given. */
const file = (p: string, size = 1) => fileEntry(p, size);

/** refusal connects, writes `bytes` and returns the receiver's first frame. */
async function refusal(port: number, ...bytes: Buffer[]): Promise<Frame | null> {
  const raw = await RawSender.connect(port);
  try {
    await raw.write(Buffer.concat(bytes));
    return await raw.next();
  } finally {
    raw.destroy();
  }
}

/** header is a 4-byte big-endian length. */
function header(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

test('key-exchange shares that are not a P-256 point are refused before any answer, and are not counted as guesses', async (t) => {
  const recv = await startReceiver(t, { dir: await tempDir(t), code: CODE });
  const hello = (pake: string) => encode({ type: 'hello', version: 2, pake });
  const cases: [string, string][] = [
    [`04${'11'.repeat(64)}`, 'NETKIT_TRANSFER_AUTH'], // right length and prefix, off the curve
    [`02${'11'.repeat(64)}`, 'NETKIT_TRANSFER_AUTH'], // a compressed-point prefix
    [`04${'00'.repeat(64)}`, 'NETKIT_TRANSFER_AUTH'], // (0, 0)
    ['00', 'NETKIT_TRANSFER_PROTOCOL'], // the identity's encoding: not 65 bytes
    [`04${'11'.repeat(63)}`, 'NETKIT_TRANSFER_PROTOCOL'], // a byte short
  ];
  for (const [pake, code] of cases) {
    const f = await refusal(recv.port, MAGIC, hello(pake));
    assert.equal(f?.type, 'error', pake);
    assert.equal(f?.code, code, pake);
    assert.equal(f?.confirm, undefined, 'no confirmation for a share that is not a point');
  }
  assert.equal(recv.events.filter((e) => e.type === 'wrong-code').length, 0);
  assert.equal(recv.summaries.length, 0);
});

test('an oversized hello, a confirm before the hello and mismatched versions are refused at once', async (t) => {
  const recv = await startReceiver(t, { dir: await tempDir(t), code: CODE });
  for (const len of [64 * 1024 + 1, 2 ** 32 - 1]) {
    const f = await refusal(recv.port, MAGIC, header(len));
    assert.equal(f?.code, 'NETKIT_TRANSFER_PROTOCOL');
    assert.match(String(f?.message), /over the 65536-byte limit/);
  }
  const early = await refusal(recv.port, MAGIC, encode({ type: 'confirm', mac: 'ab'.repeat(32) }));
  assert.match(String(early?.message), /expected a "hello" frame, got "confirm"/);
  // The magic of protocol 2 with a hello of protocol 1: the refusal names both, not "version 2 is not supported".
  const mixed = await refusal(
    recv.port,
    magicOf(2),
    encode({ type: 'hello', version: 1, nonce: 'ab'.repeat(16) }),
  );
  assert.equal(mixed?.code, 'NETKIT_TRANSFER_PROTOCOL');
  assert.doesNotMatch(String(mixed?.message), /version 2 is not supported \(this receiver speaks 2\)/);
  assert.match(String(mixed?.message), /magic.*2.*hello.*1/);
});

test('after the handshake, bytes that are not a record (a cleartext frame, lengths 0, 16, 2^32-1) end the session with NETKIT_TRANSFER_INTEGRITY', async (t) => {
  const { target } = await layout(t);
  const recv = await startReceiver(t, { dir: target, code: CODE });
  const junk = [
    encode({ ...file('cleartext.txt') }),
    header(0),
    header(16),
    Buffer.concat([header(2 ** 32 - 1), Buffer.alloc(64)]),
    Buffer.concat([header(256 * 1024 + 2 * 256 + 16), Buffer.alloc(64)]),
  ];
  for (const bytes of junk) {
    const s = await SealedSender.connect(recv.address, CODE);
    await new Promise<void>((resolve, reject) =>
      s.conn.socket.write(bytes, (e) => (e ? reject(e) : resolve())),
    );
    const f = await s.next();
    s.destroy();
    assert.equal(f?.type, 'error');
    assert.equal(f?.type === 'error' && f.code, 'NETKIT_TRANSFER_INTEGRITY');
    assert.match(f?.type === 'error' ? f.message : '', /record 0 from the sender was rejected/);
  }
  assert.deepEqual(await tree(target), []);
});

test('a peer with the code cannot climb out of --dir or lie about offsets inside records', async (t) => {
  const { parent, target } = await layout(t);
  const recv = await startReceiver(t, { dir: target, code: CODE });
  for (const p of ['../evil', 'a/../../evil', '/etc/evil', 'a\\..\\evil', 'C:evil']) {
    const s = await SealedSender.connect(recv.address, CODE);
    const [answer] = await s.announce(file(p));
    s.destroy();
    assert.equal(answer?.type, 'error', p);
    assert.equal(answer?.type === 'error' && answer.code, 'NETKIT_TRANSFER_PATH', p);
  }
  const s = await SealedSender.connect(recv.address, CODE);
  const [accept] = await s.announce(file('o.bin', 3));
  assert.equal(accept?.type === 'accept' && accept.offset, 0);
  await s.send({ type: 'data', offset: 5 });
  const f = await s.next();
  s.destroy();
  assert.equal(f?.type === 'error' && f.code, 'NETKIT_TRANSFER_PROTOCOL');
  assert.deepEqual(await readdir(parent), ['target']);
  assert.deepEqual(await tree(target), []);
});

test('a path over the limit is refused as it is announced, not after the batch it could fill memory with', async (t) => {
  const { target } = await layout(t);
  const recv = await startReceiver(t, { dir: target, code: CODE });
  const s = await SealedSender.connect(recv.address, CODE);
  t.after(() => s.destroy());
  // A 60 KiB path fits in a frame; 1,000,000 of them before "plan" would be 60 GB held.
  await s.send({ type: 'dir', path: 'made-early', mode: 0o755, mtime: 0 }, file('x'.repeat(60_000)));
  const f = await s.next(2000);
  s.destroy();
  assert.equal(f?.type === 'error' && f.code, 'NETKIT_TRANSFER_PATH');
  assert.deepEqual(await tree(target), [], 'nothing of the batch was made');
});

test(`a batch of more than ${BATCH_ENTRIES} entries before "plan" is refused, so one batch stays bounded`, async (t) => {
  const { target } = await layout(t);
  const recv = await startReceiver(t, { dir: target, code: CODE });
  const s = await SealedSender.connect(recv.address, CODE);
  t.after(() => s.destroy());
  await s.send(...Array.from({ length: BATCH_ENTRIES + 1 }, (_, i) => file(`f${i}`)));
  const f = await s.next(2000);
  s.destroy();
  assert.equal(f?.type === 'error' && f.code, 'NETKIT_TRANSFER_LIMIT');
  assert.deepEqual(await tree(target), []);
  // A batch of exactly BATCH_ENTRIES, as sendFiles sends, is fine.
  const ok = await SealedSender.connect(recv.address, CODE);
  t.after(() => ok.destroy());
  const answers = await ok.announce(...Array.from({ length: BATCH_ENTRIES }, (_, i) => file(`g${i}`, 0)));
  assert.equal(answers.length, BATCH_ENTRIES);
  ok.destroy();
  assert.ok(answers.every((a) => a.type === 'accept'));
});

test('guesses opened in parallel are slowed as they are answered: a burst gets three answers at once, not one per connection', async (t) => {
  const recv = await startReceiver(t, { dir: await tempDir(t), code: CODE });
  const started = performance.now();
  const guessers = await Promise.all(Array.from({ length: 5 }, () => RawSender.connect(recv.port)));
  t.after(() => {
    for (const g of guessers) g.destroy();
  });
  // Each holds its connection open after the answer, so none of the guesses is settled yet.
  const answeredAt = await Promise.all(
    guessers.map(async (g, i) => {
      const share = new CodeSecret(`1-parallel-guess-${i}`).exchange('sender').share.toString('hex');
      await g.write(Buffer.concat([MAGIC, encode({ type: 'hello', version: 2, pake: share })]));
      const h = await g.next();
      assert.equal(h?.type, 'hello');
      return performance.now() - started;
    }),
  );
  answeredAt.sort((a, b) => a - b);
  // Three free answers, then 250 ms, then 500 ms more, as if the first three had been wrong.
  assert.ok(
    answeredAt[3]! - answeredAt[0]! >= 240,
    `the fourth answer came ${answeredAt[3]! - answeredAt[0]!} ms after the first`,
  );
  assert.ok(
    answeredAt[4]! - answeredAt[0]! >= 740,
    `the fifth answer came ${answeredAt[4]! - answeredAt[0]!} ms after the first`,
  );
  for (const g of guessers) g.destroy();
  await until(
    () => recv.events.filter((e) => e.type === 'wrong-code').length === 5,
    5000,
    'five wrong codes',
  );
});
