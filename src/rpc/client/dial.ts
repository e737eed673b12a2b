import { InvalidArgumentError } from '../../errors.js';
import { checkInt } from '../../internal/validate.js';
import { type DialOptions, dial } from '../../tcp/dial.js';
import { checkCodec, createClientCodec } from '../codec/index.js';
import type { CodecName } from '../codec/types.js';
import { HeadClosedError } from '../http-head.js';
import { RPC_PATH } from '../server/http-connect.js';
import { probeCodec, probedError, type WireSide } from '../wire-guess.js';
import { RpcClient } from './client.js';
import { httpConnect } from './http-connect.js';
import { probeWire } from './probe.js';

/** RpcDialOptions configures dialRpc(). */
export interface RpcDialOptions extends DialOptions {
  /** codec is `gob` (default) or `json` (Go's net/rpc/jsonrpc). */
  codec?: CodecName;
  /** http dials as rpc.DialHTTP does: `CONNECT /_goRPC_` first; a string is another path. */
  http?: boolean | string;
  /** maxMessageBytes caps one reply (default 16 MiB). */
  maxMessageBytes?: number;
}

/**
 * dialRpc connects to a Go net/rpc server (or netkit's) at `address`, like
 * rpc.Dial, jsonrpc.Dial (`codec: 'json'`) or rpc.DialHTTP (`http: true`).
 * `address` is `host:port` or `unix:/path`; `tls` speaks TLS first (the
 * HTTP CONNECT, if any, runs inside it), its pin checked before a byte of
 * RPC is sent. Rejects with the dial's error (NETKIT_TLS_FAILED among
 * them), or NETKIT_RPC_PROTOCOL when the HTTP handshake fails.
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
  const path = http ? (typeof http === 'string' ? http : RPC_PATH) : false;
  const side: WireSide = { codec, http: path !== false };
  // Asked only after a close without a word (see probe.ts), without the caller's signal: it has its own bound.
  const { signal: _signal, ...probeDial } = dialOptions;
  let initial: Buffer | undefined;
  if (path) {
    try {
      // The handshake shares the dial's time budget: a server that never answers must not hang us.
      const budget = dialOptions.timeout ?? 30_000;
      if (budget > 0) conn.setReadDeadline(Date.now() + budget);
      initial = await httpConnect(conn, path, side);
      conn.setReadDeadline(null);
    } catch (err) {
      conn.destroy();
      if (err instanceof HeadClosedError && err.received.length === 0) {
        // Closed without a word: a plain net/rpc server does that with an HTTP request, and so does a dying one.
        const found =
          (await probeWire(address, { codec, http: false }, probeDial)) ??
          (await probeWire(address, { codec: probeCodec(codec), http: false }, probeDial));
        if (found) throw probedError(side, true, found.seen, found.head);
      }
      throw err;
    }
  }
  return new RpcClient(conn, createClientCodec(codec, maxMessageBytes), initial, {
    http: path !== false,
    probe: () => probeWire(address, { codec: probeCodec(codec), http: path }, probeDial),
  });
}
