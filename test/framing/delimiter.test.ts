import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FrameError } from '../../src/errors.js';
import { DEFAULT_MAX_FRAME_BYTES, DelimiterDecoder, DelimiterEncoder } from '../../src/framing/index.js';
import { argError, byteByByte, decodeAll, frameError, hex, splitAt } from './helpers.js';

describe('DelimiterDecoder', () => {
  // [name, delimiter, stream, expected frames] — strings are latin1 for readability.
  const CASES: [string, string, string, string[]][] = [
    ['NUL delimiter', '\0', 'ab\0cd\0', ['ab', 'cd']],
    ['empty frames', '\0', '\0\0', ['', '']],
    ['CRLFCRLF', '\r\n\r\n', 'GET /\r\nHost: x\r\n\r\nnext\r\n\r\n', ['GET /\r\nHost: x', 'next']],
    ['partial delimiter is content', '\r\n\r\n', 'a\r\nb\r\n\r\n', ['a\r\nb']],
    ['self-overlapping delimiter', 'aba', 'xababa', ['x', 'ba']],
    ['repeated byte delimiter', '==', 'a===b==', ['a', '=b']],
    ['final unterminated frame emitted', '||', 'a||b|', ['a', 'b|']],
    ['delimiter at stream start', '||', '||a||', ['', 'a']],
  ];
  for (const [name, delimiter, input, want] of CASES) {
    const data = Buffer.from(input, 'latin1');
    test(`${name} at every split point and byte by byte`, () => {
      const expect = (chunks: Buffer[]) => {
        const got = decodeAll(new DelimiterDecoder({ delimiter }), chunks).map((f) => f.toString('latin1'));
        assert.deepEqual(got, want, `chunks ${chunks.map((c) => JSON.stringify(c.toString('latin1')))}`);
      };
      expect([data]);
      expect(byteByByte(data));
      for (let i = 0; i <= data.length; i++) expect(splitAt(data, i));
      for (let i = 0; i <= data.length; i++)
        for (let j = i; j <= data.length; j++) expect(splitAt(data, i, j));
    });
  }

  test('accepts a Uint8Array delimiter and keeps a private copy of it', () => {
    const delim = new Uint8Array([0xff, 0xfe]);
    const d = new DelimiterDecoder({ delimiter: delim });
    delim[0] = 0;
    assert.deepEqual(
      decodeAll(d, [hex('01fffe02fffe')]).map((f) => f.toString('hex')),
      ['01', '02'],
    );
  });

  test('a UTF-8 string delimiter is matched as UTF-8 bytes', () => {
    const d = new DelimiterDecoder({ delimiter: '§' });
    assert.deepEqual(decodeAll(d, splitAt(Buffer.from('a§b§'), 2)).map(String), ['a', 'b']);
  });

  describe('maxFrameBytes', () => {
    const max = 6;
    // [name, input, accepted]
    const LIMITS: [string, string, boolean][] = [
      ['exactly the limit', `${'x'.repeat(max)}<>`, true],
      ['limit + 1', `${'x'.repeat(max + 1)}<>`, false],
      ['final unterminated frame of exactly the limit', 'x'.repeat(max), true],
      ['final unterminated frame of limit + 1', 'x'.repeat(max + 1), false],
      ['limit followed by half a delimiter at end', `${'x'.repeat(max)}<`, false],
    ];
    for (const [name, input, accepted] of LIMITS) {
      const data = Buffer.from(input, 'latin1');
      test(name, () => {
        for (const chunks of [[data], byteByByte(data), splitAt(data, max)]) {
          const d = new DelimiterDecoder({ delimiter: '<>', maxFrameBytes: max });
          if (accepted) assert.equal(decodeAll(d, chunks)[0]?.length, max);
          else assert.equal(frameError(() => decodeAll(d, chunks), 'NETKIT_FRAME_TOO_LARGE').limit, max);
        }
      });
    }

    test('oversize is detected as soon as held bytes exceed limit + delimiter - 1', () => {
      const d = new DelimiterDecoder({ delimiter: '<>', maxFrameBytes: max });
      // max + 1 bytes might still be a max-byte frame plus the "<" of "<>".
      for (let i = 0; i < max + 1; i++) d.push(hex('78'), () => {});
      assert.equal(d.buffered, max + 1);
      frameError(() => d.push(hex('78'), () => {}), 'NETKIT_FRAME_TOO_LARGE');
    });

    test('a stream without a delimiter holds at most the limit + delimiter', () => {
      const d = new DelimiterDecoder({ delimiter: '\r\n\r\n' });
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let fed = 0;
      frameError(() => {
        for (;;) {
          d.push(chunk, () => {});
          fed += chunk.length;
        }
      }, 'NETKIT_FRAME_TOO_LARGE');
      assert.ok(fed <= DEFAULT_MAX_FRAME_BYTES + 3, `fed ${fed}`);
    });
  });

  test('trailing error: bytes after the last delimiter are NETKIT_FRAME_TRUNCATED', () => {
    const d = new DelimiterDecoder({ delimiter: '\0', trailing: 'error' });
    d.push(Buffer.from('a\0b'), () => {});
    frameError(() => d.end(() => assert.fail('no partial frame')), 'NETKIT_FRAME_TRUNCATED');
    frameError(() => d.push(Buffer.from('\0'), () => {}), 'NETKIT_FRAME_TRUNCATED');
  });

  test('whole frames in one chunk are zero-copy views of it', () => {
    const chunk = Buffer.from('ab\0cd\0');
    new DelimiterDecoder({ delimiter: '\0' }).push(chunk, (f) => assert.equal(f.buffer, chunk.buffer));
  });

  describe('options', () => {
    const BAD: [string, Record<string, unknown>][] = [
      ['delimiter', { delimiter: '' }],
      ['delimiter', { delimiter: new Uint8Array(0) }],
      ['delimiter', { delimiter: 10 }],
      ['delimiter', {}],
      ['maxFrameBytes', { delimiter: '\n', maxFrameBytes: 0 }],
      ['trailing', { delimiter: '\n', trailing: 'ignore' }],
    ];
    for (const [option, options] of BAD) {
      test(`rejects ${JSON.stringify(options)}`, () => {
        argError(() => new DelimiterDecoder(options as never), option);
        if (option !== 'trailing') argError(() => new DelimiterEncoder(options as never), option);
      });
    }
  });
});

describe('DelimiterEncoder', () => {
  // [name, delimiter, payload, framed or error code] — latin1 strings.
  const CASES: [string, string, string, string | FrameError['code']][] = [
    ['appends the delimiter', '\0', 'abc', 'abc\0'],
    ['empty payload', '\r\n\r\n', '', '\r\n\r\n'],
    ['payload contains the delimiter', '\0', 'a\0b', 'NETKIT_FRAME_INVALID'],
    ['partial delimiter inside is fine', '\r\n\r\n', 'a\r\nb', 'a\r\nb\r\n\r\n'],
    ['payload end joins the delimiter into an earlier match', 'aba', 'xab', 'NETKIT_FRAME_INVALID'],
    ['payload ending in part of a non-overlapping delimiter', '\r\n', 'x\r', 'x\r\r\n'],
  ];
  for (const [name, delimiter, payload, want] of CASES) {
    test(name, () => {
      const e = new DelimiterEncoder({ delimiter });
      const p = Buffer.from(payload, 'latin1');
      if (want.startsWith('NETKIT_')) {
        frameError(() => e.encode(p), want as FrameError['code']);
      } else {
        const out = e.encode(p);
        assert.equal(out.toString('latin1'), want);
        // Whatever it accepts must decode back to the payload.
        assert.deepEqual(decodeAll(new DelimiterDecoder({ delimiter }), [out]), [p]);
      }
    });
  }

  test('exactly maxFrameBytes is accepted; one more is NETKIT_FRAME_TOO_LARGE', () => {
    const e = new DelimiterEncoder({ delimiter: '\0', maxFrameBytes: 3 });
    assert.equal(e.encode(Buffer.from('abc')).length, 4);
    const err = frameError(() => e.encode(Buffer.from('abcd')), 'NETKIT_FRAME_TOO_LARGE');
    assert.equal(err.limit, 3);
    assert.equal(err.size, 4);
  });
});
