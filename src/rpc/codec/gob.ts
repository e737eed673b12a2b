/**
 * Go's default net/rpc codec: gob. Each direction of a connection has one
 * gob stream for its whole life (type definitions are sent once). A request
 * is a `Request{ServiceMethod string; Seq uint64}` value followed by the
 * args value; a response is `Response{ServiceMethod string; Seq uint64;
 * Error string}` followed by the reply — or, after an error, Go's empty
 * `struct{}` placeholder, so that exactly one body follows every header.
 */

import { RpcProtocolError } from '../errors.js';
import { Decoder, Encoder, type GobType, gob } from '../gob/index.js';
import type { ClientCodec, IncomingRequest, IncomingResponse, ResponseHeader, ServerCodec } from './types.js';

const REQUEST = gob.struct({ ServiceMethod: gob.string, Seq: gob.uint }, 'Request');
const RESPONSE = gob.struct({ ServiceMethod: gob.string, Seq: gob.uint, Error: gob.string }, 'Response');
/** INVALID is Go's `invalidRequest = struct{}{}`, the body sent after an error header. */
const INVALID = gob.struct({}, '');

/** GobCodecOptions bound what one gob message may cost. */
export interface GobCodecOptions {
  maxMessageBytes: number;
}

interface Header {
  ServiceMethod: string;
  Seq: number | bigint;
  Error?: string;
}

function checkHeader(v: unknown, what: 'request' | 'response'): Header {
  const h = v as Partial<Header> | null;
  if (
    typeof h !== 'object' ||
    h === null ||
    typeof h.ServiceMethod !== 'string' ||
    (typeof h.Seq !== 'number' && typeof h.Seq !== 'bigint')
  ) {
    throw new RpcProtocolError(`rpc: malformed ${what} header`);
  }
  return h as Header;
}

/** GobServerCodec is the server side of net/rpc's gob codec. */
export class GobServerCodec implements ServerCodec {
  readonly #dec: Decoder;
  readonly #enc = new Encoder();
  #header: Header | undefined;

  constructor(options: GobCodecOptions) {
    this.#dec = new Decoder({ maxMessageBytes: options.maxMessageBytes });
  }

  push(chunk: Buffer): IncomingRequest[] {
    this.#dec.push(chunk);
    const out: IncomingRequest[] = [];
    for (let d = this.#dec.next(); d !== undefined; d = this.#dec.next()) {
      if (this.#header === undefined) {
        this.#header = checkHeader(d.value, 'request');
        continue;
      }
      out.push({ serviceMethod: this.#header.ServiceMethod, seq: this.#header.Seq, args: d.value });
      this.#header = undefined;
    }
    return out;
  }

  encodeResponse(header: ResponseHeader, reply: unknown, replyType?: unknown): Buffer {
    const h = {
      ServiceMethod: header.serviceMethod,
      Seq: header.seq as number | bigint,
      Error: header.error,
    };
    // Header first, then body, as Go does (so type ids match Go's byte for byte). If the body
    // cannot be encoded, the encoder forgets the types of this response and the caller sends an
    // error response instead.
    const mark = this.#enc.mark();
    try {
      const head = this.#enc.encode(h, RESPONSE);
      const body =
        header.error !== ''
          ? this.#enc.encode({}, INVALID)
          : this.#enc.encode(reply, replyType as GobType | undefined);
      return Buffer.concat([head, body]);
    } catch (err) {
      this.#enc.rollback(mark);
      throw err;
    }
  }
}

/** GobClientCodec is the client side of net/rpc's gob codec. */
export class GobClientCodec implements ClientCodec {
  readonly #dec: Decoder;
  readonly #enc = new Encoder();
  #header: Header | undefined;

  constructor(options: GobCodecOptions) {
    this.#dec = new Decoder({ maxMessageBytes: options.maxMessageBytes });
  }

  encodeRequest(serviceMethod: string, seq: number, args: unknown, schema?: unknown): Buffer {
    const mark = this.#enc.mark();
    try {
      const head = this.#enc.encode({ ServiceMethod: serviceMethod, Seq: seq }, REQUEST);
      return Buffer.concat([head, this.#enc.encode(args, schema as GobType | undefined)]);
    } catch (err) {
      // Arguments that do not fit their type fail this call only; the stream stays as it was.
      this.#enc.rollback(mark);
      throw err;
    }
  }

  push(chunk: Buffer): IncomingResponse[] {
    this.#dec.push(chunk);
    const out: IncomingResponse[] = [];
    for (let d = this.#dec.next(); d !== undefined; d = this.#dec.next()) {
      if (this.#header === undefined) {
        this.#header = checkHeader(d.value, 'response');
        continue;
      }
      const h = this.#header;
      this.#header = undefined;
      out.push({ seq: Number(h.Seq), error: h.Error ?? '', reply: h.Error ? undefined : d.value });
    }
    return out;
  }
}
