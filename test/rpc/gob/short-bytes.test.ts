/**
 * The decoder hands back the last short string again when the same bytes
 * come again, and the writer copies short runs of bytes by hand: neither
 * may ever change a value. Strings of one length that differ in any one
 * byte, repeated strings, the empty string, strings either side of the
 * 64-byte limit and bytes that are not UTF-8 decode as Buffer.toString
 * decodes them, and encode to what they decode from.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, Encoder, gob } from '../../../src/rpc/gob/index.js';
import { decodeBytes, gobUint, msg } from './helpers.js';

/** stringMsg is a top-level gob string value (type id 6, singleton). */
function stringMsg(bytes: Buffer): Buffer {
  return msg('0c 00', gobUint(bytes.length), bytes);
}

/** variants are strings of `n` bytes: a base, then the base with each byte changed in turn, then the base again. */
function variants(n: number): Buffer[] {
  const base = Buffer.alloc(n, 0x61);
  const out = [base];
  for (let i = 0; i < n; i++) {
    const b = Buffer.from(base);
    b[i] = 0x62;
    out.push(b, base);
  }
  return out;
}

test('strings of one length that differ in any byte decode as their own bytes', () => {
  for (const n of [1, 2, 14, 63, 64, 65, 200]) {
    const inputs = variants(n);
    const got = decodeBytes(Buffer.concat(inputs.map(stringMsg)));
    assert.deepEqual(
      got,
      inputs.map((b) => b.toString('utf8')),
      `#${n}: got a wrong string`,
    );
  }
});

test('empty, repeated, non-ASCII and invalid UTF-8 strings decode as Buffer.toString does', () => {
  const inputs = [
    Buffer.from('Arith.Multiply'),
    Buffer.from('Arith.Multiply'),
    Buffer.alloc(0),
    Buffer.from('Arith.Multiply'),
    Buffer.from('Arith.Multiplz'),
    Buffer.from('héllo wörld'),
    Buffer.from('héllo wörld'),
    Buffer.from([0xff, 0xfe, 0x41]),
    Buffer.from([0xff, 0xfe, 0x42]),
    Buffer.from([0xff, 0xfe, 0x42]),
  ];
  // One message per push, as replies arrive, and all at once.
  const d = new Decoder();
  const one: unknown[] = [];
  for (const m of inputs.map(stringMsg)) {
    d.push(m);
    for (let v = d.next(); v !== undefined; v = d.next()) one.push(v.value);
  }
  const want = inputs.map((b) => b.toString('utf8'));
  assert.deepEqual(one, want);
  assert.deepEqual(decodeBytes(Buffer.concat(inputs.map(stringMsg))), want);
});

test('values either side of the writer short-copy limit encode to bytes that decode to them', () => {
  const enc = new Encoder();
  const dec = new Decoder();
  const Rec = gob.struct({ Name: gob.string, Data: gob.bytes }, 'Rec');
  for (const n of [0, 1, 40, 50, 62, 63, 64, 65, 66, 127, 128, 300]) {
    const value = { Name: 'x'.repeat(n), Data: Buffer.alloc(n, n & 0xff) };
    for (const bytes of [
      enc.encode(value, Rec),
      enc.encodePair({ Name: 'h', Data: Buffer.alloc(0) }, Rec, value, Rec),
    ]) {
      dec.push(bytes);
      let last: unknown;
      for (let v = dec.next(); v !== undefined; v = dec.next()) last = v.value;
      assert.deepEqual(last, { Name: value.Name, Data: value.Data }, `#${n}: round trip changed the value`);
    }
  }
});
