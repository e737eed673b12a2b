import { checkOneOf } from '../../internal/validate.js';
import { GobClientCodec, GobServerCodec } from './gob.js';
import { JsonClientCodec, JsonServerCodec } from './json.js';
import type { ClientCodec, CodecName, ServerCodec } from './types.js';

export type {
  ClientCodec,
  CodecName,
  IncomingRequest,
  IncomingResponse,
  ResponseHeader,
  ServerCodec,
} from './types.js';

/** CODECS are the net/rpc codecs netkit speaks. */
export const CODECS: readonly CodecName[] = ['gob', 'json'];

/** checkCodec validates a codec name. */
export function checkCodec(option: string, value: unknown): CodecName {
  return checkOneOf(option, value, CODECS);
}

/** createServerCodec makes the per-connection server state of a codec. */
export function createServerCodec(name: CodecName, maxMessageBytes: number): ServerCodec {
  return name === 'gob' ? new GobServerCodec({ maxMessageBytes }) : new JsonServerCodec({ maxMessageBytes });
}

/** createClientCodec makes the per-connection client state of a codec. */
export function createClientCodec(name: CodecName, maxMessageBytes: number): ClientCodec {
  return name === 'gob' ? new GobClientCodec({ maxMessageBytes }) : new JsonClientCodec({ maxMessageBytes });
}
