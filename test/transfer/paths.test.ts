/**
 * RELIABILITY 23: unsafe paths from a sender are refused before any byte, and
 * nothing lands outside the target. The hostile paths are announced by hand,
 * in the clear, so those receivers run the cleartext protocol (plain).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { sendFiles } from '../../src/transfer/index.js';
import { sleep } from '../helpers/net.js';
import {
  type Frame,
  fileFrame,
  firstAnswer,
  layout,
  RAW_CONTROL,
  RawSender,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

/** BAD are paths a hostile sender may announce; each must be refused (name → path). */
const BAD: [string, string][] = [
  ['up two', '../../x'],
  ['up through a dir', 'a/../../x'],
  ['up one', '../x'],
  ['dot-dot alone', '..'],
  ['dot-dot last', 'a/..'],
  ['absolute', '/etc/passwd'],
  ['backslash up', '..\\x'],
  ['backslash up through a dir', 'a\\..\\..\\x'],
  ['drive with backslash', 'C:\\x'],
  ['drive-relative', 'C:x'],
  ['drive with slash', 'c:/x'],
  ['NUL', 'a\0b'],
  ['newline', 'a\nb'],
  ['carriage return', 'a\rb'],
  ['ESC sequence', '\x1b[2Jx'],
  ['C1 CSI', 'a\u009b2Jb'],
  ['DEL', 'a\u007fb'],
  ['bidi override', 'txt.\u202eexe'],
  ['256-byte component', 'a'.repeat(256)],
  ['256-byte component in a dir', `d/${'é'.repeat(128)}`],
  ['dot component', './x'],
  ['dot component inside', 'a/./x'],
  ['empty component', 'a//b'],
  ['trailing slash', 'a/'],
  ['empty', ''],
  ['lone surrogate', 'a\ud800b'],
];

test('23: every unsafe path is refused with NETKIT_TRANSFER_PATH before any byte, nothing written anywhere', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  let n = 0;
  for (const type of ['file', 'dir'] as const) {
    for (const [name, p] of BAD) {
      const entry: Frame =
        type === 'file' ? fileFrame(p, 3) : { type: 'dir', path: p, mode: 0o755, mtime: 0 };
      const answer = await firstAnswer(recv.port, entry);
      // The refusal is the first answer: no `accept` came before it, so no byte was asked for.
      assert.equal(answer?.type, 'error', `${type} ${name}: ${JSON.stringify(answer)}`);
      assert.equal(answer?.code, 'NETKIT_TRANSFER_PATH', `${type} ${name}`);
      n++;
    }
  }
  await recv.summary(n);
  for (const s of recv.summaries) {
    assert.equal(s.error?.code, 'NETKIT_TRANSFER_PATH');
    // What the receiver reports reaches a terminal (netkit recv prints it): nothing raw in it.
    assert.doesNotMatch(s.error?.message ?? '', RAW_CONTROL, s.error?.message);
  }
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});

test('23: one unsafe path refuses its whole batch, including the safe entries announced before it', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const answer = await firstAnswer(
    recv.port,
    fileFrame('ok.txt', 3),
    fileFrame('sub/ok.txt', 3),
    fileFrame('../x', 3),
  );
  assert.equal(answer?.code, 'NETKIT_TRANSFER_PATH');
  await recv.summary();
  // Planning `sub/ok.txt` may have made `sub` (inside the target, harmless); no file was written.
  assert.deepEqual(
    (await tree(dirs.parent)).filter((e) => e !== 'target/sub/'),
    ['target/'],
  );
});

test('23: the refusal the sender sees carries no raw control characters either', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  const answer = await firstAnswer(recv.port, fileFrame('\x1b]0;pwned\x07\u202e\u009b\n', 3));
  assert.equal(answer?.code, 'NETKIT_TRANSFER_PATH');
  assert.doesNotMatch(String(answer?.message), RAW_CONTROL);
});

/** sendOne announces a single file, streams it honestly, and returns the receiver's answers. */
async function sendOne(port: number, p: string, content: Buffer): Promise<(Frame | null)[]> {
  const s = await RawSender.connect(port);
  try {
    await s.hello();
    const [answer] = await s.announce(fileFrame(p, content.length));
    if (answer?.type !== 'accept') return [answer ?? null];
    return [answer, await s.sendFile(content), await s.finish()];
  } finally {
    s.destroy();
  }
}

test('23: names with dots that are not `..` components arrive', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  for (const p of ['file..mp4', '..file', 'a..b/c..d', 'x..']) {
    const content = Buffer.from(`content of ${p}`);
    const answers = await sendOne(recv.port, p, content);
    assert.deepEqual(
      answers.map((a) => a?.type),
      ['accept', 'done', 'bye'],
      `${p}: ${JSON.stringify(answers)}`,
    );
    assert.deepEqual(await readFile(path.join(dirs.target, p)), content);
  }
  assert.deepEqual(await tree(dirs.parent), [
    'target/',
    'target/..file',
    'target/a..b/',
    'target/a..b/c..d',
    'target/file..mp4',
    'target/x..',
  ]);
});

test('23: a 255-byte name (the longest every file system takes) arrives', async (t) => {
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target, plain: true });
  for (const name of ['a'.repeat(255), '€'.repeat(85)]) {
    assert.equal(Buffer.byteLength(name), 255);
    const answers = await sendOne(recv.port, name, Buffer.from('x'));
    assert.deepEqual(
      answers.map((a) => a?.type),
      ['accept', 'done', 'bye'],
      JSON.stringify(answers.at(-1)),
    );
    assert.equal(await readFile(path.join(dirs.target, name), 'utf8'), 'x');
  }
  // Wherever such a name's partial file waited, nothing of it is left.
  assert.deepEqual(await tree(dirs.target), ['a'.repeat(255), '€'.repeat(85)].sort());
});

test('23: sendFiles refuses a local name with control characters before it connects', async (t) => {
  const src = await tempDir(t);
  const dirs = await layout(t);
  const recv = await startReceiver(t, { dir: dirs.target });
  // A plain listener too, to prove no connection is even attempted.
  let connections = 0;
  const counter = net.createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => counter.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => counter.close(() => r())));
  const counterPort = (counter.address() as net.AddressInfo).port;

  await writeFile(path.join(src, 'fine.txt'), 'fine');
  const nested = path.join(src, 'dir');
  await writeFile(path.join(src, 'a\nb'), 'x');
  await writeFile(path.join(src, 'x\x1b[2Jy'), 'x');
  await mkdir(nested);
  await writeFile(path.join(nested, 'ok.txt'), 'ok');
  await writeFile(path.join(nested, 'bad\u202etxt'), 'x');
  for (const args of [['a\nb'], ['fine.txt', 'x\x1b[2Jy'], ['dir']]) {
    for (const address of [recv.address, `127.0.0.1:${counterPort}`]) {
      await assert.rejects(
        sendFiles(
          args.map((a) => path.join(src, a)),
          address,
          { code: recv.code },
        ),
        (err) => isNetkitError(err, 'NETKIT_TRANSFER_PATH'),
        JSON.stringify(args),
      );
    }
  }
  await sleep(200);
  assert.equal(connections, 0);
  assert.equal(recv.summaries.length, 0);
  assert.deepEqual(await tree(dirs.parent), ['target/']);
});
