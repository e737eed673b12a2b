import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, unlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { ENTRY, STAMP, staleReason } from '../../scripts/build-if-stale.mjs';

// Fixed times, a minute apart, so the answers never depend on the file system's clock resolution.
const OLD = new Date('2026-01-01T00:00:00Z');
const BUILT = new Date('2026-01-01T00:01:00Z');
const NEW = new Date('2026-01-01T00:02:00Z');

/** checkout makes a temp root with src/, tsconfig.json, package.json, a build and its stamp, all older than the stamp. */
async function checkout(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'netkit-stale-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const files = ['src/index.ts', 'src/tcp/dial.ts', 'tsconfig.json', 'package.json', ENTRY, STAMP];
  for (const f of files) {
    await mkdir(path.dirname(path.join(root, f)), { recursive: true });
    await writeFile(path.join(root, f), f);
  }
  for (const f of ['src/index.ts', 'src/tcp/dial.ts', 'src/tcp', 'src', 'tsconfig.json', 'package.json']) {
    await utimes(path.join(root, f), OLD, OLD);
  }
  await utimes(path.join(root, ENTRY), BUILT, BUILT);
  await utimes(path.join(root, STAMP), BUILT, BUILT);
  return root;
}

test('an unchanged checkout is not stale', async (t) => {
  assert.equal(staleReason(await checkout(t)), undefined);
});

test('a source file newer than the stamp makes it stale', async (t) => {
  const root = await checkout(t);
  await utimes(path.join(root, 'src/tcp/dial.ts'), NEW, NEW);
  assert.equal(staleReason(root), 'src/ changed');
});

test('a deleted source (only its directory changes) makes it stale', async (t) => {
  const root = await checkout(t);
  await unlink(path.join(root, 'src/tcp/dial.ts'));
  await utimes(path.join(root, 'src/tcp'), NEW, NEW);
  assert.equal(staleReason(root), 'src/ changed');
});

test('a changed tsconfig.json or package.json makes it stale', async (t) => {
  for (const f of ['tsconfig.json', 'package.json']) {
    const root = await checkout(t);
    await utimes(path.join(root, f), NEW, NEW);
    assert.equal(staleReason(root), `${f} changed`, f);
  }
});

test('a missing stamp or dist/ makes it stale', async (t) => {
  const noStamp = await checkout(t);
  await unlink(path.join(noStamp, STAMP));
  assert.equal(staleReason(noStamp), 'no build stamp');

  const noEntry = await checkout(t);
  await unlink(path.join(noEntry, ENTRY));
  assert.equal(staleReason(noEntry), `${ENTRY} is missing`);

  const noDist = await checkout(t);
  await rm(path.join(noDist, 'dist'), { recursive: true });
  assert.equal(staleReason(noDist), 'no build stamp');
});

test('a source touched at the exact time of the stamp is not stale', async (t) => {
  const root = await checkout(t);
  await utimes(path.join(root, 'src/index.ts'), BUILT, BUILT);
  assert.equal(staleReason(root), undefined);
});
