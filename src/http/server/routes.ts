import type { IncomingMessage, ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../../errors.js';
import { decodePath } from '../inspect.js';

/**
 * The user's routes, matched as Go's http.ServeMux (Go 1.22) matches its
 * patterns, without wildcards or hosts: `[METHOD ]/path`, where a path
 * ending in `/` matches that subtree and any other path matches only
 * itself. The most specific pattern wins: the longer path, then a pattern
 * with a method over one without. `GET` also matches HEAD. A path that some
 * pattern matches for other methods only gets 405 with `Allow`, as in Go.
 * Paths are compared percent-decoded and with `.`/`..` segments and doubled
 * slashes cleaned; when only the cleaned path has a route, the client is
 * redirected to it (301), as Go does, so a route never sees `/a/../b`.
 */

/** NextFunction hands a request on to what comes after a handler; with an error, the server answers 500. */
export type NextFunction = (err?: unknown) => void;

/**
 * HttpHandler is a node:http request listener, optionally taking `next` as
 * Express and Connect middleware do: an Express app, Koa's `app.callback()`,
 * or a function of your own. What it returns is ignored unless it is a
 * promise, whose rejection is handled like a throw.
 */
export type HttpHandler = (req: IncomingMessage, res: ServerResponse, next: NextFunction) => unknown;

/** HttpRoutes maps patterns (`/health`, `GET /items/`, `POST /hook`) to handlers. */
export type HttpRoutes = Readonly<Record<string, HttpHandler>>;

/** Route is one compiled pattern. */
export interface Route {
  method: string | undefined;
  path: string;
  subtree: boolean;
  handler: HttpHandler;
}

/** RouteMatch is what a request matched: a handler, a redirect to the cleaned path, or 405. */
export type RouteMatch =
  | { kind: 'handler'; handler: HttpHandler }
  | { kind: 'redirect'; location: string }
  | { kind: 'method'; allow: string[] };

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** compileRoutes validates `routes` and sorts them most specific first; throws InvalidArgumentError naming the pattern. */
export function compileRoutes(routes: unknown): readonly Route[] | undefined {
  if (routes === undefined) return undefined;
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes)) {
    throw new InvalidArgumentError('routes', 'must be an object mapping patterns to handlers');
  }
  const compiled: Route[] = [];
  const seen = new Set<string>();
  for (const [pattern, handler] of Object.entries(routes)) {
    const option = `routes[${JSON.stringify(pattern)}]`;
    if (typeof handler !== 'function') throw new InvalidArgumentError(option, 'must be a function');
    const space = pattern.indexOf(' ');
    const method = space < 0 ? undefined : pattern.slice(0, space);
    const path = space < 0 ? pattern : pattern.slice(space + 1).trimStart();
    if (method !== undefined && !METHOD.test(method)) {
      throw new InvalidArgumentError(option, `"${method}" is not an HTTP method`);
    }
    if (!path.startsWith('/')) {
      throw new InvalidArgumentError(option, 'the path must start with /; use "[METHOD ]/path"');
    }
    if (/[{}\s?#]/.test(path)) {
      throw new InvalidArgumentError(
        option,
        'wildcards, queries and spaces are not supported; use a literal path, ending in / for a subtree',
      );
    }
    if (cleanPath(path) !== path) {
      throw new InvalidArgumentError(option, `the path is not clean; use ${cleanPath(path)}`);
    }
    const key = `${method ?? ''} ${path}`;
    if (seen.has(key)) throw new InvalidArgumentError(option, 'the same pattern is given twice');
    seen.add(key);
    compiled.push({ method, path, subtree: path.endsWith('/'), handler: handler as HttpHandler });
  }
  // Most specific first: longer paths, then a method over none (Go 1.22's precedence for literal patterns).
  return compiled.sort(
    (a, b) =>
      b.path.length - a.path.length || Number(b.method !== undefined) - Number(a.method !== undefined),
  );
}

/**
 * cleanPath resolves `.` and `..` segments and doubled slashes, as Go's
 * path.Clean, keeping a trailing slash; never above `/`.
 */
export function cleanPath(p: string): string {
  const out: string[] = [];
  const parts = p.split('/');
  for (const part of parts) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  const last = parts[parts.length - 1];
  const slash = out.length > 0 && (last === '' || last === '.' || last === '..');
  return `/${out.join('/')}${slash ? '/' : ''}`;
}

/** ABSOLUTE_FORM is a request target's scheme and authority, up to its path. */
const ABSOLUTE_FORM = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/;

/** targetPath splits a request target into its raw path and its query (with `?`); absolute-form is reduced to its path. */
function targetPath(url: string): { path: string; query: string } {
  let raw = url;
  if (!raw.startsWith('/')) {
    // Absolute-form (RFC 9112, 3.2.2): the path as sent, after the authority. URL's pathname would
    // resolve its dot segments, so `http://h/public/../admin/` reached the route without the redirect.
    const authority = ABSOLUTE_FORM.exec(raw);
    if (authority === null) return { path: '', query: '' }; // `*` (OPTIONS) or garbage: no route has it
    const rest = raw.slice(authority[0].length);
    raw = rest.startsWith('/') ? rest : `/${rest}`;
  }
  const q = raw.indexOf('?');
  return q < 0 ? { path: raw, query: '' } : { path: raw.slice(0, q), query: raw.slice(q) };
}

function covers(route: Route, path: string): boolean {
  return route.subtree ? path.startsWith(route.path) : path === route.path;
}

function allows(route: Route, method: string): boolean {
  return (
    route.method === undefined || route.method === method || (route.method === 'GET' && method === 'HEAD')
  );
}

/** matchRoute finds what `req` matches among `routes` (most specific first), or undefined. */
export function matchRoute(routes: readonly Route[], req: IncomingMessage): RouteMatch | undefined {
  const { path: raw, query } = targetPath(req.url ?? '');
  if (raw === '') return undefined;
  const path = decodePath(raw);
  const clean = cleanPath(path);
  const method = req.method ?? '';
  let allow: Set<string> | undefined;
  for (const route of routes) {
    if (!covers(route, clean)) continue;
    if (!allows(route, method)) {
      allow ??= new Set();
      allow.add(route.method!);
      if (route.method === 'GET') allow.add('HEAD');
      continue;
    }
    // A route of its own for the raw path, or none at all: only a route on the cleaned path moves the client.
    if (clean !== path) return { kind: 'redirect', location: encodeURI(clean) + query };
    return { kind: 'handler', handler: route.handler };
  }
  return allow === undefined ? undefined : { kind: 'method', allow: [...allow].sort() };
}
