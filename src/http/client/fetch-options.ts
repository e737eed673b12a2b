import { InvalidArgumentError } from '../../errors.js';
import { checkInt } from '../../internal/validate.js';
import { type Normalized, normalize } from './options.js';
import type { RequestBody, RequestOptions } from './types.js';

/**
 * NetkitFetchOptions are what netkit's `fetch` takes beside the standard
 * RequestInit: request()'s own options (`timeout`, `maxBodyBytes`, `tls`,
 * `ca`, `insecure`, and any other request() gains) and `maxRedirects`.
 * What fetch already says (method, headers, body, signal, redirect) is
 * taken from RequestInit instead.
 */
export interface NetkitFetchOptions
  extends Omit<RequestOptions, 'method' | 'headers' | 'body' | 'signal' | 'follow'> {
  /** Redirects followed with `redirect: 'follow'` before failing with RedirectError; default 20, as fetch. */
  maxRedirects?: number;
}

/** FETCH_DEFAULTS are the values `fetch` uses for netkit options left undefined (the rest are REQUEST_DEFAULTS). */
export const FETCH_DEFAULTS = Object.freeze({
  /** maxRedirects is the fetch standard's limit (https://fetch.spec.whatwg.org/#http-redirect-fetch, step 5). */
  maxRedirects: 20,
});

/** The standard RequestInit members, and undici's: never handed to request()'s validation. */
const STANDARD = new Set([
  'method',
  'headers',
  'body',
  'signal',
  'redirect',
  'duplex',
  'mode',
  'credentials',
  'cache',
  'referrer',
  'referrerPolicy',
  'integrity',
  'keepalive',
  'window',
  'priority',
  'dispatcher',
  'maxRedirects',
]);

/** FetchPlan is one fetch call, validated: the first hop's settings and the redirect policy. */
export interface FetchPlan {
  /** options are request()'s options, validated, for the first hop. */
  options: Normalized;
  /** streamed is true when the body is a stream, which a redirect cannot send again. */
  streamed: boolean;
  redirect: 'follow' | 'manual' | 'error';
  maxRedirects: number;
  signal: AbortSignal | undefined;
}

/** Headers fetch adds when absent, as undici does: any media type, and the encodings the body is decoded from. */
const DEFAULT_HEADERS: [string, string][] = [
  ['accept', '*/*'],
  ['accept-encoding', 'gzip, deflate, br'],
];

/**
 * planFetch validates a fetch call. The standard part goes through the
 * WHATWG Request constructor, so it fails as fetch does (TypeError) and
 * bodies are encoded as fetch encodes them (FormData as multipart, URLSearchParams
 * as a form); netkit's options fail with InvalidArgumentError naming the
 * option. A stream body (ReadableStream or AsyncIterable given in `init`)
 * is streamed; any other body is read into memory first, so it can be
 * sent with Content-Length and again after a 307 or 308.
 */
export async function planFetch(
  input: string | URL | Request,
  init: (RequestInit & NetkitFetchOptions) | undefined,
): Promise<FetchPlan> {
  if (init !== undefined && (typeof init !== 'object' || init === null)) {
    throw new InvalidArgumentError('init', 'must be an object');
  }
  const extras: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(init ?? {})) if (!STANDARD.has(key)) extras[key] = value;
  if ('follow' in extras) {
    throw new InvalidArgumentError(
      'follow',
      "fetch takes redirect: 'follow' | 'manual' | 'error', not follow",
    );
  }
  const maxRedirects =
    init?.maxRedirects === undefined
      ? FETCH_DEFAULTS.maxRedirects
      : checkInt('maxRedirects', init.maxRedirects, 0, 1000);
  // Validate netkit's options before the body is read: a usage error should not consume a stream.
  normalize(urlOf(input), extras as RequestOptions);

  const req = new Request(input, init);
  const given = init?.body;
  const streamed =
    given !== undefined &&
    given !== null &&
    (given instanceof ReadableStream || (typeof given === 'object' && Symbol.asyncIterator in given));
  let body: RequestBody | undefined;
  if (req.body !== null) {
    body = streamed ? chunksOf(req.body) : new Uint8Array(await req.arrayBuffer());
  }
  const headers: [string, string][] = [...req.headers];
  for (const [name, value] of DEFAULT_HEADERS) if (!req.headers.has(name)) headers.push([name, value]);
  if (body instanceof Uint8Array && !req.headers.has('content-length')) {
    headers.push(['content-length', String(body.byteLength)]);
  } else if (body === undefined && (req.method === 'POST' || req.method === 'PUT')) {
    // As fetch: a POST or PUT without a body says so (https://fetch.spec.whatwg.org/#http-network-or-cache-fetch, step 9).
    headers.push(['content-length', '0']);
  }
  const options = normalize(req.url, { ...(extras as RequestOptions), method: req.method, headers, body });
  // fetch normalizes only the standard methods' case (DELETE, GET, HEAD, OPTIONS, POST, PUT); request() all.
  options.method = req.method;
  // The caller's own signal, not req.signal: that one follows it only while the Request lives.
  const signal =
    init?.signal !== undefined
      ? (init.signal ?? undefined)
      : input instanceof Request
        ? input.signal
        : undefined;
  return { options, streamed, redirect: req.redirect, maxRedirects, signal };
}

/** urlOf is the URL a fetch input names, for validating netkit's options against its scheme. */
function urlOf(input: string | URL | Request): string {
  if (input instanceof Request) return input.url;
  return input instanceof URL ? input.href : String(input);
}

/** chunksOf reads a request body stream as bytes. */
async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) yield chunk;
}
