import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ResolvedWsOptions } from './options.js';

/** Route is where an upgrade request goes: its path, query and (in broadcast mode) room. */
export interface Route {
  path: string;
  query: URLSearchParams;
  room: string | undefined;
}

/** MAX_ROOM_BYTES caps a room name, so room keys stay small. */
export const MAX_ROOM_BYTES = 256;

/**
 * route matches a request URL against the server's path. In broadcast
 * mode `/chat/lobby` and `/chat?room=lobby` both name the room `lobby`;
 * anything else is not ours (undefined, so the caller answers 404).
 */
export function route(url: string | undefined, opts: ResolvedWsOptions): Route | 'bad' | undefined {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const broadcast = opts.mode === 'broadcast' && !opts.handler;
  if (path === opts.path || (path === `${opts.path}/` && opts.path !== '/')) {
    return { path, query, room: broadcast ? (query.get('room') ?? '') : undefined };
  }
  const prefix = opts.path === '/' ? '/' : `${opts.path}/`;
  if (!broadcast || !path.startsWith(prefix)) return undefined;
  let room: string;
  try {
    room = decodeURIComponent(path.slice(prefix.length));
  } catch {
    return 'bad';
  }
  if (Buffer.byteLength(room) > MAX_ROOM_BYTES || room.includes('/')) return 'bad';
  return { path, query, room };
}

/**
 * originAllowed applies the origin policy: without an allow-list any
 * origin (or none) is fine. With one, the `Origin` header must be on it or
 * be this server's own origin (its host equals the `Host` header, as
 * gorilla's default check has it), so the server's own page always works.
 * Clients that send no Origin are refused, because an allow-list is a
 * statement of who may connect.
 */
export function originAllowed(req: IncomingMessage, origins: ReadonlySet<string> | undefined): boolean {
  if (origins === undefined) return true;
  const origin = req.headers.origin;
  if (typeof origin !== 'string') return false;
  const lower = origin.toLowerCase();
  if (origins.has(lower)) return true;
  const host = req.headers.host?.toLowerCase();
  return host !== undefined && (lower === `http://${host}` || lower === `https://${host}`);
}

/** refuse answers an upgrade request with an HTTP error and closes the socket. */
export function refuse(
  socket: Duplex,
  status: number,
  reason: string,
  extra: Record<string, string> = {},
): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = `${reason}\n`;
  const headers = Object.entries({
    Connection: 'close',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(body)),
    ...extra,
  })
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${headers}\r\n${body}`);
  // A client that never reads must not keep the socket open.
  setTimeout(() => socket.destroy(), 1000).unref();
}
