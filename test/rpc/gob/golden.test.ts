/**
 * netkit against Go's own gob bytes (fixtures/golden.txt, captured from
 * test/interop/gobgolden): decoding every case, at every split point, and
 * encoding every case to the same bytes. With Go installed, the fixtures
 * are checked against a fresh run and Go decodes netkit's bytes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Decoder, Encoder } from '../../../src/rpc/gob/index.js';
import { goProgram } from '../../helpers/tools.js';
import { CASES, plain, readGolden } from './cases.js';
import { goDecode } from './helpers.js';

const execFileP = promisify(execFile);
const GOLDEN = readGolden();

/** decodeChunks pushes the chunks and collects every value. */
function decodeChunks(chunks: Buffer[]): unknown[] {
  const d = new Decoder();
  const out: unknown[] = [];
  for (const c of chunks) {
    d.push(c);
    for (let v = d.next(); v !== undefined; v = d.next()) out.push(v.value);
  }
  assert.equal(d.buffered, 0, 'bytes left over');
  return out;
}

function expected(name: string): unknown[] {
  return CASES[name]!.map((c) => plain('decoded' in c ? c.decoded : c.input));
}

function encodeCase(name: string): Buffer {
  const enc = new Encoder();
  return Buffer.concat(CASES[name]!.map((c) => enc.encode(c.input, c.type)));
}

test('every golden case has a table entry and vice versa', () => {
  assert.deepEqual([...GOLDEN.keys()].sort(), Object.keys(CASES).sort());
});

describe('decoding Go bytes', () => {
  for (const [name, hex] of GOLDEN) {
    test(name, () => {
      const bytes = Buffer.from(hex, 'hex');
      const want = expected(name);
      assert.deepStrictEqual(decodeChunks([bytes]).map(plain), want, `${name}: whole`);
      for (let i = 1; i < bytes.length; i++) {
        const got = decodeChunks([bytes.subarray(0, i), bytes.subarray(i)]).map(plain);
        assert.deepStrictEqual(got, want, `${name}: split at ${i}`);
      }
      const bytewise = [...bytes].map((b) => Buffer.from([b]));
      assert.deepStrictEqual(decodeChunks(bytewise).map(plain), want, `${name}: one byte at a time`);
    });
  }
});

describe('encoding like Go', () => {
  for (const [name, hex] of GOLDEN) {
    test(name, () => {
      assert.equal(encodeCase(name).toString('hex'), hex);
    });
  }
});

test('the fixtures match a fresh run of the Go program', async (t) => {
  const bin = await goProgram(t, 'test/interop/gobgolden');
  if (!bin) return;
  const { stdout } = await execFileP(bin, [], { maxBuffer: 1 << 24 });
  assert.deepEqual(
    readGolden(stdout),
    GOLDEN,
    'regenerate with: .cache/go/test_interop_gobgolden > test/rpc/gob/fixtures/golden.txt',
  );
});

test('Go decodes netkit bytes to the same values as its own', async (t) => {
  const bin = await goProgram(t, 'test/interop/gobgolden');
  if (!bin) return;
  await Promise.all(
    [...GOLDEN].map(async ([name, hex]) => {
      const fromGo = await goDecode(bin, name, Buffer.from(hex, 'hex'));
      const fromUs = await goDecode(bin, name, encodeCase(name));
      assert.doesNotMatch(fromGo, /error:/, `${name}: Go cannot decode its own bytes`);
      assert.equal(fromUs, fromGo, `#${name}: got ${fromUs} want ${fromGo}`);
    }),
  );
});
