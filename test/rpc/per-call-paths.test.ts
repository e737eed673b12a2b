/**
 * The per-call shortcuts of the net/rpc codecs give exactly the bytes and
 * values of the general paths they skip: a header and body encoded as one
 * pair, an inferred type met again, JSON written without the replacer, and
 * a method answered without a promise.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stringifyJson } from '../../src/rpc/codec/lossless-json.js';
import { Decoder, Encoder, gob } from '../../src/rpc/gob/index.js';
import { Registry } from '../../src/rpc/registry.js';

const Request = gob.struct({ ServiceMethod: gob.string, Seq: gob.uint }, 'Request');

describe('gob: encodePair', () => {
  test('gives the bytes of two encodes, type definitions included', () => {
    const one = new Encoder();
    const two = new Encoder();
    for (let seq = 0; seq < 3; seq++) {
      const args = seq === 1 ? { X: 'x' } : { A: 7, B: 8 };
      const pair = one.encodePair({ ServiceMethod: 'Arith.Multiply', Seq: seq }, Request, args);
      const apart = Buffer.concat([
        two.encode({ ServiceMethod: 'Arith.Multiply', Seq: seq }, Request),
        two.encode(args),
      ]);
      assert.equal(pair.toString('hex'), apart.toString('hex'), `#${seq}`);
    }
  });

  test('a body that does not fit leaves the stream as before the header', () => {
    const enc = new Encoder();
    const fresh = new Encoder();
    assert.throws(
      () =>
        enc.encodePair(
          { ServiceMethod: 'M.N', Seq: 0 },
          Request,
          { A: 'not an int' },
          gob.struct({ A: gob.int }),
        ),
      { code: 'NETKIT_GOB_ENCODE' },
    );
    const after = enc.encodePair({ ServiceMethod: 'M.N', Seq: 1 }, Request, { A: 1 });
    const expected = fresh.encodePair({ ServiceMethod: 'M.N', Seq: 1 }, Request, { A: 1 });
    assert.equal(after.toString('hex'), expected.toString('hex'));
  });
});

describe('gob: inferred types met again', () => {
  // Each row: the values encoded in turn on one stream; every value's bytes
  // must equal those of the same value sent with its schema on a second stream.
  const cases: { name: string; values: unknown[]; schemas: ReturnType<typeof gob.struct>[] }[] = [
    {
      name: 'same shape, then another, then the first again',
      values: [{ A: 1, B: 2 }, { A: 1 }, { A: 3, B: 4 }],
      schemas: [
        gob.struct({ A: gob.int, B: gob.int }),
        gob.struct({ A: gob.int }),
        gob.struct({ A: gob.int, B: gob.int }),
      ],
    },
    {
      name: 'same keys, other kinds',
      values: [{ A: 1 }, { A: 1.5 }, { A: 'x' }, { A: 2 }],
      schemas: [
        gob.struct({ A: gob.int }),
        gob.struct({ A: gob.float }),
        gob.struct({ A: gob.string }),
        gob.struct({ A: gob.int }),
      ],
    },
    {
      name: 'nested structs and slices',
      values: [
        { P: { X: 1 }, L: [1, 2] },
        { P: { Y: 1 }, L: [1, 2] },
        { P: { X: 1 }, L: ['a'] },
        { P: { X: 2 }, L: [3] },
      ],
      schemas: [
        gob.struct({ P: gob.struct({ X: gob.int }), L: gob.slice(gob.int) }),
        gob.struct({ P: gob.struct({ Y: gob.int }), L: gob.slice(gob.int) }),
        gob.struct({ P: gob.struct({ X: gob.int }), L: gob.slice(gob.string) }),
        gob.struct({ P: gob.struct({ X: gob.int }), L: gob.slice(gob.int) }),
      ],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const inferred = new Encoder();
      const typed = new Encoder();
      const dec = new Decoder();
      c.values.forEach((v, i) => {
        const got = inferred.encode(v);
        assert.equal(got.toString('hex'), typed.encode(v, c.schemas[i]).toString('hex'), `#${i}`);
        dec.push(got);
        assert.deepEqual(dec.next()?.value, v, `#${i} decoded`);
      });
    });
  }

  test('a shape whose type was rolled back is defined again', () => {
    const enc = new Encoder();
    const mark = enc.mark();
    const first = enc.encode({ A: 1 });
    enc.rollback(mark);
    assert.equal(enc.encode({ A: 1 }).toString('hex'), first.toString('hex'));
  });
});

describe('stringifyJson: with and without the replacer', () => {
  const big = 9223372036854775807n;
  const rows: [string, unknown, string][] = [
    ['number', 56, '56'],
    ['undefined', undefined, 'null'],
    ['plain object', { A: 7, B: 8, s: 'x"y' }, '{"A":7,"B":8,"s":"x\\"y"}'],
    ['null-prototype object', Object.assign(Object.create(null), { a: 1 }), '{"a":1}'],
    ['bigint at top level', big, '9223372036854775807'],
    ['bigint deep inside', { a: [{ b: [1, big] }] }, '{"a":[{"b":[1,9223372036854775807]}]}'],
    ['bytes', { b: Buffer.from('hi') }, '{"b":"aGk="}'],
    ['Map', { m: new Map([['k', 1n]]) }, '{"m":{"k":1}}'],
    ['toJSON', { d: new Date(0) }, '{"d":"1970-01-01T00:00:00.000Z"}'],
    ['toJSON returning bigint', { t: { toJSON: () => big } }, '{"t":9223372036854775807}'],
    ['functions and undefined dropped', { f: () => 1, u: undefined, a: [undefined] }, '{"a":[null]}'],
    [
      'bigint past the walk budget',
      { list: Array.from({ length: 100 }, (_, i) => ({ i })).concat([{ i: big } as never]) },
      `{"list":[${Array.from({ length: 100 }, (_, i) => `{"i":${i}}`).join(',')},{"i":9223372036854775807}]}`,
    ],
  ];
  for (const [name, value, want] of rows) {
    test(name, () => assert.equal(stringifyJson(value), want));
  }

  test('a circular value still fails as JSON.stringify fails', () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    assert.throws(() => stringifyJson(o), TypeError);
  });
});

describe('Registry.invoke', () => {
  const registry = new Registry().register('S', {
    Sync: (a) => (a as number) + 1,
    Async: async (a) => (a as number) + 2,
    Throws: () => {
      throw new Error('sync failure');
    },
    Rejects: async () => {
      throw new Error('async failure');
    },
    // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a Promise is what this checks.
    Thenable: () => ({ then: (ok: (v: unknown) => void) => ok('from then') }),
  });
  const info = { serviceMethod: '', remote: undefined, signal: new AbortController().signal };
  const call = (m: string) => {
    const found = registry.lookup(`S.${m}`);
    assert.ok(!('error' in found));
    return registry.invoke(found, 1, info);
  };

  test('answers a plain value at once and a promise later, and counts both', async () => {
    assert.deepEqual(call('Sync'), { reply: 2 });
    assert.deepEqual(call('Throws'), { error: 'sync failure' });
    const later = call('Async');
    assert.ok(later instanceof Promise);
    assert.deepEqual(await later, { reply: 3 });
    assert.deepEqual(await call('Rejects'), { error: 'async failure' });
    assert.deepEqual(await call('Thenable'), { reply: 'from then' });
    const counts = Object.fromEntries(registry.stats().map((s) => [s.method, s.calls]));
    assert.deepEqual(counts, { Async: 1, Rejects: 1, Sync: 1, Thenable: 1, Throws: 1 });
  });
});
