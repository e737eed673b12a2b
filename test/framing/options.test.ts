import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bool,
  byteLimit,
  MAX_BUFFER_BYTES,
  oneOf,
  optionalByteLimit,
  optionsObject,
} from '../../src/framing/options.js';
import { argError } from './helpers.js';

test('byteLimit accepts 1..MAX_BUFFER_BYTES and applies the default', () => {
  assert.equal(byteLimit('x', undefined, 7), 7);
  assert.equal(byteLimit('x', 1, 7), 1);
  assert.equal(byteLimit('x', MAX_BUFFER_BYTES, 7), MAX_BUFFER_BYTES);
  for (const bad of [0, -1, 0.5, Number.NaN, MAX_BUFFER_BYTES + 1, '1', 1n, null]) {
    argError(() => byteLimit('x', bad, 7), 'x');
  }
  assert.equal(optionalByteLimit('x', undefined), undefined);
  argError(() => optionalByteLimit('x', 0), 'x');
});

test('oneOf, bool and optionsObject name the rejected option', () => {
  assert.equal(oneOf('e', undefined, ['a', 'b'], 'a'), 'a');
  assert.equal(oneOf('e', 'b', ['a', 'b'], 'a'), 'b');
  argError(() => oneOf('e', 'c', ['a', 'b'], 'a'), 'e');
  assert.equal(bool('s', undefined, true), true);
  argError(() => bool('s', 1, true), 's');
  assert.deepEqual(optionsObject(undefined), {});
  argError(() => optionsObject('x' as never), 'options');
});
