/**
 * `netkit recv` and `netkit send` with bad paths: a --dir that cannot be
 * one, unreadable sources. Every failure has a netkit code, a sentence and
 * its exit status.
 */
import assert from 'node:assert/strict';
import { symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { only, tempDir } from '../helpers/transfer.js';

test('recv --dir that cannot be a directory: exit 2, NETKIT_FILE_ACCESS and a sentence, nothing listens', async (t) => {
  const base = await tempDir(t);
  const file = path.join(base, 'a-file');
  await writeFile(file, 'x');
  await symlink(path.join(base, 'nowhere'), path.join(base, 'dangling'));
  const cases = [
    ['a file', file],
    ['below a file', path.join(file, 'sub')],
    ['a symlink to nothing', path.join(base, 'dangling')],
  ];
  for (const [what, dir] of cases) {
    const json = await cli(['recv', '127.0.0.1:0', '--dir', dir!, '--once', '--json']);
    assert.equal(json.code, 2, `${what}: ${json.stdout}${json.stderr}`);
    const [error] = only(json.stdout, 'error');
    assert.equal(error?.code, 'NETKIT_FILE_ACCESS', what);
    assert.equal(only(json.stdout, 'listening').length, 0, what);
    const human = await cli(['recv', '127.0.0.1:0', '--dir', dir!, '--once']);
    assert.equal(human.code, 2, what);
    assert.match(human.stderr, /^netkit: cannot receive into ".*": .*\[NETKIT_FILE_ACCESS\]$/m, what);
    assert.doesNotMatch(human.stderr, /EEXIST|ENOTDIR|ENOENT/, what);
  }
});

test('send: sources that cannot be read are NETKIT_TRANSFER_SOURCE sentences, never raw errno text (exit 1)', async (t) => {
  const base = await tempDir(t);
  const file = path.join(base, 'f');
  await writeFile(file, 'x');
  for (const [what, source, compat] of [
    ['missing', path.join(base, 'missing'), false],
    ['below a file', path.join(file, 'sub'), false],
    ['missing, --compat', path.join(base, 'missing'), true],
  ] as const) {
    const r = await cli(['send', source, '127.0.0.1:9', ...(compat ? ['--compat'] : [])]);
    assert.equal(r.code, 1, `${what}: ${r.stderr}`);
    assert.match(r.stderr, /\[NETKIT_TRANSFER_SOURCE\]$/m, what);
    assert.doesNotMatch(r.stderr, /ENOENT|ENOTDIR|, stat |, open /, what);
  }
});
