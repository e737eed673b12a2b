/**
 * fsReason: what people read when a file-system call fails, instead of
 * Node's message (which repeats the path raw and names the syscall).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fsReason } from '../../src/transfer/fs-checks.js';

test('fsReason: errno codes become sentences; unknown codes stay codes; no raw message leaks', () => {
  const cases: [unknown, string][] = [
    [{ code: 'ENOENT' }, 'no such file or directory'],
    [{ code: 'EACCES' }, 'permission denied'],
    [{ code: 'EPERM' }, 'permission denied'],
    [{ code: 'ENOTDIR' }, 'a component of the path is not a directory'],
    [{ code: 'ENOSPC' }, 'no space left on the device'],
    [{ code: 'EDQUOT' }, 'disk quota exceeded'],
    [{ code: 'EROFS' }, 'read-only file system'],
    [{ code: 'EWHATEVER', message: "EWHATEVER: open '/x/\x1b[2J'" }, 'EWHATEVER'],
    [new Error('no code here'), 'I/O error'],
    [undefined, 'I/O error'],
  ];
  for (const [i, [err, want]] of cases.entries()) assert.equal(fsReason(err), want, `#${i}`);
});
