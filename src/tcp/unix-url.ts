/**
 * URLs that name a Unix domain socket, in the form the `got` HTTP client
 * reads and netkit's servers print (`server.url`):
 * `http://unix:/run/app.sock:/path?query`. The socket's path runs from the
 * first `/` to the first `:` after it; what follows is the request's path.
 * The scheme stays the protocol's own (http, https, ws, wss), so TLS over a
 * Unix socket is `https://unix:/run/app.sock:/`.
 */

/** UnixUrl is a URL for a Unix socket, split: the socket's path, and the URL to request (host `localhost`). */
export interface UnixUrl {
  socketPath: string;
  url: URL;
}

/**
 * splitUnixUrl reads `url` as got's Unix socket form: undefined unless its
 * host is `unix`, it has no port, and its path holds the `:` that ends the
 * socket's path. The URL returned keeps scheme, path and query, with
 * `localhost` as its host (the Host header, and the name TLS checks).
 */
export function splitUnixUrl(url: URL): UnixUrl | undefined {
  if (url.hostname !== 'unix' || url.port !== '' || url.username !== '' || url.password !== '')
    return undefined;
  const colon = url.pathname.indexOf(':');
  if (colon <= 1) return undefined;
  const socketPath = decodePath(url.pathname.slice(0, colon));
  const rest = url.pathname.slice(colon + 1);
  const out = new URL(url.href);
  out.hostname = 'localhost';
  out.pathname = rest.startsWith('/') ? rest : `/${rest}`;
  return { socketPath, url: out };
}

/** unixUrlText writes `url` (as splitUnixUrl returned it) back in got's form, for messages and results. */
export function unixUrlText(url: URL, socketPath: string): string {
  return `${url.protocol}//unix:${socketPath}:${url.pathname}${url.search}`;
}

/** decodePath undoes the URL parser's percent-encoding (`a%20b.sock`); a stray `%` stays as written. */
function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}
