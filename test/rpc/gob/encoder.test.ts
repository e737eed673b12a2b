/**
 * The encoder beyond the golden bytes: values that do not fit their type
 * (NETKIT_GOB_ENCODE with a path), stream state after failures and
 * rollback, 64-bit integers, and round trips through the decoder.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Decoder,
  decodeAll,
  Encoder,
  encodeAll,
  GobInterface,
  type GobStructType,
  gob,
} from '../../../src/rpc/gob/index.js';
import { Args, Holder, Point, Poly } from './cases.js';
import { argError, gobError } from './helpers.js';

describe('values that do not fit their type are NETKIT_GOB_ENCODE with a path', () => {
  const Tags = gob.map(gob.string, gob.int);
  const cases: [string, unknown, Parameters<Encoder['encode']>[1], string][] = [
    ['a string for an int', { A: 'x', B: 8 }, Args, 'Args.A'],
    ['a fraction for an int', { A: 7, B: 1.5 }, Args, 'Args.B'],
    ['an unsafe integer as a number', { A: 2 ** 53 }, Args, 'Args.A'],
    ['an int beyond int64', { A: 2n ** 63n }, Args, 'Args.A'],
    ['a negative uint', -1, gob.uint, 'value'],
    ['a uint beyond uint64', 2n ** 64n, gob.uint, 'value'],
    ['a number for a bool', 1, gob.bool, 'value'],
    ['an array for a struct', [1, 2], Args, 'Args'],
    [
      'a deep mismatch',
      {
        Pts: [
          { X: 1, Y: 2 },
          { X: 1, Y: 'a' },
        ],
      },
      Poly,
      'Poly.Pts[1].Y',
    ],
    ['a map value', new Map([['k', 'v']]), Tags, 'value["k"]'],
    [
      'a value inside an interface',
      { I: new GobInterface('main.Point', Point, { X: 'a' }) },
      Holder,
      'Holder.I.(main.Point).X',
    ],
    ['a plain value for an interface', { I: 5 }, Holder, 'Holder.I'],
    ['an interface without a name', { I: new GobInterface('', Point, { X: 1 }) }, Holder, 'Holder.I'],
    ['a nil element in a slice of structs', [{ X: 1 }, null], gob.slice(Point), 'value[1]'],
    ['an array of the wrong length', [1, 2], gob.array(gob.int, 3), 'value'],
    ['a top-level null', null, Args, 'value'],
    ['a complex without parts', { re: 1 }, gob.complex, 'value'],
    ['bytes as a string', 'abc', gob.bytes, 'value'],
  ];
  for (const [name, value, type, path] of cases) {
    test(name, () => {
      const err = gobError(() => new Encoder().encode(value, type), 'NETKIT_GOB_ENCODE');
      assert.equal(err.path, path);
    });
  }

  test('a circular object fails at maxDepth, not with a stack overflow', () => {
    const Node: GobStructType = gob.struct({ Next: gob.lazy(() => Node) }, 'Node');
    const loop: Record<string, unknown> = {};
    loop.Next = loop;
    gobError(() => new Encoder().encode(loop, Node), 'NETKIT_GOB_ENCODE');
    gobError(() => new Encoder({ maxDepth: 1000 }).encode(loop, Node), 'NETKIT_GOB_ENCODE');
    gobError(() => new Encoder().encode(loop), 'NETKIT_GOB_ENCODE');
  });

  test('a type that is not a gob type is an invalid argument', () => {
    argError(() => new Encoder().encode(1, { kind: 'float64' } as never), 'type');
    argError(() => new Encoder({ maxDepth: 0 }), 'maxDepth');
    argError(() => new Encoder({ maxMessageBytes: -1 }), 'maxMessageBytes');
  });

  test('a message over maxMessageBytes is NETKIT_GOB_LIMIT', () => {
    const err = gobError(
      () => new Encoder({ maxMessageBytes: 10 }).encode('x'.repeat(20)),
      'NETKIT_GOB_LIMIT',
    );
    assert.equal(err.limit, 10);
  });
});

describe('stream state', () => {
  test('a failed encode leaves the stream as it was', () => {
    const enc = new Encoder();
    gobError(() => enc.encode({ A: 'x' }, Args), 'NETKIT_GOB_ENCODE');
    gobError(() => enc.encode({ Pts: [{ X: 'a' }] }, Poly), 'NETKIT_GOB_ENCODE');
    // The definitions the failed encodes would have sent are sent now, with the same ids.
    assert.deepEqual(enc.encode({ A: 7, B: 8 }, Args), new Encoder().encode({ A: 7, B: 8 }, Args));
  });

  test('rollback forgets types defined since mark', () => {
    const enc = new Encoder();
    enc.encode({ X: 1, Y: 2 }, Point);
    const mark = enc.mark();
    const first = enc.encode({ A: 7, B: 8 }, Args);
    enc.rollback(mark);
    assert.deepEqual(enc.encode({ A: 7, B: 8 }, Args), first);
    // Without rollback, the second time sends only the value.
    assert.ok(enc.encode({ A: 7, B: 8 }, Args).length < first.length);
  });

  test('equal schemas written twice share one type id; different ones do not', () => {
    const enc = new Encoder();
    const a = gob.struct({ A: gob.int, B: gob.int }, 'Args');
    const b = gob.struct({ A: gob.int, B: gob.int }, 'Args');
    const c = gob.struct({ A: gob.int, B: gob.int }, 'Other');
    enc.encode({ A: 1 }, a);
    assert.equal(enc.encode({ A: 1 }, b).toString('hex'), '05ff82010200');
    assert.notEqual(enc.encode({ A: 1 }, c).toString('hex'), '05ff82010200');
  });

  test('inferred encodes do not grow the encoder', () => {
    const enc = new Encoder();
    enc.encode({ A: 7, B: 8 });
    const registry = (enc as unknown as { registry: { log: unknown[] } }).registry;
    const size = registry.log.length;
    for (let i = 0; i < 1000; i++) enc.encode({ A: i, B: 8 });
    assert.equal(registry.log.length, size);
  });
});

describe('round trips', () => {
  const Any = gob.struct(
    {
      I: gob.int,
      U: gob.uint,
      F: gob.float,
      S: gob.string,
      L: gob.slice(gob.slice(gob.int)),
      M: gob.map(gob.int, gob.map(gob.string, gob.bool)),
      K: gob.map(Point, gob.string),
      A: gob.array(Point, 2),
      X: gob.interface,
    },
    'Any',
  );
  const values = [
    {
      I: 2n ** 62n + 1n,
      U: 2n ** 64n - 1n,
      F: Number.NaN,
      S: 'ü',
      L: [[1], [], [2, 3]],
      M: new Map(),
      K: new Map(),
      A: [{}, {}],
      X: null,
    },
    {
      I: -(2n ** 63n),
      U: 2 ** 53 - 1,
      F: Number.NEGATIVE_INFINITY,
      S: '',
      L: [],
      M: new Map([[1, new Map([['t', true]])]]),
      K: new Map(),
      A: [{ X: 1 }, { Y: -1 }],
      X: new GobInterface('m', gob.slice(gob.int), [1]),
    },
  ];

  test('through the decoder, values come back with every field', () => {
    const out = decodeAll(encodeAll(values, [Any, Any])) as Record<string, unknown>[];
    assert.equal(out[0]!.I, 2n ** 62n + 1n);
    assert.equal(out[0]!.U, 2n ** 64n - 1n);
    assert.ok(Number.isNaN(out[0]!.F));
    assert.deepEqual(out[0]!.L, [[1], [], [2, 3]]);
    assert.deepEqual(out[0]!.A, [
      { X: 0, Y: 0 },
      { X: 0, Y: 0 },
    ]);
    assert.equal(out[1]!.I, -(2n ** 63n));
    assert.equal(out[1]!.U, 2 ** 53 - 1);
    assert.deepEqual(out[1]!.M, new Map([[1, new Map([['t', true]])]]));
    const x = out[1]!.X as GobInterface;
    assert.deepEqual([x.name, x.value], ['m', [1]]);
  });

  test('nil slice, map and interface elements, as Go sends them', () => {
    const T = gob.struct({
      S: gob.slice(gob.slice(gob.int)),
      I: gob.slice(gob.interface),
      M: gob.map(gob.string, gob.slice(gob.int)),
    });
    const [v] = decodeAll(new Encoder().encode({ S: [null, [1]], I: [null], M: { a: null } }, T));
    assert.deepEqual(v, { S: [[], [1]], I: [null], M: new Map([['a', []]]) });
  });

  test('messages of every length-prefix size, on a warm stream', () => {
    const enc = new Encoder();
    enc.encode('');
    for (const n of [0, 1, 123, 124, 125, 251, 252, 253, 65530, 65531, 65532, 70000]) {
      const bytes = enc.encode('x'.repeat(n));
      assert.deepEqual(
        decodeAll(Buffer.concat([new Encoder().encode(''), bytes])),
        ['', 'x'.repeat(n)],
        `length ${n}`,
      );
    }
  });

  test('a Decoder fed by one Encoder over many values, in any chunking', () => {
    const enc = new Encoder();
    const stream = Buffer.concat(
      Array.from({ length: 50 }, (_, i) =>
        enc.encode(
          i % 3 === 0 ? { A: i, B: -i } : { I: new GobInterface('main.Point', Point, { X: i }) },
          i % 3 === 0 ? Args : Holder,
        ),
      ),
    );
    for (const size of [1, 7, 64, stream.length]) {
      const d = new Decoder();
      let n = 0;
      for (let i = 0; i < stream.length; i += size) {
        d.push(stream.subarray(i, i + size));
        while (d.next() !== undefined) n++;
      }
      assert.equal(n, 50, `chunks of ${size}`);
    }
  });
});
