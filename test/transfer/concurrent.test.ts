/**
 * Two senders at once into one receiving directory: neither can write the
 * other's file, nor get its own bytes placed under the other's name.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { sleep } from '../helpers/net.js';
import { encode, fileFrame, layout, RawSender, sha256, startReceiver, tree } from './helpers.js';

test('two senders announcing the same name at once: the second is refused while the first writes', async (t) => {
  const { dirs, a, b } = await twoSenders(t);
  const mine = Buffer.from('A'.repeat(10));
  await a.hello();
  assert.equal((await a.announce(fileFrame('f.txt', 10)))[0]?.type, 'accept');
  await a.write(Buffer.concat([encode({ type: 'data', offset: 0 }), mine.subarray(0, 5)]));
  await b.hello();
  const [refused] = await b.announce(fileFrame('f.txt', 3));
  assert.equal(refused?.code, 'NETKIT_TRANSFER_EXISTS');
  await a.write(Buffer.concat([mine.subarray(5), encode({ type: 'end', sha256: sha256(mine) })]));
  assert.equal((await a.next())?.type, 'done');
  assert.equal(await readFile(path.join(dirs.target, 'f.txt'), 'utf8'), mine.toString());
});

test('a sender whose file is named like another transfer’s partial file cannot swap that file’s content', async (t) => {
  const { dirs, a, b } = await twoSenders(t);
  const mine = Buffer.from('the real f.txt');
  await a.hello();
  assert.equal((await a.announce(fileFrame('f.txt', mine.length)))[0]?.type, 'accept');
  // A is mid-file: its bytes are going into `f.txt.part`.
  await a.write(Buffer.concat([encode({ type: 'data', offset: 0 }), mine.subarray(0, 4)]));
  await sleep(50);
  // B sends a whole file whose name is exactly that partial file's.
  const evil = Buffer.from('evil');
  await b.hello();
  const [answer] = await b.announce(fileFrame('f.txt.part', evil.length));
  if (answer?.type === 'accept') await b.sendFile(evil);
  await a.write(Buffer.concat([mine.subarray(4), encode({ type: 'end', sha256: sha256(mine) })]));
  const done = await a.next();
  // A either completes with its own verified bytes or is told it failed; never done with B's bytes.
  if (done?.type === 'done') {
    assert.equal(await readFile(path.join(dirs.target, 'f.txt'), 'utf8'), mine.toString());
  } else {
    assert.equal(done?.type, 'error');
    assert.ok(!(await tree(dirs.target)).includes('f.txt'));
  }
});

/** twoSenders starts an overwriting receiver (plain, for the raw senders) and connects two raw senders to it. */
async function twoSenders(t: TestContext) {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, overwrite: 'overwrite', plain: true });
  const a = await RawSender.connect(recv.port);
  const b = await RawSender.connect(recv.port);
  t.after(() => {
    a.destroy();
    b.destroy();
  });
  return { dirs, a, b };
}
