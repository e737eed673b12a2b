import { validateHeaderName, validateHeaderValue } from 'node:http';
import { parseDuration } from '../../internal/duration.js';
import { MAX_DELAY_MS } from './options.js';

/**
 * Response shaping from query parameters, as echo servers do:
 * `?status=418`, `?delay=200ms`, `?header=Name:Value` (repeatable) and
 * `?body=text`.
 *
 * Anyone can send a link to a shaping URL, so shaping must never make the
 * server a reflected-XSS vector (RELIABILITY 39): a shaped Content-Type may
 * only be a passive type, headers that would change what a browser runs or
 * remembers for the host are refused, and every shaped response is sent with
 * `Content-Security-Policy: sandbox` and `X-Content-Type-Options: nosniff`
 * (see handler.ts).
 */
export interface Shaping {
  status: number | undefined;
  delayMs: number;
  /** headers are the `?header=` pairs, Content-Type excepted. */
  headers: [string, string][];
  /** contentType replaces the response's Content-Type (`?header=Content-Type:…`); always a passive type. */
  contentType: string | undefined;
  body: string | undefined;
}

/** ShapeError is a query parameter that cannot be honoured; the response is 400. */
export class ShapeError extends Error {
  readonly param: string;
  constructor(param: string, message: string) {
    super(`query parameter ${param}: ${message}`);
    this.param = param;
  }
}

/** REFUSED maps each header `?header=` may not set to why. */
const REFUSED = new Map<string, string>([
  // They would corrupt the framing of this response or the next.
  ...['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade'].map(
    (n): [string, string] => [n, 'it would corrupt the framing'],
  ),
  // The server sets these itself on every shaped response to keep it inert.
  ...['content-security-policy', 'content-security-policy-report-only', 'x-content-type-options'].map(
    (n): [string, string] => [n, 'the server sets it to keep shaped responses inert'],
  ),
  // Cookies are scoped to the host, not the port: a link could plant or wipe them for every site on it.
  ['set-cookie', 'a link could set cookies for every site on this host'],
  ['set-cookie2', 'a link could set cookies for every site on this host'],
  ['clear-site-data', "a link could wipe a visitor's cookies and storage for this host"],
  ['strict-transport-security', 'a link could pin this host (and its subdomains) to HTTPS'],
  // With credentials allowed, another site could read what the inspector reflects: the visitor's cookies.
  ['access-control-allow-credentials', "other sites could read the visitor's reflected cookies"],
  // Reflected file download: attacker-chosen bytes saved under an attacker-chosen name (setup.bat).
  ['content-disposition', 'a link could make browsers save a file of its choosing'],
]);

const MEDIA_TYPE = /^[!#$%&'*+.^_`|~0-9a-z-]+\/[!#$%&'*+.^_`|~0-9a-z-]+$/;

/**
 * PARAMETERS is what may follow the essence: `; name=value` with token
 * values only. No commas and no quoted strings: a browser splits a
 * Content-Type on commas and takes the last type (Fetch, "extract a MIME
 * type"), so `text/plain;a=b, text/html` would be HTML to it.
 */
const PARAMETERS = /^(?:\s*;\s*[!#$%&'*+.^_`|~0-9a-z-]+=[!#$%&'*+.^_`|~0-9a-z-]+)*\s*;?\s*$/i;

/**
 * ACTIVE matches the essence (`type/subtype`, lower case) of content types a
 * browser renders as a document that can run script, or hands to a plug-in
 * that can: HTML, XHTML, SVG and any XML (XSLT, namespaces), anything
 * JavaScript-like, PDF, Flash, IE's HTC and HTA, multipart and message
 * (MHTML, x-mixed-replace).
 */
const ACTIVE =
  /^(?:text\/html|text\/xsl|text\/x-component|application\/hta|application\/pdf|application\/x-shockwave-flash|application\/futuresplash|(?:multipart|message)\/.*|[^/]+\/(?:xml|.*\+xml|.*script.*))$/;

/** checkContentType throws ShapeError unless `value` is a passive media type. */
function checkContentType(value: string): void {
  const semi = value.indexOf(';');
  const essence = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const parameters = semi < 0 ? '' : value.slice(semi);
  if (!MEDIA_TYPE.test(essence) || essence.includes('*') || !PARAMETERS.test(parameters)) {
    throw new ShapeError('header', `Content-Type "${value}" is not a media type (type/subtype)`);
  }
  if (ACTIVE.test(essence)) {
    throw new ShapeError(
      'header',
      `Content-Type ${essence} is refused: a browser could run script from it; use a passive type such as text/plain or application/json`,
    );
  }
}

const last = (v: string | string[] | undefined) => (Array.isArray(v) ? v[v.length - 1] : v);
const all = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** parseShaping reads the shaping parameters from a query; throws ShapeError naming a bad one. */
export function parseShaping(query: Record<string, string | string[]>): Shaping {
  const shaping: Shaping = {
    status: undefined,
    delayMs: 0,
    headers: [],
    contentType: undefined,
    body: last(query.body),
  };
  const status = last(query.status);
  if (status !== undefined) {
    if (!/^\d{3}$/.test(status) || Number(status) < 200 || Number(status) > 599) {
      throw new ShapeError('status', `"${status}" is not an HTTP status; use 200 to 599`);
    }
    shaping.status = Number(status);
  }
  const delay = last(query.delay);
  if (delay !== undefined) {
    let ms: number;
    try {
      // A bare number is seconds, as on every command-line flag and httpbin's /delay/N.
      ms = parseDuration(delay, 'delay', 0);
    } catch {
      throw new ShapeError(
        'delay',
        `"${delay}" is not a duration; use e.g. 200ms or 2s (a bare number is seconds)`,
      );
    }
    if (ms > MAX_DELAY_MS) throw new ShapeError('delay', `"${delay}" is longer than the maximum, 30s`);
    shaping.delayMs = ms;
  }
  for (const h of all(query.header)) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new ShapeError('header', `"${h}" is not Name:Value`);
    const name = h.slice(0, colon).trim();
    const value = h.slice(colon + 1).trim();
    try {
      validateHeaderName(name);
      validateHeaderValue(name, value);
    } catch {
      throw new ShapeError('header', `"${h}" is not a valid header`);
    }
    const lower = name.toLowerCase();
    const why = REFUSED.get(lower);
    if (why !== undefined) throw new ShapeError('header', `${name} cannot be set: ${why}`);
    if (lower === 'content-type') {
      // One Content-Type, replacing the server's: two would leave browsers to pick one.
      if (shaping.contentType !== undefined) throw new ShapeError('header', 'Content-Type given twice');
      checkContentType(value);
      shaping.contentType = value;
      continue;
    }
    shaping.headers.push([name, value]);
  }
  return shaping;
}
