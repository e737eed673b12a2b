// Minimal typings for length-prefixed-stream v2 (the package ships none),
// covering what bench/framing uses.
declare module 'length-prefixed-stream' {
  import type { Transform } from 'node:stream';

  export interface DecodeOptions {
    /** limit is the largest message accepted (0 = no limit). */
    limit?: number;
    /** allowEmpty emits empty messages (and switches the readable side to object mode). */
    allowEmpty?: boolean;
  }

  /** decode returns a Transform (from readable-stream v3) that turns varint-prefixed bytes into messages. */
  export function decode(opts?: DecodeOptions): Transform;
  /** encode returns a Transform that prefixes each written chunk with its varint length. */
  export function encode(): Transform;
}
