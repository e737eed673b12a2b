import type { Conn } from '../tcp/conn.js';
import { RpcProtocolError } from './errors.js';

/** MAX_HEAD_BYTES bounds an HTTP head read on either side of Go's RPC handshake. */
export const MAX_HEAD_BYTES = 8 * 1024;

/**
 * connectRequest is the client's side of Go's RPC handshake: rpc.DialHTTP's
 * `CONNECT path HTTP/1.0` with bare LF, plus a User-Agent. The header also
 * makes the request at least 68 bytes long: a gob server reads the `C` (67)
 * as the length of a message, so it gets a whole one, finds no valid type
 * definition in it and closes at once, instead of waiting for 40 more bytes
 * while the client waits for an answer (a client dialled with --http to a
 * plain server then fails fast).
 */
export function connectRequest(path: string): string {
  return `CONNECT ${path} HTTP/1.0\nUser-Agent: netkit-rpc (rpc.DialHTTP handshake)\n\n`;
}

/** HeadClosedError is readHead's error for a peer that closed before the head ended; `received` is what it sent. */
export class HeadClosedError extends RpcProtocolError {
  readonly received: Buffer;
  constructor(message: string, received: Buffer) {
    super(message);
    this.received = received;
  }
}

/**
 * readHead reads until the blank line that ends an HTTP head — bare LF, as
 * Go's RPC handshake writes it, or CRLF — and returns the head and the bytes
 * that followed it (the start of the RPC stream). Empty lines before the
 * head are skipped (RFC 9112 section 2.2). `check` sees the bytes received
 * so far after each read and may throw to stop early. It throws
 * HeadClosedError (NETKIT_RPC_PROTOCOL) with `messages.closed` at EOF and
 * RpcProtocolError with `messages.tooLong` past MAX_HEAD_BYTES.
 */
export async function readHead(
  conn: Conn,
  messages: { closed: string; tooLong: string },
  check?: (received: Buffer) => void,
): Promise<{ head: string; rest: Buffer }> {
  let buf = Buffer.alloc(0);
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) throw new HeadClosedError(messages.closed, buf);
    buf = Buffer.concat([buf, chunk]);
    check?.(buf);
    let start = 0;
    while (start < buf.length && (buf[start] === 0x0a || buf[start] === 0x0d)) start++;
    const lf = buf.indexOf('\n\n', start);
    const crlf = buf.indexOf('\r\n\r\n', start);
    const end = lf >= 0 && (crlf < 0 || lf < crlf) ? lf + 2 : crlf >= 0 ? crlf + 4 : -1;
    if (end >= 0) return { head: buf.subarray(start, end).toString('latin1'), rest: buf.subarray(end) };
    if (buf.length > MAX_HEAD_BYTES) throw new RpcProtocolError(messages.tooLong);
  }
}
