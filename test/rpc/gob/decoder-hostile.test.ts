/**
 * The decoder against malformed and hostile input (RELIABILITY.md 14):
 * every failure is a GobError with the right code, found before any large
 * allocation, without deep recursion, and the decoder stays dead after it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DECODER_DEFAULTS, Decoder, GobError, GobInterface } from '../../../src/rpc/gob/index.js';
import { readGolden } from './cases.js';
import { argError, decodeBytes, gobError, gobInt, gobUint, hex, msg } from './helpers.js';

const GOLDEN = readGolden();
/** Go's definition of `type Args struct{ A, B int }` (id 65), and Args{7, 8}. */
const ARGS_DEF = hex(
  '1eff81030101044172677301ff82000102010141010400010142010400000007ff82010e011000',
).subarray(0, 31);
const ARGS_VAL = msg('ff82 010e 0110 00');
/** Definitions of []int and []interface{} as type 65, from Go. */
const INTS_DEF = hex(GOLDEN.get('ints')!).subarray(0, 13);
const IFACES_DEF = hex(GOLDEN.get('slice_iface')!).subarray(0, 13);

/** sliceDef defines type `id` as a slice of type `elem`. */
function sliceDef(id: number, elem: number): Buffer {
  return msg(gobInt(-id), '02 01 02', gobInt(id), '00 01', gobInt(elem), '00 00');
}

/** structDef defines type `id` as a struct with the named fields (field type ids). */
function structDef(id: number, fields: [string, number][]): Buffer {
  const parts: Buffer[] = [
    gobInt(-id),
    hex('03 01 01 02'),
    gobInt(id),
    hex('00'),
    hex('01'),
    gobUint(fields.length),
  ];
  for (const [name, fid] of fields)
    parts.push(hex('01'), gobUint(name.length), Buffer.from(name), hex('01'), gobInt(fid), hex('00'));
  parts.push(hex('00 00'));
  return msg(Buffer.concat(parts));
}

test('the Args fixtures decode (the hostile cases below are variations on them)', () => {
  assert.deepEqual(decodeBytes(Buffer.concat([ARGS_DEF, ARGS_VAL])), [{ A: 7, B: 8 }]);
  assert.deepEqual(decodeBytes(Buffer.concat([INTS_DEF, msg('ff82 00 02 02 04')])), [[1, 2]]);
  assert.deepEqual(decodeBytes(Buffer.concat([sliceDef(65, 2), msg('ff82 00 01 06')])), [[3]]);
  assert.deepEqual(decodeBytes(Buffer.concat([structDef(65, [['N', 6]]), msg('ff82 01 01 61 00')])), [
    { N: 'a' },
  ]);
});

describe('malformed input is NETKIT_GOB_MALFORMED with the offset', () => {
  const cases: [string, Buffer, number?][] = [
    ['a length prefix of 128 bytes', hex('80 00'), 0],
    ['a uint of 9 bytes', Buffer.concat([ARGS_DEF, msg('ff82 01 f7 010203040506070809 00')]), 31 + 4],
    ['a string longer than the message', msg('0c 00 0a 6869'), 3],
    ['an unknown type id', msg('ff84 0102 00')],
    ['a redefined type id', Buffer.concat([ARGS_DEF, ARGS_DEF])],
    ['a definition of a reserved id', msg(gobInt(-10), '02 01 02 14 00 01 04 00 00')],
    [
      'a definition setting two wireType fields',
      msg('ff81 02 01 02 ff82 00 01 04 00 01 01 02 ff82 00 01 04 00 00'),
    ],
    ['a definition referring to an undefined id', Buffer.concat([sliceDef(65, 99), msg('ff82 00 00')])],
    [
      'an array with the wrong count',
      Buffer.concat([hex(GOLDEN.get('array')!).subarray(0, 15), msg('ff82 00 02 02 04')]),
    ],
    ['a singleton with a non-zero delta', msg('04 01 02')],
    ['trailing bytes after a value', Buffer.concat([ARGS_DEF, msg('ff82 010e 0110 00 ff')])],
    ['trailing bytes after a definition', msg(ARGS_DEF.subarray(1), 'ff')],
    ['a field delta past the last field', Buffer.concat([ARGS_DEF, msg('ff82 03 02 00')])],
    ['a struct without its terminator', Buffer.concat([ARGS_DEF, msg('ff82 010e')])],
    ['an empty message', hex('00')],
    ['a type id beyond int32', msg(gobInt(2 ** 31), '00')],
    ['a slice count beyond the bytes left', Buffer.concat([INTS_DEF, msg('ff82 00 fd 0f423f 02')])],
    [
      'an interface name over 1024 bytes',
      Buffer.concat([IFACES_DEF, msg('ff82 00 01 fe0401', 'aa'.repeat(1025))]),
    ],
  ];
  for (const [name, bytes, offset] of cases) {
    test(name, () => {
      const err = gobError(() => decodeBytes(bytes), 'NETKIT_GOB_MALFORMED');
      assert.equal(typeof err.offset, 'number');
      if (offset !== undefined) assert.equal(err.offset, offset);
    });
  }
});

describe('limits are NETKIT_GOB_LIMIT, judged before allocating', () => {
  test('a length prefix of 2^63 or 2^64-1 fails on push, with the limit', () => {
    for (const prefix of ['f8 8000000000000000', 'f8 ffffffffffffffff']) {
      const d = new Decoder();
      const err = gobError(() => d.push(hex(prefix)), 'NETKIT_GOB_LIMIT');
      assert.equal(err.limit, DECODER_DEFAULTS.maxMessageBytes);
    }
  });

  test('maxMessageBytes: exactly the limit passes, one byte more fails', () => {
    const bodyLen = ARGS_VAL.length - 1;
    assert.equal(decodeBytes(Buffer.concat([ARGS_DEF, ARGS_VAL]), { maxMessageBytes: 30 }).length, 1);
    const err = gobError(
      () => decodeBytes(Buffer.concat([ARGS_DEF, ARGS_VAL]), { maxMessageBytes: 29 }),
      'NETKIT_GOB_LIMIT',
    );
    assert.equal(err.limit, 29);
    assert.ok(bodyLen < 29);
  });

  test('a slice count of 2^40 fails without allocating, also for interfaces', () => {
    gobError(
      () => decodeBytes(Buffer.concat([INTS_DEF, msg('ff82 00 fa 010000000000')])),
      'NETKIT_GOB_LIMIT',
    );
    gobError(
      () => decodeBytes(Buffer.concat([IFACES_DEF, msg('ff82 00 fa 010000000000')])),
      'NETKIT_GOB_LIMIT',
    );
    const err = gobError(
      () => decodeBytes(Buffer.concat([INTS_DEF, msg('ff82 00 03 02 04 06')]), { maxElements: 2 }),
      'NETKIT_GOB_LIMIT',
    );
    assert.equal(err.limit, 2);
  });

  test('a huge count of interfaces over few bytes ends at the message end, not in memory', () => {
    gobError(
      () => decodeBytes(Buffer.concat([IFACES_DEF, msg('ff82 00 fd 0f4240 00 00 00')])),
      'NETKIT_GOB_MALFORMED',
    );
  });

  test('values nested 100,000 deep fail fast, at any maxDepth', () => {
    const deepSlice = Buffer.concat([sliceDef(65, 65), msg('ff82 00', '01'.repeat(100_000), '00')]);
    const deepStruct = Buffer.concat([structDef(65, [['N', 65]]), msg('ff82', '01'.repeat(100_000), '00')]);
    for (const bytes of [deepSlice, deepStruct]) {
      for (const maxDepth of [undefined, 1000]) {
        const start = performance.now();
        const err = gobError(() => decodeBytes(bytes, { maxDepth }), 'NETKIT_GOB_LIMIT');
        assert.equal(err.limit, maxDepth ?? 64);
        assert.ok(performance.now() - start < 1000);
      }
    }
  });

  test('maxDepth 1000 is usable: a list 1000 deep decodes', () => {
    const list = Buffer.concat([
      structDef(65, [['N', 65]]),
      msg('ff82', '01'.repeat(999), '00'.repeat(1000)),
    ]);
    let v = decodeBytes(list, { maxDepth: 1000 })[0] as { N: unknown } | null;
    let depth = 0;
    while (v !== null) {
      v = v.N as { N: unknown } | null;
      depth++;
    }
    assert.equal(depth, 1000);
  });

  test('type definitions nested deeper than maxDepth', () => {
    const defs = [];
    for (let id = 65; id < 265; id++) defs.push(sliceDef(id, id === 264 ? 2 : id + 1));
    const bytes = Buffer.concat([...defs, msg('ff82 00 00')]);
    gobError(() => decodeBytes(bytes), 'NETKIT_GOB_LIMIT');
    assert.deepEqual(decodeBytes(bytes, { maxDepth: 300 }), [[]]);
  });

  test('maxTypes', () => {
    const bytes = Buffer.concat([sliceDef(65, 2), sliceDef(66, 2)]);
    assert.deepEqual(decodeBytes(bytes, { maxTypes: 2 }), []);
    assert.equal(gobError(() => decodeBytes(bytes, { maxTypes: 1 }), 'NETKIT_GOB_LIMIT').limit, 1);
  });

  test('maxFields: wide struct types are refused when defined', () => {
    const fields = Array.from({ length: 1025 }, (_, i): [string, number] => [`F${i}`, 2]);
    const err = gobError(() => decodeBytes(structDef(65, fields)), 'NETKIT_GOB_LIMIT');
    assert.equal(err.limit, 1024);
    assert.deepEqual(
      decodeBytes(Buffer.concat([structDef(65, fields), msg('ff82 00')]), { maxFields: 1025 }).length,
      1,
    );
    assert.deepEqual(
      decodeBytes(Buffer.concat([structDef(65, fields.slice(0, 1024)), msg('ff82 00')])).length,
      1,
    );
  });

  test('a value cut across messages counts all of them against maxMessageBytes', () => {
    const bytes = hex(GOLDEN.get('iface')!);
    assert.equal(decodeBytes(bytes, { maxMessageBytes: 60 }).length, 1);
    gobError(() => decodeBytes(bytes, { maxMessageBytes: 50 }), 'NETKIT_GOB_LIMIT');
  });
});

test('after an error the decoder is dead: every call throws the same error', () => {
  const d = new Decoder();
  d.push(ARGS_DEF);
  d.push(msg('ff82 03 02 00'));
  const err = gobError(() => d.next(), 'NETKIT_GOB_MALFORMED');
  assert.throws(
    () => d.next(),
    (e) => e === err,
  );
  assert.throws(
    () => d.push(ARGS_VAL),
    (e) => e === err,
  );
  assert.equal(d.buffered, 0);
});

test('a field named __proto__ is an own property, not the prototype', () => {
  const [v] = decodeBytes(
    Buffer.concat([
      structDef(65, [
        ['__proto__', 2],
        ['X', 2],
      ]),
      msg('ff82 01 0a 01 02 00'),
    ]),
  ) as [Record<string, unknown>];
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(v, '__proto__')?.value, 5);
  assert.equal(v.X, 1);
  const [zero] = decodeBytes(Buffer.concat([structDef(65, [['__proto__', 2]]), msg('ff82 00')])) as [object];
  assert.equal(Object.getPrototypeOf(zero), Object.prototype);
});

test('decoded interfaces and opaque values keep the sender types', () => {
  const [h] = decodeBytes(hex(GOLDEN.get('iface')!)) as [{ I: GobInterface }];
  assert.ok(h.I instanceof GobInterface);
  assert.equal(h.I.name, 'main.Point');
  assert.deepEqual(h.I.type, {
    kind: 'struct',
    name: 'Point',
    fields: [
      { name: 'X', type: { kind: 'int' } },
      { name: 'Y', type: { kind: 'int' } },
    ],
  });
});

test('options are validated up front, each failure naming the option', () => {
  for (const bad of [0, -1, 1.5, '1', Number.NaN]) {
    argError(() => new Decoder({ maxMessageBytes: bad as number }), 'maxMessageBytes');
    argError(() => new Decoder({ maxDepth: bad as number }), 'maxDepth');
  }
  argError(() => new Decoder({ maxDepth: 1001 }), 'maxDepth');
  argError(() => new Decoder({ maxElements: -1 }), 'maxElements');
  argError(() => new Decoder({ maxTypes: -1 }), 'maxTypes');
  argError(() => new Decoder({ maxFields: 1.5 }), 'maxFields');
  argError(() => new Decoder(null as never), 'options');
  argError(() => new Decoder().push('abc' as never), 'chunk');
  assert.ok(new GobError('NETKIT_GOB_LIMIT', 'x', { limit: 1 }) instanceof Error);
});
