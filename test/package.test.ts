/** The published shape: every subpath export resolves to built JS with type declarations. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers/tools.js';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
};

test('every subpath in the exports map loads and has declarations', async () => {
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.ok(existsSync(path.join(ROOT, target.types)), `${sub}: missing ${target.types}`);
    const mod = (await import(path.join(ROOT, target.default))) as Record<string, unknown>;
    assert.ok(Object.keys(mod).length > 0, `${sub} exports nothing`);
  }
});

test('the package resolves itself by name (as a user imports it)', async () => {
  const root = (await import('netkit')) as Record<string, unknown>;
  for (const name of ['dial', 'listen', 'serve', 'createDecoder', 'resolveTCPAddr', 'NetkitError']) {
    assert.equal(typeof root[name], 'function', name);
  }
  const tcp = (await import('netkit/tcp')) as Record<string, unknown>;
  assert.equal(tcp.dial, root.dial);
});

test('the bin entry is the built CLI with a node shebang', () => {
  const bin = readFileSync(path.join(ROOT, pkg.bin.netkit!), 'utf8');
  assert.match(bin, /^#!\/usr\/bin\/env node/);
});
