/**
 * Go's rpc.HandleHTTP on a raw socket. Go's client opens with exactly
 * `CONNECT /_goRPC_ HTTP/1.0\n\n` (bare LF, no Host), which node:http's
 * parser refuses, so the handshake is read here: CONNECT to the RPC path is
 * answered `HTTP/1.0 200 Connected to Go RPC\n\n` and the socket speaks the
 * RPC codec from then on; other methods on that path get Go's `405 must
 * CONNECT`; `/debug/rpc` shows the services and their call counts; anything
 * else is 404. One request per connection outside the RPC path. Bytes that
 * cannot begin an HTTP request (gob or JSON from a client that did not dial
 * with HTTP) get 400 as soon as they arrive, which tells that client what it
 * is talking to, instead of a wait for the header timeout.
 */
import type { Conn } from '../../tcp/conn.js';
import { MAX_HEAD_BYTES, readHead } from '../http-head.js';
import type { Registry } from '../registry.js';
import { renderDebugPage } from './debug-page.js';

/** RPC_PATH and DEBUG_PATH are Go's rpc.DefaultRPCPath and rpc.DefaultDebugPath. */
export const RPC_PATH = '/_goRPC_';
/** DEBUG_PATH is Go's rpc.DefaultDebugPath, where the debug page is served. */
export const DEBUG_PATH = '/debug/rpc';

/** CONNECTED is Go's status text for a successful handshake. */
export const CONNECTED = '200 Connected to Go RPC';

/** TCHAR marks the bytes of an HTTP token (RFC 9110 section 5.6.2), which a request method is. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}
/** MAX_METHOD is longer than any method a server knows; a longer run of token bytes is not a request line. */
const MAX_METHOD = 32;

/** couldBeRequest is false once `received` cannot be the start of a request line (`METHOD SP`), empty lines first allowed. */
function couldBeRequest(received: Buffer): boolean {
  let i = 0;
  while (i < received.length && (received[i] === 0x0a || received[i] === 0x0d)) i++;
  const start = i;
  for (; i < received.length && i - start <= MAX_METHOD; i++) {
    if (received[i] === 0x20) return i > start;
    if (TCHAR[received[i]!] === 0) return false;
  }
  return i - start <= MAX_METHOD;
}

class NotHttpError extends Error {}

function respond(conn: Conn, status: string, type: string, body: string, extra = ''): Promise<unknown> {
  const head =
    `HTTP/1.1 ${status}\r\nContent-Type: ${type}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
    `X-Content-Type-Options: nosniff\r\nConnection: close\r\n${extra}\r\n`;
  return conn.write(head + body).then(() => conn.close());
}

/**
 * acceptHttp runs the HTTP side of one connection. It resolves with the
 * bytes that followed a successful CONNECT (the RPC stream begins there), or
 * undefined when the connection was answered as plain HTTP and closed.
 * `timeoutMs` bounds the wait for the request head (slowloris).
 */
export async function acceptHttp(
  conn: Conn,
  registry: Registry,
  timeoutMs: number,
): Promise<Buffer | undefined> {
  if (timeoutMs > 0) conn.setReadDeadline(Date.now() + timeoutMs);
  let parsed: { head: string; rest: Buffer };
  try {
    parsed = await readHead(
      conn,
      {
        closed: 'http: connection closed before the request head ended',
        tooLong: `http: request head over ${MAX_HEAD_BYTES} bytes`,
      },
      (received) => {
        if (!couldBeRequest(received)) throw new NotHttpError();
      },
    );
  } catch (err) {
    if (!(err instanceof NotHttpError)) throw err;
    conn.setReadDeadline(null);
    await respond(conn, '400 Bad Request', 'text/plain; charset=utf-8', '400 Bad Request\n');
    return undefined;
  }
  const { head, rest } = parsed;
  conn.setReadDeadline(null);
  const [method = '', target = ''] = (head.split(/\r?\n/, 1)[0] ?? '').split(' ');
  const path = target.split('?')[0];
  if (path === RPC_PATH) {
    if (method !== 'CONNECT') {
      await respond(conn, '405 Method Not Allowed', 'text/plain; charset=utf-8', '405 must CONNECT\n');
      return undefined;
    }
    await conn.write(`HTTP/1.0 ${CONNECTED}\n\n`);
    return rest;
  }
  if (path === DEBUG_PATH && (method === 'GET' || method === 'HEAD')) {
    const json = /^accept:.*application\/json/im.test(head);
    const body = json ? `${JSON.stringify(registry.stats(), null, 2)}\n` : renderDebugPage(registry.stats());
    const type = json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8';
    await respond(conn, '200 OK', type, method === 'HEAD' ? '' : body);
    return undefined;
  }
  await respond(conn, '404 Not Found', 'text/plain; charset=utf-8', '404 page not found\n');
  return undefined;
}
