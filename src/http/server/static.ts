import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import path from 'node:path';
import sendFileStream from 'send';
import { InvalidArgumentError } from '../../errors.js';
import { requestInfo } from '../inspect.js';
import { type HandlerState, hasBody, negotiate, send, sendError, TYPES } from './handler.js';
import { type ListingEntry, renderListingHtml, sortListing } from './listing.js';
import type { ResolvedOptions } from './options.js';

/**
 * Static file serving for serveHttp({ dir }). `send` does the HTTP part
 * (content types, ranges, validators, conditional requests, HEAD); this file
 * decides what may be served: only GET and HEAD, no `.`/`..` segments, no
 * backslashes or NUL bytes, no dotfiles, and nothing whose real path
 * (symlinks resolved) is outside the real path of the root.
 */

/** Target is a request target split into decoded path segments. */
interface Target {
  segments: string[];
  /** slash is whether the path ends in `/`. */
  slash: boolean;
  /** query is the raw query string including its `?`, or empty. */
  query: string;
}

/** Refusal is a request refused before the file system is consulted. */
interface Refusal {
  status: number;
  message: string;
}

/** parseTarget decodes a request target; `..` in any spelling, NUL and backslashes are refused. */
export function parseTarget(url: string): Target | Refusal {
  let raw = url;
  if (!raw.startsWith('/')) {
    // absolute-form (`GET http://host/path`): URL resolves dot segments, so nothing escapes
    if (!/^https?:\/\//i.test(raw)) return { status: 400, message: 'invalid request target' };
    try {
      const u = new URL(raw);
      raw = u.pathname + u.search;
    } catch {
      return { status: 400, message: 'invalid request target' };
    }
  }
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return { status: 400, message: 'malformed percent-encoding in path' };
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return { status: 400, message: 'invalid path' };
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) return { status: 400, message: 'invalid path' };
  if (segments.some((s) => s.startsWith('.'))) return { status: 404, message: messageFor(404) };
  return { segments, slash: decoded.endsWith('/'), query: q < 0 ? '' : raw.slice(q) };
}

/** Found is a path inside the root: its real path, that relative to the root, and its stat. */
interface Found {
  real: string;
  rel: string;
  stat: Stats;
}

/**
 * confine resolves `abs` (symlinks included) and returns it if its real path
 * is inside `root` (itself a real path) and has no dot component below it;
 * otherwise a status. Anything outside, or unresolvable, is 404 so that
 * nothing about it is revealed.
 */
async function confine(root: string, abs: string): Promise<Found | number> {
  let real: string;
  try {
    real = await fs.realpath(abs);
  } catch {
    return 404;
  }
  const rel = path.relative(root, real);
  if (path.isAbsolute(rel)) return 404;
  if (rel !== '' && rel.split(path.sep).some((p) => p.startsWith('.'))) return 404; // `..` (outside) or a dotfile
  try {
    return { real, rel, stat: await fs.stat(real) };
  } catch (err) {
    return statusOf(err);
  }
}

function statusOf(err: unknown): number {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EACCES' || code === 'EPERM') return 403;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG' || code === 'ELOOP') return 404;
  return 500;
}

function messageFor(status: number): string {
  return status === 500 ? 'internal error' : (STATUS_CODES[status] ?? 'error').toLowerCase();
}

/** listDir lists a directory for the listing page: dotfiles and entries that resolve outside the root are left out. */
async function listDir(root: string, dir: string): Promise<ListingEntry[] | number> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    return statusOf(err);
  }
  const entries = await Promise.all(
    names
      .filter((name) => !name.startsWith('.'))
      .map(async (name): Promise<ListingEntry | undefined> => {
        const found = await confine(root, path.join(dir, name));
        if (typeof found === 'number') return undefined;
        const { stat } = found;
        if (!stat.isFile() && !stat.isDirectory()) return undefined;
        const type = stat.isDirectory() ? 'dir' : 'file';
        return { name, type, size: type === 'dir' ? 0 : stat.size, mtime: stat.mtime.toISOString() };
      }),
  );
  return sortListing(entries.filter((e) => e !== undefined));
}

/** resolveRoot checks that `dir` is a directory and returns its real path; throws InvalidArgumentError otherwise. */
export async function resolveRoot(dir: string): Promise<string> {
  let stat: Stats;
  try {
    stat = await fs.stat(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' || code === 'ENOTDIR' ? 'does not exist' : `cannot be opened (${code})`;
    throw new InvalidArgumentError('dir', `"${dir}" ${why}`);
  }
  if (!stat.isDirectory()) throw new InvalidArgumentError('dir', `"${dir}" is not a directory`);
  return fs.realpath(dir);
}

type HttpError = Error & { status?: number; headers?: Record<string, string | number>; code?: string };

/** serveFile hands a confined file to `send`; its errors are answered in the server's own error shape. */
function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  state: HandlerState,
  root: string,
  file: Found,
): void {
  const urlPath = `/${file.rel.split(path.sep).map(encodeURIComponent).join('/')}`;
  const stream = sendFileStream(req, urlPath, { root, index: false, dotfiles: 'ignore' });
  stream.on('error', (err: HttpError) => {
    if (res.headersSent) {
      res.destroy(); // failed mid-body: the client sees a truncated response
      return;
    }
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const status = err.code === 'EACCES' || err.code === 'EPERM' ? 403 : (err.status ?? 500);
    const headers = Object.entries(err.headers ?? {}).map(([k, v]): [string, string] => [k, String(v)]);
    sendError(req, res, state, status, messageFor(status), headers);
  });
  // became a directory since it was checked
  stream.on('directory', () => sendError(req, res, state, 404, messageFor(404)));
  res.setHeader('X-Content-Type-Options', 'nosniff');
  if (state.closing) res.setHeader('Connection', 'close');
  stream.pipe(res);
}

async function serve(root: string, req: IncomingMessage, res: ServerResponse, state: HandlerState) {
  const fail = (status: number, message = messageFor(status)) => sendError(req, res, state, status, message);
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    // a body is never read here: close the connection rather than drain it
    if (hasBody(req)) res.setHeader('Connection', 'close');
    sendError(req, res, state, 405, `method ${req.method} not allowed; use GET or HEAD`, [
      ['Allow', 'GET, HEAD'],
    ]);
    return;
  }
  const target = parseTarget(req.url ?? '');
  if (!('segments' in target)) return fail(target.status, target.message);
  const { segments, slash, query } = target;
  const found = await confine(root, path.join(root, ...segments));
  if (typeof found === 'number') return fail(found);
  if (found.stat.isFile()) {
    if (slash) return fail(404);
    return serveFile(req, res, state, root, found);
  }
  if (!found.stat.isDirectory()) return fail(404); // sockets, FIFOs, devices
  if (!slash) {
    const location = `/${segments.map(encodeURIComponent).join('/')}/${query}`;
    send(res, state, 301, TYPES.text, `moved permanently to ${location}\n`, [['Location', location]]);
    return;
  }
  const index = await confine(root, path.join(found.real, 'index.html'));
  if (typeof index !== 'number' && index.stat.isFile()) return serveFile(req, res, state, root, index);
  const entries = await listDir(root, found.real);
  if (typeof entries === 'number') return fail(entries);
  const vary: [string, string][] = [['Vary', 'Accept']];
  if (negotiate(req.headers.accept) === 'json') {
    send(res, state, 200, TYPES.json, `${JSON.stringify(entries, null, 2)}\n`, vary);
  } else {
    const urlPath = segments.length === 0 ? '/' : `/${segments.join('/')}/`;
    send(res, state, 200, TYPES.html, renderListingHtml(urlPath, entries, segments.length === 0), vary);
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * createStaticHandler returns the request listener behind serveHttp({ dir }).
 * `root` must be a real path (see resolveRoot). Every request is reported to
 * `onRequest`, with an empty body: bodies are not read in this mode.
 */
export function createStaticHandler(root: string, options: ResolvedOptions, state: HandlerState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => {}); // aborted by the client: nothing to answer
    try {
      options.onRequest?.(requestInfo(req, EMPTY, options.trust));
    } catch {
      // a logging callback must not break the response
    }
    serve(root, req, res, state).catch(() => sendError(req, res, state, 500, messageFor(500)));
  };
}
