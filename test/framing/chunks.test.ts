import assert from 'node:assert/strict';
import { test } from 'node:test';
import { asBuffer, ChunkList } from '../../src/framing/chunks.js';
import { hex } from './helpers.js';

test('ChunkList.take joins a prefix of the held bytes with a tail, in one buffer', () => {
  // [held chunks, n, tail, expected]
  const CASES: [string[], number, string | undefined, string][] = [
    [['0102', '03'], 3, '04', '01020304'],
    [['0102', '03'], 2, undefined, '0102'],
    [['0102', '0304'], 3, undefined, '010203'],
    [['01'], 0, '02', '02'],
  ];
  for (const [held, n, tail, want] of CASES) {
    const list = new ChunkList();
    for (const c of held) list.append(hex(c));
    const out = list.take(n, tail === undefined ? undefined : hex(tail));
    assert.equal(out.toString('hex'), want);
    assert.equal(list.length, 0);
  }
});

test('ChunkList.take hands over a single whole chunk without copying', () => {
  const list = new ChunkList();
  const c = hex('0102');
  list.append(c);
  assert.equal(list.take(2, undefined), c);
});

test('ChunkList.lastBytes and lastByte read across chunk boundaries', () => {
  const list = new ChunkList();
  assert.equal(list.lastByte(), undefined);
  list.append(hex('0102'));
  list.append(hex('03'));
  const out = Buffer.alloc(3);
  list.lastBytes(3, out);
  assert.equal(out.toString('hex'), '010203');
  list.lastBytes(2, out);
  assert.equal(out.subarray(0, 2).toString('hex'), '0203');
  assert.equal(list.lastByte(), 3);
});

test('asBuffer views a Uint8Array without copying', () => {
  const u = new Uint8Array([1, 2, 3, 4]).subarray(1, 3);
  const b = asBuffer(u);
  assert.equal(b.buffer, u.buffer);
  assert.equal(b.toString('hex'), '0203');
});
