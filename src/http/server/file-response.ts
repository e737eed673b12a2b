import type { Stats } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream';
import type { Opened } from './beneath.js';
import { contentTypeOf } from './content-type.js';
import { type HandlerState, sendError } from './handler.js';

/**
 * The HTTP part of static serving, answered from a descriptor that is already
 * open and checked (see beneath.ts): validators and conditional requests
 * (RFC 9110 §13), single byte ranges (§14), HEAD. The headers are those that
 * `send` and `express.static` give, so caches and download managers see the
 * same server as before.
 */

/** ByteRange is an inclusive range of byte offsets. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * parseRange reads a Range header for a file of `size` bytes: one range
 * (several that overlap or touch are merged into one), `unsatisfiable` when no
 * range starts inside the file (416), or `ignore` for a header that is not a
 * valid `bytes` range or asks for several disjoint pieces (the whole file is
 * sent, as RFC 9110 §14.2 allows; multipart answers are not made).
 * Written here rather than taken from `range-parser`, which answers an
 * invalid range such as `9-5` with 416 where RFC 9110 §14.1.1 says to ignore
 * the header, and hands back disjoint ranges that only multipart could serve.
 */
export function parseRange(size: number, header: string): ByteRange | 'unsatisfiable' | 'ignore' {
  const m = /^\s*bytes\s*=(.*)$/i.exec(header);
  if (!m) return 'ignore';
  const ranges: ByteRange[] = [];
  for (const spec of m[1]!.split(',')) {
    const r = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) return 'ignore';
    const [first, last] = [r[1]!, r[2]!];
    if (first === '') {
      // suffix: the last n bytes
      const n = Number(last);
      if (n > 0 && size > 0) ranges.push({ start: Math.max(0, size - n), end: size - 1 });
      continue;
    }
    const start = Number(first);
    if (last !== '' && Number(last) < start) return 'ignore'; // RFC 9110 §14.1.1: invalid
    if (start < size) ranges.push({ start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) });
  }
  if (ranges.length === 0) return 'unsatisfiable';
  ranges.sort((a, b) => a.start - b.start);
  const one = { ...ranges[0]! };
  for (const r of ranges.slice(1)) {
    if (r.start > one.end + 1) return 'ignore';
    one.end = Math.max(one.end, r.end);
  }
  return one;
}

/** etagOf is the weak validator `send` makes: size and modification time, in hex. */
export function etagOf(stat: Stats): string {
  return `W/"${stat.size.toString(16)}-${stat.mtime.getTime().toString(16)}"`;
}

function tokens(list: string): string[] {
  return list.split(/[\s,]+/).filter((s) => s !== '');
}

/** matches compares entity tags weakly (RFC 9110 §8.8.3.2): `W/` is ignored on either side. */
function matches(list: string, etag: string): boolean {
  const bare = etag.replace(/^W\//, '');
  return tokens(list).some((t) => t === '*' || t.replace(/^W\//, '') === bare);
}

function date(value: string | undefined): number {
  return value === undefined ? Number.NaN : Date.parse(value);
}

/** preconditionFailed evaluates If-Match, then If-Unmodified-Since (RFC 9110 §13.2.2 steps 1–2). */
function preconditionFailed(req: IncomingMessage, etag: string, modified: number): boolean {
  const ifMatch = req.headers['if-match'];
  if (ifMatch) return !matches(ifMatch, etag);
  const since = date(req.headers['if-unmodified-since']);
  return !Number.isNaN(since) && modified > since;
}

/** notModified evaluates If-None-Match, then If-Modified-Since (steps 3–4); `Cache-Control: no-cache` asks for the body. */
function notModified(req: IncomingMessage, etag: string, modified: number): boolean {
  const noneMatch = req.headers['if-none-match'];
  const since = req.headers['if-modified-since'];
  if (!noneMatch && !since) return false;
  if (/(?:^|,)\s*no-cache\s*(?:,|$)/i.test(req.headers['cache-control'] ?? '')) return false;
  if (noneMatch) return matches(noneMatch, etag);
  return modified <= date(since);
}

/** rangeStillValid evaluates If-Range: a stale one turns a range request into a request for the whole file. */
function rangeStillValid(req: IncomingMessage, etag: string, lastModified: string): boolean {
  const ifRange = req.headers['if-range'];
  if (typeof ifRange !== 'string' || ifRange === '') return true;
  if (ifRange.includes('"')) return ifRange.includes(etag);
  return date(lastModified) <= date(ifRange);
}

/** Plan is the answer decided from the request's validators and range, before anything is written. */
interface Plan {
  status: 200 | 206 | 304 | 412 | 416;
  start: number;
  end: number;
}

/** plan evaluates the preconditions in RFC 9110 §13.2.2 order, then the range. */
function plan(req: IncomingMessage, size: number, etag: string, lastModified: string): Plan {
  const whole = { start: 0, end: size - 1 };
  const modified = date(lastModified); // whole seconds, as the client saw them
  if (preconditionFailed(req, etag, modified)) return { status: 412, ...whole };
  if (notModified(req, etag, modified)) return { status: 304, ...whole };
  const header = req.headers.range;
  if (header === undefined || !rangeStillValid(req, etag, lastModified)) return { status: 200, ...whole };
  const range = parseRange(size, header);
  if (range === 'unsatisfiable') return { status: 416, ...whole };
  if (range === 'ignore') return { status: 200, ...whole };
  return { status: 206, ...range };
}

/**
 * sendOpenedFile answers GET or HEAD for an opened regular file and closes it
 * when done. It reads only through the descriptor: nothing is opened again by
 * name. The content type comes from the file's real name.
 */
export function sendOpenedFile(
  req: IncomingMessage,
  res: ServerResponse,
  state: HandlerState,
  file: Opened,
): void {
  const { handle, stat } = file;
  const etag = etagOf(stat);
  const lastModified = stat.mtime.toUTCString();
  const { status, start, end } = plan(req, stat.size, etag, lastModified);
  const length = end - start + 1;
  if (res.destroyed || status === 304 || status >= 400 || req.method === 'HEAD' || length === 0) {
    void handle.close().catch(() => {}); // nothing will be read
  }
  if (res.destroyed) return; // the client left while the file was being opened
  if (status === 412) {
    sendError(req, res, state, status, 'precondition failed');
    return;
  }
  if (status === 416) {
    sendError(req, res, state, status, 'range not satisfiable', [['Content-Range', `bytes */${stat.size}`]]);
    return;
  }
  const head = ['X-Content-Type-Options', 'nosniff', 'Accept-Ranges', 'bytes'];
  head.push('Cache-Control', 'public, max-age=0', 'Last-Modified', lastModified, 'ETag', etag);
  if (state.closing) head.push('Connection', 'close');
  if (status === 304) {
    res.writeHead(status, head);
    res.end();
    return;
  }
  if (status === 206) head.push('Content-Range', `bytes ${start}-${end}/${stat.size}`);
  head.push('Content-Type', contentTypeOf(file.real.at(-1) ?? ''), 'Content-Length', String(length));
  res.writeHead(status, head);
  if (req.method === 'HEAD' || length === 0) {
    res.end();
    return;
  }
  // pipeline destroys the read (closing the descriptor) when the client goes
  // away; a read that fails after the headers went out can only cut the
  // response short, which destroying the response does.
  pipeline(handle.createReadStream({ start, end, autoClose: true }), res, () => {});
}
