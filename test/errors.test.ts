import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import * as errors from '../src/errors.js';
import { ROOT } from './helpers/tools.js';

test('every error code is documented in docs/errors.md, and nothing else is', () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'errors.md'), 'utf8');
  const documented = new Set([...doc.matchAll(/`(NETKIT_[A-Z_]+)`/g)].map((m) => m[1]));
  const codes = new Set(Object.keys(errors.ERROR_CODES));
  for (const code of codes) assert.ok(documented.has(code), `${code} is missing from docs/errors.md`);
  for (const code of documented) assert.ok(codes.has(code!), `docs/errors.md lists unknown ${code}`);
});

test('errors carry code, cause and data, and are NetkitErrors', () => {
  const cause = new Error('low level');
  const e = new errors.ConnectionError('NETKIT_DIAL_FAILED', 'dial failed', '127.0.0.1:1', { cause });
  assert.ok(e instanceof errors.NetkitError);
  assert.ok(e instanceof Error);
  assert.equal(e.code, 'NETKIT_DIAL_FAILED');
  assert.equal(e.cause, cause);
  assert.equal(e.address, '127.0.0.1:1');
  assert.equal(e.name, 'ConnectionError');
  assert.ok(errors.isNetkitError(e, 'NETKIT_DIAL_FAILED'));
  assert.ok(!errors.isNetkitError(e, 'NETKIT_TIMEOUT'));
  assert.ok(!errors.isNetkitError(cause));
  const f = new errors.FrameError('NETKIT_FRAME_TOO_LARGE', 'big', { limit: 10, size: 11 });
  assert.deepEqual([f.limit, f.size], [10, 11]);
  assert.equal(new errors.InvalidArgumentError('timeout', 'bad').option, 'timeout');
});

test('fileAccessError says what was done, to which path, and why, in words', async () => {
  const { fileAccessError, isFsError } = await import('../src/internal/fs-errors.js');
  const cause = Object.assign(new Error("EEXIST: file already exists, mkdir 'x'"), {
    code: 'EEXIST',
    path: 'x',
    syscall: 'mkdir',
  });
  assert.ok(isFsError(cause));
  assert.ok(!isFsError(new Error('plain')));
  const e = fileAccessError('x', 'create directory', cause);
  assert.ok(e instanceof errors.FileAccessError);
  assert.equal(e.code, 'NETKIT_FILE_ACCESS');
  assert.equal(e.path, 'x');
  assert.equal(e.cause, cause);
  assert.equal(e.message, 'cannot create directory "x": a file of that name is in the way (EEXIST)');
});
