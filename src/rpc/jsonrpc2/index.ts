/**
 * JSON-RPC 2.0 (https://www.jsonrpc.org/specification) over HTTP POST and
 * over TCP, serving a Registry, and a client for both.
 */
export {
  dialJsonRpc2,
  JSONRPC2_CLIENT_DEFAULTS,
  type JsonRpc2BatchItem,
  type JsonRpc2BatchResult,
  type JsonRpc2CallOptions,
  JsonRpc2Client,
  type JsonRpc2ClientOptions,
} from './client.js';
export {
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  JSONRPC2_MESSAGES,
  JsonRpcError,
  JsonRpcProtocolError,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
  SERVER_ERROR,
} from './errors.js';
export {
  createJsonRpc2Handler,
  type JsonRpc2HttpHandler,
  type JsonRpc2HttpHandlerOptions,
  type JsonRpc2HttpOptions,
  type JsonRpc2HttpServer,
  serveJsonRpc2Http,
} from './http.js';
export { JSONRPC2_SERVER_DEFAULTS, type JsonRpc2Limits } from './options.js';
export {
  argsToParams,
  type JsonRpcErrorObject,
  type JsonRpcId,
  type JsonRpcParams,
  type JsonRpcRequest,
  type JsonRpcResponse,
  paramsToArgs,
} from './protocol.js';
export {
  type JsonRpc2TcpHandlerOptions,
  type JsonRpc2TcpOptions,
  JsonRpc2TcpServer,
  jsonRpc2TcpHandler,
  serveJsonRpc2Tcp,
} from './tcp.js';
