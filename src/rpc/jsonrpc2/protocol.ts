/**
 * The JSON-RPC 2.0 message shapes (https://www.jsonrpc.org/specification):
 * checking a Request object, mapping its params to the one `args` value a
 * Registry method takes, and encoding Response objects.
 */

import { stringifyJson } from '../codec/lossless-json.js';
import { INVALID_PARAMS, INVALID_REQUEST, JSONRPC2_MESSAGES, PARSE_ERROR } from './errors.js';

/** JsonRpcId identifies a call; the server echoes it. A request without one is a notification. */
export type JsonRpcId = string | number | null;

/** JsonRpcParams are by-position (array) or by-name (object) parameters. */
export type JsonRpcParams = unknown[] | Record<string, unknown>;

/** JsonRpcRequest is a Request object; without `id` it is a notification. */
export interface JsonRpcRequest {
  /** jsonrpc is always "2.0". */
  jsonrpc: '2.0';
  /** method is the method's name. */
  method: string;
  /** params are by position (array) or by name (object). */
  params?: JsonRpcParams;
  /** id is echoed in the response; absent for a notification. */
  id?: JsonRpcId;
}

/** JsonRpcErrorObject is the `error` member of a failed response. */
export interface JsonRpcErrorObject {
  /** code is the spec's error code (-32700 Parse error … -32603) or the application's. */
  code: number;
  /** message is a short description. */
  message: string;
  /** data is whatever detail the server adds. */
  data?: unknown;
}

/** JsonRpcResponse is a Response object: exactly one of `result` and `error`. */
export type JsonRpcResponse =
  | {
      /** jsonrpc is always "2.0". */
      jsonrpc: '2.0';
      /** result is what the method returned. */
      result: unknown;
      /** id is the request's id (null when it could not be read). */
      id: JsonRpcId;
    }
  | {
      /** jsonrpc is always "2.0". */
      jsonrpc: '2.0';
      /** error says why the call failed. */
      error: JsonRpcErrorObject;
      /** id is the request's id (null when it could not be read). */
      id: JsonRpcId;
    };

/** CheckedRequest is a request object after checking: a call to make, or the error to answer. */
export type CheckedRequest =
  | { ok: true; method: string; params: JsonRpcParams | undefined; id: JsonRpcId; notification: boolean }
  | { ok: false; code: number; id: JsonRpcId; notification: boolean };

/** isJsonRpcId is true for the id types the specification allows: string, number or null. */
export function isJsonRpcId(v: unknown): v is JsonRpcId {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * checkRequest checks one Request object. A malformed one (not an object,
 * `jsonrpc` not "2.0", `method` not a string, `id` of the wrong type) is
 * Invalid Request and is always answered, with its id when that was valid
 * and null otherwise (the specification's `{"jsonrpc":"2.0","method":1}`
 * example gets an answer although it has no id). Params that are neither
 * an object nor an array are Invalid params, which a notification does not
 * get told about.
 */
export function checkRequest(value: unknown): CheckedRequest {
  if (!isObject(value)) return { ok: false, code: INVALID_REQUEST, id: null, notification: false };
  const hasId = Object.hasOwn(value, 'id');
  const id = hasId && isJsonRpcId(value.id) ? value.id : null;
  if (value.jsonrpc !== '2.0' || typeof value.method !== 'string' || (hasId && !isJsonRpcId(value.id))) {
    return { ok: false, code: INVALID_REQUEST, id, notification: false };
  }
  const params = value.params;
  if (params !== undefined && typeof params !== 'object') {
    return { ok: false, code: INVALID_PARAMS, id, notification: !hasId };
  }
  if (params === null) return { ok: false, code: INVALID_PARAMS, id, notification: !hasId };
  return {
    ok: true,
    method: value.method,
    params: params as JsonRpcParams | undefined,
    id,
    notification: !hasId,
  };
}

/**
 * paramsToArgs maps params to the single `args` a Registry method takes:
 * named params (an object) are that object; an array of exactly one element
 * is that element, so `{"params":[{"A":7,"B":8}]}` calls a method the way
 * Go's net/rpc/jsonrpc does (it only ever sends and reads params[0]); any
 * other array is passed as the array; absent params are undefined.
 */
export function paramsToArgs(params: JsonRpcParams | undefined): unknown {
  if (Array.isArray(params) && params.length === 1) return params[0];
  return params;
}

/**
 * argsToParams is paramsToArgs' inverse for a client: an object or array is
 * sent as is, undefined is omitted, and any other value is wrapped as
 * `[value]`, which a netkit or Go server unwraps again.
 */
export function argsToParams(args: unknown): JsonRpcParams | undefined {
  if (args === undefined) return undefined;
  if (typeof args === 'object' && args !== null) return args as JsonRpcParams;
  return [args];
}

/**
 * encodeResult returns a success Response as JSON text. A result of
 * undefined (or a function) is sent as null: `result` is required. Throws
 * when the result cannot be JSON (a BigInt, a cycle); the caller answers
 * Internal error then.
 */
export function encodeResult(id: JsonRpcId, result: unknown): string {
  return `{"jsonrpc":"2.0","result":${result === undefined ? 'null' : stringifyJson(result)},"id":${JSON.stringify(id)}}`;
}

/**
 * encodeError returns an error Response as JSON text. `message` defaults to
 * the specification's text for the code. `data` that cannot be JSON is left
 * out rather than failing the response.
 */
export function encodeError(id: JsonRpcId, code: number, message?: string, data?: unknown): string {
  const error: JsonRpcErrorObject = { code, message: message ?? JSONRPC2_MESSAGES[code] ?? 'Server error' };
  let text: string;
  try {
    if (data !== undefined) error.data = data;
    text = JSON.stringify(error);
  } catch {
    delete error.data;
    text = JSON.stringify(error);
  }
  return `{"jsonrpc":"2.0","error":${text},"id":${JSON.stringify(id)}}`;
}

/** parseErrorResponse is the answer to bytes that are not JSON; `data` says why when a limit was hit. */
export function parseErrorResponse(data?: string): string {
  return encodeError(null, PARSE_ERROR, undefined, data);
}
