/**
 * JSON with integers beyond 2^53 kept exact. Go services use int64 and
 * uint64 ids freely; JSON.parse would round 9223372036854775813 to
 * 9223372036854775808 and send the wrong number back. Integers that are not
 * safe become bigint on parse, and bigint is written as a bare JSON number.
 * Node 20's JSON.parse cannot show a reviver the source text, so large
 * integer literals are swapped for marker strings (with a random nonce no
 * input can guess) before parsing and revived afterwards.
 */
import { randomBytes } from 'node:crypto';

const NONCE = `\u0001${randomBytes(12).toString('base64')}:`;
const QUOTED_NONCE = JSON.stringify(NONCE).slice(1, -1);

/** A JSON number token that is an integer of 16 or more digits: the only ones that can be unsafe. */
function isBigIntegerAt(text: string, start: number, end: number): boolean {
  const digits = end - start - (text.charCodeAt(start) === 45 ? 1 : 0);
  return digits >= 16;
}

/** parseJson parses JSON text; integers outside ±(2^53−1) become bigint. */
export function parseJson(text: string): unknown {
  // Fast path: no run of 16 digits anywhere means no unsafe integer.
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  const bigs: bigint[] = [];
  let out = '';
  let last = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // skip a string, honouring escapes
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === 92) i += 2;
        else if (d === 34) break;
        else i++;
      }
      i++;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < n) {
        const d = text.charCodeAt(i);
        if ((d >= 48 && d <= 57) || d === 46 || d === 101 || d === 69 || d === 43 || d === 45) i++;
        else break;
      }
      const token = text.slice(start, i);
      if (/^-?\d+$/.test(token) && isBigIntegerAt(text, start, i)) {
        const value = BigInt(token);
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
          out += `${text.slice(last, start)}"${QUOTED_NONCE}${bigs.length}"`;
          bigs.push(value);
          last = i;
        }
      }
      continue;
    }
    i++;
  }
  if (bigs.length === 0) return JSON.parse(text);
  out += text.slice(last);
  return JSON.parse(out, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(NONCE) ? bigs[Number(value.slice(NONCE.length))] : value,
  );
}

/**
 * stringifyJson is JSON.stringify that writes bigint as a JSON number, a Map
 * as an object and bytes (Buffer, Uint8Array) as base64, as Go's
 * encoding/json writes []byte.
 */
export function stringifyJson(value: unknown): string {
  // Most values (ids, numbers, small objects of them) hold nothing the replacer changes, and
  // JSON.stringify without a replacer is several times faster than with one.
  plainBudget = PLAIN_CHECK_BUDGET;
  if (isPlainJson(value, 0)) return JSON.stringify(value) ?? 'null';
  let sawBig = false;
  const text = JSON.stringify(value, function (this: Record<string, unknown>, key, v: unknown) {
    // Buffer#toJSON has already run; the holder still has the original.
    const original = this[key];
    if (original instanceof Uint8Array)
      return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64');
    if (typeof v === 'bigint') {
      sawBig = true;
      return `${NONCE}${v}`;
    }
    if (v instanceof Map) return Object.fromEntries(v);
    return v;
  });
  if (text === undefined) return 'null';
  if (!sawBig) return text;
  return text.replaceAll(new RegExp(`"${escapeRegExp(QUOTED_NONCE)}(-?\\d+)"`, 'g'), '$1');
}

/** PLAIN_CHECK_BUDGET bounds isPlainJson's walk: larger values take the replacer path at once. */
const PLAIN_CHECK_BUDGET = 64;
/** MAX_PLAIN_DEPTH bounds isPlainJson's recursion. */
const MAX_PLAIN_DEPTH = 8;
let plainBudget = 0;

/**
 * isPlainJson tells whether JSON.stringify alone writes `v` as stringifyJson
 * would: no bigint, bytes, Map, toJSON method or object other than a plain
 * object or array anywhere in it. It gives up (false) past
 * PLAIN_CHECK_BUDGET objects or MAX_PLAIN_DEPTH levels, which also ends
 * the walk of a circular value.
 */
function isPlainJson(v: unknown, depth: number): boolean {
  if (typeof v !== 'object') return typeof v !== 'bigint';
  if (v === null) return true;
  if (--plainBudget < 0 || depth > MAX_PLAIN_DEPTH) return false;
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype || 'toJSON' in v) return false;
    for (let i = 0; i < v.length; i++) if (!isPlainJson(v[i], depth + 1)) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return false;
  const o = v as Record<string, unknown>;
  if (typeof o.toJSON === 'function') return false;
  for (const key in o) if (!isPlainJson(o[key], depth + 1)) return false;
  return true;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
