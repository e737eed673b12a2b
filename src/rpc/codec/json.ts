/**
 * Go's net/rpc/jsonrpc codec: JSON-RPC 1.0 over a byte stream. A request is
 * `{"method":"Arith.Multiply","params":[args],"id":0}`, a reply
 * `{"id":0,"result":56,"error":null}` or `{"id":1,"result":null,"error":"text"}`,
 * each written with a trailing newline as Go's json.Encoder does. Values are
 * split as whole JSON values, not lines, because Go does not promise
 * newlines. Integers beyond 2^53 stay exact (bigint).
 */

import { RpcProtocolError } from '../errors.js';
import { JsonValueSplitter } from '../json-stream.js';
import { parseJson, stringifyJson } from './lossless-json.js';
import type { ClientCodec, IncomingRequest, IncomingResponse, ResponseHeader, ServerCodec } from './types.js';

/** JsonCodecOptions bound what one JSON value may cost. */
export interface JsonCodecOptions {
  maxMessageBytes: number;
}

function parseObject(text: string, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = parseJson(text);
  } catch (err) {
    throw new RpcProtocolError(`jsonrpc: malformed ${what}: ${(err as Error).message}`, { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new RpcProtocolError(`jsonrpc: ${what} is not a JSON object`);
  }
  return v as Record<string, unknown>;
}

/** JsonServerCodec is the server side of Go's jsonrpc. */
export class JsonServerCodec implements ServerCodec {
  readonly #split: JsonValueSplitter;

  constructor(options: JsonCodecOptions) {
    this.#split = new JsonValueSplitter({ maxValueBytes: options.maxMessageBytes });
  }

  push(chunk: Buffer): IncomingRequest[] {
    const out: IncomingRequest[] = [];
    for (const text of this.#split.push(chunk)) {
      const r = parseObject(text, 'request');
      const seq = r.id === undefined ? null : r.id;
      if (typeof r.method !== 'string') {
        throw new RpcProtocolError('jsonrpc: request has no method string');
      }
      const params = r.params;
      if (params === undefined || params === null) {
        out.push({
          serviceMethod: r.method,
          seq,
          args: undefined,
          error: 'jsonrpc: request body missing params',
        });
      } else if (!Array.isArray(params)) {
        out.push({
          serviceMethod: r.method,
          seq,
          args: undefined,
          error: 'jsonrpc: params must be an array',
        });
      } else {
        // Go decodes params into a one-element array: only params[0] is used.
        out.push({ serviceMethod: r.method, seq, args: params[0] });
      }
    }
    return out;
  }

  encodeResponse(header: ResponseHeader, reply: unknown): Buffer {
    const id = stringifyJson(header.seq ?? null);
    if (header.error !== '') {
      return Buffer.from(`{"id":${id},"result":null,"error":${JSON.stringify(header.error)}}\n`);
    }
    // Never "result":null on success: Go's client takes that for a malformed error and drops the connection.
    const result = reply === undefined || reply === null ? '{}' : stringifyJson(reply);
    return Buffer.from(`{"id":${id},"result":${result},"error":null}\n`);
  }
}

/**
 * JsonClientCodec is the client side of Go's jsonrpc. Its first request
 * starts with a space, which JSON servers skip; a gob server takes that
 * space for the length of a 32-byte message, finds no valid type definition
 * in the JSON that follows, and closes at once, so a client dialled with
 * the wrong codec fails fast instead of waiting for a reply that never
 * comes (see wire-guess.ts).
 */
export class JsonClientCodec implements ClientCodec {
  readonly name = 'json';
  readonly #split: JsonValueSplitter;
  #opened = false;

  constructor(options: JsonCodecOptions) {
    this.#split = new JsonValueSplitter({ maxValueBytes: options.maxMessageBytes });
  }

  encodeRequest(serviceMethod: string, seq: number, args: unknown): Buffer {
    const params = stringifyJson([args === undefined ? null : args]);
    const lead = this.#opened ? '' : ' ';
    this.#opened = true;
    return Buffer.from(`${lead}{"method":${JSON.stringify(serviceMethod)},"params":${params},"id":${seq}}\n`);
  }

  push(chunk: Buffer): IncomingResponse[] {
    const out: IncomingResponse[] = [];
    for (const text of this.#split.push(chunk)) {
      const r = parseObject(text, 'response');
      if (typeof r.id !== 'number')
        throw new RpcProtocolError(
          `jsonrpc: response id ${stringifyJson(r.id)} is not a call of this client`,
        );
      const error = r.error ?? null;
      if (error !== null && typeof error !== 'string') {
        throw new RpcProtocolError(`jsonrpc: invalid error ${stringifyJson(error)}`);
      }
      if (error !== null)
        out.push({ seq: r.id, error: error === '' ? 'unspecified error' : error, reply: undefined });
      else out.push({ seq: r.id, error: '', reply: r.result ?? null });
    }
    return out;
  }
}
