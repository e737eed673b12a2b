/**
 * What the JSON-RPC 2.0 client asks of a transport (HTTP POST, or one
 * multiplexed TCP connection), and reading Response objects, which both
 * transports share.
 */
import { JsonRpcError, JsonRpcProtocolError } from './errors.js';
import { isJsonRpcId, type JsonRpcId } from './protocol.js';

/** Outcome is how one call ended: its result, or the error the server answered. */
export type Outcome = { result: unknown } | { error: JsonRpcError };

/** Exchange is one request body (a call, a notification or a batch) and the ids it awaits. */
export interface Exchange {
  /** body is the JSON text of the request or batch. */
  readonly body: string;
  /** ids are the calls that expect an answer; empty when the body holds notifications only. */
  readonly ids: readonly number[];
  /** signal aborts the exchange; its reason is what the exchange rejects with. */
  readonly signal: AbortSignal;
}

/** Transport carries exchanges; it is safe to run many at once. */
export interface Transport {
  /** exchange sends `body` and resolves with the outcome of each of `ids`. */
  exchange(x: Exchange): Promise<Map<number, Outcome>>;
  /** close waits for exchanges in progress, then releases the connection(s). */
  close(): Promise<void>;
  /** destroy fails exchanges in progress with `err` and releases the connection(s) now. */
  destroy(err: Error): void;
}

/** ResponseEntry is one Response object, read. */
export interface ResponseEntry {
  id: JsonRpcId;
  outcome: Outcome;
}

function describe(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

/** readResponse checks one Response object; anything else is a JsonRpcProtocolError. */
export function readResponse(v: unknown): ResponseEntry {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new JsonRpcProtocolError(`JSON-RPC response is not an object: ${describe(v)}`);
  }
  const r = v as Record<string, unknown>;
  if (!Object.hasOwn(r, 'id') || !isJsonRpcId(r.id)) {
    throw new JsonRpcProtocolError(`JSON-RPC response has no valid id: ${describe(v)}`);
  }
  // Servers that send both members (JSON-RPC 1.0 style, `"error":null`) are read leniently.
  const error = r.error;
  if (error !== undefined && error !== null) {
    const e = error as Record<string, unknown>;
    if (typeof e !== 'object' || !Number.isInteger(e.code) || typeof e.message !== 'string') {
      throw new JsonRpcProtocolError(`JSON-RPC error is not an error object: ${describe(error)}`);
    }
    return { id: r.id, outcome: { error: new JsonRpcError(e.code as number, e.message, e.data) } };
  }
  if (!Object.hasOwn(r, 'result')) {
    throw new JsonRpcProtocolError(`JSON-RPC response has neither result nor error: ${describe(v)}`);
  }
  return { id: r.id, outcome: { result: r.result } };
}

/** readResponses reads a single Response object or a batch of them. */
export function readResponses(value: unknown): ResponseEntry[] {
  if (Array.isArray(value)) {
    if (value.length === 0) throw new JsonRpcProtocolError('JSON-RPC server answered with an empty batch');
    return value.map(readResponse);
  }
  return [readResponse(value)];
}
