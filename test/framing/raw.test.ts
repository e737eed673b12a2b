import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RawDecoder, RawEncoder } from '../../src/framing/index.js';
import { hex } from './helpers.js';

test('RawDecoder passes each chunk through unchanged, the same object', () => {
  const d = new RawDecoder();
  const chunks = [hex('0001'), hex('0a0d'), hex('ff')];
  const seen: Buffer[] = [];
  for (const c of chunks) d.push(c, (f) => seen.push(f));
  d.end(() => assert.fail('nothing held'));
  assert.equal(seen.length, 3);
  seen.forEach((f, i) => {
    assert.equal(f, chunks[i]);
  });
  assert.equal(d.buffered, 0);
});

test('RawDecoder skips empty chunks', () => {
  const d = new RawDecoder();
  d.push(Buffer.alloc(0), () => assert.fail('empty chunk emitted'));
});

test('RawDecoder becomes unusable after onFrame throws', () => {
  const d = new RawDecoder();
  const boom = new Error('boom');
  assert.throws(
    () =>
      d.push(hex('00'), () => {
        throw boom;
      }),
    (e) => e === boom,
  );
  assert.throws(
    () => d.end(() => {}),
    (e) => e === boom,
  );
});

test('RawEncoder is the identity, viewing a Uint8Array without copying', () => {
  const e = new RawEncoder();
  const b = hex('010203');
  assert.equal(e.encode(b), b);
  const u = new Uint8Array([1, 2, 3]);
  const out = e.encode(u);
  assert.ok(Buffer.isBuffer(out));
  assert.equal(out.buffer, u.buffer);
  assert.deepEqual(out, b);
});
