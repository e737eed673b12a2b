/**
 * Type inference (values encoded without a schema): the rule table, and
 * proof that Go decodes inferred structs (whose CommonType.Name is empty)
 * into its own types.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeAll, Encoder, GobInterface, gob, inferType } from '../../../src/rpc/gob/index.js';
import { goProgram } from '../../helpers/tools.js';
import { readGolden } from './cases.js';
import { gobError, goDecode } from './helpers.js';

const GOLDEN = readGolden();
const anon = (fields: Record<string, Parameters<typeof gob.slice>[0]>) => gob.struct(fields, '');

test('the inference rule', () => {
  const table: [unknown, unknown][] = [
    [7, gob.int],
    [-0, gob.int],
    [1.5, gob.float],
    [2 ** 60, gob.float],
    [1e300, gob.float],
    [Number.NaN, gob.float],
    [5n, gob.int],
    ['x', gob.string],
    [true, gob.bool],
    [Buffer.from('ab'), gob.bytes],
    [new Uint8Array(2), gob.bytes],
    [new GobInterface('int', gob.int, 1), gob.interface],
    [[1, 2], gob.slice(gob.int)],
    [[1, 2.5], gob.slice(gob.float)],
    [[], gob.slice(gob.int)],
    [[[], [1]], gob.slice(gob.slice(gob.int))],
    [[[], ['a']], gob.slice(gob.slice(gob.string))],
    [new Map([['a', 1]]), gob.map(gob.string, gob.int)],
    [{ A: 7, B: 'x' }, anon({ A: gob.int, B: gob.string })],
    [{ A: 1, Items: [], M: new Map(), N: null, U: undefined }, anon({ A: gob.int })],
    [[{ A: 1 }, { B: 'x' }, { A: 2.5 }], gob.slice(anon({ A: gob.float, B: gob.string }))],
    [{ P: { X: 1 } }, anon({ P: anon({ X: gob.int }) })],
  ];
  for (const [value, want] of table) assert.deepEqual(inferType(value), want, `inferType(${String(value)})`);
});

test('values with no inferable type are NETKIT_GOB_ENCODE with a path', () => {
  const cases: [unknown, string][] = [
    [null, 'value'],
    [undefined, 'value'],
    [new Date(0), 'value'],
    [() => 1, 'value'],
    [Symbol('s'), 'value'],
    [[1, 'a'], 'value[1]'],
    [{ A: [{ B: 1 }, { B: 'x' }] }, 'value.A[1]'],
    [{ A: [null] }, 'value.A[0]'],
  ];
  for (const [value, path] of cases) {
    assert.equal(gobError(() => new Encoder().encode(value), 'NETKIT_GOB_ENCODE').path, path);
    assert.equal(gobError(() => inferType(value), 'NETKIT_GOB_ENCODE').path, path);
  }
});

test('{A: 7, B: 8} infers Args without its name: same bytes otherwise', () => {
  const inferred = new Encoder().encode({ A: 7, B: 8 });
  // Go's Args definition with CommonType.Name ("Args": 01 04 41726773) left out, so the Id is field delta 2.
  const goArgs = GOLDEN.get('args')!;
  const unnamed = `18${goArgs.slice(2).replace('01044172677301ff8200', '02ff8200')}`;
  assert.equal(inferred.toString('hex'), unnamed);
  assert.deepEqual(decodeAll(inferred), [{ A: 7, B: 8 }]);
});

test('Go decodes inferred structs into its own types, ignoring unexported keys', async (t) => {
  const bin = await goProgram(t, 'test/interop/gobgolden');
  if (!bin) return;
  const fromGo = await goDecode(bin, 'args', Buffer.from(GOLDEN.get('args')!, 'hex'));
  assert.equal(fromGo, 'main.Args{A:7, B:8}\n');
  assert.equal(await goDecode(bin, 'args', new Encoder().encode({ A: 7, B: 8 })), fromGo);
  assert.equal(await goDecode(bin, 'args', new Encoder().encode({ B: 8, A: 7 })), fromGo);
  assert.equal(await goDecode(bin, 'args', new Encoder().encode({ a: 7, B: 8 })), 'main.Args{A:0, B:8}\n');
  const poly = await goDecode(bin, 'poly', new Encoder().encode({ Pts: [{ X: 1, Y: 2 }] }));
  assert.equal(poly, 'main.Poly{Pts:[]main.Point{main.Point{X:1, Y:2}}}\n');
  const list = await goDecode(
    bin,
    'list',
    new Encoder().encode({ Val: 1, Next: { Val: 2, Next: { Val: 3 } } }),
  );
  assert.equal(list, 'main.Node{Val:1, Next:&main.Node{Val:2, Next:&main.Node{Val:3, Next:nil}}}\n');
});

test('inferred values round-trip through the decoder', () => {
  const value = {
    Name: 'n',
    Big: 2n ** 60n,
    Ratio: 0.25,
    Tags: new Map([['a', [1, 2]]]),
    Raw: Buffer.from([0, 255]),
    On: true,
  };
  assert.deepEqual(decodeAll(new Encoder().encode(value)), [value]);
});
