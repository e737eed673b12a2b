/**
 * One-shot helpers over a fresh stream, handy in tests and scripts:
 * encodeAll writes values as one Encoder would, decodeAll reads every value
 * from complete bytes.
 */
import { Decoder } from './decoder.js';
import { Encoder } from './encoder.js';
import { GobError } from './errors.js';
import type { DecoderOptions, EncoderOptions } from './options.js';
import type { GobType } from './types.js';

/** encodeAll encodes values on one fresh stream; `types[i]`, when given, is the type of `values[i]`. */
export function encodeAll(
  values: readonly unknown[],
  types: readonly (GobType | undefined)[] = [],
  options?: EncoderOptions,
): Buffer {
  const enc = new Encoder(options);
  return Buffer.concat(values.map((v, i) => enc.encode(v, types[i])));
}

/** decodeAll decodes every value of a complete stream; bytes left after the last value are malformed. */
export function decodeAll(bytes: Uint8Array, options?: DecoderOptions): unknown[] {
  const dec = new Decoder(options);
  dec.push(bytes);
  const out: unknown[] = [];
  for (let d = dec.next(); d !== undefined; d = dec.next()) out.push(d.value);
  if (dec.buffered > 0) {
    throw new GobError(
      'NETKIT_GOB_MALFORMED',
      `gob: stream ends inside a message (${dec.buffered} bytes left over)`,
      {
        offset: bytes.length - dec.buffered,
      },
    );
  }
  return out;
}
