import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_LINE_BYTES,
  FRAME_FORMATS,
  TRAILING_POLICIES,
} from '../../src/framing/index.js';

test('FRAME_FORMATS lists every format, frozen', () => {
  assert.deepEqual(FRAME_FORMATS, ['line', 'len8', 'len16', 'len32', 'len64', 'uvarint', 'none']);
  assert.ok(Object.isFrozen(FRAME_FORMATS));
  assert.deepEqual(TRAILING_POLICIES, ['emit', 'error']);
  assert.ok(Object.isFrozen(TRAILING_POLICIES));
});

test('default limits', () => {
  assert.equal(DEFAULT_MAX_FRAME_BYTES, 16 * 1024 * 1024);
  assert.equal(DEFAULT_MAX_LINE_BYTES, 1024 * 1024);
});
