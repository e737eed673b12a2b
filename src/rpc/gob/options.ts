/**
 * Options of the gob Encoder and Decoder, validated at construction so a
 * bad configuration fails at startup, each failure naming the option.
 *
 * The limits exist because gob input comes from the network: Go's own
 * decoder caps only messages (1 GiB) and type nesting while skipping
 * (10,000), and has had crashes from deep nesting (CVE-2022-30635,
 * CVE-2024-34156) and from huge counts (go#24446, go#55338).
 */
import { constants } from 'node:buffer';
import { checkInt, checkObject } from '../../internal/validate.js';

/** DECODER_DEFAULTS are the Decoder's limits when none are given. */
export const DECODER_DEFAULTS = Object.freeze({
  /** 16 MiB, far below Go's 1 GiB: a message is held whole in memory. */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Go's decoder crashed on deep nesting (CVE-2022-30635); 64 covers real types. */
  maxDepth: 64,
  /** Go crashed on huge counts (go#24446, go#55338). */
  maxElements: 1_000_000,
  /** Far more types than any real schema defines. */
  maxTypes: 10_000,
  /** Every decoded struct gets every field, so a huge type would cost on every message. */
  maxFields: 1024,
});

/** ENCODER_DEFAULTS are the Encoder's limits when none are given. */
export const ENCODER_DEFAULTS = Object.freeze({
  /** The decoder's default, so what netkit sends netkit can read. */
  maxMessageBytes: 16 * 1024 * 1024,
  /** The decoder's default. */
  maxDepth: 64,
});

/**
 * MAX_DEPTH is the highest maxDepth accepted: nesting is handled by
 * recursion, and this stays far from the JavaScript stack's end.
 */
export const MAX_DEPTH = 1000;

/** DecoderOptions bound what one gob stream may make the Decoder do. */
export interface DecoderOptions {
  /** maxMessageBytes is the largest message, judged from its length prefix (default 16 MiB). */
  maxMessageBytes?: number;
  /** maxDepth bounds the nesting of values and of type definitions (default 64). */
  maxDepth?: number;
  /** maxElements bounds the element count of one slice, array or map (default 1,000,000). */
  maxElements?: number;
  /** maxTypes bounds the types one stream may define (default 10,000). */
  maxTypes?: number;
  /**
   * maxFields bounds the fields of one struct type (default 1024). Every
   * decoded struct gets every field, so without it a 3-byte message of a
   * 50,000-field type would cost milliseconds.
   */
  maxFields?: number;
}

/** EncoderOptions bound what one Encoder produces. */
export interface EncoderOptions {
  /** maxMessageBytes is the largest message encode produces (default 16 MiB). */
  maxMessageBytes?: number;
  /** maxDepth bounds the nesting of values and types, catching circular objects (default 64). */
  maxDepth?: number;
}

function integer(option: string, value: unknown, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : checkInt(option, value, min, max);
}

/** decoderOptions validates DecoderOptions and fills in defaults. */
export function decoderOptions(options: DecoderOptions | undefined): Required<DecoderOptions> {
  const o = checkObject('options', options);
  const d = DECODER_DEFAULTS;
  return {
    maxMessageBytes: integer(
      'maxMessageBytes',
      o.maxMessageBytes,
      d.maxMessageBytes,
      1,
      constants.MAX_LENGTH,
    ),
    maxDepth: integer('maxDepth', o.maxDepth, d.maxDepth, 1, MAX_DEPTH),
    maxElements: integer('maxElements', o.maxElements, d.maxElements, 0, 2 ** 32),
    maxTypes: integer('maxTypes', o.maxTypes, d.maxTypes, 0, 1_000_000),
    maxFields: integer('maxFields', o.maxFields, d.maxFields, 0, 1_000_000),
  };
}

/** encoderOptions validates EncoderOptions and fills in defaults. */
export function encoderOptions(options: EncoderOptions | undefined): Required<EncoderOptions> {
  const o = checkObject('options', options);
  const d = ENCODER_DEFAULTS;
  return {
    maxMessageBytes: integer(
      'maxMessageBytes',
      o.maxMessageBytes,
      d.maxMessageBytes,
      1,
      constants.MAX_LENGTH,
    ),
    maxDepth: integer('maxDepth', o.maxDepth, d.maxDepth, 1, MAX_DEPTH),
  };
}
