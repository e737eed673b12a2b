import { constants } from 'node:buffer';
import { InvalidArgumentError } from '../../errors.js';
import { checkInt, checkMs, checkSignal } from '../../internal/validate.js';
import { splitUnixUrl } from '../../tcp/unix-url.js';
import { type ResolvedTlsClient, resolveSchemeTls } from '../../tls/client.js';
import { checkProxyOption, type ProxyOption } from '../../tunnel/index.js';
import type { RequestBody, RequestOptions } from './types.js';

/** REQUEST_DEFAULTS are the values used for options left undefined. */
export const REQUEST_DEFAULTS = Object.freeze({
  /** method is GET, as curl's and fetch's. */
  method: 'GET',
  /** timeout bounds the whole request, body included: a stalled server cannot hold a caller forever. */
  timeout: 30_000,
  /** follow is off: a 3xx is returned as is unless the caller asks (curl without -L). */
  follow: false,
  /** maxRedirects is what `follow: true` allows: more than real redirect chains need, few enough to stop a loop early. */
  maxRedirects: 10,
  /** maxBodyBytes bounds the buffered body: the whole response is held in memory. */
  maxBodyBytes: 64 * 1024 * 1024,
});

/** Normalized holds validated options in the shape the client works with. */
export interface Normalized {
  url: URL;
  method: string;
  headers: [string, string][];
  body: RequestBody | undefined;
  timeout: number;
  maxRedirects: number;
  signal: AbortSignal | undefined;
  maxBodyBytes: number;
  /** tls is how https: hops speak TLS (the scheme decides whether). */
  tls: ResolvedTlsClient;
  socketPath: string | undefined;
  /** proxy picks each hop's forward proxy (see ProxyOption); a URL is parsed already. */
  proxy: ProxyOption | undefined;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;

/** parseUrl accepts an absolute http: or https: URL. */
export function parseUrl(option: string, input: unknown, base?: URL): URL {
  let url: URL;
  try {
    url = input instanceof URL ? new URL(input.href) : new URL(String(input), base);
  } catch {
    throw new InvalidArgumentError(option, `not a valid URL: ${String(input)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidArgumentError(option, `protocol must be http: or https:, got ${url.protocol}`);
  }
  return url;
}

/** normalizeHeaders validates request headers given as an object or [name, value] pairs. */
export function normalizeHeaders(value: unknown): [string, string][] {
  if (value === undefined) return [];
  const pairs: unknown[] = Array.isArray(value)
    ? value
    : typeof value === 'object' && value !== null
      ? Object.entries(value)
      : [null];
  return pairs.map((pair) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new InvalidArgumentError('headers', 'must be an object or an array of [name, value] pairs');
    }
    const [name, v] = pair as unknown[];
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      throw new InvalidArgumentError('headers', `invalid header name ${JSON.stringify(name)}`);
    }
    if (typeof v !== 'string' || BAD_VALUE.test(v)) {
      throw new InvalidArgumentError('headers', `invalid value for header ${name}`);
    }
    return [name, v];
  });
}

function checkBody(value: unknown): RequestBody | undefined {
  if (value === undefined || typeof value === 'string' || value instanceof Uint8Array) return value;
  if (typeof value === 'object' && value !== null && Symbol.asyncIterator in value) {
    return value as AsyncIterable<Uint8Array>;
  }
  throw new InvalidArgumentError('body', 'must be a string, a Uint8Array or an AsyncIterable<Uint8Array>');
}

function checkFollow(value: unknown): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return REQUEST_DEFAULTS.maxRedirects;
  return checkInt('follow', value, 0, 1000);
}

/** normalize validates `request`'s arguments; it throws InvalidArgumentError naming the bad option. */
export function normalize(input: unknown, options: RequestOptions | undefined): Normalized {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  const o = options ?? {};
  // A Unix socket in got's form, as netkit's servers print it: http://unix:/run/app.sock:/path.
  const parsed = parseUrl('url', input);
  const unix = splitUnixUrl(parsed);
  const url = unix?.url ?? parsed;
  const method = o.method ?? REQUEST_DEFAULTS.method;
  if (typeof method !== 'string' || !TOKEN.test(method)) {
    throw new InvalidArgumentError('method', `not a valid HTTP method: ${String(method)}`);
  }
  return {
    url,
    method: method.toUpperCase(),
    headers: normalizeHeaders(o.headers),
    body: checkBody(o.body),
    timeout: o.timeout === undefined ? REQUEST_DEFAULTS.timeout : checkMs('timeout', o.timeout),
    maxRedirects: checkFollow(o.follow),
    signal: checkSignal(o.signal),
    maxBodyBytes:
      o.maxBodyBytes === undefined
        ? REQUEST_DEFAULTS.maxBodyBytes
        : checkInt('maxBodyBytes', o.maxBodyBytes, 0, constants.MAX_LENGTH),
    tls: resolveSchemeTls(o.tls, o.ca, o.insecure),
    socketPath: unix?.socketPath,
    proxy: checkProxyOption(o.proxy),
  };
}

/** hasHeader reports whether `headers` contains `name`, case-insensitively. */
export function hasHeader(headers: [string, string][], name: string): boolean {
  const lower = name.toLowerCase();
  return headers.some(([n]) => n.toLowerCase() === lower);
}
