import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import type tls from 'node:tls';
import { joinHostPort } from '../addr/split.js';
import { escapeHtml, htmlPage } from '../internal/html.js';
import { hexDump, safeText } from '../internal/text.js';
import { type ClientAddress, clientAddress } from '../proxy/forwarded.js';
import type { TrustList } from '../proxy/trust.js';
import { endpointText, unixEndpoint, unmappedIp } from '../tcp/endpoint.js';
import { verifiedSubject } from '../tls/client.js';

/**
 * Request inspection: what an HTTP request looked like on the wire, as data
 * (RequestInfo), for a terminal (formatRequest) and for a browser
 * (renderRequestHtml, every value escaped).
 */

/** BODY_HEX_LIMIT is how many bytes of a binary body are kept as hex. */
export const BODY_HEX_LIMIT = 4096;

/** BodyInfo describes a request body. */
export interface BodyInfo {
  /** bytes is the body's length. */
  bytes: number;
  /**
   * kind is how the body was understood: JSON (when declared and it parses),
   * UTF-8 text, or binary; `consumed` when a handler before the inspector
   * (a body parser) had already read it, so its bytes could not be shown.
   */
  kind: 'empty' | 'text' | 'json' | 'binary' | 'consumed';
  /** text is the body as UTF-8 (kinds text and json). */
  text?: string;
  /** json is the parsed body (kind json). */
  json?: unknown;
  /** hex is the first 4 KiB of a binary body as hex digits. */
  hex?: string;
}

/** TlsInfo is what a request's connection negotiated, when it came over TLS. */
export interface TlsInfo {
  /** protocol is the TLS version: `TLSv1.3`, `TLSv1.2`. */
  protocol: string;
  /** cipher is the cipher suite's standard name: `TLS_AES_256_GCM_SHA384`. */
  cipher: string;
  /** alpn is the application protocol agreed on (`http/1.1`), when one was. */
  alpn?: string;
  /** subject is the client certificate's subject (`CN=alice`), when mutual TLS verified one. */
  subject?: string;
}

/** tlsInfo describes the TLS of `socket`; undefined for a plain connection. */
export function tlsInfo(socket: net.Socket): TlsInfo | undefined {
  const s = socket as tls.TLSSocket;
  if (!s.encrypted) return undefined;
  const cipher = s.getCipher?.();
  const subject = verifiedSubject(s);
  return {
    protocol: s.getProtocol?.() ?? '',
    cipher: cipher?.standardName ?? cipher?.name ?? '',
    ...(typeof s.alpnProtocol === 'string' ? { alpn: s.alpnProtocol } : {}),
    ...(subject === undefined ? {} : { subject }),
  };
}

/** RequestInfo is one HTTP request as the server saw it. */
export interface RequestInfo {
  /** method is the request method as sent: `GET`, `POST`. */
  method: string;
  /** url is the request target exactly as sent (under a mount, the whole of it: Express's `originalUrl`). */
  url: string;
  /** base is the path prefix the inspector is mounted under (Express's `req.baseUrl`), when it is mounted under one. */
  base?: string;
  /** path is the target's path, percent-decoded when it decodes. */
  path: string;
  /** query maps each parameter to its value, or to every value when repeated. */
  query: Record<string, string | string[]>;
  /** httpVersion is the HTTP version the request line named: `1.1`, `1.0`. */
  httpVersion: string;
  /** headers are [name, value] pairs in the order and case they arrived. */
  headers: [string, string][];
  /**
   * remote is the peer of the socket (after a PROXY header, the client the
   * proxy named); a Unix socket's peer has no address: ip '' and `unix`.
   */
  remote: {
    /** ip is the peer's address; '' on a Unix socket. */
    ip: string;
    /** port is the peer's port; 0 on a Unix socket. */
    port: number;
    /** unix is set on a Unix socket, whose peer has no address. */
    unix?: true;
  };
  /** client is who sent the request: `remote`, or the nearest untrusted hop of trusted forwarding headers. */
  client: ClientAddress;
  /** tls is the connection's TLS (version, cipher, ALPN, client certificate), when it had any. */
  tls?: TlsInfo;
  /** body is the request body: its size and how it was understood. */
  body: BodyInfo;
}

/** decodePath percent-decodes a request path, keeping it raw when it is not valid percent-encoding. */
export function decodePath(rawPath: string): string {
  if (!rawPath.includes('%')) return rawPath;
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return rawPath;
  }
}

/** MountedRequest is a request as Express and Connect hand it to a handler mounted under a path. */
type MountedRequest = IncomingMessage & { originalUrl?: unknown; baseUrl?: unknown };

/**
 * targetOf returns the request target as the client sent it. A router that
 * mounts a handler under a prefix (Express's `app.use('/debug', h)`)
 * rewrites `req.url` to the part below it and keeps the original in
 * `req.originalUrl`.
 */
export function targetOf(req: IncomingMessage): string {
  const original = (req as MountedRequest).originalUrl;
  return typeof original === 'string' ? original : (req.url ?? '');
}

/** baseOf returns the prefix a router mounted the handler under (Express's `req.baseUrl`), or undefined. */
function baseOf(req: IncomingMessage): string | undefined {
  const base = (req as MountedRequest).baseUrl;
  return typeof base === 'string' && base !== '' ? base : undefined;
}

/** splitTarget splits a request target into its decoded path and its query. */
export function splitTarget(url: string): { path: string; query: Record<string, string | string[]> } {
  const q = url.indexOf('?');
  const path = decodePath(q < 0 ? url : url.slice(0, q));
  const query: Record<string, string | string[]> = Object.create(null);
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(url.slice(q + 1))) {
      const prev = query[k];
      if (prev === undefined) query[k] = v;
      else if (Array.isArray(prev)) prev.push(v);
      else query[k] = [prev, v];
    }
  }
  return { path, query };
}

const JSON_TYPE = /^\s*application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** describeBody classifies a body given its Content-Type. */
export function describeBody(bytes: Uint8Array, contentType: string | undefined): BodyInfo {
  if (bytes.length === 0) return { bytes: 0, kind: 'empty' };
  let text: string | undefined;
  try {
    text = utf8.decode(bytes);
  } catch {
    text = undefined;
  }
  if (text !== undefined && contentType !== undefined && JSON_TYPE.test(contentType)) {
    try {
      return { bytes: bytes.length, kind: 'json', text, json: JSON.parse(text) };
    } catch {
      // declared JSON that does not parse is shown as text
    }
  }
  // Text is valid UTF-8 without control characters other than tab, CR, LF.
  if (text !== undefined && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text)) {
    return { bytes: bytes.length, kind: 'text', text };
  }
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, BODY_HEX_LIMIT));
  return { bytes: bytes.length, kind: 'binary', hex: head.toString('hex') };
}

/**
 * peerOf is the socket's peer as endpoint() gives its ip and port (IPv4-mapped
 * IPv6 unwrapped, as Go prints it), without the frozen endpoint and its address
 * text that a request's record never uses; ip '' and port 0 once a closed
 * socket reports none.
 */
function peerOf(socket: net.Socket): { ip: string; port: number } {
  const ip = socket.remoteAddress;
  const port = socket.remotePort;
  if (ip === undefined || port === undefined) return { ip: '', port: 0 };
  return { ip: unmappedIp(ip), port };
}

/**
 * requestInfo builds the RequestInfo of a request whose body has been read;
 * `unix` says the server listens on a Unix socket (its peers have no address).
 */
export function requestInfo(
  req: IncomingMessage,
  body: Uint8Array,
  trust?: TrustList,
  unix = false,
): RequestInfo {
  const url = targetOf(req);
  const base = baseOf(req);
  const { path, query } = splitTarget(url);
  const headers: [string, string][] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
  }
  const remote: RequestInfo['remote'] = unix ? { ip: '', port: 0, unix: true } : peerOf(req.socket);
  const tls = tlsInfo(req.socket);
  const method = req.method ?? '';
  const client = clientAddress(remote, req.headers, trust);
  const described = describeBody(body, req.headers['content-type']);
  if (base === undefined && tls === undefined) {
    // The usual request, written out with no optional keys: a server log builds one per
    // request, and spreading `{}` into a literal costs a generic property copy each time.
    // The keys are in the same order as below, so JSON output is the same.
    const info: RequestInfo = {
      method,
      url,
      path,
      query,
      httpVersion: req.httpVersion,
      headers,
      remote,
      client,
      body: described,
    };
    return info;
  }
  return {
    method,
    url,
    ...(base === undefined ? {} : { base }),
    path,
    query,
    httpVersion: req.httpVersion,
    headers,
    remote,
    client,
    ...(tls ? { tls } : {}),
    body: described,
  };
}

/** remoteText is the peer as logs show it: `127.0.0.1:5000`, `[::1]:5000`, `unix:@`. */
export function remoteText(remote: RequestInfo['remote']): string {
  // remote.ip is already as endpoint() gives it (IPv4-mapped IPv6 unwrapped): joining is enough.
  return remote.unix ? endpointText(unixEndpoint(undefined)) : joinHostPort(remote.ip, remote.port);
}

/** clientText is the client as a forwarding header named it: `ip`, `ip:port`, `[ipv6]:port`. */
function clientText(client: ClientAddress): string {
  return client.port === undefined ? client.ip : joinHostPort(client.ip, client.port);
}

/** tlsText is a request's TLS on one line: `TLSv1.3 TLS_AES_256_GCM_SHA384 http/1.1 CN=alice`. */
export function tlsText(t: TlsInfo): string {
  return [t.protocol, t.cipher, t.alpn, t.subject].filter((v) => v !== undefined && v !== '').join(' ');
}

/**
 * isPlain reports whether `s` is printable ASCII, which safeText returns as
 * it is. A loop rather than safeText's regular expression: a log checks
 * every value of every request, and on the fresh strings of a parsed
 * request the loop costs a fraction of a regular expression's call.
 */
function isPlain(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** plainHead reports whether every value formatRequest shows above the body is printable ASCII. */
function plainHead(info: RequestInfo): boolean {
  if (!isPlain(info.method) || !isPlain(info.url) || !isPlain(info.httpVersion) || !isPlain(info.remote.ip)) {
    return false;
  }
  if (info.client.via !== 'socket' && !isPlain(info.client.ip)) return false;
  const t = info.tls;
  if (t && !(isPlain(t.protocol) && isPlain(t.cipher) && isPlain(t.alpn ?? '') && isPlain(t.subject ?? ''))) {
    return false;
  }
  const headers = info.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    if (!isPlain(h[0]) || !isPlain(h[1])) return false;
  }
  return true;
}

/**
 * formatRequest renders a request for a terminal; every value is made safe with safeText.
 * A server log calls it for every request: values from a parser are nearly always printable
 * ASCII, which safeText leaves as they are, so they are checked first and then joined as they
 * are; only a request with a value that is not goes through safeText value by value.
 */
export function formatRequest(info: RequestInfo): string {
  let text = head(info, plainHead(info) ? same : safeText);
  const b = info.body;
  if (b.kind === 'empty') text += '\n\n(no body)';
  else if (b.kind === 'consumed') text += '\n\n(body read by an earlier handler)';
  else if (b.kind === 'json') text += `\n\n${safeText(JSON.stringify(b.json, null, 2) ?? '', true)}`;
  else if (b.kind === 'text') text += `\n\n${safeText(b.text ?? '', true)}`;
  else {
    text += `\n\n${hexDump(Buffer.from(b.hex ?? '', 'hex'))}`;
    if (b.bytes > BODY_HEX_LIMIT) text += `\n... (${b.bytes - BODY_HEX_LIMIT} more bytes)`;
  }
  return `${text}\n(${b.bytes} bytes, ${b.kind})\n`;
}

/**
 * formatBodilessRequest is formatRequest(requestInfo(req, <no body>, trust, unix)) for a
 * request with no body, built straight from the parsed request: a server's text log calls it
 * for every greeting, and skipping the record (its header pairs, query, client and body
 * objects) takes about a quarter off what logging a request costs. It returns undefined
 * where the record is needed to get the text right: TLS, a Unix socket, a peer `trust` believes (forwarding
 * headers may name the client), a closed socket, or a value that is not printable ASCII
 * (safeText would escape it). `url` is targetOf(req).
 */
export function formatBodilessRequest(
  req: IncomingMessage,
  url: string,
  trust?: TrustList,
  unix = false,
): string | undefined {
  const socket = req.socket;
  if (unix || (socket as tls.TLSSocket).encrypted) return undefined;
  const peer = peerOf(socket);
  if (peer.port === 0 || trust?.trusts(peer.ip)) return undefined;
  const method = req.method ?? '';
  const version = req.httpVersion;
  if (!isPlain(method) || !isPlain(url) || !isPlain(version) || !isPlain(peer.ip)) return undefined;
  let text = `${method} ${url} HTTP/${version}\nfrom ${joinHostPort(peer.ip, peer.port)}`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (!isPlain(name) || !isPlain(value)) return undefined;
    text += `\n${name}: ${value}`;
  }
  return `${text}\n\n(no body)\n(0 bytes, empty)\n`;
}

/** same returns a value as it is: formatRequest's head for values plainHead found need no escaping. */
const same = (s: string): string => s;

/** head is formatRequest's head (request line, peer, TLS, headers), each value passed through `show`. */
function head(info: RequestInfo, show: (s: string) => string): string {
  let text = `${show(info.method)} ${show(info.url)} HTTP/${show(info.httpVersion)}\nfrom ${show(remoteText(info.remote))}`;
  if (info.client.via !== 'socket') text += ` for ${show(clientText(info.client))} (${info.client.via})`;
  if (info.tls) text += `\ntls ${show(tlsText(info.tls))}`;
  const headers = info.headers;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    text += `\n${show(h[0])}: ${show(h[1])}`;
  }
  return text;
}

function rows(pairs: [string, string][]): string {
  if (pairs.length === 0) return '<tr><td colspan="2"><em>none</em></td></tr>';
  return pairs.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('\n');
}

function bodyHtml(b: BodyInfo): string {
  if (b.kind === 'empty') return '<p><em>no body</em></p>';
  if (b.kind === 'consumed') return '<p><em>body read by an earlier handler</em></p>';
  let shown: string;
  if (b.kind === 'json') shown = JSON.stringify(b.json, null, 2) ?? '';
  else if (b.kind === 'text') shown = b.text ?? '';
  else shown = hexDump(Buffer.from(b.hex ?? '', 'hex'));
  return `<p>${b.bytes} bytes, ${escapeHtml(b.kind)}</p>\n<pre>${escapeHtml(shown)}</pre>`;
}

/** renderRequestHtml renders a request as a standalone HTML page; every value is escaped. */
export function renderRequestHtml(info: RequestInfo): string {
  const query: [string, string][] = [];
  for (const [k, v] of Object.entries(info.query)) {
    for (const one of Array.isArray(v) ? v : [v]) query.push([k, one]);
  }
  return htmlPage(
    `${info.method} ${info.path}`,
    `th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; vertical-align: top; }
pre { background: #f4f4f4; padding: 1em; overflow-x: auto; }`,
    `<table>
${rows([
  ['Method', info.method],
  ['URL', info.url],
  ...(info.base === undefined ? [] : [['Mounted at', info.base] as [string, string]]),
  ['Path', info.path],
  ['HTTP version', info.httpVersion],
  ['Remote', remoteText(info.remote)],
  ['Client', `${clientText(info.client)} (${info.client.via})`],
])}
</table>
${
  info.tls
    ? `<h2>TLS</h2>
<table>
${rows([
  ['Protocol', info.tls.protocol],
  ['Cipher', info.tls.cipher],
  ['ALPN', info.tls.alpn ?? 'none'],
  ['Client certificate', info.tls.subject ?? 'none'],
])}
</table>
`
    : ''
}<h2>Query</h2>
<table>
${rows(query)}
</table>
<h2>Headers</h2>
<table>
${rows(info.headers)}
</table>
<h2>Body</h2>
${bodyHtml(info.body)}`,
  );
}
