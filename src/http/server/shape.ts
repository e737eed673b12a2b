import { validateHeaderName, validateHeaderValue } from 'node:http';
import { parseDuration } from '../../internal/duration.js';
import { MAX_DELAY_MS } from './options.js';

/**
 * Response shaping from query parameters, as echo servers do:
 * `?status=418`, `?delay=200ms`, `?header=Name:Value` (repeatable) and
 * `?body=text`.
 */
export interface Shaping {
  status: number | undefined;
  delayMs: number;
  headers: [string, string][];
  body: string | undefined;
}

/** ShapeError is a query parameter that cannot be honoured; the response is 400. */
export class ShapeError extends Error {
  readonly param: string;
  constructor(param: string, message: string) {
    super(`query parameter ${param}: ${message}`);
    this.param = param;
  }
}

/** Headers a client may not set through `?header=`: they would corrupt the framing. */
const RESERVED = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade']);

const last = (v: string | string[] | undefined) => (Array.isArray(v) ? v[v.length - 1] : v);
const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** parseShaping reads the shaping parameters from a query; throws ShapeError naming a bad one. */
export function parseShaping(query: Record<string, string | string[]>): Shaping {
  const shaping: Shaping = { status: undefined, delayMs: 0, headers: [], body: last(query.body) };
  const status = last(query.status);
  if (status !== undefined) {
    if (!/^\d{3}$/.test(status) || Number(status) < 200 || Number(status) > 599) {
      throw new ShapeError('status', `"${status}" is not an HTTP status; use 200 to 599`);
    }
    shaping.status = Number(status);
  }
  const delay = last(query.delay);
  if (delay !== undefined) {
    let ms: number;
    try {
      ms = parseDuration(delay, 'delay');
    } catch {
      throw new ShapeError('delay', `"${delay}" is not a duration; use e.g. 200ms or 2s`);
    }
    if (ms > MAX_DELAY_MS) throw new ShapeError('delay', `"${delay}" is longer than the maximum, 30s`);
    shaping.delayMs = ms;
  }
  for (const h of all(query.header)) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new ShapeError('header', `"${h}" is not Name:Value`);
    const name = h.slice(0, colon).trim();
    const value = h.slice(colon + 1).trim();
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      throw new ShapeError('header', `"${h}" is not a valid header`);
    }
    if (RESERVED.has(name.toLowerCase())) throw new ShapeError('header', `${name} cannot be set`);
    shaping.headers.push([name, value]);
  }
  return shaping;
}
