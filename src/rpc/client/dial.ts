import { InvalidArgumentError } from '../../errors.js';
import { checkInt } from '../../internal/validate.js';
import type { Conn } from '../../tcp/conn.js';
import { type DialOptions, dial } from '../../tcp/dial.js';
import { checkCodec, createClientCodec } from '../codec/index.js';
import type { CodecName } from '../codec/types.js';
import { RpcProtocolError } from '../errors.js';
import { MAX_HEAD_BYTES, readHead } from '../http-head.js';
import { CONNECTED, RPC_PATH } from '../server/http-connect.js';
import { RpcClient } from './client.js';

/** RpcDialOptions configures dialRpc(). */
export interface RpcDialOptions extends DialOptions {
  /** codec is `gob` (default) or `json` (Go's net/rpc/jsonrpc). */
  codec?: CodecName;
  /** http dials as rpc.DialHTTP does: `CONNECT /_goRPC_` first; a string is another path. */
  http?: boolean | string;
  /** maxMessageBytes caps one reply (default 16 MiB). */
  maxMessageBytes?: number;
}

/** handshake performs Go's HTTP CONNECT and returns the bytes that followed the response head. */
async function handshake(conn: Conn, path: string): Promise<Buffer> {
  await conn.write(`CONNECT ${path} HTTP/1.0\n\n`);
  const { head, rest } = await readHead(conn, {
    closed: 'rpc: the server closed the connection during the HTTP handshake',
    tooLong: `rpc: HTTP response head over ${MAX_HEAD_BYTES} bytes`,
  });
  const status = head.split(/\r?\n/, 1)[0] ?? '';
  // Go's client checks the status text only: "200 Connected to Go RPC".
  if (status.slice(status.indexOf(' ') + 1) !== CONNECTED) {
    throw new RpcProtocolError(`rpc: unexpected HTTP response: ${status}`);
  }
  return rest;
}

/**
 * dialRpc connects to a Go net/rpc server (or netkit's) at `address`, like
 * rpc.Dial, jsonrpc.Dial (`codec: 'json'`) or rpc.DialHTTP (`http: true`).
 * Rejects with the dial's error, or NETKIT_RPC_PROTOCOL when the HTTP
 * handshake fails.
 */
export async function dialRpc(address: string, options: RpcDialOptions = {}): Promise<RpcClient> {
  const { codec: codecOpt, http, maxMessageBytes: maxOpt, ...dialOptions } = options;
  const codec = checkCodec('codec', codecOpt ?? 'gob');
  const maxMessageBytes = checkInt('maxMessageBytes', maxOpt ?? 16 * 1024 * 1024, 64, 2 ** 31 - 1);
  if (
    http !== undefined &&
    typeof http !== 'boolean' &&
    (typeof http !== 'string' || !http.startsWith('/'))
  ) {
    throw new InvalidArgumentError('http', 'must be a boolean or a path starting with /');
  }
  const conn = await dial(address, dialOptions);
  let initial: Buffer | undefined;
  if (http) {
    try {
      // The handshake shares the dial's time budget: a server that never answers must not hang us.
      const budget = dialOptions.timeout ?? 30_000;
      if (budget > 0) conn.setReadDeadline(Date.now() + budget);
      initial = await handshake(conn, typeof http === 'string' ? http : RPC_PATH);
      conn.setReadDeadline(null);
    } catch (err) {
      conn.destroy();
      throw err;
    }
  }
  return new RpcClient(conn, createClientCodec(codec, maxMessageBytes), initial);
}
