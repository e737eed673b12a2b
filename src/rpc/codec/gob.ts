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

/**
 * GobStream is one connection's gob state, both directions: the decoder that
 * reads (header, body) pairs and the encoder that writes them, as net/rpc
 * always sends a header followed by exactly one body.
 */
class GobStream {
  readonly #dec: Decoder;
  readonly #enc = new Encoder();
  #header: Header | undefined;

  constructor(options: GobCodecOptions) {
    this.#dec = new Decoder({ maxMessageBytes: options.maxMessageBytes });
  }

  /**
   * pairs takes the next bytes and hands every (header, body) now complete
   * to `each`, in order; one callback instead of a list of pairs, as most
   * chunks hold exactly one.
   */
  pairs(chunk: Buffer, what: 'request' | 'response', each: (header: Header, body: unknown) => void): void {
    this.#dec.push(chunk);
    for (let d = this.#dec.next(); d !== undefined; d = this.#dec.next()) {
      if (this.#header === undefined) {
        this.#header = checkHeader(d.value, what);
        continue;
      }
      const header = this.#header;
      this.#header = undefined;
      each(header, d.value);
    }
  }

  /**
   * encodePair writes a header, then its body, as Go does (so type ids match
   * Go's byte for byte), in one Buffer so that they leave in one write, as
   * Go's bufio flush sends them. If either cannot be encoded, the encoder
   * forgets the types it took for them, so the stream stays as it was, and
   * the error is thrown to the caller.
   */
  encodePair(header: object, headerType: GobType, body: unknown, bodyType: GobType | undefined): Buffer {
    return this.#enc.encodePair(header, headerType, body, bodyType);
  }
}

/** GobServerCodec is the server side of net/rpc's gob codec. */
export class GobServerCodec implements ServerCodec {
  readonly #stream: GobStream;

  constructor(options: GobCodecOptions) {
    this.#stream = new GobStream(options);
  }

  push(chunk: Buffer): IncomingRequest[] {
    const out: IncomingRequest[] = [];
    this.#stream.pairs(chunk, 'request', (h, args) =>
      out.push({ serviceMethod: h.ServiceMethod, seq: h.Seq, args }),
    );
    return out;
  }

  encodeResponse(header: ResponseHeader, reply: unknown, replyType?: unknown): Buffer {
    const h = {
      ServiceMethod: header.serviceMethod,
      Seq: header.seq as number | bigint,
      Error: header.error,
    };
    // After an error Go sends its empty struct{} body; the caller turns a reply that cannot be
    // encoded into an error response.
    return header.error !== ''
      ? this.#stream.encodePair(h, RESPONSE, {}, INVALID)
      : this.#stream.encodePair(h, RESPONSE, reply, replyType as GobType | undefined);
  }
}

/** GobClientCodec is the client side of net/rpc's gob codec. */
export class GobClientCodec implements ClientCodec {
  readonly name = 'gob';
  readonly #stream: GobStream;

  constructor(options: GobCodecOptions) {
    this.#stream = new GobStream(options);
  }

  /** encodeRequest throws (GobError) when the args do not fit their type: that call fails, the stream does not. */
  encodeRequest(serviceMethod: string, seq: number, args: unknown, schema?: unknown): Buffer {
    return this.#stream.encodePair(
      { ServiceMethod: serviceMethod, Seq: seq },
      REQUEST,
      args,
      schema as GobType | undefined,
    );
  }

  push(chunk: Buffer): IncomingResponse[] {
    const out: IncomingResponse[] = [];
    this.#stream.pairs(chunk, 'response', (h, body) =>
      out.push({ seq: Number(h.Seq), error: h.Error ?? '', reply: h.Error ? undefined : body }),
    );
    return out;
  }
}
