import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import net from 'node:net';

/**
 * Who may use a live page. On loopback, only this machine can connect, but a
 * web page open in the user's browser can still send requests to it: the
 * Host must name the server itself (a DNS-rebinding page sends its own
 * name) and a request that changes something must come from the page's own
 * origin. Anywhere else a token is needed too: the page can change faults.
 */

/** isLoopbackHost is true for 127.0.0.0/8, ::1 and `localhost`: addresses only this machine reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return net.isIPv4(h) && h.startsWith('127.');
}

/** newToken returns a fresh random token for a page served beyond loopback (128 bits, URL-safe). */
export function newToken(): string {
  return randomBytes(16).toString('base64url');
}

/** tokenMatches compares a presented token with the server's in constant time. */
export function tokenMatches(presented: string | undefined | null, token: string): boolean {
  if (typeof presented !== 'string') return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** presentedToken is the token a request carries: `?token=` or the X-Netkit-Token header. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const header = req.headers['x-netkit-token'];
  if (typeof header === 'string') return header;
  const q = (req.url ?? '').indexOf('?');
  if (q < 0) return undefined;
  return new URLSearchParams((req.url ?? '').slice(q + 1)).get('token') ?? undefined;
}

/**
 * hostAllowed is true when the Host header names a loopback host (any port:
 * the server may sit behind a port forward), or anything when a token
 * guards the server. A page on another site that rebinds its own name to
 * 127.0.0.1 sends that name, and is refused.
 */
export function hostAllowed(req: IncomingMessage, guarded: boolean): boolean {
  if (guarded) return true;
  const host = req.headers.host;
  if (host === undefined) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::\d+)?$/.exec(host);
  return m !== null && isLoopbackHost(m[1]!);
}

/**
 * sameOrigin is true when a request that changes something comes from the
 * page itself: the browser's Origin (always sent on a cross-origin or
 * non-GET fetch) must match the Host, and Sec-Fetch-Site, when sent, must
 * say same-origin. Programs (curl, Toxiproxy clients) send neither.
 */
export function sameOrigin(req: IncomingMessage): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
