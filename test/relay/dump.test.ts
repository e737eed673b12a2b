import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { jsonLine } from '../../src/internal/text.js';
import { type DumpChunk, dumpEvent, formatDump } from '../../src/relay/dump.js';

const T = Date.parse('2026-12-07T06:10:00.123Z');

const up = (hex: string, offset = 0): DumpChunk => ({
  id: 3,
  stream: 'upstream',
  offset,
  time: T,
  bytes: Buffer.from(hex, 'hex'),
});
const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('hex');

/** RAW is what must never reach a terminal: C0 controls (but the newlines formatDump adds), DEL, C1. */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

test('formatDump header says direction, connection, offset, time and length', () => {
  const cases: [DumpChunk, string][] = [
    [
      { ...up('', 1024), bytes: Buffer.alloc(17, 0x61) },
      '> 2026-12-07T06:10:00.123Z #3 client → target  offset 1024  (17 bytes)',
    ],
    [
      { id: 12, stream: 'downstream', offset: 0, time: T, bytes: Buffer.from('x') },
      '< 2026-12-07T06:10:00.123Z #12 client ← target  offset 0  (1 byte)',
    ],
    [up(''), '> 2026-12-07T06:10:00.123Z #3 client → target  offset 0  (0 bytes)'],
  ];
  for (const [i, [chunk, want]] of cases.entries()) {
    for (const mode of ['text', 'hex'] as const) {
      const got = formatDump(chunk, mode).split('\n')[0];
      assert.equal(got, want, `#${i} ${mode}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
    }
  }
  assert.equal(formatDump(up(''), 'text').split('\n').length, 1, 'an empty chunk is a header alone');
});

test('formatDump text mode escapes what a terminal would act on', () => {
  const cases: [string, string, string[]][] = [
    ['plain', utf8('hello'), ['hello']],
    [
      'CR LF breaks the line after \\n',
      utf8('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      ['GET / HTTP/1.1\\r\\n', 'Host: x\\r\\n', '\\r\\n'],
    ],
    ['text after the last newline', utf8('a\nb'), ['a\\n', 'b']],
    ['ESC sequence', utf8('\x1b[2Jgone\x1b]0;title\x07'), ['\\x1b[2Jgone\\x1b]0;title\\x07']],
    ['NUL and DEL', '00417f', ['\\x00A\\x7f']],
    ['C1 CSI, UTF-8 encoded', 'c29b33316d', ['\\x9b31m']],
    ['C1 CSI as a bare byte (not UTF-8)', '9b33316d', ['\\x9b31m']],
    ['invalid UTF-8 shown byte for byte', '61ff62c3', ['a\\xffb\\xc3']],
    ['overlong encoding', 'c0af', ['\\xc0\\xaf']],
    ['emoji and accents pass', utf8('café 😀'), ['café 😀']],
    ['bidi override', utf8('evil\u202etxt.exe'), ['evil\\u202etxt.exe']],
    ['tab is escaped', utf8('a\tb'), ['a\\tb']],
    ['backslash is escaped so a literal \\n is not a newline', utf8('a\\nb\\'), ['a\\\\nb\\\\']],
    [
      'a forged header stays indented',
      utf8('x\n> 2026 #9 client → target'),
      ['x\\n', '> 2026 #9 client → target'],
    ],
    ['multibyte split by newline is kept whole', utf8('é\né'), ['é\\n', 'é']],
  ];
  for (const [i, [name, hex, want]] of cases.entries()) {
    const lines = formatDump(up(hex), 'text').split('\n').slice(1);
    assert.deepEqual(
      lines,
      want.map((l) => `  ${l}`),
      `#${i} ${name}: got ${JSON.stringify(lines)} want ${JSON.stringify(want)}`,
    );
    for (const line of lines) assert.doesNotMatch(line, RAW, `#${i} ${name}: raw control byte`);
  }
});

test('formatDump hex mode prints xxd lines with offsets continuing across chunks', () => {
  const first = up(utf8('0123456789abcdefXYZ'), 0);
  const second = up(utf8('\x1b[2J'), 19);
  assert.deepEqual(formatDump(first, 'hex').split('\n').slice(1), [
    '  00000000: 3031 3233 3435 3637 3839 6162 6364 6566  0123456789abcdef',
    '  00000010: 5859 5a                                  XYZ',
  ]);
  assert.deepEqual(formatDump(second, 'hex').split('\n').slice(1), [
    '  00000013: 1b5b 324a                                .[2J',
  ]);
  const big = up(Buffer.alloc(40, 0x9b).toString('hex'), 0x1000);
  const lines = formatDump(big, 'hex').split('\n');
  assert.deepEqual(
    lines.slice(1).map((l) => l.slice(2, 10)),
    ['00001000', '00001010', '00001020'],
  );
  for (const line of lines) assert.doesNotMatch(line, RAW);
});

test('formatDump shows long chunks in full unless maxBytes is set', () => {
  const long = up(Buffer.alloc(5000, 0x61).toString('hex'));
  const full = formatDump(long, 'text');
  assert.equal(full.split('\n').length, 2);
  assert.equal(full.split('\n')[1], `  ${'a'.repeat(5000)}`);

  const cases: [string, number | undefined, string[]][] = [
    ['text at the limit', 11, ['  hello\\n', '  world']],
    ['text cut', 3, ['  hel', '  … 8 more bytes not shown']],
    ['cut to nothing', 0, ['  … 11 more bytes not shown']],
  ];
  for (const [i, [name, maxBytes, want]] of cases.entries()) {
    const got = formatDump(up(utf8('hello\nworld')), 'text', { maxBytes })
      .split('\n')
      .slice(1);
    assert.deepEqual(got, want, `#${i} ${name}: got ${JSON.stringify(got)}`);
  }
  assert.deepEqual(
    formatDump(up(utf8('hello\nworld!')), 'text', { maxBytes: 11 })
      .split('\n')
      .slice(1),
    ['  hello\\n', '  world', '  … 1 more byte not shown'],
  );
  const hex = formatDump(up(Buffer.alloc(40, 0x41).toString('hex'), 16), 'hex', { maxBytes: 20 });
  assert.deepEqual(hex.split('\n').slice(1), [
    '  00000010: 4141 4141 4141 4141 4141 4141 4141 4141  AAAAAAAAAAAAAAAA',
    '  00000020: 4141 4141                                AAAA',
    '  … 20 more bytes not shown',
  ]);
  assert.match(hex.split('\n')[0]!, /\(40 bytes\)$/, 'the header gives the full length');
});

test('formatDump rejects a maxBytes that is not a count', () => {
  for (const maxBytes of [-1, 1.5, Number.NaN]) {
    assert.throws(
      () => formatDump(up('00'), 'text', { maxBytes }),
      (err) => isNetkitError(err, 'NETKIT_INVALID_ARGUMENT'),
      String(maxBytes),
    );
  }
});

test('dumpEvent gives the same information for --json', () => {
  const chunk: DumpChunk = {
    id: 7,
    stream: 'downstream',
    offset: 42,
    time: T,
    bytes: Buffer.from('\x1b[2Jhi\r\n\u009b\\', 'utf8'),
  };
  const base = {
    event: 'data',
    id: 7,
    stream: 'downstream',
    offset: 42,
    time: '2026-12-07T06:10:00.123Z',
    length: 11,
  };
  assert.deepEqual(dumpEvent(chunk, 'text'), { ...base, text: '\\x1b[2Jhi\\r\\n\\x9b\\\\' });
  assert.deepEqual(dumpEvent(chunk, 'hex'), { ...base, hex: '1b5b324a68690d0ac29b5c' });
  assert.deepEqual(dumpEvent(chunk, 'hex', { maxBytes: 4 }), { ...base, hex: '1b5b324a', omitted: 7 });
  assert.deepEqual(dumpEvent(up(''), 'text'), {
    ...base,
    id: 3,
    stream: 'upstream',
    offset: 0,
    length: 0,
    text: '',
  });

  const line = jsonLine(dumpEvent(chunk, 'text'));
  assert.doesNotMatch(line, RAW);
  assert.deepEqual(JSON.parse(line), dumpEvent(chunk, 'text'));
});
