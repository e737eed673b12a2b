import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatJson, isJsonContentType, JSON_VIEW_LIMIT, viewBody } from '../../src/cli/json-view.js';

const view = (text: string) => formatJson(Buffer.from(text), false);
const ANSI = /\x1b\[[0-9;]*m/g;

test('formatJson indents by two spaces, one member or element per line, tokens as written', () => {
  const table: [string, string][] = [
    [
      '{"a":1,"b":[true,false,null],"c":{}}',
      '{\n  "a": 1,\n  "b": [\n    true,\n    false,\n    null\n  ],\n  "c": {}\n}\n',
    ],
    ['[]', '[]\n'],
    [' { } ', '{}\n'],
    ['"top"', '"top"\n'],
    ['[[[]]]', '[\n  [\n    []\n  ]\n]\n'],
    // Numbers are not rounded or renormalised: the view is not JSON.parse + stringify.
    [
      '[12345678901234567890,1.0,-0,1E+2,0.5e-3]',
      '[\n  12345678901234567890,\n  1.0,\n  -0,\n  1E+2,\n  0.5e-3\n]\n',
    ],
    // Duplicate keys and escapes are kept.
    ['{"a":1,"a":2}', '{\n  "a": 1,\n  "a": 2\n}\n'],
    ['{"\\u00e9\\n\\"":"\\/\\\\"}', '{\n  "\\u00e9\\n\\"": "\\/\\\\"\n}\n'],
    ['\r\n\t[1 ,\n2]\n', '[\n  1,\n  2\n]\n'],
    [
      '{"k":{"n":[{"x":"y"}]}}',
      '{\n  "k": {\n    "n": [\n      {\n        "x": "y"\n      }\n    ]\n  }\n}\n',
    ],
  ];
  table.forEach(([input, want], i) => {
    const got = view(input);
    assert.equal(got, want, `#${i}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
    assert.deepEqual(JSON.parse(got as string), JSON.parse(input), `#${i}: same value as the input`);
  });
});

test('formatJson refuses what JSON.parse refuses, so invalid bodies are printed raw', () => {
  const invalid = [
    '',
    '   ',
    '{',
    '}',
    '[1,]',
    '{"a":1,}',
    '{"a"}',
    '{"a" 1}',
    '{a:1}',
    "{'a':1}",
    '[1 2]',
    '01',
    '1.',
    '.5',
    '+1',
    '-',
    '1e',
    'tru',
    'nul',
    'NaN',
    '{"a":1}x',
    '[1]]',
    '"a',
    '"\u0001"',
    '"\\x"',
    '"\\u12"',
    '"\\u12g4"',
    '[1}',
    '{"a":1]',
  ];
  invalid.forEach((input, i) => {
    assert.throws(() => JSON.parse(input), `#${i}: the table holds only invalid JSON`);
    assert.equal(view(input), undefined, `#${i}: ${JSON.stringify(input)} was accepted`);
  });
  assert.equal(formatJson(Buffer.from([0x5b, 0x22, 0xff, 0x22, 0x5d]), false), undefined, 'invalid UTF-8');
});

test('nesting beyond 256 levels, or a view past 8 times the limit, is left raw: indentation grows with depth', () => {
  const nest = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  assert.ok(view(nest(256))?.startsWith('[\n  [\n'));
  assert.equal(view(nest(257)), undefined);
  // Half a million brackets would indent to 62 GB; refused at once.
  const started = performance.now();
  assert.equal(view(nest(500_000)), undefined);
  assert.ok(performance.now() - started < 1000);
  // 255 levels of short elements: about 500 spaces of indentation for each 2 bytes of input.
  const wide = `${'['.repeat(255)}${'1,'.repeat(200_000)}1${']'.repeat(255)}`;
  assert.equal(view(wide), undefined);
  assert.ok(view(`${'['.repeat(255)}${'1,'.repeat(1000)}1${']'.repeat(255)}`));
});

test('colour: keys, strings, numbers and literals each in their own colour; the text under it is the plain view', () => {
  const input = '{"key":"text","n":-1.5,"t":true,"f":false,"z":null}';
  const coloured = formatJson(Buffer.from(input), true) as string;
  assert.equal(coloured.replace(ANSI, ''), view(input));
  const colourOf = (token: string) => {
    const m = new RegExp(`(\\x1b\\[[0-9;]*m)${token.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}\\x1b\\[0m`).exec(
      coloured,
    );
    assert.ok(m, `${token} is coloured in ${JSON.stringify(coloured)}`);
    return m[1];
  };
  const roles = [colourOf('"key"'), colourOf('"text"'), colourOf('-1.5'), colourOf('true')];
  assert.equal(new Set(roles).size, 4, `distinct colours: ${JSON.stringify(roles)}`);
  assert.equal(colourOf('false'), colourOf('null'));
  assert.equal(colourOf('"n"'), colourOf('"key"'));
});

test('characters a terminal would act on are shown as \\u escapes, which mean the same in JSON', () => {
  const input = '{"a\u009bb":"x\u202ey\u007f"}';
  const got = view(input) as string;
  assert.equal(got, '{\n  "a\\u009bb": "x\\u202ey\\u007f"\n}\n');
  assert.deepEqual(JSON.parse(got), JSON.parse(input));
});

test('isJsonContentType: application/json and +json types, any parameters, any case', () => {
  const table: [string | undefined, boolean][] = [
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON', true],
    ['application/problem+json', true],
    ['application/vnd.api+json; charset=utf-8', true],
    ['text/plain', false],
    ['application/jsonp', false],
    ['application/json-seq', false],
    ['text/html; note=application/json', false],
    ['', false],
    [undefined, false],
  ];
  table.forEach(([type, want], i) => {
    assert.equal(isJsonContentType(type), want, `#${i}: ${type}`);
  });
});

test('viewBody: only a terminal, a JSON type, valid JSON and at most JSON_VIEW_LIMIT bytes get the view', () => {
  const json = Buffer.from('{"a":[1]}');
  const tty = { terminal: true, color: false };
  assert.equal(viewBody(json, 'application/json', tty), '{\n  "a": [\n    1\n  ]\n}\n');
  assert.equal(
    viewBody(json, 'application/json', { terminal: false, color: false }),
    json,
    'piped: the bytes',
  );
  assert.equal(viewBody(json, 'text/plain', tty), json, 'not a JSON type');
  assert.equal(viewBody(json, undefined, tty), json, 'no content type');
  const broken = Buffer.from('{"a":');
  assert.equal(viewBody(broken, 'application/json', tty), broken, 'invalid JSON');
  const atLimit = Buffer.alloc(JSON_VIEW_LIMIT, 0x20);
  atLimit.write('[1]');
  assert.equal(viewBody(atLimit, 'application/json', tty), '[\n  1\n]\n', 'at the limit: viewed');
  const over = Buffer.alloc(JSON_VIEW_LIMIT + 1, 0x20);
  over.write('[1]');
  assert.equal(viewBody(over, 'application/json', tty), over, 'over the limit: raw');
});
