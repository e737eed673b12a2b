import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameError } from '../../src/errors.js';
import {
  JSON_STREAM_DEFAULTS,
  JsonSyntaxError,
  JsonValueDecoder,
  JsonValueSplitter,
  jsonValues,
} from '../../src/rpc/json-stream.js';

/** splitAll feeds `chunks` to a fresh splitter and returns every value text, end() included. */
function splitAll(chunks: Buffer[], options = {}): string[] {
  const s = new JsonValueSplitter(options);
  const out: string[] = [];
  for (const c of chunks) out.push(...s.push(c));
  out.push(...s.end());
  return out;
}

// [stream, values it holds]
const STREAMS: [string, string[]][] = [
  ['{"a":1}{"b":2}\n[1]', ['{"a":1}', '{"b":2}', '[1]']],
  [' 1 2\t3\r\n', ['1', '2', '3']],
  ['123', ['123']],
  ['-1.5e+10[]', ['-1.5e+10', '[]']],
  ['0 -0 1E5{}', ['0', '-0', '1E5', '{}']],
  ['true false\nnull', ['true', 'false', 'null']],
  ['truefalse"x"null', ['true', 'false', '"x"', 'null']],
  ['"a\\"b\\\\"{"k":"}{][\\""}', ['"a\\"b\\\\"', '{"k":"}{][\\""}']],
  ['{"é":"日本語"}["😀",\n "\\u00e9"]', ['{"é":"日本語"}', '["😀",\n "\\u00e9"]']],
  ['[{"a":[1,{"b":null}]},"x",true]  {"n":[[[]]]}', ['[{"a":[1,{"b":null}]},"x",true]', '{"n":[[[]]]}']],
  ['{ "spaced" : [ 1 , 2 ] }', ['{ "spaced" : [ 1 , 2 ] }']],
  ['"\\/\\b\\f\\n\\r\\t"', ['"\\/\\b\\f\\n\\r\\t"']],
  ['', []],
  [' \n\t ', []],
];

test('JsonValueSplitter splits every stream the same at every split point and byte by byte', () => {
  for (const [i, [stream, want]] of STREAMS.entries()) {
    const bytes = Buffer.from(stream);
    assert.deepEqual(splitAll([bytes]), want, `#${i} whole: ${stream}`);
    for (let at = 0; at <= bytes.length; at++) {
      const got = splitAll([bytes.subarray(0, at), bytes.subarray(at)]);
      assert.deepEqual(got, want, `#${i} split at ${at}: got ${JSON.stringify(got)}`);
    }
    const single = [...bytes].map((b) => Buffer.from([b]));
    assert.deepEqual(splitAll(single), want, `#${i} one byte at a time`);
    // Every value is JSON that JSON.parse accepts: the splitter never cuts one wrongly.
    for (const v of want) JSON.parse(v);
  }
});

test('a top-level number is complete only once a delimiter or the end follows it', () => {
  const s = new JsonValueSplitter();
  assert.deepEqual(s.push('12'), []);
  assert.equal(s.buffered, 2);
  assert.deepEqual(s.push('34'), []);
  assert.deepEqual(s.push(' '), ['1234']);
  assert.deepEqual(s.push('5'), []);
  assert.deepEqual(s.push('{}'), ['5', '{}']);
  assert.deepEqual(s.push('-7'), []);
  assert.deepEqual(s.end(), ['-7']);
  // true needs no delimiter: it cannot go on.
  assert.deepEqual(s.push('true'), ['true']);
});

test('JsonValueDecoder delivers values as zero-copy views when they lie in one chunk', () => {
  const chunk = Buffer.from('{"a":1} [2]');
  const frames: Buffer[] = [];
  new JsonValueDecoder().push(chunk, (f) => frames.push(f));
  assert.equal(frames.length, 2);
  assert.equal(frames[0]!.buffer, chunk.buffer);
  assert.equal(frames[1]!.toString(), '[2]');
});

test('the decoder is reusable after a clean end', () => {
  const d = new JsonValueDecoder();
  const got: string[] = [];
  d.push(Buffer.from('[1] 2'), (f) => got.push(f.toString()));
  d.end((f) => got.push(f.toString()));
  d.push(Buffer.from('[3]'), (f) => got.push(f.toString()));
  assert.deepEqual(got, ['[1]', '2', '[3]']);
  assert.equal(d.buffered, 0);
});

test('maxValueBytes: a value of exactly the limit passes, one byte more fails before it is held', () => {
  const max = 10;
  assert.deepEqual(splitAll([Buffer.from('"12345678" ["123456"]')], { maxValueBytes: max }), [
    '"12345678"',
    '["123456"]',
  ]);
  // Whitespace between values does not count, whitespace inside does.
  assert.deepEqual(splitAll([Buffer.from(`${' '.repeat(100)}[1]`)], { maxValueBytes: 3 }), ['[1]']);
  assert.throws(() => splitAll([Buffer.from('[ 1 ]')], { maxValueBytes: 4 }), {
    code: 'NETKIT_FRAME_TOO_LARGE',
  });
  const s = new JsonValueSplitter({ maxValueBytes: max });
  assert.deepEqual(s.push('"123456789'), []);
  assert.equal(s.buffered, 10);
  assert.throws(
    () => s.push('0"'),
    (err) => err instanceof FrameError && err.code === 'NETKIT_FRAME_TOO_LARGE' && err.limit === max,
  );
  // A number at the limit is fine until a digit more arrives.
  assert.deepEqual(splitAll([Buffer.from('12345 ')], { maxValueBytes: 5 }), ['12345']);
  assert.throws(() => splitAll([Buffer.from('123456 ')], { maxValueBytes: 5 }), {
    code: 'NETKIT_FRAME_TOO_LARGE',
  });
});

test('maxValueBytes stops scanning a huge chunk at the limit instead of reading it all', () => {
  const huge = Buffer.alloc(8 * 1024 * 1024, 0x61);
  huge[0] = 0x22;
  const s = new JsonValueSplitter({ maxValueBytes: 1024 });
  assert.throws(
    () => s.push(huge),
    (err) => err instanceof FrameError && err.size === 1025,
  );
  assert.equal(s.buffered, 0, 'a dead decoder holds nothing');
});

test('maxDepth: nesting to the limit passes, one level more is NETKIT_RPC_PROTOCOL', () => {
  assert.deepEqual(splitAll([Buffer.from('[[{"a":[]}]]')], { maxDepth: 4 }), ['[[{"a":[]}]]']);
  assert.throws(
    () => splitAll([Buffer.from('[[{"a":[[]]}]]')], { maxDepth: 4 }),
    (err) => err instanceof JsonSyntaxError && err.code === 'NETKIT_RPC_PROTOCOL' && err.limit === 4,
  );
  // The default stops a hostile `[[[[…` at 257 levels, long before the end of the input.
  const deep = Buffer.from('['.repeat(100_000));
  assert.throws(
    () => new JsonValueSplitter().push(deep),
    (err) => err instanceof JsonSyntaxError && err.offset === JSON_STREAM_DEFAULTS.maxDepth,
  );
});

// [stream, offset of the bad byte]
const GARBAGE: [string, number][] = [
  ['}', 0],
  [']', 0],
  ['x', 0],
  [',', 0],
  ['+1', 0],
  ['{]', 1],
  ['[}', 1],
  ['[1}', 2],
  ['{"a":1}}', 7],
  ['{"a":1} x', 8],
  ['"a\u0001"', 2],
  ['["a\nb"]', 3],
  ['"\\q"', 2],
  ['tru e', 3],
  ['nul!', 3],
  ['falsy', 4],
  ['{"a": undefined}', 8],
  ['[1, \u00ff]', 4],
  ['\ufeff{}', 0],
];

test('garbage is NETKIT_RPC_PROTOCOL at the offset of the first bad byte, at every split point', () => {
  for (const [i, [stream, offset]] of GARBAGE.entries()) {
    const bytes = Buffer.from(stream, stream.includes('\u00ff') ? 'latin1' : 'utf8');
    for (let at = 0; at <= bytes.length; at++) {
      assert.throws(
        () => splitAll([bytes.subarray(0, at), bytes.subarray(at)]),
        (err) =>
          err instanceof JsonSyntaxError && err.code === 'NETKIT_RPC_PROTOCOL' && err.offset === offset,
        `#${i} ${JSON.stringify(stream)} split at ${at}`,
      );
    }
  }
});

test('values before a failure reach the FrameDecoder callback; the decoder then stays failed', () => {
  const d = new JsonValueDecoder();
  const got: string[] = [];
  assert.throws(() => d.push(Buffer.from('{"a":1}[2]}'), (f) => got.push(f.toString())), JsonSyntaxError);
  assert.deepEqual(got, ['{"a":1}', '[2]']);
  assert.throws(() => d.push(Buffer.from('[3]'), () => {}), JsonSyntaxError);
  assert.throws(() => d.end(() => {}), JsonSyntaxError);
});

test('a stream that ends inside a value is NETKIT_FRAME_TRUNCATED', () => {
  for (const stream of ['{"a":', '"abc', '[1,2', 'tru', '"\\']) {
    assert.throws(() => splitAll([Buffer.from(stream)]), { code: 'NETKIT_FRAME_TRUNCATED' }, stream);
  }
});

test('jsonValues yields the values of an async byte source, then its failure', async () => {
  async function* source(parts: string[]) {
    for (const p of parts) yield Buffer.from(p);
  }
  const got: string[] = [];
  for await (const v of jsonValues(source(['{"a"', ':1}[', '2] 3']))) got.push(v);
  assert.deepEqual(got, ['{"a":1}', '[2]', '3']);
  const partial: string[] = [];
  await assert.rejects(async () => {
    for await (const v of jsonValues(source(['[1] [2] }']))) partial.push(v);
  }, JsonSyntaxError);
  assert.deepEqual(partial, ['[1]', '[2]']);
});

test('options are validated when the splitter is made, naming the option', () => {
  assert.throws(() => new JsonValueSplitter({ maxValueBytes: 0 }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'maxValueBytes',
  });
  assert.throws(() => new JsonValueDecoder({ maxDepth: 0 }), { option: 'maxDepth' });
  assert.throws(() => new JsonValueDecoder({ maxDepth: 1.5 }), { option: 'maxDepth' });
});
