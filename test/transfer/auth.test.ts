/**
 * The shared code (`--code`): a sender that cannot prove it knows the code
 * writes nothing and is not counted as a transfer; a sender never sends to a
 * receiver that cannot prove it knows the code.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { isNetkitError, type TransferError } from '../../src/errors.js';
import { MAGIC, sendFiles } from '../../src/transfer/index.js';
import { sleep } from '../helpers/net.js';
import { encode, fileFrame, layout, RawSender, startReceiver, tempDir, tree } from './helpers.js';

const CODE = 'correct horse battery staple';

async function source(t: import('node:test').TestContext): Promise<string> {
  const src = path.join(await tempDir(t), 'f.txt');
  await writeFile(src, 'secret payload');
  return src;
}

const authError = (err: unknown) => isNetkitError(err, 'NETKIT_TRANSFER_AUTH');

test('auth: a wrong code, or none, is NETKIT_TRANSFER_AUTH; nothing is written and nothing is counted', async (t) => {
  const dirs = await layout(t);
  const file = await source(t);
  const recv = await startReceiver(t, { dir: dirs.target, code: CODE });
  // The receiver checks a wrong proof and says so; the sender's error is the receiver's.
  const wrong = await sendFiles([file], recv.address, { code: 'wrong horse' }).catch((e: unknown) => e);
  assert.ok(authError(wrong), String(wrong));
  assert.equal((wrong as TransferError).remote, true);
  // Whitespace is not part of the code, but case is.
  await assert.rejects(sendFiles([file], recv.address, { code: CODE.toUpperCase() }), authError);
  // Without a code the sender stops by itself on seeing the receiver wants one.
  await assert.rejects(sendFiles([file], recv.address), authError);
  await sleep(200);
  assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);

  // The first transfer the receiver reports is the one with the right code.
  const ok = await sendFiles([file], recv.address, { code: `  correct   horse battery\tstaple ` });
  assert.equal(ok.files, 1);
  const first = await recv.receiver.next();
  assert.equal(first?.ok, true);
  assert.equal(first?.files, 1);
  assert.equal(recv.summaries.length, 1);
  assert.deepEqual(await tree(dirs.target), ['f.txt']);
});

test('auth: a sender with a code will not send to a receiver without one', async (t) => {
  const dirs = await layout(t);
  const file = await source(t);
  const recv = await startReceiver(t, { dir: dirs.target });
  await assert.rejects(sendFiles([file], recv.address, { code: CODE }), authError);
  await sleep(200);
  assert.ok(recv.summaries.every((s) => !s.ok && s.files === 0));
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});

test('auth: a raw sender that skips the proof, or sends a forged one, is refused before any entry is read', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, code: CODE });
  const attempts = [
    [fileFrame('f.txt', 3), { type: 'plan' }],
    [{ type: 'auth', proof: '0'.repeat(64) }, fileFrame('f.txt', 3), { type: 'plan' }],
    [{ type: 'auth', proof: 'not hex' }],
    [{ type: 'auth-ok', proof: '0'.repeat(64) }],
  ];
  for (const frames of attempts) {
    const raw = await RawSender.connect(recv.port);
    t.after(() => raw.destroy());
    const hello = await raw.hello();
    assert.equal(hello.auth, true);
    await raw.send(...frames);
    const reply = await raw.next();
    assert.equal(reply?.type, 'error', JSON.stringify(frames[0]));
    assert.match(String(reply?.code), /^NETKIT_TRANSFER_(AUTH|PROTOCOL)$/);
    // Nothing after the refusal: the connection ends.
    assert.equal(await raw.next(), null);
  }
  await sleep(100);
  assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});

test('auth: a fake receiver that does not know the code gets no file bytes', async (t) => {
  const file = await source(t);
  let got = Buffer.alloc(0);
  // It plays along: says it uses a code, then answers the proof with a made-up one.
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      const first = got.length === 0;
      got = Buffer.concat([got, d]);
      if (first) {
        s.write(encode({ type: 'hello', version: 1, nonce: randomBytes(16).toString('hex'), auth: true }));
      } else if (got.includes('"auth"')) {
        s.write(encode({ type: 'auth-ok', proof: randomBytes(32).toString('hex') }));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as net.AddressInfo).port;
  await assert.rejects(sendFiles([file], `127.0.0.1:${port}`, { code: CODE }), authError);
  assert.ok(got.subarray(0, MAGIC.length).equals(MAGIC));
  // The proof went out, but not the entry list, let alone the file.
  assert.ok(!got.includes('f.txt'), got.toString('latin1'));
  assert.ok(!got.includes('secret payload'));
});
