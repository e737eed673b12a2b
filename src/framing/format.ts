/**
 * Factories that build a codec from a FrameFormat name, so a CLI flag or a
 * config file can choose the framing.
 */
import { InvalidArgumentError } from '../errors.js';
import { type Endianness, LengthPrefixDecoder, LengthPrefixEncoder } from './length-prefix.js';
import { LineDecoder, LineEncoder, type LineEnding } from './line.js';
import { bool, oneOf, optionalByteLimit, optionsObject } from './options.js';
import { RawDecoder, RawEncoder } from './raw.js';
import { FRAME_FORMATS, type FrameDecoder, type FrameEncoder, type FrameFormat } from './types.js';
import { UvarintDecoder, UvarintEncoder } from './uvarint.js';

/** CreateDecoderOptions are the options createDecoder understands; each format ignores the ones it has no use for. */
export interface CreateDecoderOptions {
  /** maxFrameBytes is the frame limit; for `line` it becomes maxLineBytes (defaults: 16 MiB, 1 MiB for line). */
  maxFrameBytes?: number;
  /** endian is the byte order of len16/len32/len64 prefixes (default 'be'). */
  endian?: Endianness;
  /** stripCR drops a `\r` before `\n` for `line` (default true). */
  stripCR?: boolean;
}

/** CreateEncoderOptions are the options createEncoder understands; each format ignores the ones it has no use for. */
export interface CreateEncoderOptions {
  /** maxFrameBytes is the payload limit; for `line` it becomes maxLineBytes (defaults: 16 MiB, 1 MiB for line). */
  maxFrameBytes?: number;
  /** endian is the byte order of len16/len32/len64 prefixes (default 'be'). */
  endian?: Endianness;
  /** eol is the terminator written by `line` (default '\n'). */
  eol?: LineEnding;
}

/**
 * parseFrameFormat checks that `text` names a FrameFormat (exactly, in
 * lower case) and returns it; otherwise it throws InvalidArgumentError for
 * the option `frame`, listing the valid names.
 */
export function parseFrameFormat(text: string): FrameFormat {
  if ((FRAME_FORMATS as readonly string[]).includes(text)) return text as FrameFormat;
  throw new InvalidArgumentError(
    'frame',
    `unknown frame format ${JSON.stringify(String(text))}; use one of ${FRAME_FORMATS.join(', ')}`,
  );
}

function checkFormat(format: unknown): FrameFormat {
  if ((FRAME_FORMATS as readonly unknown[]).includes(format)) return format as FrameFormat;
  throw new InvalidArgumentError(
    'format',
    `unknown frame format ${JSON.stringify(String(format))}; use one of ${FRAME_FORMATS.join(', ')}`,
  );
}

/**
 * createDecoder returns a new FrameDecoder for `format`. Every option is
 * validated whatever the format, so a typo fails the same way everywhere.
 * DelimiterDecoder has no format name; construct it directly.
 */
export function createDecoder(format: FrameFormat, options?: CreateDecoderOptions): FrameDecoder {
  const f = checkFormat(format);
  const o = optionsObject(options);
  // Left undefined when absent, so each codec applies its own default (line's is smaller).
  const maxFrameBytes = optionalByteLimit('maxFrameBytes', o.maxFrameBytes);
  const endian = oneOf('endian', o.endian, ['be', 'le'] as const, 'be');
  const stripCR = bool('stripCR', o.stripCR, true);
  switch (f) {
    case 'line':
      return new LineDecoder({ maxLineBytes: maxFrameBytes, stripCR });
    case 'len8':
      return new LengthPrefixDecoder({ prefixBytes: 1, endian, maxFrameBytes });
    case 'len16':
      return new LengthPrefixDecoder({ prefixBytes: 2, endian, maxFrameBytes });
    case 'len32':
      return new LengthPrefixDecoder({ prefixBytes: 4, endian, maxFrameBytes });
    case 'len64':
      return new LengthPrefixDecoder({ prefixBytes: 8, endian, maxFrameBytes });
    case 'uvarint':
      return new UvarintDecoder({ maxFrameBytes });
    case 'none':
      return new RawDecoder();
  }
}

/**
 * createEncoder returns a new FrameEncoder for `format`. Every option is
 * validated whatever the format. DelimiterEncoder has no format name;
 * construct it directly.
 */
export function createEncoder(format: FrameFormat, options?: CreateEncoderOptions): FrameEncoder {
  const f = checkFormat(format);
  const o = optionsObject(options);
  const maxFrameBytes = optionalByteLimit('maxFrameBytes', o.maxFrameBytes);
  const endian = oneOf('endian', o.endian, ['be', 'le'] as const, 'be');
  const eol = oneOf('eol', o.eol, ['\n', '\r\n'] as const, '\n');
  switch (f) {
    case 'line':
      return new LineEncoder({ maxLineBytes: maxFrameBytes, eol });
    case 'len8':
      return new LengthPrefixEncoder({ prefixBytes: 1, endian, maxFrameBytes });
    case 'len16':
      return new LengthPrefixEncoder({ prefixBytes: 2, endian, maxFrameBytes });
    case 'len32':
      return new LengthPrefixEncoder({ prefixBytes: 4, endian, maxFrameBytes });
    case 'len64':
      return new LengthPrefixEncoder({ prefixBytes: 8, endian, maxFrameBytes });
    case 'uvarint':
      return new UvarintEncoder({ maxFrameBytes });
    case 'none':
      return new RawEncoder();
  }
}
