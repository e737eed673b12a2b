import { checkFunction } from '../internal/validate.js';

/**
 * CallEvent is what every netkit RPC server reports about a call once it is
 * answered (net/rpc with either codec, JSON-RPC 2.0 over TCP or HTTP), for
 * logs and metrics: who called what, how long it took, and how it failed.
 */
export interface CallEvent {
  /** remote is the caller's address (`ip:port`), when known. */
  readonly remote: string | undefined;
  /** method is `Service.Method` as the client sent it. */
  readonly method: string;
  /** durationMs is the time from the request being read to its answer being ready (waiting for a free slot included). */
  readonly durationMs: number;
  /** error is the error the call was answered with (Go's error string, or the JSON-RPC error message); absent on success. */
  readonly error?: string;
  /** rpcCode is the JSON-RPC 2.0 error code, when the answer was a JSON-RPC error. */
  readonly rpcCode?: number;
}

/** checkOnCall validates an `onCall` option: a function, or absent. */
export function checkOnCall(value: unknown): ((event: CallEvent) => void) | undefined {
  return checkFunction('onCall', value);
}
