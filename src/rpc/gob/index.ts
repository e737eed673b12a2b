/**
 * netkit's gob codec: Go's encoding/gob, streaming, byte-compatible with
 * Go 1.19, for net/rpc interop. See docs/gob.md.
 */
export { type Decoded, Decoder } from './decoder.js';
export { Encoder, type EncoderMark } from './encoder.js';
export { GobError, type GobErrorCode, type GobErrorDetails } from './errors.js';
export { decodeAll, encodeAll } from './helpers.js';
export { inferType } from './infer.js';
export { DECODER_DEFAULTS, type DecoderOptions, ENCODER_DEFAULTS, type EncoderOptions } from './options.js';
export { gob, isGobType, resolveType } from './schema.js';
export {
  BUILTIN_IDS,
  type Complex,
  type GobArrayType,
  type GobField,
  GobInterface,
  type GobKind,
  type GobLazyType,
  type GobMapType,
  type GobOpaqueType,
  type GobScalarType,
  type GobSliceType,
  type GobStructType,
  type GobType,
  type OpaqueMarshaler,
  type ScalarKind,
} from './types.js';
