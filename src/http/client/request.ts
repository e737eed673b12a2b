import { AbortError, TimeoutError } from '../../errors.js';
import { unixUrlText } from '../../tcp/unix-url.js';
import { deadline } from './deadline.js';
import { RedirectError } from './errors.js';
import { exchange, type Hop } from './exchange.js';
import { hasHeader, normalize } from './options.js';
import { redirectTarget } from './redirect-target.js';
import type { HttpResponse, RequestOptions } from './types.js';

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Headers dropped when a redirect turns the request into a bodiless GET. */
const BODY_HEADERS = new Set(['content-length', 'content-type', 'content-encoding', 'transfer-encoding']);

function findHeader(headers: [string, string][], name: string): string | undefined {
  return headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/**
 * request performs an HTTP/1.1 request with `node:http`/`node:https` on a
 * fresh connection per hop and resolves with the buffered response and its
 * socket-level timings. It rejects with InvalidArgumentError for bad options,
 * ConnectionError (NETKIT_DIAL_FAILED, ...) when the connection fails,
 * TimeoutError (NETKIT_TIMEOUT, op 'request') when `timeout` passes,
 * AbortError (NETKIT_ABORTED) when `signal` aborts, RedirectError when a
 * redirect cannot be followed and BodyTooLargeError beyond `maxBodyBytes`.
 */
export async function request(url: string | URL, options?: RequestOptions): Promise<HttpResponse> {
  const o = normalize(url, options);
  if (o.signal?.aborted) throw new AbortError('request', o.signal.reason);
  const { signal, settle } = deadline(
    o.signal,
    o.timeout,
    (reason) => new AbortError('request', reason),
    () =>
      new TimeoutError(
        'NETKIT_TIMEOUT',
        'request',
        `request ${o.method} ${o.socketPath === undefined ? o.url.href : unixUrlText(o.url, o.socketPath)} timed out after ${o.timeout} ms`,
        o.timeout,
      ),
  );

  try {
    let hop: Hop = {
      url: o.url,
      method: o.method,
      headers: withContentLength(o.headers, o.body),
      body: o.body,
      maxBodyBytes: o.maxBodyBytes,
      tls: o.tls,
      socketPath: o.socketPath,
      signal,
      proxy: o.proxy,
    };
    const redirects: string[] = [];
    for (;;) {
      const res = await exchange(hop);
      const location = findHeader(res.headers, 'location');
      if (o.maxRedirects === 0 || !REDIRECTS.has(res.status) || location === undefined) {
        return { url: shown(hop), ...res, redirects };
      }
      redirects.push(shown(hop));
      if (redirects.length > o.maxRedirects) {
        throw new RedirectError(`too many redirects (more than ${o.maxRedirects}) from ${redirects[0]}`, [
          ...redirects,
        ]);
      }
      hop = nextHop(hop, res.status, location, redirects);
    }
  } finally {
    settle();
  }
}

/** withContentLength adds Content-Length for a string or Uint8Array body when the caller did not. */
function withContentLength(headers: [string, string][], body: Hop['body']): [string, string][] {
  if (body === undefined || hasHeader(headers, 'content-length')) return headers;
  if (typeof body === 'string') return [...headers, ['Content-Length', String(Buffer.byteLength(body))]];
  if (body instanceof Uint8Array) return [...headers, ['Content-Length', String(body.byteLength)]];
  return headers;
}

/** nextHop builds the request that follows a redirect response. */
function nextHop(prev: Hop, status: number, location: string, redirects: string[]): Hop {
  const target = redirectTarget(prev, location, shown(prev), redirects);
  const { url, socketPath } = target;
  let headers = target.headers;
  const keepMethod = status === 307 || status === 308 || prev.method === 'HEAD';
  if (!keepMethod) {
    headers = headers.filter(([n]) => !BODY_HEADERS.has(n.toLowerCase()));
    return { ...prev, url, socketPath, method: 'GET', headers, body: undefined };
  }
  const body = prev.body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new RedirectError(
      `cannot follow ${status} redirect from ${shown(prev)}: a streamed (AsyncIterable) body cannot be sent again`,
      [...redirects],
    );
  }
  return { ...prev, url, socketPath, headers };
}

/** shown is a hop's URL as the caller knows it: in got's form on a Unix socket. */
function shown(hop: Hop): string {
  return hop.socketPath === undefined ? hop.url.href : unixUrlText(hop.url, hop.socketPath);
}
