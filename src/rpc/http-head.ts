import type { Conn } from '../tcp/conn.js';
import { RpcProtocolError } from './errors.js';

/** MAX_HEAD_BYTES bounds an HTTP head read on either side of Go's RPC handshake. */
export const MAX_HEAD_BYTES = 8 * 1024;

/**
 * readHead reads until the blank line that ends an HTTP head — bare LF, as
 * Go's RPC handshake writes it, or CRLF — and returns the head and the bytes
 * that followed it (the start of the RPC stream). It throws
 * RpcProtocolError with `messages.closed` at EOF and `messages.tooLong`
 * past MAX_HEAD_BYTES.
 */
export async function readHead(
  conn: Conn,
  messages: { closed: string; tooLong: string },
): Promise<{ head: string; rest: Buffer }> {
  let buf = Buffer.alloc(0);
  for (;;) {
    const chunk = await conn.read();
    if (chunk === null) throw new RpcProtocolError(messages.closed);
    buf = Buffer.concat([buf, chunk]);
    const lf = buf.indexOf('\n\n');
    const crlf = buf.indexOf('\r\n\r\n');
    const end = lf >= 0 && (crlf < 0 || lf < crlf) ? lf + 2 : crlf >= 0 ? crlf + 4 : -1;
    if (end >= 0) return { head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end) };
    if (buf.length > MAX_HEAD_BYTES) throw new RpcProtocolError(messages.tooLong);
  }
}
