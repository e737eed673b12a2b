/**
 * netkit/rpc: Go's net/rpc from TypeScript, either side of the conversation
 * (gob or JSON codec, plain TCP or HTTP CONNECT), and JSON-RPC 2.0 over HTTP
 * or TCP, all serving one Registry of services.
 *
 * @module netkit/rpc
 */
export { arith } from './arith.js';
export type { CallEvent } from './call-event.js';
export { type CallOptions, RpcClient } from './client/client.js';
export { dialRpc, type RpcDialOptions } from './client/dial.js';
export { createRpcPool, type RpcPoolOptions } from './client/pool.js';
export { CODECS, type CodecName, createClientCodec, createServerCodec } from './codec/index.js';
export { parseJson, stringifyJson } from './codec/lossless-json.js';
export type {
  ClientCodec,
  IncomingRequest,
  IncomingResponse,
  ResponseHeader,
  ServerCodec,
} from './codec/types.js';
export { RpcProtocolError, ServerError, type WireProtocol } from './errors.js';
export * from './gob/index.js';
export * from './jsonrpc2/index.js';
export {
  type CallInfo,
  type Method,
  type MethodSchemas,
  type MethodStats,
  Registry,
  type ServiceSchemas,
} from './registry.js';
export { parseSchemaNotation } from './schema-notation.js';
export { DEBUG_PATH, RPC_PATH } from './server/http-connect.js';
export { RPC_SERVE_DEFAULTS, type RpcServeOptions, type RpcServer, serveRpc } from './server/serve.js';
export { type ConnServeOptions, serveRpcConn } from './server/serve-conn.js';
