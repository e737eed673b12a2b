import type { Conn } from '../../tcp/conn.js';
import { RpcProtocolError } from '../errors.js';
import { connectRequest, MAX_HEAD_BYTES, readHead } from '../http-head.js';
import { CONNECTED } from '../server/http-connect.js';
import { guessWire, mismatchError, type WireSide } from '../wire-guess.js';

/**
 * httpConnect performs Go's HTTP CONNECT and returns the bytes that followed
 * the response head. A server that answers in anything but HTTP fails it at
 * once, saying what it speaks.
 */
export async function httpConnect(conn: Conn, path: string, side: WireSide): Promise<Buffer> {
  await conn.write(connectRequest(path));
  const { head, rest } = await readHead(
    conn,
    {
      closed: 'rpc: the server closed the connection during the HTTP handshake',
      tooLong: `rpc: HTTP response head over ${MAX_HEAD_BYTES} bytes`,
    },
    (received) => {
      const seen = guessWire(received);
      if (seen !== undefined && seen !== 'http') throw mismatchError(side, seen, received);
    },
  );
  const status = head.split(/\r?\n/, 1)[0] ?? '';
  // Go's client checks the status text only: "200 Connected to Go RPC".
  if (status.slice(status.indexOf(' ') + 1) !== CONNECTED) {
    throw new RpcProtocolError(
      `rpc: unexpected HTTP response: ${JSON.stringify(status)}; the server speaks HTTP but is not Go's rpc.HandleHTTP ` +
        'at this path (if it serves JSON-RPC 2.0 over HTTP POST, use the jsonrpc2 codec: --codec jsonrpc2)',
    );
  }
  return rest;
}
