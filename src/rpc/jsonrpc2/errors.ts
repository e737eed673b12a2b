/**
 * The errors a JSON-RPC 2.0 client rejects with, besides transport errors
 * (dial, reset, timeout, abort), and the error codes of the specification
 * (https://www.jsonrpc.org/specification#error_object).
 */
import { RpcProtocolError, ServerError, type WireProtocol } from '../errors.js';

/** PARSE_ERROR (-32700): the server received invalid JSON. */
export const PARSE_ERROR = -32700;
/** INVALID_REQUEST (-32600): the JSON is not a valid Request object (or batch). */
export const INVALID_REQUEST = -32600;
/** METHOD_NOT_FOUND (-32601): no such `Service.Method`. */
export const METHOD_NOT_FOUND = -32601;
/** INVALID_PARAMS (-32602): `params` is neither an object nor an array. */
export const INVALID_PARAMS = -32602;
/** INTERNAL_ERROR (-32603): the server failed outside the method (its result is not JSON). */
export const INTERNAL_ERROR = -32603;
/** SERVER_ERROR (-32000): the method threw; the message is the thrown error's. */
export const SERVER_ERROR = -32000;

/** JSONRPC2_MESSAGES are the specification's messages for its predefined codes. */
export const JSONRPC2_MESSAGES: Readonly<Record<number, string>> = Object.freeze({
  [PARSE_ERROR]: 'Parse error',
  [INVALID_REQUEST]: 'Invalid Request',
  [METHOD_NOT_FOUND]: 'Method not found',
  [INVALID_PARAMS]: 'Invalid params',
  [INTERNAL_ERROR]: 'Internal error',
});

/**
 * JsonRpcError is a JSON-RPC 2.0 error response (NETKIT_RPC_SERVER_ERROR):
 * `rpcCode` and `data` are the error object's `code` and `data`, the
 * message is its `message`. The connection stays usable.
 */
export class JsonRpcError extends ServerError {
  /** rpcCode is the error object's `code` (-32601 for an unknown method, -32000 for a method that threw). */
  declare readonly rpcCode: number;
  constructor(rpcCode: number, message: string, data?: unknown) {
    super(message, { rpcCode, data });
  }
}

/**
 * JsonRpcProtocolError is a peer breaking JSON-RPC 2.0 (NETKIT_RPC_PROTOCOL):
 * a response that is not JSON or not a Response object, a response to no
 * call, or an HTTP status with no JSON-RPC body (`status` is then set). A
 * TCP connection is closed after it.
 */
export class JsonRpcProtocolError extends RpcProtocolError {
  /** status is the HTTP status when the server answered with one and no JSON-RPC body. */
  readonly status: number | undefined;
  constructor(message: string, options: { cause?: unknown; status?: number; detected?: WireProtocol } = {}) {
    super(message, { cause: options.cause, ...(options.detected ? { detected: options.detected } : {}) });
    this.status = options.status;
  }
}
