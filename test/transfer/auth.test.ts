/**
 * The shared code (`--code`). Encrypted (the default): the two sides run
 * SPAKE2 on it, so a wrong code is found after one exchange, on both sides,
 * before any entry crosses. Plain (`--plain`, protocol 1): the code only
 * authenticates, with HMAC proofs. Either way a sender that cannot prove it
 * knows the code writes nothing and is not counted as a transfer, a sender
 * never sends to a receiver that cannot prove it knows the code, and the
 * two protocols refuse each other with a sentence naming --plain.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { isNetkitError, type TransferError } from '../../src/errors.js';
import { MAGIC, sendFiles } from '../../src/transfer/index.js';
import { CodeSecret } from '../../src/transfer/secure/handshake.js';
import { sleep, until } from '../helpers/net.js';
import {
  encode,
  type Frame,
  fileFrame,
  layout,
  PLAIN_MAGIC,
  RawSender,
  type Recv,
  send,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

const CODE = 'correct horse battery staple';

async function source(t: TestContext): Promise<string> {
  const src = path.join(await tempDir(t), 'f.txt');
  await writeFile(src, 'secret payload');
  return src;
}

const authError = (err: unknown) => isNetkitError(err, 'NETKIT_TRANSFER_AUTH');

/** wrongCodes counts the wrong codes the receiver reported (its side of NETKIT_TRANSFER_AUTH). */
const wrongCodes = (recv: Recv) => recv.events.filter((e) => e.type === 'wrong-code').length;

test('auth: a wrong code is NETKIT_TRANSFER_AUTH on both sides after one exchange; nothing is written and nothing is counted', async (t) => {
  const dirs = await layout(t);
  const file = await source(t);
  const recv = await startReceiver(t, { dir: dirs.target, code: CODE });
  for (const [i, code] of ['wrong horse', 'correct horse battery stapler'].entries()) {
    const err = await sendFiles([file], recv.address, { code }).catch((e: unknown) => e);
    assert.ok(authError(err), `${code}: ${err}`);
    await until(() => wrongCodes(recv) === i + 1, 2000, `the receiver to see wrong code #${i + 1} too`);
  }
  await sleep(200);
  assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);

  // Case, spaces and hyphens are not part of the code. The first transfer reported is this one.
  const ok = await sendFiles([file], recv.address, { code: `  Correct   HORSE-battery\tstaple ` });
  assert.equal(ok.files, 1);
  const first = await recv.receiver.next();
  assert.equal(first?.ok, true);
  assert.equal(first?.files, 1);
  assert.equal(recv.summaries.length, 1);
  assert.deepEqual(await tree(dirs.target), ['f.txt']);
});

test('auth: a code on one side only: a receiver without one has its own, and a sender without one does not dial', async (t) => {
  const dirs = await layout(t);
  const file = await source(t);
  const recv = await startReceiver(t, { dir: dirs.target });
  assert.match(String(recv.code), /^\d{1,4}(-[a-z]+){3}$/);
  await assert.rejects(sendFiles([file], recv.address, { code: CODE }), authError);
  await until(() => wrongCodes(recv) === 1, 2000, 'the receiver to see the wrong code too');

  // A listener that counts, to prove a sender without a code never even connects.
  let connections = 0;
  const counter = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => counter.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => counter.close(() => r())));
  const port = (counter.address() as net.AddressInfo).port;
  await assert.rejects(sendFiles([file], `127.0.0.1:${port}`), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'code',
  });
  await sleep(200);
  assert.equal(connections, 0);
  assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});

test('auth: plain and encrypted sides refuse each other with NETKIT_TRANSFER_PROTOCOL naming --plain; nothing is written', async (t) => {
  const dirs = await layout(t);
  const file = await source(t);
  const plain = await startReceiver(t, { dir: dirs.target, plain: true });
  const plainWithCode = await startReceiver(t, { dir: dirs.target, plain: true, code: CODE });
  const encrypted = await startReceiver(t, { dir: dirs.target, code: CODE });
  const cases: [string, Recv, { code?: string; plain?: boolean }][] = [
    ['an encrypted sender to a plain receiver', plain, { code: CODE }],
    ['an encrypted sender to a plain receiver with the same code', plainWithCode, { code: CODE }],
    ['a plain sender to an encrypted receiver', encrypted, { plain: true }],
    ['a plain sender with the code to an encrypted receiver', encrypted, { plain: true, code: CODE }],
  ];
  for (const [name, recv, options] of cases) {
    const err = await sendFiles([file], recv.address, options).catch((e: unknown) => e);
    assert.ok(isNetkitError(err, 'NETKIT_TRANSFER_PROTOCOL'), `${name}: ${err}`);
    assert.match((err as Error).message, /--plain/, name);
  }
  await sleep(200);
  assert.equal(wrongCodes(encrypted), 0, 'a protocol mismatch is not a wrong code');
  for (const recv of [plain, plainWithCode, encrypted]) assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});

/**
 * refusedBeforeEntries opens one raw session per attempt on a receiver with
 * CODE, lets `opening` do the handshake up to the proof, sends the frames,
 * and checks that a refusal comes and then nothing: no entry is read, no
 * transfer counted, nothing written.
 */
async function refusedBeforeEntries(
  t: TestContext,
  plain: boolean,
  opening: (raw: RawSender) => Promise<void>,
  attempts: Frame[][],
): Promise<void> {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain, code: CODE });
  for (const frames of attempts) {
    const raw = await RawSender.connect(recv.port);
    t.after(() => raw.destroy());
    await opening(raw);
    await raw.send(...frames);
    const reply = await raw.next();
    assert.equal(reply?.type, 'error', JSON.stringify(frames[0]));
    assert.match(String(reply?.code), /^NETKIT_TRANSFER_(AUTH|PROTOCOL)$/);
    // Nothing after the refusal (no "ready", no record): the connection ends.
    assert.equal(await raw.next(), null);
  }
  await sleep(100);
  assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);
}

test('auth: a raw sender that skips the confirmation, or forges one, is refused before any entry is read', async (t) => {
  // The right code's share: only the confirmation is missing or forged.
  await refusedBeforeEntries(
    t,
    false,
    async (raw) => assert.equal(typeof (await raw.pakeHello(CODE)).confirm, 'string'),
    [
      [fileFrame('f.txt', 3), { type: 'plan' }],
      [{ type: 'confirm', mac: '0'.repeat(64) }, fileFrame('f.txt', 3), { type: 'plan' }],
      [{ type: 'confirm', mac: 'not hex' }],
    ],
  );
});

test('auth: a fake receiver that does not know the code gets neither the sender’s confirmation nor any record', async (t) => {
  const file = await source(t);
  let got = Buffer.alloc(0);
  let answered = false;
  // It plays along with a guess: a real SPAKE2 share and confirmation, for another code.
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      got = Buffer.concat([got, d]);
      const at = MAGIC.length;
      if (answered || got.length < at + 4 || got.length < at + 4 + got.readUInt32BE(at)) return;
      answered = true;
      const hello = JSON.parse(got.subarray(at + 4, at + 4 + got.readUInt32BE(at)).toString());
      const guess = new CodeSecret('correct horse battery stable').exchange('receiver');
      const keys = guess.finish(Buffer.from(hello.pake, 'hex'));
      s.write(
        encode({
          type: 'hello',
          version: 2,
          pake: guess.share.toString('hex'),
          confirm: keys.confirm.toString('hex'),
        }),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as net.AddressInfo).port;
  const err = await sendFiles([file], `127.0.0.1:${port}`, { code: CODE }).catch((e: unknown) => e);
  assert.ok(authError(err), String(err));
  assert.equal((err as TransferError).remote, false, 'the sender found out by itself');
  await sleep(100);
  // After its hello the sender said only that the code is wrong: its confirmation, which would let
  // the fake test guesses offline, never went out, and no record did.
  assert.ok(got.subarray(0, MAGIC.length).equals(MAGIC));
  const helloEnd = MAGIC.length + 4 + got.readUInt32BE(MAGIC.length);
  const rest = got.subarray(helloEnd);
  assert.equal(rest.length, 4 + rest.readUInt32BE(0), 'one frame after the hello');
  assert.deepEqual((({ type, code }) => ({ type, code }))(JSON.parse(rest.subarray(4).toString())), {
    type: 'error',
    code: 'NETKIT_TRANSFER_AUTH',
  });
});

test('auth (plain): a wrong code, or none, is NETKIT_TRANSFER_AUTH; nothing is written and nothing is counted', async (t) => {
  const dirs = await layout(t);
  const file = await source(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true, code: CODE });
  // The receiver checks a wrong proof and says so; the sender's error is the receiver's.
  const wrong = await send([file], recv, { code: 'wrong horse' }).catch((e: unknown) => e);
  assert.ok(authError(wrong), String(wrong));
  assert.equal((wrong as TransferError).remote, true);
  // Whitespace is not part of the code, but case is.
  await assert.rejects(send([file], recv, { code: CODE.toUpperCase() }), authError);
  // Without a code the sender stops by itself on seeing the receiver wants one.
  await assert.rejects(send([file], recv, { code: undefined }), authError);
  await sleep(200);
  assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);

  // The first transfer the receiver reports is the one with the right code.
  const ok = await send([file], recv, { code: `  correct   horse battery\tstaple ` });
  assert.equal(ok.files, 1);
  const first = await recv.receiver.next();
  assert.equal(first?.ok, true);
  assert.equal(first?.files, 1);
  assert.equal(recv.summaries.length, 1);
  assert.deepEqual(await tree(dirs.target), ['f.txt']);
});

test('auth (plain): a sender with a code will not send to a receiver without one', async (t) => {
  const dirs = await layout(t);
  const file = await source(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  await assert.rejects(send([file], recv, { code: CODE }), authError);
  await sleep(200);
  assert.ok(recv.summaries.every((s) => !s.ok && s.files === 0));
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});

test('auth (plain): a raw sender that skips the proof, or sends a forged one, is refused before any entry is read', async (t) => {
  await refusedBeforeEntries(t, true, async (raw) => assert.equal((await raw.hello()).auth, true), [
    [fileFrame('f.txt', 3), { type: 'plan' }],
    [{ type: 'auth', proof: '0'.repeat(64) }, fileFrame('f.txt', 3), { type: 'plan' }],
    [{ type: 'auth', proof: 'not hex' }],
    [{ type: 'auth-ok', proof: '0'.repeat(64) }],
  ]);
});

test('auth (plain): a fake receiver that does not know the code gets no file bytes', async (t) => {
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
  await assert.rejects(sendFiles([file], `127.0.0.1:${port}`, { code: CODE, plain: true }), authError);
  assert.ok(got.subarray(0, PLAIN_MAGIC.length).equals(PLAIN_MAGIC));
  // The proof went out, but not the entry list, let alone the file.
  assert.ok(!got.includes('f.txt'), got.toString('latin1'));
  assert.ok(!got.includes('secret payload'));
});
