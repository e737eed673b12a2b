import { checkInt, checkObject } from '../../internal/validate.js';

/** JsonRpc2Limits bound what one request may cost a server. */
export interface JsonRpc2Limits {
  /** maxBatch is the most requests one batch may hold; a larger batch is one Invalid Request (default 1,000). */
  maxBatch?: number;
  /**
   * maxConcurrency is how many methods run at once for one HTTP request (its
   * batch) or one TCP connection (everything pipelined on it); the rest wait (default 64).
   */
  maxConcurrency?: number;
  /** maxDepth is the deepest nesting of arrays and objects accepted; deeper is a Parse error (default 256). */
  maxDepth?: number;
}

/** JSONRPC2_SERVER_DEFAULTS are the servers' defaults. */
export const JSONRPC2_SERVER_DEFAULTS = Object.freeze({
  /** Entries in one batch; a larger batch is one Invalid Request. */
  maxBatch: 1000,
  /** Calls running at once per connection (or per HTTP request's batch). */
  maxConcurrency: 64,
  /** Deeper JSON is a Parse error, before a recursive walk could exhaust the stack. */
  maxDepth: 256,
  /** maxBodyBytes caps an HTTP request body (413 beyond it). */
  maxBodyBytes: 1024 * 1024,
  /** maxValueBytes caps one JSON value on a TCP connection (Parse error and close beyond it). */
  maxValueBytes: 1024 * 1024,
});

/** ResolvedLimits are JsonRpc2Limits after defaults and validation. */
export interface ResolvedLimits {
  maxBatch: number;
  maxConcurrency: number;
  maxDepth: number;
}

/** resolveLimits applies defaults and throws InvalidArgumentError for a bad limit. */
export function resolveLimits(options: JsonRpc2Limits): ResolvedLimits {
  checkObject('options', options, true);
  const d = JSONRPC2_SERVER_DEFAULTS;
  return {
    maxBatch: checkInt('maxBatch', options.maxBatch ?? d.maxBatch, 1, 1_000_000),
    maxConcurrency: checkInt('maxConcurrency', options.maxConcurrency ?? d.maxConcurrency, 1, 1_000_000),
    maxDepth: checkInt('maxDepth', options.maxDepth ?? d.maxDepth, 1, 100_000),
  };
}

/** byteOption validates a byte limit: an integer from 1 to 2^31-1 (no unlimited setting). */
export function byteOption(option: string, value: unknown, fallback: number): number {
  return checkInt(option, value ?? fallback, 1, 2 ** 31 - 1);
}
