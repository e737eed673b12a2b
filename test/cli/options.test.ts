import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseBytes } from '../../src/cli/options.js';

test('parseBytes reads sizes with binary units', () => {
  const cases: [string, number][] = [
    ['65536', 65536],
    ['64k', 65536],
    ['64KiB', 65536],
    ['16MiB', 16 * 1024 ** 2],
    ['1GiB', 1024 ** 3],
    ['1 mb', 1024 ** 2],
    ['0', 0],
  ];
  for (const [text, n] of cases) assert.equal(parseBytes(text), n, text);
  for (const bad of ['lots', '1.5MiB', '-1', '1TiB', '']) assert.throws(() => parseBytes(bad), Error, bad);
});
