/**
 * RpcClient: Go's rpc.Client for one connection. Calls are multiplexed by
 * Seq: any number may be in flight and replies may come back in any order.
 * A server error rejects that call with ServerError and the connection goes
 * on; when the connection dies (or the bytes go bad) every pending call
 * rejects at once with the transport error, as Go's client does.
 */
import { AbortError, ConnectionError, NetkitError, TimeoutError } from '../../errors.js';
import { RawDecoder } from '../../framing/raw.js';
import type { Conn } from '../../tcp/conn.js';
import type { ClientCodec } from '../codec/types.js';
import { ServerError } from '../errors.js';

/** CallOptions tune one call. */
export interface CallOptions {
  /** signal cancels the call (NETKIT_ABORTED); a reply that comes later is dropped. */
  signal?: AbortSignal;
  /** timeout rejects the call with NETKIT_TIMEOUT after this many ms; 0 or absent: none. */
  timeout?: number;
  /** schema is the gob type of the arguments (see netkit/rpc's `gob`); inferred when absent. */
  schema?: unknown;
}

interface Pending {
  resolve: (reply: unknown) => void;
  reject: (err: Error) => void;
  cleanup?: () => void;
}

/** RpcClient is a connected net/rpc client; make one with dialRpc(). */
export class RpcClient implements AsyncDisposable {
  readonly conn: Conn;
  readonly #codec: ClientCodec;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #error: Error | undefined;
  readonly #done: Promise<void>;

  /** RpcClient takes over `conn` (already past any HTTP handshake); `initial` holds bytes read after it. */
  constructor(conn: Conn, codec: ClientCodec, initial?: Buffer) {
    this.conn = conn;
    this.#codec = codec;
    const onChunk = (chunk: Buffer) => {
      for (const r of this.#codec.push(chunk)) {
        const p = this.#pending.get(r.seq);
        // A reply to a call that timed out or was cancelled is dropped, as Go drops unknown seqs.
        if (!p) continue;
        this.#pending.delete(r.seq);
        p.cleanup?.();
        if (r.error !== '') p.reject(new ServerError(r.error));
        else p.resolve(r.reply);
      }
    };
    this.#done = (async () => {
      if (initial && initial.length > 0) onChunk(initial);
      await conn.consumeFrames(new RawDecoder(), onChunk);
    })().then(
      () =>
        this.#fail(
          new ConnectionError(
            'NETKIT_CONNECTION_CLOSED',
            'rpc: the server closed the connection',
            conn.remoteAddr?.address,
          ),
        ),
      (err: Error) => this.#fail(err),
    );
  }

  /** pending is the number of calls waiting for a reply. */
  get pending(): number {
    return this.#pending.size;
  }

  /** closed is true once the connection is gone; every later call rejects. */
  get closed(): boolean {
    return this.#error !== undefined;
  }

  /**
   * call invokes `serviceMethod` (`Service.Method`) with `args` and resolves
   * with the reply. Rejects with ServerError (NETKIT_RPC_SERVER_ERROR) when
   * the server answers with an error, or with the transport's error.
   */
  call(serviceMethod: string, args: unknown, options: CallOptions = {}): Promise<unknown> {
    if (this.#error) return Promise.reject(this.#error);
    if (typeof serviceMethod !== 'string') {
      return Promise.reject(new TypeError('serviceMethod must be a string'));
    }
    const { signal, timeout } = options;
    if (signal?.aborted) return Promise.reject(new AbortError('rpc call', signal.reason));
    const seq = this.#seq++;
    let bytes: Buffer;
    try {
      bytes = this.#codec.encodeRequest(serviceMethod, seq, args, options.schema);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = { resolve, reject };
      if (signal || (timeout !== undefined && timeout > 0)) {
        const drop = (err: Error) => {
          if (this.#pending.get(seq) !== p) return;
          this.#pending.delete(seq);
          p.cleanup?.();
          reject(err);
        };
        const onAbort = () => drop(new AbortError('rpc call', signal?.reason));
        const timer =
          timeout !== undefined && timeout > 0
            ? setTimeout(
                () =>
                  drop(
                    new TimeoutError(
                      'NETKIT_TIMEOUT',
                      'call',
                      `rpc: ${serviceMethod} timed out after ${timeout} ms`,
                      timeout,
                    ),
                  ),
                timeout,
              )
            : undefined;
        signal?.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        };
      }
      this.#pending.set(seq, p);
      this.conn.send(bytes);
    });
  }

  /** close closes the connection; calls still pending reject with NETKIT_CONNECTION_CLOSED. */
  async close(): Promise<void> {
    this.#fail(
      new ConnectionError('NETKIT_CONNECTION_CLOSED', 'rpc: client closed', this.conn.remoteAddr?.address),
    );
    await this.conn.close().catch(() => {});
    await this.#done;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #fail(err: Error): void {
    if (this.#error) return;
    this.#error =
      err instanceof NetkitError
        ? err
        : new ConnectionError('NETKIT_CONNECTION_CLOSED', err.message, undefined, { cause: err });
    for (const p of this.#pending.values()) {
      p.cleanup?.();
      p.reject(this.#error);
    }
    this.#pending.clear();
    if (!this.conn.socket.destroyed) this.conn.destroy();
  }
}
