import { splitUnixUrl } from '../../tcp/unix-url.js';
import { RedirectError } from './errors.js';
import type { Hop } from './exchange.js';
import { parseUrl } from './options.js';

/** CREDENTIAL_HEADERS are dropped when a redirect leaves the origin: the fetch spec drops Authorization, undici also these two. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** RedirectTarget is where a redirect leads: the next hop's URL, Unix socket and headers. */
export interface RedirectTarget {
  /** url is the Location resolved against the hop that was redirected. */
  url: URL;
  /** socketPath is the Unix socket of the next hop, if it is on one. */
  socketPath: string | undefined;
  /** headers are the hop's headers, without credentials when the redirect leaves the origin. */
  headers: [string, string][];
}

/**
 * redirectTarget is what request() and fetch() share when they follow a
 * redirect: the Location resolved against the hop; a relative (or
 * same-origin) redirect staying on the hop's Unix socket; and credentials
 * dropped when the origin changes. `shown` is the hop as the caller knows it,
 * for messages. It throws RedirectError for a Location that is not an
 * http(s) URL, or that names a Unix socket other than the one the hop is on:
 * a Location is the server's word, not the caller's, and one in got's form
 * would let any server on the network point the client at a local socket
 * (Docker's, a database's). got refuses those in redirects too.
 */
export function redirectTarget(
  prev: Hop,
  location: string,
  shown: string,
  redirects: readonly string[],
  keepFragment = false,
): RedirectTarget {
  let url: URL;
  try {
    url = parseUrl('location', location, prev.url);
  } catch (err) {
    throw new RedirectError(
      `cannot follow redirect from ${shown} to ${JSON.stringify(location)}: ${(err as Error).message}`,
      [...redirects],
    );
  }
  // fetch: a Location without a fragment keeps the request's (the spec's step 13).
  if (keepFragment && url.hash === '' && prev.url.hash !== '') url.hash = prev.url.hash;
  const unix = splitUnixUrl(url);
  if (unix !== undefined && unix.socketPath !== prev.socketPath) {
    throw new RedirectError(
      `cannot follow redirect from ${shown} to ${JSON.stringify(location)}: a redirect may lead to a Unix socket only from that same socket`,
      [...redirects],
    );
  }
  const socketPath = unix ? unix.socketPath : url.origin === prev.url.origin ? prev.socketPath : undefined;
  url = unix?.url ?? url;
  const headers =
    url.origin === prev.url.origin
      ? prev.headers
      : prev.headers.filter(([n]) => !CREDENTIAL_HEADERS.has(n.toLowerCase()));
  return { url, socketPath, headers };
}
