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

/** WireProtocol names what an RPC server was seen to speak: gob, Go's JSON codec, JSON-RPC 2.0, or HTTP. */
export type WireProtocol = 'gob' | 'json' | 'jsonrpc2' | 'http';

/**
 * RpcProtocolError: the peer broke the RPC protocol, or speaks another one;
 * the connection is closed (NETKIT_RPC_PROTOCOL). `detected` is set when the
 * server's first bytes showed which protocol it speaks instead.
 */
export class RpcProtocolError extends NetkitError {
  /** detected is the protocol the server answered in, when that is not the one the client speaks. */
  readonly detected: WireProtocol | undefined;
  constructor(message: string, options?: { cause?: unknown; detected?: WireProtocol }) {
    super(
      'NETKIT_RPC_PROTOCOL',
      message,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.detected = options?.detected;
  }
}
