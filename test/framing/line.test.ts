import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FrameError } from '../../src/errors.js';
import { DEFAULT_MAX_LINE_BYTES, LineDecoder, LineEncoder } from '../../src/framing/index.js';
import { argError, byteByByte, decodeAll, frameError, hex, splitAt } from './helpers.js';

describe('LineDecoder', () => {
  // [name, chunks (hex), options, expected lines (hex)]
  const CASES: [string, string[], ConstructorParameters<typeof LineDecoder>[0], string[]][] = [
    ['one line', ['6162630a'], {}, ['616263']],
    ['two lines in one chunk', ['610a620a'], {}, ['61', '62']],
    ['CRLF stripped', ['61620d0a'], {}, ['6162']],
    ['CRLF split between chunks', ['61620d', '0a'], {}, ['6162']],
    ['CRLF kept without stripCR', ['61620d0a'], { stripCR: false }, ['61620d']],
    ['lone CR is content', ['610d620a'], {}, ['610d62']],
    ['CR CR LF strips only one', ['610d0d0a'], {}, ['610d']],
    ['empty lines', ['0a0a0d0a'], {}, ['', '', '']],
    ['only a newline', ['0a'], {}, ['']],
    ['final unterminated line emitted', ['610a62'], {}, ['61', '62']],
    ['final unterminated line drops CR like Go dropCR', ['610d'], {}, ['61']],
    ['final line kept CR without stripCR', ['610d'], { stripCR: false }, ['610d']],
    ['UTF-8 character split across chunks', ['e282', 'ac0a'], {}, ['e282ac']],
    ['UTF-8 4-byte character split three ways', ['f0', '9f98', '800a'], {}, ['f09f9880']],
    ['line spanning three chunks', ['61', '62', '630a64'], {}, ['616263', '64']],
    ['empty chunks ignored', ['', '610a', ''], {}, ['61']],
    ['no input, no lines', [], {}, []],
  ];
  for (const [name, chunks, options, want] of CASES) {
    test(name, () => {
      const d = new LineDecoder(options);
      const got = decodeAll(d, chunks.map(hex));
      assert.deepEqual(
        got.map((b) => b.toString('hex')),
        want,
      );
      assert.equal(d.buffered, 0);
    });
  }

  test('the UTF-8 character split across chunks decodes intact', () => {
    const line = Buffer.from('héllo wörld €\n', 'utf8');
    for (let i = 1; i < line.length; i++) {
      const [frame] = decodeAll(new LineDecoder(), splitAt(line, i));
      assert.equal(frame?.toString('utf8'), 'héllo wörld €');
    }
  });

  describe('maxLineBytes', () => {
    const max = 8;
    // [name, input, stripCR, accepted]
    const LIMITS: [string, string, boolean, boolean][] = [
      ['exactly the limit', `${'a'.repeat(max)}\n`, true, true],
      ['limit + 1', `${'a'.repeat(max + 1)}\n`, true, false],
      ['limit plus a stripped CR', `${'a'.repeat(max)}\r\n`, true, true],
      ['limit + 1 plus a stripped CR', `${'a'.repeat(max + 1)}\r\n`, true, false],
      ['limit plus a kept CR (stripCR false)', `${'a'.repeat(max)}\r\n`, false, false],
      ['limit - 1 plus a kept CR (stripCR false)', `${'a'.repeat(max - 1)}\r\n`, false, true],
      ['final unterminated line of exactly the limit', 'a'.repeat(max), true, true],
      ['final unterminated line of limit + 1', 'a'.repeat(max + 1), true, false],
      ['final unterminated limit + CR', `${'a'.repeat(max)}\r`, true, true],
    ];
    for (const [name, input, stripCR, accepted] of LIMITS) {
      const data = Buffer.from(input, 'latin1');
      for (const [how, chunks] of [
        ['one chunk', [data]],
        ['byte by byte', byteByByte(data)],
        ['split before the end', splitAt(data, data.length - 2)],
      ] as const) {
        test(`${name} (${how})`, () => {
          const d = new LineDecoder({ maxLineBytes: max, stripCR });
          if (accepted) {
            const [line] = decodeAll(d, chunks);
            assert.ok(line !== undefined && line.length <= max);
          } else {
            const err = frameError(() => decodeAll(d, chunks), 'NETKIT_FRAME_TOO_LARGE');
            assert.equal(err.limit, max);
            assert.ok(typeof err.size === 'number' && err.size > max);
          }
        });
      }
    }

    test('reports the exact delivered size when the whole line is known', () => {
      const err = frameError(
        () => decodeAll(new LineDecoder({ maxLineBytes: 4 }), [hex('6161'), hex('6161610d0a')]),
        'NETKIT_FRAME_TOO_LARGE',
      );
      assert.equal(err.size, 5);
    });

    test('lines before an oversize line in the same chunk are delivered first', () => {
      const d = new LineDecoder({ maxLineBytes: 2 });
      const seen: string[] = [];
      frameError(
        () => d.push(Buffer.from('ok\nyes\ntoo long\n'), (f) => seen.push(f.toString())),
        'NETKIT_FRAME_TOO_LARGE',
      );
      assert.deepEqual(seen, ['ok']);
    });

    test('a 1 GiB stream without a newline fails after ~limit bytes, holding < 2x the limit', () => {
      const d = new LineDecoder(); // 1 MiB default
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      let fed = 0;
      let maxHeld = 0;
      const err = frameError(() => {
        while (fed < 1024 ** 3) {
          d.push(chunk, () => assert.fail('no line expected'));
          fed += chunk.length;
          maxHeld = Math.max(maxHeld, d.buffered);
        }
      }, 'NETKIT_FRAME_TOO_LARGE');
      assert.ok(fed <= DEFAULT_MAX_LINE_BYTES + 1, `fed ${fed} bytes before failing`);
      assert.ok(maxHeld <= DEFAULT_MAX_LINE_BYTES + 1, `held ${maxHeld} bytes`);
      assert.equal(err.limit, DEFAULT_MAX_LINE_BYTES);
    });

    test('an oversize first chunk fails at once', () => {
      frameError(
        () => new LineDecoder({ maxLineBytes: 10 }).push(Buffer.alloc(12, 0x61), () => {}),
        'NETKIT_FRAME_TOO_LARGE',
      );
    });

    test('a long line in small chunks is linear time (no rescans, no repeated concatenation)', () => {
      const size = 8 * 1024 * 1024;
      const d = new LineDecoder({ maxLineBytes: size });
      const piece = Buffer.alloc(256, 0x61);
      const started = process.hrtime.bigint();
      for (let fed = 0; fed < size; fed += piece.length) d.push(piece, () => {});
      let got = -1;
      d.push(hex('0a'), (f) => {
        got = f.length;
      });
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      assert.equal(got, size);
      // Quadratic rescanning of 32768 pieces would scan ~137 GB; linear is milliseconds.
      assert.ok(ms < 5000, `took ${ms} ms`);
    });
  });

  test('trailing error: an unterminated final line is NETKIT_FRAME_TRUNCATED', () => {
    const d = new LineDecoder({ trailing: 'error' });
    const seen: Buffer[] = [];
    d.push(Buffer.from('a\nb'), (f) => seen.push(f));
    frameError(() => d.end((f) => seen.push(f)), 'NETKIT_FRAME_TRUNCATED');
    assert.equal(seen.length, 1);
  });

  test('trailing error: a terminated stream ends cleanly', () => {
    assert.equal(decodeAll(new LineDecoder({ trailing: 'error' }), [Buffer.from('a\n')]).length, 1);
  });

  test('after an error every call throws the same error', () => {
    const d = new LineDecoder({ maxLineBytes: 1 });
    const err = frameError(() => d.push(Buffer.from('abc\n'), () => {}), 'NETKIT_FRAME_TOO_LARGE');
    assert.throws(
      () => d.push(Buffer.from('a\n'), () => {}),
      (e) => e === err,
    );
    assert.throws(
      () => d.end(() => {}),
      (e) => e === err,
    );
    assert.equal(d.buffered, 0);
  });

  test('an exception from onFrame makes the decoder unusable', () => {
    const d = new LineDecoder();
    const boom = new Error('boom');
    assert.throws(
      () =>
        d.push(Buffer.from('a\nb\n'), () => {
          throw boom;
        }),
      (e) => e === boom,
    );
    assert.throws(
      () => d.push(Buffer.from('c\n'), () => {}),
      (e) => e === boom,
    );
  });

  test('whole lines in one chunk are zero-copy views of it', () => {
    const chunk = Buffer.from('ab\ncd\n');
    const frames: Buffer[] = [];
    new LineDecoder().push(chunk, (f) => frames.push(f));
    for (const f of frames) assert.equal(f.buffer, chunk.buffer);
  });

  test('buffered counts the unterminated line', () => {
    const d = new LineDecoder();
    d.push(Buffer.from('a\nbcd'), () => {});
    assert.equal(d.buffered, 3);
    d.push(Buffer.from('ef'), () => {});
    assert.equal(d.buffered, 5);
  });

  test('is reusable after a clean end', () => {
    const d = new LineDecoder();
    assert.equal(decodeAll(d, [Buffer.from('a')]).length, 1);
    assert.deepEqual(decodeAll(d, [Buffer.from('b\n')]).map(String), ['b']);
  });

  describe('options', () => {
    const BAD: [string, unknown][] = [
      ['maxLineBytes', 0],
      ['maxLineBytes', -1],
      ['maxLineBytes', 1.5],
      ['maxLineBytes', '10'],
      ['maxLineBytes', Number.POSITIVE_INFINITY],
      ['maxLineBytes', 2 ** 40],
      ['stripCR', 'yes'],
      ['trailing', 'drop'],
    ];
    for (const [option, value] of BAD) {
      test(`rejects ${option}: ${String(value)}`, () => {
        argError(() => new LineDecoder({ [option]: value }), option);
      });
    }
    test('rejects a non-object', () => {
      argError(() => new LineDecoder(42 as never), 'options');
    });
    test('defaults', () => {
      const d = new LineDecoder();
      assert.equal(d.maxLineBytes, DEFAULT_MAX_LINE_BYTES);
      assert.equal(d.stripCR, true);
      assert.equal(d.trailing, 'emit');
    });
  });
});

describe('LineEncoder', () => {
  // [name, options, payload (hex), framed (hex) or error code]
  const CASES: [string, ConstructorParameters<typeof LineEncoder>[0], string, string | FrameError['code']][] =
    [
      ['appends LF', {}, '616263', '6162630a'],
      ['empty line', {}, '', '0a'],
      ['CRLF ending', { eol: '\r\n' }, '6162', '61620d0a'],
      ['lone CR inside is fine', {}, '610d62', '610d620a'],
      ['trailing CR survives with CRLF', { eol: '\r\n' }, '610d', '610d0d0a'],
      ['trailing CR with LF would be stripped by readers', {}, '610d', 'NETKIT_FRAME_INVALID'],
      ['LF inside', {}, '610a62', 'NETKIT_FRAME_INVALID'],
      ['exactly maxLineBytes', { maxLineBytes: 3 }, '616263', '6162630a'],
      ['maxLineBytes + 1', { maxLineBytes: 3 }, '61626364', 'NETKIT_FRAME_TOO_LARGE'],
    ];
  for (const [name, options, payload, want] of CASES) {
    test(name, () => {
      const e = new LineEncoder(options);
      if (want.startsWith('NETKIT_')) {
        frameError(() => e.encode(hex(payload)), want as FrameError['code']);
      } else {
        assert.equal(e.encode(hex(payload)).toString('hex'), want);
      }
    });
  }

  test('accepts a plain Uint8Array', () => {
    assert.equal(new LineEncoder().encode(new Uint8Array([0x61])).toString('hex'), '610a');
  });

  test('round-trips through LineDecoder', () => {
    const e = new LineEncoder({ eol: '\r\n' });
    const lines = ['', 'a', 'x\ry', 'ünïcödé', 'z\r'];
    const wire = Buffer.concat(lines.map((l) => e.encode(Buffer.from(l))));
    assert.deepEqual(decodeAll(new LineDecoder(), byteByByte(wire)).map(String), lines);
  });

  test('rejects bad options', () => {
    argError(() => new LineEncoder({ eol: '\r' as never }), 'eol');
    argError(() => new LineEncoder({ maxLineBytes: 0 }), 'maxLineBytes');
  });
});
