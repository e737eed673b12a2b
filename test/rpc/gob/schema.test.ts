/**
 * The schema DSL: types are plain frozen data, and bad arguments fail when
 * the schema is built, naming what is wrong.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, Encoder, type GobType, gob, isGobType, resolveType } from '../../../src/rpc/gob/index.js';
import { argError } from './helpers.js';

test('types are plain frozen data', () => {
  const Args = gob.struct({ A: gob.int, B: gob.int }, 'Args');
  assert.deepEqual(Args, {
    kind: 'struct',
    name: 'Args',
    fields: [
      { name: 'A', type: { kind: 'int' } },
      { name: 'B', type: { kind: 'int' } },
    ],
  });
  assert.ok(Object.isFrozen(Args) && Object.isFrozen(Args.fields) && Object.isFrozen(gob.int));
  assert.deepEqual(gob.array(gob.string, 3), { kind: 'array', elem: gob.string, len: 3, name: '' });
  assert.deepEqual(gob.map(gob.string, gob.bytes, 'Blobs'), {
    kind: 'map',
    key: gob.string,
    elem: gob.bytes,
    name: 'Blobs',
  });
  assert.ok(isGobType(gob.interface) && !isGobType({ kind: 'int64' }) && !isGobType(null));
});

test('lazy types resolve, including recursion', () => {
  const Node: GobType = gob.struct({ Val: gob.int, Next: gob.lazy(() => Node) }, 'Node');
  assert.equal(resolveType(gob.lazy(() => gob.lazy(() => Node))), Node);
  const loop: GobType = gob.lazy(() => loop);
  argError(() => resolveType(loop), 'gob.lazy');
  argError(() => resolveType(gob.lazy(() => 5 as never)), 'gob.lazy');
});

test('bad schemas fail when built', () => {
  argError(() => gob.array(gob.int, -1), 'gob.array len');
  argError(() => gob.array(gob.int, 1.5), 'gob.array len');
  argError(() => gob.slice({} as never), 'gob.slice elem');
  argError(() => gob.map(gob.int, 'int' as never), 'gob.map elem');
  argError(() => gob.struct([] as never), 'gob.struct fields');
  argError(() => gob.struct({ '': gob.int }), 'gob.struct fields');
  argError(() => gob.struct({ A: 'int' as never }), 'gob.struct field A');
  argError(() => gob.struct({}, 5 as never), 'gob.struct name');
  argError(() => gob.lazy(5 as never), 'gob.lazy');
  argError(() => gob.opaque(''), 'gob.opaque name');
  argError(() => gob.opaque('Time', 'json' as never), 'gob.opaque marshaler');
});

test('a recursive slice type and a named slice round-trip', () => {
  const Tree: GobType = gob.slice(gob.lazy(() => Tree));
  const Tags = gob.slice(gob.string, 'main.Tags');
  const enc = new Encoder();
  const d = new Decoder();
  d.push(Buffer.concat([enc.encode([[], [[]]], Tree), enc.encode(['a'], Tags)]));
  assert.deepEqual(d.next()?.value, [[], [[]]]);
  const tags = d.next()!;
  assert.deepEqual([tags.value, tags.type], [['a'], { kind: 'slice', name: 'Tags', elem: gob.string }]);
});

test('the decoder takes Uint8Array chunks and reports what it holds', () => {
  const bytes = new Encoder().encode('hi');
  const d = new Decoder();
  d.push(new Uint8Array(bytes.subarray(0, 2)));
  assert.equal(d.next(), undefined);
  assert.equal(d.buffered, 2);
  d.push(new Uint8Array(bytes.subarray(2)));
  assert.deepEqual(d.next(), { value: 'hi', typeId: 6, type: gob.string });
  assert.equal(d.buffered, 0);
});
