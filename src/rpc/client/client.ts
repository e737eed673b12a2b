/**
 * RpcClient: Go's rpc.Client for one connection. Calls are multiplexed by
 * Seq: any number may be in flight and replies may come back in any order.
 * A server error rejects that call with ServerError and the connection goes
 * on; when the connection dies (or the bytes go bad) every pending call
 * rejects at once with the transport error, as Go's client does.
 *
 * Until the first reply, the client also watches for a server that speaks
 * something else (the other codec, JSON-RPC 2.0, HTTP): its first bytes end
 * every call at once with NETKIT_RPC_PROTOCOL saying what to dial instead
 * (wire-guess.ts); so does a close without a word in answer to the first
 * call, when a probe on a new connection shows the server speaks another
 * codec (probe.ts; dialRpc's clients only).
 */
import { AbortError, ConnectionError, NetkitError, TimeoutError } from '../../errors.js';
import { RawDecoder } from '../../framing/raw.js';
import type { Conn } from '../../tcp/conn.js';
import type { ClientCodec } from '../codec/types.js';
import { RpcProtocolError, ServerError } from '../errors.js';
import {
  guessWire,
  isForeign,
  mismatchError,
  probedError,
  SNIFF_BYTES,
  type WireSide,
} from '../wire-guess.js';
import type { ProbeResult } from './probe.js';

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

/** RpcClientOptions tell an RpcClient how its connection was made. */
export interface RpcClientOptions {
  /** http is true when the connection went through Go's HTTP CONNECT handshake. */
  http?: boolean;
  /** probe asks the server again, on a new connection, in the other codec (see probe.ts). */
  probe?: () => Promise<ProbeResult | undefined>;
}

/** RpcClient is a connected net/rpc client; make one with dialRpc(). */
export class RpcClient implements AsyncDisposable {
  /** conn is the connection calls travel over. */
  readonly conn: Conn;
  readonly #codec: ClientCodec;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  #error: Error | undefined;
  readonly #done: Promise<void>;
  readonly #side: WireSide | undefined;
  readonly #probe: (() => Promise<ProbeResult | undefined>) | undefined;
  /** #head holds the first bytes the server sent until a reply has been read, to tell what it speaks. */
  #head: Buffer | undefined = Buffer.alloc(0);

  /**
   * RpcClient takes over `conn` (already past any HTTP handshake); `initial`
   * holds bytes read after it. dialRpc() makes one.
   *
   * @internal
   */
  constructor(conn: Conn, codec: ClientCodec, initial?: Buffer, options: RpcClientOptions = {}) {
    this.conn = conn;
    this.#codec = codec;
    this.#side = codec.name === undefined ? undefined : { codec: codec.name, http: Boolean(options.http) };
    this.#probe = options.probe;
    const socket = conn.socket;
    const uncork = () => socket.uncork();
    const onChunk = (chunk: Buffer) => {
      if (this.#head !== undefined) this.#sniff(chunk);
      const replies = this.#codec.push(chunk);
      // Callers awaiting these replies usually call again in their continuations, microtasks
      // queued as the replies resolve them. Corked until a microtask queued after theirs, their
      // requests leave in one writev instead of one write system call each: with many calls in
      // flight those syscalls were over half of the client's CPU per call. A chunk with one
      // reply (one call in flight) is not corked, so nothing waits there.
      const cork = replies.length > 1 && !socket.destroyed;
      if (cork) socket.cork();
      try {
        for (const r of replies) {
          this.#head = undefined;
          const p = this.#pending.get(r.seq);
          // A reply to a call that timed out or was cancelled is dropped, as Go drops unknown seqs.
          if (!p) continue;
          this.#pending.delete(r.seq);
          p.cleanup?.();
          if (r.error !== '') p.reject(new ServerError(r.error));
          else p.resolve(r.reply);
        }
      } finally {
        if (cork) queueMicrotask(uncork);
      }
    };
    this.#done = (async () => {
      if (initial && initial.length > 0) onChunk(initial);
      await conn.consumeFrames(new RawDecoder(), onChunk);
    })().then(
      async () => {
        const closed = new ConnectionError(
          'NETKIT_CONNECTION_CLOSED',
          'rpc: the server closed the connection',
          conn.remoteAddr?.address,
        );
        this.#fail(this.#explain(closed) ?? (await this.#probed()) ?? closed);
      },
      (err: Error) => this.#fail(this.#explain(err) ?? err),
    );
  }

  /** #sniff keeps the first bytes of the reply stream and fails at once when they are another protocol's. */
  #sniff(chunk: Buffer): void {
    const head = this.#head!;
    if (head.length < SNIFF_BYTES) {
      this.#head = Buffer.concat([head, chunk.subarray(0, SNIFF_BYTES - head.length)]);
    }
    const seen = guessWire(this.#head!);
    if (this.#side && seen && isForeign(this.#side, seen)) throw mismatchError(this.#side, seen, this.#head!);
  }

  /**
   * #explain turns a connection that ended before any reply, in the middle
   * of bytes of another protocol (which the codec may have choked on), into
   * advice; undefined when there is nothing to add.
   */
  #explain(err: Error): Error | undefined {
    const head = this.#head;
    if (head === undefined || head.length === 0 || this.#side === undefined) return undefined;
    if (err instanceof RpcProtocolError && err.detected !== undefined) return undefined;
    const seen = guessWire(head);
    return seen && isForeign(this.#side, seen) ? mismatchError(this.#side, seen, head, err) : undefined;
  }

  /**
   * #probed handles an orderly close without one byte in answer to the first
   * call: what a server of the other codec does, and what a dying server
   * does. The probe tells which; undefined when it is not the other codec.
   */
  async #probed(): Promise<Error | undefined> {
    const side = this.#side;
    if (side === undefined || this.#probe === undefined || this.#error !== undefined) return undefined;
    if (this.#head?.length !== 0 || this.#seq === 0) return undefined;
    const found = await this.#probe();
    return found && isForeign(side, found.seen)
      ? probedError(side, false, found.seen, found.head)
      : undefined;
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
                      `rpc: ${serviceMethod} timed out after ${timeout} ms${this.#silenceHint()}`,
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

  /**
   * #silenceHint adds to a timeout what total silence may mean: Go's
   * rpc.HandleHTTP server waits for an HTTP request line that gob bytes
   * never end, so a plain gob client hears nothing at all from it.
   */
  #silenceHint(): string {
    if (this.#head === undefined || this.#head.length > 0 || this.#side?.http !== false) return '';
    return "; the server sent nothing back at all: if it serves RPC over HTTP (Go's rpc.HandleHTTP), dial with http (--http)";
  }

  /** close closes the connection; calls still pending reject with NETKIT_CONNECTION_CLOSED. */
  async close(): Promise<void> {
    this.#fail(
      new ConnectionError('NETKIT_CONNECTION_CLOSED', 'rpc: client closed', this.conn.remoteAddr?.address),
    );
    await this.conn.close().catch(() => {});
    await this.#done;
  }

  /** [Symbol.asyncDispose] runs close(), so `await using client = await dialRpc(…)` closes at scope exit. */
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
