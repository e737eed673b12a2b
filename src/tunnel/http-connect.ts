import type net from 'node:net';
import { TunnelError } from '../errors.js';
import { safeText } from '../internal/text.js';
import type { ProxySpec } from './proxy-url.js';
import type { ReplyReader } from './reply-reader.js';

/**
 * The HTTP CONNECT handshake (RFC 9110 section 9.3.6), as curl sends it:
 * `CONNECT host:port HTTP/1.1` with Host and, when the proxy URL has
 * credentials, `Proxy-Authorization: Basic` (RFC 7617). Any 2xx answer
 * opens the tunnel, and its head is all the proxy says: a 2xx reply to
 * CONNECT has no body whatever its headers claim, so everything after the
 * blank line is the target's.
 */

const LF = Buffer.from('\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: ([^\r\n]*))?$/;

/** connectRequest is the CONNECT request for `target` (`host:port`, IPv6 bracketed). */
export function connectRequest(proxy: ProxySpec, target: string): Buffer {
  const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
  if (proxy.username !== undefined) {
    const token = Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64');
    lines.push(`Proxy-Authorization: Basic ${token}`);
  }
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
}

/**
 * httpConnect asks the HTTP proxy on `socket` for a tunnel to `target` and
 * resolves once it answered 2xx. It rejects with TunnelError:
 * NETKIT_TUNNEL_AUTH for 407 (and 401), NETKIT_TUNNEL_FAILED for any other status,
 * NETKIT_TUNNEL_PROTOCOL for a reply that is not an HTTP/1 head, is over
 * `maxReplyBytes`, or is cut short.
 */
export async function httpConnect(
  socket: net.Socket,
  reader: ReplyReader,
  proxy: ProxySpec,
  target: string,
  maxReplyBytes: number,
): Promise<void> {
  socket.write(connectRequest(proxy, target));
  const fail = (code: 'NETKIT_TUNNEL_PROTOCOL', message: string, limit?: number) =>
    new TunnelError(code, `proxy ${proxy.href}: ${message}`, {
      proxy: proxy.href,
      target,
      ...(limit !== undefined ? { limit } : {}),
    });
  // Interim 1xx answers (RFC 9110 section 15.2) come before the final one and are skipped;
  // maxReplyBytes bounds all the heads together, so a stream of 1xx cannot go on forever.
  let read = 0;
  for (;;) {
    const head = await readHead(reader, maxReplyBytes - read, (received, tooLong) =>
      tooLong
        ? fail(
            'NETKIT_TUNNEL_PROTOCOL',
            `reply head to CONNECT ${target} is over maxReplyBytes (${maxReplyBytes}) without an end (starts ${shown(received)}); check that this is an HTTP proxy`,
            maxReplyBytes,
          )
        : fail(
            'NETKIT_TUNNEL_PROTOCOL',
            received.length === 0 && read === 0
              ? `closed the connection without answering CONNECT ${target}`
              : `closed the connection in the middle of its reply to CONNECT ${target} (after ${read + received.length} bytes: ${shown(received)})`,
          ),
    );
    read += head.length;
    const text = head.toString('latin1');
    const statusLine = text.slice(0, text.indexOf('\n')).replace(/\r$/, '');
    const m = STATUS_LINE.exec(statusLine);
    if (m === null) {
      throw fail(
        'NETKIT_TUNNEL_PROTOCOL',
        `answered CONNECT with ${shown(head)}, not an HTTP/1 status line; check that this is an HTTP proxy (for a SOCKS proxy, use socks5://)`,
      );
    }
    const status = Number(m[1]);
    // 101 would switch protocols, which a CONNECT does not ask for: it falls through to a refusal.
    if (status >= 100 && status < 200 && status !== 101) continue;
    return final(proxy, target, status, safeText(m[2] ?? '').trim());
  }
}

/**
 * readHead reads one reply head: lines up to an empty one, at most `limit`
 * bytes. Lines end in CRLF, or in a bare LF, which RFC 9112 section 2.2
 * lets a recipient accept (some small proxies send it); waiting for a CRLF
 * that never comes would hang until the timeout. It reads a line one byte
 * at a time, so no byte past the head leaves the socket.
 */
async function readHead(
  reader: ReplyReader,
  limit: number,
  fail: (received: Buffer, tooLong: boolean) => Error,
): Promise<Buffer> {
  const lines: Buffer[] = [];
  let size = 0;
  for (;;) {
    const line = await reader.until(
      LF,
      limit - size,
      (received) => fail(Buffer.concat([...lines, received]), false),
      (received) => fail(Buffer.concat([...lines, received]), true),
    );
    lines.push(line);
    size += line.length;
    if (line.length <= 2 && (line.length === 1 || line[0] === 0x0d)) return Buffer.concat(lines, size);
    if (size >= limit) throw fail(Buffer.concat(lines, size), true);
  }
}

/** final turns the final status of a CONNECT into success (2xx) or a TunnelError. */
function final(proxy: ProxySpec, target: string, status: number, reason: string): void {
  if (status >= 200 && status < 300) return;
  const said = `${status}${reason ? ` ${reason}` : ''}`;
  // 407 is the standard answer; tinyproxy answers a CONNECT's bad credentials with 401.
  if (status === 407 || status === 401) {
    throw new TunnelError(
      'NETKIT_TUNNEL_AUTH',
      `proxy ${proxy.href}: ${said} to CONNECT ${target}: ${
        proxy.username === undefined
          ? 'the proxy requires credentials; put them in the proxy URL (http://user:password@host:port)'
          : 'the proxy refused the user name and password given'
      }`,
      { proxy: proxy.href, target, status },
    );
  }
  throw new TunnelError(
    'NETKIT_TUNNEL_FAILED',
    `proxy ${proxy.href}: ${said} to CONNECT ${target}: ${meaning(status)}`,
    { proxy: proxy.href, target, status },
  );
}

/** meaning says what a proxy's refusal usually means. */
function meaning(status: number): string {
  switch (status) {
    case 400:
      return 'the proxy did not accept the request (a bad target?)';
    case 403:
      return 'the proxy does not allow a tunnel to this target (its ACL or ConnectPort rules)';
    case 404:
      return 'the proxy does not know this host';
    case 405:
      return 'the proxy does not allow CONNECT';
    case 500:
      return 'the proxy failed, often because it could not connect to the target (tinyproxy says so with 500)';
    case 502:
      return 'the proxy could not connect to the target (refused, unreachable, or its name did not resolve)';
    case 503:
      return 'the proxy could not connect to the target, or is overloaded';
    case 504:
      return 'the proxy timed out connecting to the target';
    default:
      return status >= 300 && status < 400
        ? 'the proxy redirects instead of tunnelling; it is not a forward proxy for CONNECT'
        : 'the proxy refused the tunnel';
  }
}

/** shown is up to 64 bytes of a reply, escaped, for a message. */
function shown(bytes: Buffer): string {
  const cut = bytes.subarray(0, 64);
  return `${JSON.stringify(safeText(cut.toString('latin1')))}${bytes.length > 64 ? '…' : ''}`;
}
