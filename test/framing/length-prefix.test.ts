import assert from 'node:assert/strict';
import { describe, mock, test } from 'node:test';
import {
  DEFAULT_MAX_FRAME_BYTES,
  type Endianness,
  LengthPrefixDecoder,
  LengthPrefixEncoder,
  type PrefixBytes,
} from '../../src/framing/index.js';
import { argError, byteByByte, decodeAll, frameError, hex, splitAt } from './helpers.js';

describe('LengthPrefixDecoder', () => {
  // [name, prefixBytes, endian, stream hex, frames hex]
  const CASES: [string, PrefixBytes, Endianness, string, string[]][] = [
    ['len32 one frame', 4, 'be', '00000003 616263', ['616263']],
    ['len32 empty frame', 4, 'be', '00000000', ['']],
    ['len32 two frames and an empty one', 4, 'be', '00000001 61 00000000 00000002 6263', ['61', '', '6263']],
    ['len32 little-endian', 4, 'le', '03000000 616263', ['616263']],
    ['len8', 1, 'be', '03 616263 00 01 64', ['616263', '', '64']],
    ['len16 big-endian', 2, 'be', '0002 6162', ['6162']],
    ['len16 little-endian', 2, 'le', '0200 6162', ['6162']],
    ['len64 big-endian', 8, 'be', '0000000000000002 6162', ['6162']],
    ['len64 little-endian', 8, 'le', '0200000000000000 6162', ['6162']],
  ];
  for (const [name, prefixBytes, endian, stream, want] of CASES) {
    test(name, () => {
      const data = hex(stream);
      for (const chunks of [[data], byteByByte(data), splitAt(data, 1), splitAt(data, prefixBytes + 1)]) {
        const got = decodeAll(new LengthPrefixDecoder({ prefixBytes, endian }), chunks);
        assert.deepEqual(
          got.map((f) => f.toString('hex')),
          want,
        );
      }
    });
  }

  describe('limits are decided from the prefix alone, before allocating', () => {
    const max = 5;
    // [name, prefixBytes, endian, prefix hex, accepted, size reported when rejected]
    const LIMITS: [string, PrefixBytes, Endianness, string, boolean, number | bigint][] = [
      ['len32 exactly max', 4, 'be', '00000005', true, 5],
      ['len32 max + 1', 4, 'be', '00000006', false, 6],
      ['len32 0xFFFFFFFF', 4, 'be', 'ffffffff', false, 0xffffffff],
      ['len32 le max + 1', 4, 'le', '06000000', false, 6],
      ['len16 0xFFFF', 2, 'be', 'ffff', false, 0xffff],
      ['len8 0xFF', 1, 'be', 'ff', false, 0xff],
      ['len64 exactly max', 8, 'be', '0000000000000005', true, 5],
      ['len64 max + 1', 8, 'be', '0000000000000006', false, 6],
      ['len64 2^32 (high word only)', 8, 'be', '0000000100000000', false, 2 ** 32],
      ['len64 2^53 - 1', 8, 'be', '001fffffffffffff', false, 2 ** 53 - 1],
      ['len64 2^53 + 1 (not a safe integer)', 8, 'be', '0020000000000001', false, 2n ** 53n + 1n],
      ['len64 2^64 - 1', 8, 'be', 'ffffffffffffffff', false, 2n ** 64n - 1n],
      ['len64 le 2^64 - 2', 8, 'le', 'feffffffffffffff', false, 2n ** 64n - 2n],
      ['len64 le 2^53 + 1', 8, 'le', '0100000000002000', false, 2n ** 53n + 1n],
    ];
    for (const [name, prefixBytes, endian, prefix, accepted, size] of LIMITS) {
      test(name, (t) => {
        const allocs = t.mock.method(Buffer, 'allocUnsafe');
        const data = hex(prefix);
        for (const chunks of [[data], byteByByte(data)]) {
          const d = new LengthPrefixDecoder({ prefixBytes, endian, maxFrameBytes: max });
          if (accepted) {
            // The body has not arrived; nothing is emitted, and end() reports truncation.
            assert.deepEqual(decodeAll(d, chunks, false), []);
            const body = Buffer.alloc(size as number, 0x61);
            assert.deepEqual(decodeAll(d, [body]), [body]);
          } else {
            // Pushing the prefix alone fails: no body byte is needed and nothing is allocated.
            const err = frameError(() => decodeAll(d, chunks, false), 'NETKIT_FRAME_TOO_LARGE');
            assert.equal(err.limit, max);
            assert.equal(err.size, size);
            assert.equal(allocs.mock.callCount(), 0);
          }
        }
      });
    }

    test('the default limit is 16 MiB', () => {
      const d = new LengthPrefixDecoder({ prefixBytes: 4 });
      assert.equal(d.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
      d.push(hex('01000000'), () => {}); // exactly 16 MiB: accepted, body pending
      assert.equal(d.buffered, 4);
      const err = frameError(
        () => new LengthPrefixDecoder({ prefixBytes: 4 }).push(hex('01000001'), () => {}),
        'NETKIT_FRAME_TOO_LARGE',
      );
      assert.equal(err.limit, DEFAULT_MAX_FRAME_BYTES);
    });
  });

  describe('end of stream inside a frame is NETKIT_FRAME_TRUNCATED, with no partial frame', () => {
    // [name, prefixBytes, stream hex]
    const TRUNCATED: [string, PrefixBytes, string][] = [
      ['len8 mid-body', 1, '03 6162'],
      ['len16 mid-prefix', 2, '00'],
      ['len32 mid-prefix', 4, '000000'],
      ['len32 mid-body', 4, '00000003 61'],
      ['len32 prefix only', 4, '00000003'],
      ['len32 after a whole frame, mid-body', 4, '00000001 61 00000002 62'],
      ['len64 mid-prefix', 8, '00000000000000'],
      ['len64 mid-body', 8, '0000000000000002 62'],
    ];
    for (const [name, prefixBytes, stream] of TRUNCATED) {
      test(name, () => {
        const data = hex(stream);
        for (const chunks of [[data], byteByByte(data)]) {
          const d = new LengthPrefixDecoder({ prefixBytes });
          const complete: Buffer[] = [];
          for (const c of chunks) d.push(c, (f) => complete.push(f));
          assert.ok(d.buffered > 0);
          const err = frameError(
            () => d.end(() => assert.fail('partial frame emitted')),
            'NETKIT_FRAME_TRUNCATED',
          );
          assert.ok(complete.every((f) => f.length === 1));
          // Unusable afterwards: the same error again.
          assert.throws(
            () => d.push(hex('00'), () => {}),
            (e) => e === err,
          );
          assert.throws(
            () => d.end(() => {}),
            (e) => e === err,
          );
        }
      });
    }

    test('a clean end leaves nothing buffered and the decoder reusable', () => {
      const d = new LengthPrefixDecoder({ prefixBytes: 2 });
      assert.deepEqual(decodeAll(d, [hex('000161')]), [hex('61')]);
      assert.equal(d.buffered, 0);
      assert.deepEqual(decodeAll(d, [hex('000162')]), [hex('62')]);
    });
  });

  test('buffered counts prefix and body bytes of the incomplete frame', () => {
    const d = new LengthPrefixDecoder({ prefixBytes: 4 });
    d.push(hex('0000'), () => {});
    assert.equal(d.buffered, 2);
    d.push(hex('000461'), () => {});
    assert.equal(d.buffered, 5);
    d.push(hex('626364'), () => {});
    assert.equal(d.buffered, 0);
  });

  test('whole frames in a chunk are zero-copy views of it', () => {
    const chunk = hex('00000003 616263 00000001 64');
    const allocs = mock.method(Buffer, 'allocUnsafe');
    try {
      new LengthPrefixDecoder({ prefixBytes: 4 }).push(chunk, (f) => assert.equal(f.buffer, chunk.buffer));
      assert.equal(allocs.mock.callCount(), 0);
    } finally {
      allocs.mock.restore();
    }
  });

  test('a frame spanning chunks is allocated once, at its exact length', () => {
    const payload = Buffer.alloc(1000, 0x7a);
    const data = Buffer.concat([hex('000003e8'), payload]);
    const d = new LengthPrefixDecoder({ prefixBytes: 4 });
    const allocs = mock.method(Buffer, 'allocUnsafe');
    const frames: Buffer[] = [];
    try {
      for (const c of splitAt(data, 2, 10, 500, 999)) d.push(c, (f) => frames.push(f));
      assert.equal(allocs.mock.callCount(), 1);
      assert.deepEqual(allocs.mock.calls[0]?.arguments, [1000]);
    } finally {
      allocs.mock.restore();
    }
    assert.deepEqual(frames, [payload]);
  });

  test('an exception from onFrame makes the decoder unusable', () => {
    const d = new LengthPrefixDecoder({ prefixBytes: 1 });
    const boom = new Error('boom');
    assert.throws(
      () =>
        d.push(hex('0161'), () => {
          throw boom;
        }),
      (e) => e === boom,
    );
    assert.throws(
      () => d.push(hex('00'), () => {}),
      (e) => e === boom,
    );
  });

  describe('options', () => {
    const BAD: [string, Record<string, unknown>][] = [
      ['prefixBytes', {}],
      ['prefixBytes', { prefixBytes: 3 }],
      ['prefixBytes', { prefixBytes: '4' }],
      ['endian', { prefixBytes: 4, endian: 'BE' }],
      ['maxFrameBytes', { prefixBytes: 4, maxFrameBytes: -1 }],
      ['maxFrameBytes', { prefixBytes: 4, maxFrameBytes: 2 ** 33 }],
      ['options', null as unknown as Record<string, unknown>],
    ];
    for (const [option, options] of BAD) {
      test(`rejects ${JSON.stringify(options)}`, () => {
        argError(() => new LengthPrefixDecoder(options as never), option);
        argError(() => new LengthPrefixEncoder(options as never), option);
      });
    }
  });
});

describe('LengthPrefixEncoder', () => {
  // [name, prefixBytes, endian, payload length, expected prefix hex]
  const PREFIXES: [string, PrefixBytes, Endianness, number, string][] = [
    ['len8 empty', 1, 'be', 0, '00'],
    ['len8 255', 1, 'be', 255, 'ff'],
    ['len16 be 258', 2, 'be', 258, '0102'],
    ['len16 le 258', 2, 'le', 258, '0201'],
    ['len16 65535', 2, 'be', 65535, 'ffff'],
    ['len32 be 3', 4, 'be', 3, '00000003'],
    ['len32 le 3', 4, 'le', 3, '03000000'],
    ['len32 be 65536', 4, 'be', 65536, '00010000'],
    ['len64 be 3', 8, 'be', 3, '0000000000000003'],
    ['len64 le 258', 8, 'le', 258, '0201000000000000'],
  ];
  for (const [name, prefixBytes, endian, length, prefix] of PREFIXES) {
    test(name, () => {
      const payload = Buffer.alloc(length, 0x61);
      const out = new LengthPrefixEncoder({ prefixBytes, endian }).encode(payload);
      assert.equal(out.subarray(0, prefixBytes).toString('hex'), prefix);
      assert.deepEqual(out.subarray(prefixBytes), payload);
      assert.deepEqual(decodeAll(new LengthPrefixDecoder({ prefixBytes, endian }), byteByByte(out)), [
        payload,
      ]);
    });
  }

  test('len32 frame of 3 bytes matches the wire fixture', () => {
    assert.deepEqual(
      new LengthPrefixEncoder({ prefixBytes: 4 }).encode(Buffer.from('abc')),
      hex('00000003616263'),
    );
  });

  // [name, prefixBytes, maxFrameBytes, payload length, reported limit]
  const TOO_LARGE: [string, PrefixBytes, number | undefined, number, number][] = [
    ['len8 with 256 bytes', 1, undefined, 256, 255],
    ['len16 with 65536 bytes', 2, undefined, 65536, 65535],
    ['len32 over maxFrameBytes', 4, 10, 11, 10],
    ['len64 over maxFrameBytes', 8, 10, 11, 10],
    ['len8 over a maxFrameBytes below 255', 1, 10, 11, 10],
  ];
  for (const [name, prefixBytes, maxFrameBytes, length, limit] of TOO_LARGE) {
    test(`refuses ${name} with NETKIT_FRAME_TOO_LARGE`, () => {
      const e = new LengthPrefixEncoder({ prefixBytes, maxFrameBytes });
      const err = frameError(() => e.encode(Buffer.alloc(length)), 'NETKIT_FRAME_TOO_LARGE');
      assert.equal(err.limit, limit);
      assert.equal(err.size, length);
    });
  }

  test('len32 accepts exactly maxFrameBytes', () => {
    assert.equal(
      new LengthPrefixEncoder({ prefixBytes: 4, maxFrameBytes: 10 }).encode(Buffer.alloc(10)).length,
      14,
    );
  });

  test('accepts a plain Uint8Array', () => {
    assert.deepEqual(new LengthPrefixEncoder({ prefixBytes: 1 }).encode(new Uint8Array([7])), hex('0107'));
  });
});
