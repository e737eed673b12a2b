/**
 * Mutation fuzzing (RELIABILITY.md 15): Go's golden streams with bytes
 * flipped, replaced, inserted and deleted by a seeded PRNG. Decoding must
 * give values or a GobError with one of the gob codes, nothing else, and
 * must stay fast. Each input is decoded whole and in random chunks, which
 * also drives the resumable path for values cut across messages.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Decoder, GobError } from '../../../src/rpc/gob/index.js';
import { readGolden } from './cases.js';
import { prng } from './helpers.js';

const STREAMS = [...readGolden().values()].map((h) => Buffer.from(h, 'hex'));
const CODES = new Set(['NETKIT_GOB_MALFORMED', 'NETKIT_GOB_LIMIT', 'NETKIT_GOB_ENCODE']);
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xf8, 0xf7, 0xfe, 0xff];

function mutate(src: Buffer, rand: () => number): Buffer {
  const b = [...src];
  const edits = 1 + Math.floor(rand() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(rand() * (b.length + 1));
    const byte =
      rand() < 0.5 ? INTERESTING[Math.floor(rand() * INTERESTING.length)]! : Math.floor(rand() * 256);
    switch (Math.floor(rand() * 4)) {
      case 0:
        if (at < b.length) b[at] = b[at]! ^ (1 << Math.floor(rand() * 8));
        break;
      case 1:
        if (at < b.length) b[at] = byte;
        break;
      case 2:
        b.splice(at, 0, byte);
        break;
      default:
        b.splice(at, 1);
    }
  }
  return Buffer.from(b);
}

/** decode runs the decoder over `chunks`; it returns the number of values or the GobError. */
function decode(chunks: Buffer[]): number | GobError {
  const d = new Decoder({ maxMessageBytes: 1 << 16, maxElements: 1 << 16 });
  let n = 0;
  try {
    for (const c of chunks) {
      d.push(c);
      while (d.next() !== undefined) n++;
    }
    return n;
  } catch (err) {
    if (err instanceof GobError && CODES.has(err.code)) return err;
    throw err;
  }
}

test('3,000 mutated streams give values or typed errors, quickly', () => {
  const rand = prng(0x60b);
  const start = performance.now();
  let errors = 0;
  for (let i = 0; i < 3000; i++) {
    const input = mutate(STREAMS[i % STREAMS.length]!, rand);
    const whole = decode([input]);
    const chunks: Buffer[] = [];
    for (let at = 0; at < input.length; ) {
      const size = 1 + Math.floor(rand() * 8);
      chunks.push(input.subarray(at, at + size));
      at += size;
    }
    const chunked = decode(chunks);
    // Chunking changes nothing: the same values, or the same failure.
    if (typeof whole === 'number') assert.equal(chunked, whole, `#${i}: ${input.toString('hex')}`);
    else {
      errors++;
      assert.ok(
        chunked instanceof GobError,
        `#${i}: chunked decoding did not fail: ${input.toString('hex')}`,
      );
      assert.equal(chunked.code, whole.code, `#${i}: ${input.toString('hex')}`);
    }
  }
  assert.ok(errors > 1000, `only ${errors} mutations were rejected; is the fuzzer mutating?`);
  assert.ok(performance.now() - start < 8000);
});
