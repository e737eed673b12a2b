import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, hexDump, safeText, unescapeText } from '../../src/internal/text.js';

test('unescapeText expands command-line escapes and leaves the rest', () => {
  const cases: [string, string][] = [
    ['HEAD / HTTP/1.0\\r\\n\\r\\n', '48454144202f20485454502f312e300d0a0d0a'],
    ['a\\tb', '610962'],
    ['\\x00\\xff\\x41', '00ff41'],
    ['back\\\\slash', '6261636b5c736c617368'],
    ['\\0', '00'],
    ['\\q stays', '5c71207374617973'],
    ['\\xZZ stays', '5c785a5a207374617973'],
    ['trailing\\', '747261696c696e675c'],
    ['é', 'c3a9'],
  ];
  for (const [i, [input, hex]] of cases.entries()) {
    assert.equal(unescapeText(input).toString('hex'), hex, `#${i}: ${JSON.stringify(input)}`);
  }
});

test('safeText makes bytes safe for a terminal', () => {
  const cases: [Buffer, boolean, string][] = [
    [Buffer.from('plain text'), false, 'plain text'],
    [Buffer.from('\x1b[2Jclear'), false, '\\x1b[2Jclear'],
    [Buffer.from('a\r\nb'), false, 'a\\r\\nb'],
    [Buffer.from('a\nb'), true, 'a\nb'],
    [Buffer.from('tab\there'), false, 'tab\there'],
    [Buffer.from([0x7f, 0x00]), false, '\\x7f\\x00'],
    [Buffer.from('\u009b31m'), false, '\\x9b31m'],
  ];
  for (const [i, [input, keep, want]] of cases.entries()) {
    assert.equal(safeText(input, keep), want, `#${i}`);
  }
});

test('hexDump prints offsets, byte pairs and printable ASCII', () => {
  assert.equal(hexDump(Buffer.from('ABC\n')), '00000000: 4142 430a                                ABC.');
  const two = hexDump(Buffer.alloc(17, 0x61), 0x10).split('\n');
  assert.equal(two.length, 2);
  assert.match(two[0]!, /^00000010: 6161 6161/);
  assert.match(two[1]!, /^00000020: 61 {2}/);
});

test('formatBytes renders sizes for people', () => {
  const cases: [number, string][] = [
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1.0KiB'],
    [1536, '1.5KiB'],
    [10 * 1024 * 1024, '10MiB'],
    [3 * 1024 ** 3, '3.0GiB'],
  ];
  for (const [n, want] of cases) assert.equal(formatBytes(n), want, `${n}`);
});
