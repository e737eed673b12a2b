import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, mock, test } from 'node:test';
import { promisify } from 'node:util';
import { FrameError } from '../../src/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, UvarintDecoder, UvarintEncoder } from '../../src/framing/index.js';
import { goProgram } from '../helpers/tools.js';
import { argError, byteByByte, decodeAll, frameError, hex, splitAt } from './helpers.js';

const execFileP = promisify(execFile);

/** Go's binary.PutUvarint output for payload lengths we can afford to allocate. */
const PUT_UVARINT: [number, string][] = [
  [0, '00'],
  [1, '01'],
  [127, '7f'],
  [128, '8001'],
  [129, '8101'],
  [255, 'ff01'],
  [300, 'ac02'],
  [16383, 'ff7f'],
  [16384, '808001'],
  [2 ** 21 - 1, 'ffff7f'],
  [2 ** 21, '80808001'],
];

/**
 * Varint prefixes and Go's binary.ReadUvarint verdict, with maxFrameBytes
 * 1000: "ok N" values over 1000 must be NETKIT_FRAME_TOO_LARGE with size N.
 * Overflow cases are Go's own TestOverflow vectors.
 */
const READ_UVARINT: [string, string][] = [
  ['00', 'ok 0'],
  ['7f', 'ok 127'],
  ['8001', 'ok 128'],
  ['e807', 'ok 1000'],
  ['e907', 'ok 1001'],
  ['8000', 'ok 0'], // non-minimal: Go accepts it
  ['ff80808000', 'ok 127'], // non-minimal, 5 bytes
  ['ffffffff0f', 'ok 4294967295'],
  ['ffffffffffffff0f', 'ok 9007199254740991'], // 2^53 - 1
  ['8080808080808010', 'ok 9007199254740992'], // 2^53
  ['8180808080808010', 'ok 9007199254740993'], // 2^53 + 1: not a safe integer
  ['ffffffffffffffff7f', 'ok 9223372036854775807'],
  ['ffffffffffffffffff01', 'ok 18446744073709551615'],
  ['80808080808080808001', 'ok 9223372036854775808'],
  ['80808080808080808000', 'ok 0'], // ten bytes, last 0: Go accepts it
  ['80808080808080808002', 'overflow'],
  ['ffffffffffffffffff02', 'overflow'],
  ['8080808080808080808001', 'overflow'], // ten continuation bytes
  ['ffffffffffffffffffffffffffff', 'overflow'],
  ['80', 'eof'],
  ['ffffffffffffffffff', 'eof'], // nine continuation bytes
];

/**
 * ours runs UvarintDecoder (maxFrameBytes 1000) on a prefix and answers in
 * the same vocabulary as the Go program. After the prefix it feeds 0x80
 * bytes one at a time: body bytes if the varint was complete (a frame comes
 * out), continuation bytes otherwise (which must overflow within 10 bytes).
 */
function ours(prefixHex: string, chunking: 'whole' | 'bytes'): string {
  const prefix = hex(prefixHex);
  const d = new UvarintDecoder({ maxFrameBytes: 1000 });
  const lengths: number[] = [];
  const onFrame = (f: Buffer): void => {
    lengths.push(f.length);
  };
  let probing = false;
  try {
    for (const c of chunking === 'whole' ? [prefix] : byteByByte(prefix)) d.push(c, onFrame);
    probing = true;
    for (let i = 0; i < 1000 && lengths.length === 0; i++) d.push(hex('80'), onFrame);
    return lengths.length > 0 ? `ok ${lengths[0]}` : 'no frame';
  } catch (err) {
    if (!(err instanceof FrameError)) throw err;
    if (err.code === 'NETKIT_FRAME_TOO_LARGE' && !probing) return `ok ${err.size}`;
    if (err.code === 'NETKIT_FRAME_INVALID') return probing ? 'eof' : 'overflow';
    return err.code;
  }
}

describe('UvarintDecoder', () => {
  for (const [prefix, want] of READ_UVARINT) {
    test(`prefix ${prefix} reads like Go's ReadUvarint: ${want}`, () => {
      assert.equal(ours(prefix, 'whole'), want);
      assert.equal(ours(prefix, 'bytes'), want);
    });
  }

  test('errors carry the right codes, limit and exact bigint size', () => {
    const err = frameError(
      () => new UvarintDecoder().push(hex('ffffffffffffffffff01'), () => {}),
      'NETKIT_FRAME_TOO_LARGE',
    );
    assert.equal(err.limit, DEFAULT_MAX_FRAME_BYTES);
    assert.equal(err.size, 2n ** 64n - 1n);
    frameError(
      () => new UvarintDecoder().push(hex('80808080808080808002'), () => {}),
      'NETKIT_FRAME_INVALID',
    );
  });

  test('overflow is detected at the tenth byte, without waiting for more', () => {
    const d = new UvarintDecoder();
    d.push(hex('808080808080808080'), () => {});
    frameError(() => d.push(hex('80'), () => {}), 'NETKIT_FRAME_INVALID');
  });

  // [name, stream hex, frames hex]
  const STREAMS: [string, string, string[]][] = [
    ['frames and an empty frame', '03616263 00 0164', ['616263', '', '64']],
    ['two-byte prefix', `8001${'61'.repeat(128)}`, ['61'.repeat(128)]],
    ['non-minimal prefix', '810061', ['61']],
  ];
  for (const [name, stream, want] of STREAMS) {
    test(name, () => {
      const data = hex(stream);
      const all = [[data], byteByByte(data)];
      for (let i = 0; i <= data.length; i++) all.push(splitAt(data, i));
      for (const chunks of all) {
        assert.deepEqual(
          decodeAll(new UvarintDecoder(), chunks).map((f) => f.toString('hex')),
          want,
        );
      }
    });
  }

  test('exactly maxFrameBytes is accepted, one more is rejected before allocating', () => {
    const allocs = mock.method(Buffer, 'allocUnsafe');
    try {
      const d = new UvarintDecoder({ maxFrameBytes: 300 });
      d.push(hex('ac02'), () => {}); // 300: accepted, the body is allocated once
      assert.equal(d.buffered, 2);
      assert.deepEqual(
        allocs.mock.calls.map((c) => c.arguments[0]),
        [300],
      );
      allocs.mock.resetCalls();
      const err = frameError(
        () => new UvarintDecoder({ maxFrameBytes: 300 }).push(hex('ad02'), () => {}),
        'NETKIT_FRAME_TOO_LARGE',
      );
      assert.equal(err.size, 301);
      assert.equal(allocs.mock.callCount(), 0);
    } finally {
      allocs.mock.restore();
    }
  });

  // [name, stream hex]
  const TRUNCATED: [string, string][] = [
    ['mid-varint', '80'],
    ['mid-body', '0361'],
    ['prefix only', '03'],
    ['after a whole frame, mid-varint', '0161 ff'],
  ];
  for (const [name, stream] of TRUNCATED) {
    test(`end ${name} is NETKIT_FRAME_TRUNCATED with no partial frame`, () => {
      const data = hex(stream);
      for (const chunks of [[data], byteByByte(data)]) {
        const d = new UvarintDecoder();
        for (const c of chunks) d.push(c, () => {});
        const err = frameError(() => d.end(() => assert.fail('partial frame')), 'NETKIT_FRAME_TRUNCATED');
        assert.throws(
          () => d.push(hex('00'), () => {}),
          (e) => e === err,
        );
      }
    });
  }

  test('buffered counts prefix and body bytes of the incomplete frame', () => {
    const d = new UvarintDecoder();
    d.push(hex('80'), () => {});
    assert.equal(d.buffered, 1);
    d.push(hex('0161'), () => {});
    assert.equal(d.buffered, 3);
  });

  test('whole frames in a chunk are zero-copy views; spanning frames are allocated once', () => {
    const chunk = hex('0261620163');
    new UvarintDecoder().push(chunk, (f) => assert.equal(f.buffer, chunk.buffer));
    const allocs = mock.method(Buffer, 'allocUnsafe');
    try {
      const d = new UvarintDecoder();
      const frames = decodeAll(d, splitAt(hex('05 6162636465'), 1, 2, 3));
      assert.equal(frames.length, 1);
      assert.deepEqual(allocs.mock.calls.filter((c) => c.arguments[0] === 5).length, 1);
    } finally {
      allocs.mock.restore();
    }
  });

  test('rejects bad options', () => {
    argError(() => new UvarintDecoder({ maxFrameBytes: 0 }), 'maxFrameBytes');
    argError(() => new UvarintEncoder({ maxFrameBytes: 1.5 }), 'maxFrameBytes');
  });
});

describe('UvarintEncoder', () => {
  for (const [length, prefix] of PUT_UVARINT) {
    test(`length ${length} is prefixed like Go's PutUvarint: ${prefix}`, () => {
      const payload = Buffer.alloc(length, 0x61);
      const out = new UvarintEncoder().encode(payload);
      assert.equal(out.subarray(0, prefix.length / 2).toString('hex'), prefix);
      assert.equal(out.length, prefix.length / 2 + length);
      assert.deepEqual(decodeAll(new UvarintDecoder(), [out]), [payload]);
    });
  }

  test('exactly maxFrameBytes is accepted; one more is NETKIT_FRAME_TOO_LARGE', () => {
    const e = new UvarintEncoder({ maxFrameBytes: 2 });
    assert.deepEqual(e.encode(hex('6162')), hex('026162'));
    const err = frameError(() => e.encode(hex('616263')), 'NETKIT_FRAME_TOO_LARGE');
    assert.equal(err.limit, 2);
    assert.equal(err.size, 3);
  });
});

test('agrees with Go encoding/binary (ReadUvarint, PutUvarint)', async (t) => {
  const bin = await goProgram(t, 'test/interop/uvarint');
  if (bin === undefined) return;
  const requests = [...PUT_UVARINT.map(([n]) => `enc ${n}`), ...READ_UVARINT.map(([p]) => `dec ${p}`)];
  const child = execFileP(bin, []);
  child.child.stdin?.end(`${requests.join('\n')}\n`);
  const answers = (await child).stdout.trim().split('\n');
  assert.equal(answers.length, requests.length);
  PUT_UVARINT.forEach(([, prefix], i) => {
    assert.equal(answers[i], prefix, requests[i]);
  });
  READ_UVARINT.forEach(([p, want], i) => {
    const go = answers[PUT_UVARINT.length + i];
    assert.equal(go, want, `Go disagrees with the fixture for ${p}`);
    assert.equal(ours(p, 'whole'), go, `netkit disagrees with Go for ${p}`);
  });
});
