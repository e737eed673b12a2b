import type { Stats } from 'node:fs';
import fs from 'node:fs/promises';
import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import { InvalidArgumentError } from '../../errors.js';
import { requestInfo } from '../inspect.js';
import { type Opened, openBeneath, statBeneath, statusOf } from './beneath.js';
import { sendOpenedFile } from './file-response.js';
import { type HandlerState, hasBody, negotiate, reportRequest, send, sendError, TYPES } from './handler.js';
import { type ListingEntry, renderListingHtml, sortListing } from './listing.js';
import type { ResolvedOptions } from './options.js';

/**
 * Static file serving for serveHttp({ dir }). This file decides what may be
 * served: only GET and HEAD, no `.`/`..` segments, no backslashes or NUL
 * bytes, no dotfiles, nothing outside the root (symlinks resolved), nothing
 * but regular files and directories. beneath.ts opens the path so that what
 * is checked is what is served; file-response.ts answers from that descriptor
 * (content types, ranges, validators, conditional requests, HEAD).
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

function messageFor(status: number): string {
  return status === 500 ? 'internal error' : (STATUS_CODES[status] ?? 'error').toLowerCase();
}

/**
 * listDir lists an opened directory for the listing page: dotfiles, and
 * entries that are not files or directories inside the root, are left out.
 */
async function listDir(root: string, dir: Opened): Promise<ListingEntry[] | number> {
  let names: string[];
  try {
    names = (await fs.readdir(dir.base)).filter((name) => !name.startsWith('.'));
  } catch (err) {
    return statusOf(err);
  }
  const own = await Promise.all(names.map((name) => fs.lstat(`${dir.base}/${name}`).catch(() => undefined)));
  const entries: ListingEntry[] = [];
  for (const [i, name] of names.entries()) {
    let stat: Stats | undefined = own[i];
    // symlinks one at a time: each walk holds descriptors while it runs
    if (stat?.isSymbolicLink()) stat = await statBeneath(root, [name], dir);
    if (stat === undefined || (!stat.isFile() && !stat.isDirectory())) continue;
    const type = stat.isDirectory() ? 'dir' : 'file';
    entries.push({ name, type, size: type === 'dir' ? 0 : stat.size, mtime: stat.mtime.toISOString() });
  }
  return sortListing(entries);
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
  const found = await openBeneath(root, target.segments);
  if (typeof found === 'number') return fail(found);
  if (found.stat.isFile()) {
    if (target.slash) {
      await found.handle.close();
      return fail(404);
    }
    return sendOpenedFile(req, res, state, found);
  }
  try {
    await serveDir(root, req, res, state, found, target);
  } finally {
    await found.handle.close();
  }
}

/** serveDir answers for an opened directory: a redirect to its slash form, its index.html, or a listing. */
async function serveDir(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
  state: HandlerState,
  dir: Opened,
  { segments, slash, query }: Target,
) {
  if (!slash) {
    const location = `/${segments.map(encodeURIComponent).join('/')}/${query}`;
    send(res, state, 301, TYPES.text, `moved permanently to ${location}\n`, [['Location', location]]);
    return;
  }
  const index = await openBeneath(root, ['index.html'], dir);
  if (typeof index !== 'number') {
    if (index.stat.isFile()) return sendOpenedFile(req, res, state, index);
    await index.handle.close();
  }
  const entries = await listDir(root, dir);
  if (typeof entries === 'number') return sendError(req, res, state, entries, messageFor(entries));
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
 * `onRequest` and `onRequestText`, with an empty body: bodies are not read in this mode.
 */
export function createStaticHandler(root: string, options: ResolvedOptions, state: HandlerState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.on('error', () => {}); // aborted by the client: nothing to answer
    if (options.onRequest !== undefined || options.onRequestText !== undefined) {
      reportRequest(options, requestInfo(req, EMPTY, options.trust, state.unix));
    }
    serve(root, req, res, state).catch(() => sendError(req, res, state, 500, messageFor(500)));
  };
}
