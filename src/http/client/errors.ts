import { maxHeaderSize } from 'node:http';
import { NetkitError } from '../../errors.js';
import { safeText } from '../../internal/text.js';

/** BodyTooLargeError: the response body exceeded `maxBodyBytes`; reading stopped (NETKIT_BODY_TOO_LARGE). */
export class BodyTooLargeError extends NetkitError {
  /** limit is the `maxBodyBytes` that was exceeded. */
  readonly limit: number;
  /** url is the URL whose response was too large. */
  readonly url: string;
  constructor(url: string, limit: number) {
    super(
      'NETKIT_BODY_TOO_LARGE',
      `response body from ${url} exceeds maxBodyBytes (${limit} bytes); raise maxBodyBytes or fetch less`,
    );
    this.limit = limit;
    this.url = url;
  }
}

/**
 * RedirectError: a redirect could not be followed — the limit was reached,
 * a streamed body cannot be sent again, or Location is not an http(s) URL
 * (NETKIT_REDIRECT_FAILED).
 */
export class RedirectError extends NetkitError {
  /** URLs that answered with a redirect, in order, including the one that failed. */
  readonly redirects: string[];
  constructor(message: string, redirects: string[]) {
    super('NETKIT_REDIRECT_FAILED', message);
    this.redirects = redirects;
  }
}

/** RECEIVED_BYTES is how much of a non-HTTP answer an HttpProtocolError keeps and shows. */
const RECEIVED_BYTES = 64;

/** ParseError is Node's llhttp error: `code` is `HPE_…`, `rawPacket` the bytes that failed to parse. */
type ParseError = Error & { code?: string; reason?: string; rawPacket?: Buffer; bytesParsed?: number };

/**
 * HttpProtocolError: an HTTP or WebSocket client got an answer that is not
 * HTTP — another protocol's greeting (SSH, SMTP), a TLS record, binary — or
 * a malformed HTTP response (NETKIT_HTTP_PROTOCOL). `received` holds the
 * first bytes the peer sent; the message shows them escaped.
 */
export class HttpProtocolError extends NetkitError {
  /** address is the peer, host:port. */
  readonly address: string;
  /** received is the start (up to 64 bytes) of what the peer sent. */
  readonly received: Buffer;
  constructor(message: string, address: string, received: Buffer, options?: { cause?: unknown }) {
    super('NETKIT_HTTP_PROTOCOL', message, options);
    this.address = address;
    this.received = received;
  }
}

/**
 * protocolError turns Node's HTTP parse error (code `HPE_…`) into an
 * HttpProtocolError whose message starts with `where` and says what the
 * peer sent instead (suggesting the `secure` scheme when it answered with
 * TLS); anything else gives undefined.
 */
export function protocolError(
  err: unknown,
  where: string,
  address: string,
  secure: 'https' | 'wss',
): HttpProtocolError | undefined {
  const e = err as ParseError | undefined;
  if (typeof e?.code !== 'string' || !e.code.startsWith('HPE_')) return undefined;
  const raw = Buffer.isBuffer(e.rawPacket) ? e.rawPacket : Buffer.alloc(0);
  const received = Buffer.from(raw.subarray(0, RECEIVED_BYTES));
  const more = raw.length > RECEIVED_BYTES ? `… (${raw.length} bytes)` : '';
  const shown = `"${safeText(received)}"${more}`;
  const head = raw.subarray(0, 5).toString('latin1');
  let message: string;
  if (e.code === 'HPE_HEADER_OVERFLOW') {
    // The head is HTTP, only too long: say so, and which limit, rather than "not HTTP".
    message = `${where}: the response head exceeds ${maxHeaderSize} bytes (Node's --max-http-header-size); it began ${shown}`;
  } else if (raw.length > 0 && 'HTTP/'.startsWith(head)) {
    message = `${where}: the peer sent a malformed HTTP response (${safeText(e.reason ?? e.code)}); it began ${shown}`;
  } else if (raw.length >= 2 && (raw[0] === 0x15 || raw[0] === 0x16) && raw[1] === 0x03) {
    message = `${where}: the peer answered with TLS (${shown}), not plain HTTP; use ${secure}://`;
  } else {
    message = `${where}: the peer does not speak HTTP; it sent ${raw.length > 0 ? shown : 'something else'}`;
  }
  return new HttpProtocolError(message, address, received, { cause: err });
}
