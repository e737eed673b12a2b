import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProxyError } from '../../src/errors.js';
import {
  buildProxyHeaderV1,
  buildProxyHeaderV2,
  buildSslTlv,
  PP2_TYPE,
  type ProxyHeader,
  parseProxyHeader,
} from '../../src/proxy/index.js';
import { rng } from '../helpers/rng.js';

const inet = {
  source: { address: '192.0.2.1', port: 51000 },
  destination: { address: '198.51.100.7', port: 443 },
};
const inet6 = {
  source: { address: '2001:db8::1', port: 1 },
  destination: { address: 'fe80::99', port: 65535 },
};
const SEEDS: Buffer[] = [
  buildProxyHeaderV1({ family: 'inet', ...inet }),
  buildProxyHeaderV1({ family: 'inet6', ...inet6 }),
  buildProxyHeaderV1({ family: 'unspec' }),
  Buffer.from(`PROXY TCP6 ${'ffff:'.repeat(7)}ffff ${'ffff:'.repeat(7)}ffff 65535 65535\r\n`),
  buildProxyHeaderV2(inet),
  buildProxyHeaderV2({ ...inet6, transport: 'dgram', crc32c: true }),
  buildProxyHeaderV2({
    family: 'unix',
    source: { address: '/a', port: 0 },
    destination: { address: '/b', port: 0 },
  }),
  buildProxyHeaderV2({ command: 'LOCAL' }),
  buildProxyHeaderV2({
    ...inet,
    crc32c: true,
    tlvs: [
      { type: PP2_TYPE.ALPN, value: Buffer.from('h2') },
      { type: PP2_TYPE.AUTHORITY, value: Buffer.from('example.com') },
      { type: PP2_TYPE.UNIQUE_ID, value: Buffer.alloc(16, 1) },
      buildSslTlv({
        client: 1,
        verify: 0,
        version: 'TLSv1.3',
        cn: 'c',
        cipher: 'x',
        sigAlg: 's',
        keyAlg: 'k',
      }),
      { type: PP2_TYPE.NETNS, value: Buffer.from('ns') },
      { type: PP2_TYPE.NOOP, value: Buffer.alloc(3) },
    ],
  }),
];

/** mutate applies one or a few random edits: bit flips, byte sets, truncation, extension, insertion. */
function mutate(src: Buffer, r: () => number): Buffer {
  let b = Buffer.from(src);
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * b.length);
    const kind = Math.floor(r() * 6);
    if (kind === 0 && b.length > 0) b[at] = b[at]! ^ (1 << Math.floor(r() * 8));
    else if (kind === 1 && b.length > 0) b[at] = Math.floor(r() * 256);
    else if (kind === 2) b = b.subarray(0, at);
    else if (kind === 3)
      b = Buffer.concat([
        b,
        Buffer.from(Array.from({ length: 1 + Math.floor(r() * 40) }, () => Math.floor(r() * 256))),
      ]);
    else if (kind === 4)
      b = Buffer.concat([b.subarray(0, at), Buffer.from([Math.floor(r() * 256)]), b.subarray(at)]);
    // Interesting values for v2 length fields and v1 separators.
    else if (b.length > 0) b[at] = [0x00, 0xff, 0x20, 0x0d, 0x0a, 0x3a, 0x2e, 0x30][Math.floor(r() * 8)]!;
  }
  return b;
}

type Outcome = { kind: 'null' } | { kind: 'ok'; length: number } | { kind: 'error'; reason: string };

/**
 * checkCanonical: an accepted TCP4 line is strict (no leading zeros, single
 * spaces), so building it again from the parsed header gives the same bytes.
 * This holds the byte-level fast path and the string path to the same result.
 */
function checkCanonical(buf: Buffer, header: ProxyHeader, length: number, label: string): void {
  if (header.version !== 1 || header.family !== 'inet') return;
  const again = buildProxyHeaderV1({
    family: 'inet',
    source: header.source!,
    destination: header.destination!,
  });
  assert.deepEqual(again, buf.subarray(0, length), label);
}

/** outcome runs the parser and fails the test on anything but a result, null or ProxyError. */
function outcome(buf: Buffer, label: string): Outcome {
  try {
    const res = parseProxyHeader(buf);
    if (res === null) return { kind: 'null' };
    checkCanonical(buf, res.header, res.length, label);
    // A v2 header decodes its fields when read; an accepted header must decode without throwing.
    JSON.stringify(res.header);
    assert.ok(res.length > 0 && res.length <= buf.length, `${label}: length ${res.length} outside the input`);
    return { kind: 'ok', length: res.length };
  } catch (err) {
    if (!(err instanceof ProxyError))
      assert.fail(`${label}: threw ${String(err)} for ${buf.toString('hex')}`);
    return { kind: 'error', reason: err.reason };
  }
}

test('fuzz: 24,000 mutated headers give a result, null or ProxyError, and nothing else', {
  timeout: 30_000,
}, () => {
  const r = rng(0x5eed);
  const started = Date.now();
  const counts = { null: 0, ok: 0, error: 0 };
  for (let i = 0; i < 24_000; i++) {
    const seed = SEEDS[i % SEEDS.length]!;
    const buf = mutate(seed, r);
    const label = `case ${i}`;
    const o = outcome(buf, label);
    counts[o.kind]++;
    if (o.kind === 'ok') {
      // The header alone parses the same: the parser never looked past `length`.
      assert.deepEqual(outcome(buf.subarray(0, o.length), label), o);
    }
    // Every 16th case also arrives one byte at a time: an early verdict must be the final one.
    if (i % 16 === 0) {
      let settled: Outcome | null = null;
      for (let n = 1; n <= buf.length; n++) {
        const step = outcome(buf.subarray(0, n), `${label} at ${n}`);
        if (settled !== null) assert.deepEqual(step, settled, `${label}: verdict changed at ${n}`);
        else if (step.kind !== 'null') settled = step;
      }
      if (settled !== null) assert.deepEqual(o, settled, label);
    }
  }
  // Every kind of outcome must occur, or the mutations are not reaching the parser.
  assert.ok(counts.ok > 100 && counts.error > 1000 && counts.null > 100, JSON.stringify(counts));
  assert.ok(Date.now() - started < 20_000, 'fuzz run took too long; look for a slow path');
});

test('fuzz: random bytes after a valid signature never crash', { timeout: 30_000 }, () => {
  const r = rng(42);
  const sigs = [Buffer.from('PROXY '), SEEDS[4]!.subarray(0, 12)];
  for (let i = 0; i < 4000; i++) {
    const tail = Buffer.from(Array.from({ length: Math.floor(r() * 300) }, () => Math.floor(r() * 256)));
    outcome(Buffer.concat([sigs[i % 2]!, tail]), `random ${i}`);
  }
});
