import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatBytes, hexDump, jsonLine, safeText, unescapeText } from '../../src/internal/text.js';

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
    // Invalid UTF-8 is shown byte for byte, never as U+FFFD.
    [Buffer.from([0x61, 0xff, 0x62]), false, 'a\\xffb'],
    [Buffer.from([0xfe]), false, '\\xfe'],
    [Buffer.from([0xc3]), false, '\\xc3'], // a sequence cut short at the end
    [Buffer.from([0xc3, 0x41]), false, '\\xc3A'], // a lead byte without its continuation
    [Buffer.from([0xc0, 0xaf]), false, '\\xc0\\xaf'], // overlong '/'
    [Buffer.from([0xed, 0xa0, 0x80]), false, '\\xed\\xa0\\x80'], // an encoded surrogate
    [Buffer.from([0xf4, 0x90, 0x80, 0x80]), false, '\\xf4\\x90\\x80\\x80'], // past U+10FFFF
    [Buffer.from([0xc2, 0x9b]), false, '\\x9b'], // C1 CSI, validly encoded
    [Buffer.from('é😀'), false, 'é😀'],
    // Bidi controls and separators that would reorder or break what is shown.
    [Buffer.from('evil\u202etxt.exe'), false, 'evil\\u202etxt.exe'],
    [
      Buffer.from('\u2066\u2067\u2068\u2069\u200e\u200f\u061c'),
      false,
      '\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c',
    ],
    [Buffer.from('a\u2028b\u2029'), false, 'a\\u2028b\\u2029'],
  ];
  for (const [i, [input, keep, want]] of cases.entries()) {
    assert.equal(safeText(input, keep), want, `#${i}`);
  }
});

test('safeText takes strings too: lone surrogates, tabs on request', () => {
  const cases: [string, Parameters<typeof safeText>[1], string][] = [
    ['\u202e\x1b', {}, '\\u202e\\x1b'],
    ['lone \ud800 high', {}, 'lone \\ud800 high'],
    ['lone \udc00 low', {}, 'lone \\udc00 low'],
    ['pair \ud83d\ude00', {}, 'pair 😀'],
    ['a\tb', { keepTabs: false }, 'a\\tb'],
    ['a\nb', { keepNewlines: true }, 'a\nb'],
  ];
  for (const [i, [input, options, want]] of cases.entries()) {
    assert.equal(safeText(input, options), want, `#${i}`);
  }
});

test('safeText output never holds a control, bidi or replacement character, for any byte', () => {
  const bad = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ufffd]/;
  for (let a = 0; a < 256; a++) {
    for (const b of [0x00, 0x41, 0x80, 0xbf, 0xc3, 0xe2, 0xff]) {
      for (const bytes of [
        [a, b, 0x80, 0xae],
        [0xe2, 0x80, a, b],
        [0xc2, a, b],
      ]) {
        const shown = safeText(Buffer.from(bytes));
        assert.doesNotMatch(shown, bad, `${bytes}: ${JSON.stringify(shown)}`);
      }
    }
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

test('jsonLine is JSON a terminal cannot be steered by, and parses back to the same value', () => {
  const value = { text: 'a\u202eb\u009b31m\x1b[2J\u2028\ud800 é', n: 1 };
  const line = jsonLine(value);
  assert.doesNotMatch(line, /[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]/);
  assert.match(line, /a\\u202eb\\u009b31m\\u001b\[2J\\u2028\\ud800 é/);
  assert.deepEqual(JSON.parse(line), value);
});

test('jsonLine rounds float noise in numbers: three decimals from 1 up, three significant digits below; integers untouched', () => {
  assert.equal(
    jsonLine({ a: 6.760671000000002, b: 0.000123456, c: 1234567, d: 2 ** 53 - 1, e: -0.5, f: 30.25 }),
    '{"a":6.761,"b":0.000123,"c":1234567,"d":9007199254740991,"e":-0.5,"f":30.25}',
  );
});
