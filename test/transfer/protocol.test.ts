/**
 * A receiver facing broken or hostile senders: oversized frame headers,
 * garbage, unknown and misplaced frames, classic senders, and a crowd of
 * junk connections. Each is refused with NETKIT_TRANSFER_PROTOCOL at once,
 * nothing is written, and the receiver keeps serving honest senders. The
 * frames are written by hand in the clear, so these receivers run the
 * cleartext protocol (plain); what needs no frame runs on an encrypted one.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { MAGIC, sendFiles } from '../../src/transfer/index.js';
import { magicOf, parseFrame } from '../../src/transfer/protocol.js';
import { openFds, until } from '../helpers/net.js';
import { rng } from '../helpers/rng.js';
import {
  encode,
  type Frame,
  fileFrame,
  helloFrame,
  layout,
  PLAIN_MAGIC,
  RAW_CONTROL,
  RawSender,
  type Recv,
  send,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

/** honest checks that a real sender still gets a file through. */
async function honest(t: TestContext, recv: Recv, name = 'good.txt'): Promise<void> {
  const file = path.join(await tempDir(t), name);
  await writeFile(file, `honest ${name}`);
  const s = await send([file], recv);
  assert.equal(s.files, 1);
}

/** refusal sends `bytes` (after the handshake when `handshake`) and returns the receiver's reply. */
async function refusal(recv: Recv, bytes: Buffer, handshake: boolean): Promise<Frame | null> {
  const raw = await RawSender.connect(recv.port);
  try {
    if (handshake) await raw.hello();
    await raw.write(bytes).catch(() => {});
    // Short on purpose: the refusal must come at once, not at a timeout.
    return await raw.next(1000);
  } finally {
    raw.destroy();
  }
}

const header = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

test('a frame header announcing 0xFFFFFFFF bytes is refused at once, before or after the handshake', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const before = process.memoryUsage().arrayBuffers;
  for (const handshake of [false, true]) {
    for (const n of [0xffffffff, 64 * 1024 + 1]) {
      const bytes = handshake ? header(n) : Buffer.concat([PLAIN_MAGIC, header(n)]);
      const reply = await refusal(recv, bytes, handshake);
      assert.equal(reply?.code, 'NETKIT_TRANSFER_PROTOCOL', `${n} ${handshake}`);
      assert.match(String(reply?.message), /over the 65536-byte limit/);
    }
  }
  // Nothing near the announced size was ever set aside.
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024);
  await honest(t, recv);
});

test('garbage, unknown, malformed and misplaced frames are NETKIT_TRANSFER_PROTOCOL', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const raw = (s: string | Buffer) => Buffer.concat([header(Buffer.byteLength(s)), Buffer.from(s)]);
  const cases: [string, Buffer][] = [
    ['not JSON', raw('{nope')],
    ['invalid UTF-8', raw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))],
    ['an array', raw('[1,2]')],
    ['a number', raw('42')],
    ['null', raw('null')],
    ['empty', raw('')],
    ['unknown type', encode({ type: 'zap' })],
    ['no type', encode({ path: 'x' } as unknown as Frame)],
    ['a second hello', helloFrame()],
    ['data before any plan', encode({ type: 'data', offset: 0 })],
    ['end before any plan', encode({ type: 'end', sha256: '0'.repeat(64) })],
    ['size missing', encode({ type: 'file', path: 'x', mode: 0o644, mtime: 0 })],
    ['negative size', encode(fileFrame('x', -1))],
    ['fractional size', encode(fileFrame('x', 1.5))],
    ['size as text', encode({ ...fileFrame('x', 1), size: '1' })],
    ['size past 2^53', encode({ ...fileFrame('x', 1), size: 2 ** 60 })],
    ['mode past 0o7777', encode(fileFrame('x', 1, 0, 0o10000))],
    ['mtime null', encode({ ...fileFrame('x', 1), mtime: null })],
    ['path not a string', encode({ ...fileFrame('x', 1), path: ['x'] })],
  ];
  for (const [name, bytes] of cases) {
    const reply = await refusal(recv, bytes, true);
    assert.equal(reply?.type, 'error', name);
    assert.equal(reply?.code, 'NETKIT_TRANSFER_PROTOCOL', name);
  }
  // None of them announced an entry, so none counts as a transfer (a --once receiver keeps waiting).
  assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);
  await honest(t, recv);
});

test('a wrong magic or protocol version is refused before the receiver says hello', async (t) => {
  const dirs = await layout(t);
  for (const plain of [true, false]) {
    const recv = await startReceiver(t, { dir: dirs.target, plain });
    const hello3 = encode({ type: 'hello', version: 3, nonce: '0'.repeat(32) });
    // The other protocol, said properly: refused all the same (auth.test.ts checks the sentence).
    const other = plain
      ? Buffer.concat([MAGIC, encode({ type: 'hello', version: 2, pake: '04'.repeat(65) })])
      : Buffer.concat([PLAIN_MAGIC, helloFrame()]);
    for (const bytes of [
      Buffer.concat([magicOf(3), helloFrame()]),
      Buffer.concat([PLAIN_MAGIC, hello3]),
      Buffer.concat([MAGIC, hello3]),
      other,
      Buffer.from('GET / HTTP/1.1\r\n\r\n'),
    ]) {
      const reply = await refusal(recv, bytes, false);
      assert.equal(reply?.code, 'NETKIT_TRANSFER_PROTOCOL', `plain: ${plain}: ${bytes.toString('latin1')}`);
    }
    assert.equal(recv.summaries.length, 0);
    await honest(t, recv, plain ? 'plain.txt' : 'encrypted.txt');
  }
});

test('an unknown frame type is not echoed raw into what the receiver reports', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const reply = await refusal(recv, encode({ type: '\u202e\u009b2J\x1b[2J' }), true);
  assert.equal(reply?.code, 'NETKIT_TRANSFER_PROTOCOL');
  // The error frame carries the receiver's own message, the one its summary reports.
  assert.doesNotMatch(String(reply?.message), RAW_CONTROL, JSON.stringify(reply?.message));
});

/** classic sends a file name the classic way and returns everything the receiver sent before closing. */
async function classic(port: number, name: string): Promise<{ reply: Buffer; ms: number }> {
  const started = Date.now();
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.write(name);
  const parts: Buffer[] = [];
  s.on('data', (d: Buffer) => parts.push(d));
  await new Promise<void>((resolve) => {
    s.once('close', () => resolve());
    // Longer than a prompt refusal, far shorter than the receiver's idle timeout.
    setTimeout(() => {
      s.destroy();
      resolve();
    }, 3000);
  });
  return { reply: Buffer.concat(parts), ms: Date.now() - started };
}

test('a classic sender to a receiver without compat is closed without "ok"; nothing is written', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target });
  const file = path.join(await tempDir(t), 'classic.txt');
  await writeFile(file, 'classic');
  await assert.rejects(sendFiles([file], recv.address, { compat: true }), (e) =>
    isNetkitError(e, 'NETKIT_TRANSFER_PROTOCOL'),
  );
  const { reply, ms } = await classic(recv.port, 'classic.txt');
  assert.ok(!reply.subarray(0, 2).equals(Buffer.from('ok')), reply.toString('latin1'));
  assert.ok(ms < 2000, `closed after ${ms} ms`);
  assert.deepEqual(await tree(dirs.parent), ['target/']);
  // Not counted: these senders never spoke the protocol.
  assert.equal(recv.summaries.length, 0);
});

test('a classic sender with a name shorter than the magic is refused at once too', {}, async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target });
  for (const name of ['a.txt', 'x']) {
    const { reply, ms } = await classic(recv.port, name);
    assert.ok(!reply.subarray(0, 2).equals(Buffer.from('ok')));
    assert.ok(ms < 2000, `${name}: still open after ${ms} ms`);
  }
});

test('200 junk connections at once: the receiver stays up, serves a good sender, and fds return', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  await honest(t, recv, 'warm.txt');
  const baseline = openFds();
  const next = rng(200);
  const junk = (i: number): Buffer => {
    const body = Buffer.from(
      Array.from({ length: 1 + Math.floor(next() * 300) }, () => Math.floor(next() * 256)),
    );
    // A third look like netkit at first (magic, or magic and hello), so the later stages see junk too.
    if (i % 3 === 1) return Buffer.concat([PLAIN_MAGIC, body]);
    if (i % 3 === 2) return Buffer.concat([PLAIN_MAGIC, helloFrame(), body]);
    return body;
  };
  await Promise.all(
    Array.from(
      { length: 200 },
      (_, i) =>
        new Promise<void>((resolve) => {
          const s = net.connect(recv.port, '127.0.0.1', () => s.end(junk(i)));
          s.on('error', () => {});
          s.on('data', () => {});
          s.once('end', () => s.destroy());
          s.once('close', () => resolve());
          s.setTimeout(10_000, () => s.destroy());
        }),
    ),
  );
  await honest(t, recv);
  assert.deepEqual(await tree(dirs.target), ['good.txt', 'warm.txt']);
  await until(() => openFds() <= baseline + 2, 5000, `fds back near ${baseline} (now ${openFds()})`);
});

test('a receiver’s error frame with escapes in its code and message: the sender’s error holds neither raw', async (t) => {
  const file = path.join(await tempDir(t), 'f.txt');
  await writeFile(file, 'x');
  const evil = [
    { code: 'NETKIT_TRANSFER_\x1b]0;pwned\x07', message: 'fine' },
    { code: 'NETKIT_TRANSFER_EXISTS', message: '\x1b[2J\u202eexe.txt\u009b' },
  ];
  for (const frame of evil) {
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => s.end(encode({ type: 'error', ...frame })));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as net.AddressInfo).port;
    // Both protocols read the receiver's first answer in the clear.
    for (const options of [{ code: 'any-code' }, { plain: true }]) {
      const err = await sendFiles([file], `127.0.0.1:${port}`, options).catch((e: unknown) => e);
      assert.ok(isNetkitError(err), String(err));
      assert.match(err.code, /^NETKIT_TRANSFER_(PROTOCOL|EXISTS)$/);
      assert.doesNotMatch(`${err.code} ${err.message}`, RAW_CONTROL, JSON.stringify(err.message));
    }
  }
});

test('a "skip" frame keeps only the reason it knows: "received"; any other is a plain skip', () => {
  const cases: [unknown, unknown][] = [
    [{ type: 'skip' }, { type: 'skip' }],
    [
      { type: 'skip', reason: 'received' },
      { type: 'skip', reason: 'received' },
    ],
    [{ type: 'skip', reason: 'exists' }, { type: 'skip' }],
    [{ type: 'skip', reason: '\x1b[2J' }, { type: 'skip' }],
    [{ type: 'skip', reason: 42 }, { type: 'skip' }],
  ];
  for (const [i, [input, want]] of cases.entries()) {
    assert.deepEqual(parseFrame(Buffer.from(JSON.stringify(input))), want, `#${i}: ${JSON.stringify(input)}`);
  }
});
