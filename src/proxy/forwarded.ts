import type { IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { TrustList } from './trust.js';

/** ClientAddress is who a request is from, as far as trusted hops can tell. */
export interface ClientAddress {
  /** ip is the client's address, without brackets or port. */
  ip: string;
  /** port is the client's port, when the socket or the header gave one. */
  port?: number;
  /** via says where it came from: the socket, or which forwarding header. */
  via: 'socket' | 'forwarded' | 'x-forwarded-for';
}

/**
 * clientAddress resolves the client of a request. Forwarding headers are
 * believed only from a trusted peer, and only as far as trusted hops go:
 * the list is read right to left (the nearest hop last), skipping hops in
 * the trust list, and the first hop that is not trusted is the client —
 * anything to its left could have been written by that client. `Forwarded`
 * (RFC 7239) wins over `X-Forwarded-For` when both are present.
 */
export function clientAddress(
  peer: { ip: string; port: number },
  headers: IncomingHttpHeaders,
  trust: TrustList | undefined,
): ClientAddress {
  const socket: ClientAddress = { ip: peer.ip, port: peer.port, via: 'socket' };
  if (!trust?.trusts(peer.ip)) return socket;
  const forwarded = headerList(headers.forwarded);
  const hops =
    forwarded.length > 0 ? forwardedFor(forwarded) : xForwardedFor(headerList(headers['x-forwarded-for']));
  const via = forwarded.length > 0 ? 'forwarded' : 'x-forwarded-for';
  if (hops.length === 0) return socket;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] as { ip: string; port?: number };
    // An unparseable or obfuscated hop (`unknown`, `_hidden`) ends the walk: nothing left of it can be checked.
    if (!net.isIP(hop.ip) || !trust.trusts(hop.ip) || i === 0) return { ...hop, via };
  }
  return socket;
}

function headerList(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v])
    .flatMap((h) => h.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
}

function xForwardedFor(items: string[]): { ip: string; port?: number }[] {
  return items.map(parseNode);
}

/** forwardedFor takes the `for=` of each Forwarded element (`for=192.0.2.60;proto=http`, `for="[2001:db8::1]:4711"`). */
function forwardedFor(elements: string[]): { ip: string; port?: number }[] {
  const out: { ip: string; port?: number }[] = [];
  for (const el of elements) {
    for (const pair of el.split(';')) {
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim().toLowerCase() !== 'for') continue;
      let v = pair.slice(eq + 1).trim();
      if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
      out.push(parseNode(v));
    }
  }
  return out;
}

/** parseNode reads `1.2.3.4`, `1.2.3.4:80`, `[::1]:80`, `::1`, or keeps an obfuscated node as is. */
function parseNode(v: string): { ip: string; port?: number } {
  if (v.startsWith('[')) {
    const end = v.indexOf(']');
    const ip = v.slice(1, end);
    const port = Number(v.slice(end + 2));
    return end > 0 && v[end + 1] === ':' && Number.isInteger(port) ? { ip, port } : { ip };
  }
  const colon = v.indexOf(':');
  if (colon > 0 && colon === v.lastIndexOf(':')) {
    const port = Number(v.slice(colon + 1));
    if (Number.isInteger(port) && port >= 0 && port <= 65535) return { ip: v.slice(0, colon), port };
  }
  return { ip: v };
}
