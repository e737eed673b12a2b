import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FrameError } from '../../src/errors.js';
import {
  createDecoder,
  createEncoder,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_LINE_BYTES,
  DelimiterDecoder,
  DelimiterEncoder,
  FRAME_FORMATS,
  type FrameDecoder,
  type FrameEncoder,
  LengthPrefixDecoder,
  LengthPrefixEncoder,
  LineDecoder,
  LineEncoder,
  parseFrameFormat,
  RawDecoder,
  RawEncoder,
  UvarintDecoder,
  UvarintEncoder,
} from '../../src/framing/index.js';
import { argError, byteByByte, decodeAll, randomInt, rng, splitAt } from './helpers.js';

describe('parseFrameFormat', () => {
  for (const f of FRAME_FORMATS) {
    test(`accepts ${f}`, () => assert.equal(parseFrameFormat(f), f));
  }
  for (const bad of ['', 'LEN32', ' line', 'len24', 'varint', 'lines']) {
    test(`rejects ${JSON.stringify(bad)} naming the frame option`, () => {
      argError(() => parseFrameFormat(bad), 'frame');
    });
  }
});

describe('createDecoder / createEncoder', () => {
  // [format, decoder class, encoder class, prefix bytes]
  const KINDS = [
    ['line', LineDecoder, LineEncoder],
    ['len8', LengthPrefixDecoder, LengthPrefixEncoder],
    ['len16', LengthPrefixDecoder, LengthPrefixEncoder],
    ['len32', LengthPrefixDecoder, LengthPrefixEncoder],
    ['len64', LengthPrefixDecoder, LengthPrefixEncoder],
    ['uvarint', UvarintDecoder, UvarintEncoder],
    ['none', RawDecoder, RawEncoder],
  ] as const;
  for (const [format, Dec, Enc] of KINDS) {
    test(`${format} builds ${Dec.name} and ${Enc.name}`, () => {
      assert.ok(createDecoder(format) instanceof Dec);
      assert.ok(createEncoder(format) instanceof Enc);
    });
  }

  test('prefix widths and endianness reach the codec', () => {
    const WIDTHS = [
      ['len8', 1],
      ['len16', 2],
      ['len32', 4],
      ['len64', 8],
    ] as const;
    for (const [format, width] of WIDTHS) {
      const d = createDecoder(format, { endian: 'le' }) as LengthPrefixDecoder;
      assert.equal(d.prefixBytes, width);
      assert.equal(d.endian, 'le');
      const e = createEncoder(format, { endian: 'le' }) as LengthPrefixEncoder;
      assert.equal(e.prefixBytes, width);
      assert.equal(e.endian, 'le');
    }
  });

  test('line maps maxFrameBytes to maxLineBytes and keeps its own default', () => {
    assert.equal((createDecoder('line', { maxFrameBytes: 10 }) as LineDecoder).maxLineBytes, 10);
    assert.equal((createDecoder('line') as LineDecoder).maxLineBytes, DEFAULT_MAX_LINE_BYTES);
    assert.equal((createEncoder('line', { maxFrameBytes: 10 }) as LineEncoder).maxLineBytes, 10);
    assert.equal((createDecoder('line', { stripCR: false }) as LineDecoder).stripCR, false);
    assert.equal((createEncoder('line', { eol: '\r\n' }) as LineEncoder).eol, '\r\n');
  });

  test('maxFrameBytes reaches length-prefixed and uvarint codecs', () => {
    assert.equal((createDecoder('len32') as LengthPrefixDecoder).maxFrameBytes, DEFAULT_MAX_FRAME_BYTES);
    assert.equal((createDecoder('len32', { maxFrameBytes: 9 }) as LengthPrefixDecoder).maxFrameBytes, 9);
    assert.equal((createDecoder('uvarint', { maxFrameBytes: 9 }) as UvarintDecoder).maxFrameBytes, 9);
    assert.equal((createEncoder('len64', { maxFrameBytes: 9 }) as LengthPrefixEncoder).maxFrameBytes, 9);
  });

  // [format, options, option named in the error]
  const BAD: [string, Record<string, unknown>, string][] = [
    ['bogus', {}, 'format'],
    ['len32', { maxFrameBytes: 0 }, 'maxFrameBytes'],
    ['line', { maxFrameBytes: -5 }, 'maxFrameBytes'],
    ['none', { maxFrameBytes: 'big' }, 'maxFrameBytes'],
    ['len16', { endian: 'network' }, 'endian'],
    ['uvarint', { endian: 'middle' }, 'endian'],
  ];
  for (const [format, options, option] of BAD) {
    test(`rejects ${format} ${JSON.stringify(options)} naming ${option}`, () => {
      argError(() => createDecoder(format as never, options as never), option);
      argError(() => createEncoder(format as never, options as never), option);
    });
  }
  test('rejects decoder-only and encoder-only options of the wrong type', () => {
    argError(() => createDecoder('len32', { stripCR: 'no' as never }), 'stripCR');
    argError(() => createEncoder('len32', { eol: '\r' as never }), 'eol');
  });
});

/**
 * Property: for any valid stream, the frames decoded do not depend on how
 * the stream was cut into chunks. Each case encodes generated payloads,
 * then decodes the wire bytes whole, split in two at every offset, split in
 * three at random offsets, byte by byte and in random-sized chunks; every
 * run must return exactly the payloads.
 */
describe('every split point yields the same frames', () => {
  interface Case {
    name: string;
    encoder: () => FrameEncoder;
    decoder: () => FrameDecoder;
    /** Bytes payloads are drawn from; undefined means any byte. */
    alphabet?: number[];
    maxLen: number;
  }
  const CASES: Case[] = [
    {
      name: 'line LF',
      encoder: () => createEncoder('line'),
      decoder: () => createDecoder('line'),
      maxLen: 40,
    },
    {
      name: 'line CRLF (payloads with CR and UTF-8)',
      encoder: () => createEncoder('line', { eol: '\r\n' }),
      decoder: () => createDecoder('line'),
      alphabet: [0x0d, 0x61, 0xc3, 0xa9, 0xe2, 0x82, 0xac],
      maxLen: 40,
    },
    {
      name: 'line without stripCR (lone CRs are content)',
      encoder: () => createEncoder('line'),
      decoder: () => createDecoder('line', { stripCR: false }),
      alphabet: [0x0d, 0x61, 0x62],
      maxLen: 20,
    },
    { name: 'len8', encoder: () => createEncoder('len8'), decoder: () => createDecoder('len8'), maxLen: 255 },
    {
      name: 'len16',
      encoder: () => createEncoder('len16'),
      decoder: () => createDecoder('len16'),
      maxLen: 300,
    },
    {
      name: 'len16 le',
      encoder: () => createEncoder('len16', { endian: 'le' }),
      decoder: () => createDecoder('len16', { endian: 'le' }),
      maxLen: 300,
    },
    {
      name: 'len32',
      encoder: () => createEncoder('len32'),
      decoder: () => createDecoder('len32'),
      maxLen: 300,
    },
    {
      name: 'len64 le',
      encoder: () => createEncoder('len64', { endian: 'le' }),
      decoder: () => createDecoder('len64', { endian: 'le' }),
      maxLen: 300,
    },
    {
      name: 'len64',
      encoder: () => createEncoder('len64'),
      decoder: () => createDecoder('len64'),
      maxLen: 300,
    },
    {
      name: 'uvarint',
      encoder: () => createEncoder('uvarint'),
      decoder: () => createDecoder('uvarint'),
      maxLen: 300,
    },
    {
      name: 'delimiter NUL',
      encoder: () => new DelimiterEncoder({ delimiter: '\0' }),
      decoder: () => new DelimiterDecoder({ delimiter: '\0' }),
      maxLen: 40,
    },
    {
      name: 'delimiter CRLFCRLF',
      encoder: () => new DelimiterEncoder({ delimiter: '\r\n\r\n' }),
      decoder: () => new DelimiterDecoder({ delimiter: '\r\n\r\n' }),
      alphabet: [0x0d, 0x0a, 0x61],
      maxLen: 30,
    },
    {
      name: 'delimiter "aba" (self-overlapping)',
      encoder: () => new DelimiterEncoder({ delimiter: 'aba' }),
      decoder: () => new DelimiterDecoder({ delimiter: 'aba' }),
      alphabet: [0x61, 0x62],
      maxLen: 12,
    },
  ];

  for (const [index, c] of CASES.entries()) {
    test(c.name, () => {
      const next = rng(0x5eed + index);
      const encoder = c.encoder();
      const payloads: Buffer[] = [];
      const wire: Buffer[] = [];
      while (payloads.length < 24) {
        // Mostly short frames, some empty, some long enough to span prefixes' byte boundaries.
        const r = next();
        const len = r < 0.15 ? 0 : r < 0.8 ? 1 + randomInt(next, 12) : randomInt(next, c.maxLen + 1);
        const p = Buffer.alloc(len);
        for (let i = 0; i < len; i++) {
          p[i] =
            c.alphabet === undefined ? randomInt(next, 256) : c.alphabet[randomInt(next, c.alphabet.length)]!;
        }
        let framed: Buffer;
        try {
          framed = encoder.encode(p);
        } catch (err) {
          // The encoder refuses payloads its framing cannot carry; draw another.
          if (err instanceof FrameError && err.code === 'NETKIT_FRAME_INVALID') continue;
          throw err;
        }
        payloads.push(p);
        wire.push(framed);
      }
      const data = Buffer.concat(wire);
      const run = (chunks: Buffer[], how: string) => {
        assert.deepEqual(decodeAll(c.decoder(), chunks), payloads, `${c.name}: ${how}`);
      };
      run([data], 'whole');
      run(byteByByte(data), 'byte by byte');
      for (let i = 0; i <= data.length; i++) run(splitAt(data, i), `split at ${i}`);
      for (let k = 0; k < 200; k++) {
        const a = randomInt(next, data.length + 1);
        const b = a + randomInt(next, data.length - a + 1);
        run(splitAt(data, a, b), `split at ${a}, ${b}`);
      }
      for (let k = 0; k < 50; k++) {
        const cuts: number[] = [];
        for (let at = randomInt(next, 64); at < data.length; at += 1 + randomInt(next, 64)) cuts.push(at);
        run(splitAt(data, ...cuts), `random chunks ${cuts.join(',')}`);
      }
    });
  }

  test('none: the bytes come through whatever the split', () => {
    const data = Buffer.from('no framing at all \n\0\r\n');
    for (let i = 0; i <= data.length; i++) {
      assert.deepEqual(Buffer.concat(decodeAll(createDecoder('none'), splitAt(data, i))), data);
    }
  });
});
