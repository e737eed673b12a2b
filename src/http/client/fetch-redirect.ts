import { unixUrlText } from '../../tcp/unix-url.js';
import { RedirectError } from './errors.js';
import type { Hop } from './exchange.js';
import { redirectTarget } from './redirect-target.js';

/** REDIRECT_STATUSES are the statuses fetch follows (https://fetch.spec.whatwg.org/#redirect-status). */
export const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** Headers dropped when a redirect turns the request into a bodiless GET (the spec's request-body-header names). */
const BODY_HEADERS = new Set([
  'content-encoding',
  'content-language',
  'content-location',
  'content-type',
  'content-length',
]);

/** hopUrl is a hop's URL as the caller knows it (in got's form on a Unix socket), without its fragment, as Response.url. */
export function hopUrl(hop: Hop): string {
  const url = new URL(hop.url.href);
  url.hash = '';
  return hop.socketPath === undefined ? url.href : unixUrlText(url, hop.socketPath);
}

/**
 * fetchRedirect builds the request that follows a redirect the way fetch's
 * "HTTP-redirect fetch" does: a 303 (and a 301 or 302 answering a POST)
 * becomes a bodiless GET, any other keeps method and body, and a streamed
 * body, which cannot be sent twice, fails unless the redirect drops it.
 * It throws RedirectError for a Location that is not an http(s) URL, or
 * that names a Unix socket other than the one the request is on.
 */
export function fetchRedirect(
  prev: Hop,
  status: number,
  location: string,
  streamed: boolean,
  redirects: string[],
): Hop {
  const target = redirectTarget(prev, location, hopUrl(prev), redirects, true);
  // The spec's step 11: a body without a source (a stream) cannot be sent again.
  if (status !== 303 && prev.body !== undefined && streamed) {
    throw new RedirectError(
      `cannot follow ${status} redirect from ${hopUrl(prev)}: a streamed body cannot be sent again`,
      [...redirects],
    );
  }
  const { url, socketPath } = target;
  let headers = target.headers;
  const toGet =
    ((status === 301 || status === 302) && prev.method === 'POST') ||
    (status === 303 && prev.method !== 'GET' && prev.method !== 'HEAD');
  if (toGet) {
    headers = headers.filter(([n]) => !BODY_HEADERS.has(n.toLowerCase()));
    return { ...prev, url, socketPath, method: 'GET', headers, body: undefined };
  }
  return { ...prev, url, socketPath, headers };
}
