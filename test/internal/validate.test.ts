import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { checkBool, checkFunction, checkObject, checkString, shown } from '../../src/internal/validate.js';

const noop = () => {};

test('validators pass good values through and refuse bad ones, naming the option', () => {
  // [name, call, returns] where returns is the value back, or 'throws'.
  const cases: [string, () => unknown, unknown][] = [
    ['bool true', () => checkBool('flag', true), true],
    ['bool absent', () => checkBool('flag', undefined), undefined],
    ['bool string', () => checkBool('flag', 'yes'), 'throws'],
    ['bool number', () => checkBool('flag', 1), 'throws'],
    ['function', () => checkFunction('onEvent', noop), noop],
    ['function absent', () => checkFunction('onEvent', undefined), undefined],
    ['function required', () => checkFunction('create', undefined, true), 'throws'],
    ['function object', () => checkFunction('onEvent', {}), 'throws'],
    ['string', () => checkString('network', 'tcp'), 'tcp'],
    ['string empty', () => checkString('network', ''), ''],
    ['string empty, non-empty wanted', () => checkString('dir', '', true), 'throws'],
    ['string absent', () => checkString('network', undefined), 'throws'],
    ['string number', () => checkString('network', 4), 'throws'],
    ['object absent', () => checkObject('options', undefined), {}],
    ['object absent, required', () => checkObject('options', undefined, true), 'throws'],
    ['object null', () => checkObject('options', null as unknown as object), 'throws'],
    ['object string', () => checkObject('options', 'x' as unknown as object), 'throws'],
  ];
  for (const [i, [name, call, want]] of cases.entries()) {
    if (want === 'throws') {
      assert.throws(call, InvalidArgumentError, `#${i}: ${name}`);
    } else {
      assert.deepEqual(call(), want, `#${i}: ${name}`);
    }
  }
  assert.throws(
    () => checkString('dir', 7, true),
    (e: InvalidArgumentError) => e.option === 'dir' && /non-empty string, got 7/.test(e.message),
  );
});

test('shown quotes strings and names objects by kind', () => {
  const cases: [unknown, string][] = [
    ['a', '"a"'],
    [3, '3'],
    [10n, '10n'],
    [null, 'null'],
    [undefined, 'undefined'],
    [[1], 'an array'],
    [{ a: 1 }, 'an object'],
  ];
  for (const [i, [value, want]] of cases.entries()) assert.equal(shown(value), want, `#${i}`);
});
