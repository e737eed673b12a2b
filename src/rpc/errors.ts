import { NetkitError } from '../errors.js';

/**
 * ServerError is an error the RPC server answered a call with: Go's error
 * string (`divide by zero`, `rpc: can't find service X`), or a JSON-RPC 2.0
 * error object (`rpcCode`, `data`). The connection stays usable. Transport
 * failures are never ServerErrors (NETKIT_RPC_SERVER_ERROR).
 */
export class ServerError extends NetkitError {
  /** rpcCode is the JSON-RPC 2.0 error code; undefined for Go's net/rpc. */
  readonly rpcCode: number | undefined;
  /** data is the JSON-RPC 2.0 error's `data` member, if any. */
  readonly data: unknown;
  constructor(message: string, options: { rpcCode?: number; data?: unknown } = {}) {
    super('NETKIT_RPC_SERVER_ERROR', message);
    this.rpcCode = options.rpcCode;
    this.data = options.data;
  }
}

/** RpcProtocolError: the peer broke the RPC protocol; the connection is closed (NETKIT_RPC_PROTOCOL). */
export class RpcProtocolError extends NetkitError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NETKIT_RPC_PROTOCOL', message, options);
  }
}
