/**
 * netkit/framing: incremental frame decoders and encoders for any byte
 * stream, the fix for TCP "sticky packets". See docs/framing.md.
 *
 * @module netkit/framing
 */
export {
  DelimiterDecoder,
  type DelimiterDecoderOptions,
  DelimiterEncoder,
  type DelimiterEncoderOptions,
} from './delimiter.js';
export {
  type CreateDecoderOptions,
  type CreateEncoderOptions,
  createDecoder,
  createEncoder,
  parseFrameFormat,
} from './format.js';
export {
  type Endianness,
  LengthPrefixDecoder,
  LengthPrefixEncoder,
  type LengthPrefixOptions,
  type PrefixBytes,
} from './length-prefix.js';
export {
  LineDecoder,
  type LineDecoderOptions,
  LineEncoder,
  type LineEncoderOptions,
  type LineEnding,
} from './line.js';
export { RawDecoder, RawEncoder } from './raw.js';
export { decodeStream, readFrames } from './stream.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_LINE_BYTES,
  FRAME_FORMATS,
  type FrameCallback,
  type FrameDecoder,
  type FrameEncoder,
  type FrameFormat,
  TRAILING_POLICIES,
  type TrailingPolicy,
} from './types.js';
export { UvarintDecoder, UvarintEncoder, type UvarintOptions } from './uvarint.js';
