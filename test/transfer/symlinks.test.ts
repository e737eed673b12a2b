/**
 * RELIABILITY 24: a symlink planted in the receiving directory, as the file,
 * a parent, or the partial file, is never followed; existing files are never
 * replaced without an explicit overwrite policy.
 */
import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readlink, rename, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import type { OverwritePolicy } from '../../src/transfer/index.js';
import {
  fileFrame,
  firstAnswer,
  type Layout,
  layout,
  RawSender,
  send,
  startReceiver,
  tempDir,
  tree,
} from './helpers.js';

const SECRET = 'outside: must never change\n';
const CONTENT = 'sent content\n';

/** setup makes the layout, an outside file worth protecting, and a source file f.txt to send. */
async function setup(t: TestContext): Promise<Layout & { secret: string; source: string }> {
  const dirs = await layout(t, true);
  const secret = path.join(dirs.outside, 'secret');
  await writeFile(secret, SECRET);
  const src = await tempDir(t);
  const source = path.join(src, 'f.txt');
  await writeFile(source, CONTENT);
  return { ...dirs, secret, source };
}

async function untouched(d: { outside: string; secret: string }): Promise<void> {
  assert.equal(await readFile(d.secret, 'utf8'), SECRET);
  assert.deepEqual(await tree(d.outside), ['secret']);
}

const code = (c: string) => (err: unknown) => isNetkitError(err, c as 'NETKIT_TRANSFER_PATH');

test('24: a symlink planted as the file name is not followed, whatever the policy', async (t) => {
  for (const policy of ['refuse', 'skip', 'overwrite'] as OverwritePolicy[]) {
    await t.test(policy, async (t) => {
      const d = await setup(t);
      const link = path.join(d.target, 'f.txt');
      await symlink(d.secret, link);
      const recv = await startReceiver(t, { dir: d.target, overwrite: policy });
      if (policy === 'refuse') {
        await assert.rejects(send([d.source], recv), code('NETKIT_TRANSFER_EXISTS'));
        assert.equal(await readlink(link), d.secret);
      } else if (policy === 'skip') {
        const s = await send([d.source], recv);
        assert.equal(s.skipped, 1);
        assert.equal(await readlink(link), d.secret);
      } else {
        await send([d.source], recv);
        // The link itself was replaced by the received file; its target was not written through.
        assert.ok((await lstat(link)).isFile());
        assert.equal(await readFile(link, 'utf8'), CONTENT);
      }
      await untouched(d);
    });
  }
});

test('24: a symlink planted as the file name is not taken for a file already received, even to one of the same size and time', async (t) => {
  const d = await setup(t);
  // The link's target looks exactly like the source: lstat, not stat, decides.
  await writeFile(d.secret, CONTENT);
  const st = await lstat(d.source);
  await utimes(d.secret, st.atime, st.mtime);
  const link = path.join(d.target, 'f.txt');
  await symlink(d.secret, link);
  const recv = await startReceiver(t, { dir: d.target });
  await assert.rejects(send([d.source], recv), code('NETKIT_TRANSFER_EXISTS'));
  assert.equal(await readlink(link), d.secret);
  const skipping = await startReceiver(t, { dir: d.target, overwrite: 'skip' });
  const s = await send([d.source], skipping);
  assert.deepEqual([s.skipped, s.alreadyReceived], [1, 0], 'skipped as existing, not as received');
  assert.equal(await readlink(link), d.secret);
  assert.equal(await readFile(d.secret, 'utf8'), CONTENT);
  assert.deepEqual(await tree(d.outside), ['secret']);
});

test('24: a symlink planted as a parent directory is refused (NETKIT_TRANSFER_PATH), nothing written through it', async (t) => {
  const d = await setup(t);
  await symlink(d.outside, path.join(d.target, 'sub'));
  await mkdir(path.join(d.target, 'real'));
  await symlink(d.outside, path.join(d.target, 'real', 'deep'));
  const recv = await startReceiver(t, { dir: d.target, overwrite: 'overwrite' });
  // The raw sender speaks in the clear, to a plain receiver on the same directory.
  const plain = await startReceiver(t, { dir: d.target, overwrite: 'overwrite', plain: true });
  // As sendFiles announces a directory: the `dir` entry itself is the link.
  const srcDir = path.join(path.dirname(d.source), 'sub');
  await mkdir(srcDir);
  await writeFile(path.join(srcDir, 'secret'), 'evil');
  await assert.rejects(send([srcDir], recv), code('NETKIT_TRANSFER_PATH'));
  // As a raw sender announces it: a file under the link, with no `dir` entry first, at any depth.
  for (const p of ['sub/secret', 'sub/new', 'real/deep/secret', 'real/deep/x/y']) {
    const answer = await firstAnswer(plain.port, fileFrame(p, 4));
    assert.equal(answer?.code, 'NETKIT_TRANSFER_PATH', p);
  }
  await untouched(d);
});

test('24: a symlink planted as `name.part` is refused and not written through', async (t) => {
  for (const policy of ['refuse', 'overwrite'] as OverwritePolicy[]) {
    const d = await setup(t);
    await symlink(d.secret, path.join(d.target, 'f.txt.part'));
    const recv = await startReceiver(t, { dir: d.target, overwrite: policy });
    await assert.rejects(send([d.source], recv), code('NETKIT_TRANSFER_PATH'), policy);
    await untouched(d);
    assert.deepEqual(await tree(d.target), ['f.txt.part@']);
  }
});

test('24: a symlink planted as `name.part.meta` is not written through', async (t) => {
  const d = await setup(t);
  const meta = path.join(d.target, 'f.txt.part.meta');
  // Alone: the receiver starts afresh, replacing the link rather than writing into its target.
  await symlink(d.secret, meta);
  const recv = await startReceiver(t, { dir: d.target });
  await send([d.source], recv);
  assert.equal(await readFile(path.join(d.target, 'f.txt'), 'utf8'), CONTENT);
  assert.deepEqual(await tree(d.target), ['f.txt']);
  await untouched(d);

  // Beside a `.part`, pointing at metadata that would match: not netkit's, so not resumed from.
  const d2 = await setup(t);
  const st = await lstat(d2.source);
  const fake = path.join(d2.outside, 'secret');
  await writeFile(fake, JSON.stringify({ v: 1, size: st.size, mtime: st.mtimeMs }));
  await writeFile(path.join(d2.target, 'f.txt.part'), 'sent');
  await symlink(fake, path.join(d2.target, 'f.txt.part.meta'));
  const recv2 = await startReceiver(t, { dir: d2.target });
  await assert.rejects(send([d2.source], recv2), code('NETKIT_TRANSFER_EXISTS'));
  assert.equal(await readFile(fake, 'utf8'), JSON.stringify({ v: 1, size: st.size, mtime: st.mtimeMs }));
});

test('24: an existing file is kept by default and with skip, replaced only with overwrite', async (t) => {
  const old = 'precious old content\n';
  for (const policy of [undefined, 'refuse', 'skip', 'overwrite'] as const) {
    const d = await setup(t);
    const dest = path.join(d.target, 'f.txt');
    await writeFile(dest, old);
    const recv = await startReceiver(t, { dir: d.target, ...(policy ? { overwrite: policy } : {}) });
    if (policy === 'overwrite') {
      const s = await send([d.source], recv);
      assert.equal(s.files, 1);
      assert.equal(await readFile(dest, 'utf8'), CONTENT);
    } else if (policy === 'skip') {
      const s = await send([d.source], recv);
      assert.equal(s.skipped, 1);
      assert.equal(s.files, 0);
      assert.equal((await recv.summary()).skipped, 1);
      assert.equal(await readFile(dest, 'utf8'), old);
    } else {
      await assert.rejects(send([d.source], recv), code('NETKIT_TRANSFER_EXISTS'));
      assert.equal(await readFile(dest, 'utf8'), old);
    }
    assert.deepEqual(await tree(d.target), ['f.txt'], String(policy));
  }
});

/** planThenPlant gets an `accept` for `p` from a plain receiver, lets `plant` change the directory, then sends the bytes. */
async function planThenPlant(port: number, p: string, plant: () => Promise<void>) {
  const s = await RawSender.connect(port);
  try {
    await s.hello();
    const [answer] = await s.announce(fileFrame(p, CONTENT.length));
    assert.equal(answer?.type, 'accept');
    await plant();
    return await s.sendFile(Buffer.from(CONTENT));
  } finally {
    s.destroy();
  }
}

test('24: a file or symlink that appears at the name during the transfer is not replaced', async (t) => {
  for (const kind of ['file', 'symlink']) {
    const d = await setup(t);
    const recv = await startReceiver(t, { dir: d.target, plain: true });
    const dest = path.join(d.target, 'f.txt');
    const answer = await planThenPlant(recv.port, 'f.txt', () =>
      kind === 'file' ? writeFile(dest, 'appeared') : symlink(d.secret, dest),
    );
    assert.equal(answer?.code, 'NETKIT_TRANSFER_EXISTS', kind);
    await recv.summary();
    if (kind === 'file') assert.equal(await readFile(dest, 'utf8'), 'appeared');
    else assert.equal(await readlink(dest), d.secret);
    assert.deepEqual(await tree(d.target), [kind === 'file' ? 'f.txt' : 'f.txt@']);
    await untouched(d);
  }
});

test('24: a parent swapped for a symlink between plan and data is caught before anything is created through it', async (t) => {
  const d = await setup(t);
  const recv = await startReceiver(t, { dir: d.target, plain: true });
  // An outside file that happens to carry the partial file's name: open() must not delete it.
  await writeFile(path.join(d.outside, 'f.txt.part'), SECRET);
  await mkdir(path.join(d.target, 'sub'));
  const answer = await planThenPlant(recv.port, 'sub/f.txt', async () => {
    await rename(path.join(d.target, 'sub'), path.join(d.target, 'moved'));
    await symlink(d.outside, path.join(d.target, 'sub'));
  });
  assert.equal(answer?.code, 'NETKIT_TRANSFER_PATH');
  await recv.summary();
  const after: Record<string, string> = {};
  for (const name of await tree(d.outside)) after[name] = await readFile(path.join(d.outside, name), 'utf8');
  assert.deepEqual(after, { 'f.txt.part': SECRET, secret: SECRET });
});
