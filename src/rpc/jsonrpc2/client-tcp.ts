/**
 * The JSON-RPC 2.0 client's TCP transport: one connection, every call
 * multiplexed on it by id. Requests are written as JSON plus `\n` (jayson's
 * TCP server needs the newline; a netkit or Go-style server does not care);
 * responses are split as whole JSON values, newline or not, and matched to
 * their calls by id, in whatever order they come.
 *
 * A server that speaks something else fails every call at once with advice
 * (NETKIT_RPC_PROTOCOL, `detected`; see wire-guess.ts): its first bytes show
 * it, or, when it closes without a word, a probe on a new connection. The
 * first request starts with a space, which JSON servers skip and a gob
 * server cannot read, so that a gob server closes at once instead of
 * waiting for more bytes.
 */
import { ConnectionError } from '../../errors.js';
import type { FrameDecoder } from '../../framing/types.js';
import type { Conn } from '../../tcp/conn.js';
import type { ProbeResult } from '../client/probe.js';
import { parseJson } from '../codec/lossless-json.js';
import { RpcProtocolError } from '../errors.js';
import { type JsonStreamOptions, JsonValueDecoder } from '../json-stream.js';
import { guessWire, mismatchError, probedError, SNIFF_BYTES, type WireSide } from '../wire-guess.js';
import { JsonRpcProtocolError } from './errors.js';
import { type Exchange, type Outcome, readResponses, type Transport } from './transport.js';

interface Waiter {
  remaining: number;
  readonly outcomes: Map<number, Outcome>;
  resolve(outcomes: Map<number, Outcome>): void;
  reject(err: Error): void;
  cleanup(): void;
}

/**
 * MAX_ABANDONED bounds the memory kept for calls that timed out or were
 * aborted, so their late answers are dropped quietly rather than taken for
 * answers to no call. Past it the oldest are forgotten (and a very late
 * answer to one of those then closes the connection as a protocol error).
 */
const MAX_ABANDONED = 10_000;

const SIDE: WireSide = { codec: 'jsonrpc2', http: false };

/**
 * Sniffer passes bytes to the JSON decoder and keeps the first of them, to
 * tell what a server that broke JSON-RPC 2.0 speaks instead.
 */
class Sniffer implements FrameDecoder {
  readonly #inner: FrameDecoder;
  head = Buffer.alloc(0);

  constructor(inner: FrameDecoder) {
    this.#inner = inner;
  }

  get buffered(): number {
    return this.#inner.buffered;
  }

  push(chunk: Buffer, onFrame: (frame: Buffer) => void): void {
    if (this.head.length < SNIFF_BYTES) {
      this.head = Buffer.concat([this.head, chunk.subarray(0, SNIFF_BYTES - this.head.length)]);
    }
    this.#inner.push(chunk, onFrame);
  }

  end(onFrame: (frame: Buffer) => void): void {
    this.#inner.end(onFrame);
  }
}

/** TcpTransport multiplexes exchanges over one connection. */
export class TcpTransport implements Transport {
  readonly #conn: Conn;
  readonly #pending = new Map<number, Waiter>();
  readonly #abandoned = new Set<number>();
  #failure: Error | undefined;
  #closing = false;
  #idle: (() => void) | undefined;
  readonly #probe: (() => Promise<ProbeResult | undefined>) | undefined;
  /** #sent and #answered tell a server that closed on our first request from one that died later. */
  #sent = false;
  #answered = false;

  /** TcpTransport takes over `conn`; `probe` asks the server again in gob when it closes without a word (probe.ts). */
  constructor(
    conn: Conn,
    limits: JsonStreamOptions,
    options: { probe?: () => Promise<ProbeResult | undefined> } = {},
  ) {
    this.#conn = conn;
    this.#probe = options.probe;
    void this.#readLoop(new Sniffer(new JsonValueDecoder(limits)));
  }

  exchange(x: Exchange): Promise<Map<number, Outcome>> {
    if (this.#failure || this.#closing) return Promise.reject(this.#unusable());
    if (x.signal.aborted) return Promise.reject(x.signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        this.#forget(waiter);
        reject(x.signal.reason);
      };
      const waiter: Waiter = {
        remaining: x.ids.length,
        outcomes: new Map(),
        resolve,
        reject,
        cleanup: () => x.signal.removeEventListener('abort', onAbort),
      };
      x.signal.addEventListener('abort', onAbort, { once: true });
      for (const id of x.ids) this.#pending.set(id, waiter);
      const lead = this.#sent ? '' : ' ';
      this.#sent = true;
      this.#conn.write(`${lead}${x.body}\n`).then(
        () => {
          // Notifications are done once written: nothing will come back.
          if (x.ids.length === 0) {
            waiter.cleanup();
            resolve(waiter.outcomes);
          }
        },
        (err: Error) => {
          this.#fail(err);
          // #fail reached the calls among #pending; a notification is not there.
          if (x.ids.length === 0) {
            waiter.cleanup();
            reject(err);
          }
        },
      );
    });
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#pending.size > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    await this.#conn.close();
  }

  destroy(err: Error): void {
    this.#fail(err);
  }

  async #readLoop(decoder: Sniffer): Promise<void> {
    let err: Error;
    try {
      for await (const frame of this.#conn.frames(decoder)) {
        let value: unknown;
        try {
          value = parseJson(frame.toString('utf8'));
        } catch (cause) {
          throw new JsonRpcProtocolError(`JSON-RPC server sent invalid JSON: ${(cause as Error).message}`, {
            cause,
          });
        }
        this.#route(value);
        this.#answered = true;
        if (this.#failure) return;
      }
      err = new ConnectionError(
        'NETKIT_CONNECTION_CLOSED',
        `${this.#conn.remoteAddr?.address ?? 'server'}: the server closed the connection`,
        this.#conn.remoteAddr?.address,
      );
      if (!this.#answered && this.#sent && decoder.head.length === 0 && this.#probe && !this.#failure) {
        // Closed without a word: a gob server does that with JSON, and so does a dying server.
        const found = await this.#probe();
        if (found && found.seen !== 'jsonrpc2') err = probedError(SIDE, false, found.seen, found.head);
      }
    } catch (e) {
      err = this.#explain(e as Error, decoder.head);
    }
    this.#fail(err);
  }

  /** #explain turns a failure before any answer, on bytes of another protocol, into advice. */
  #explain(err: Error, head: Buffer): Error {
    if (this.#answered || head.length === 0) return err;
    if (err instanceof RpcProtocolError && err.detected !== undefined) return err;
    const seen = guessWire(head);
    return seen !== undefined && seen !== 'jsonrpc2' ? mismatchError(SIDE, seen, head, err) : err;
  }

  /** #route hands each response of a value to the call it answers. */
  #route(value: unknown): void {
    for (const { id, outcome } of readResponses(value)) {
      if (id === null && 'error' in outcome) {
        // The server could not tell which request this answers (bad JSON, or a batch it
        // refused); nor can we, so every call in progress fails with it.
        this.#fail(outcome.error);
        return;
      }
      const waiter = typeof id === 'number' ? this.#pending.get(id) : undefined;
      if (waiter === undefined) {
        if (typeof id === 'number' && this.#abandoned.delete(id)) continue; // a late answer to a call given up on
        throw new JsonRpcProtocolError(
          `JSON-RPC server answered id ${JSON.stringify(id)}, which is no call of ours`,
        );
      }
      this.#pending.delete(id as number);
      waiter.outcomes.set(id as number, outcome);
      if (--waiter.remaining === 0) {
        waiter.cleanup();
        waiter.resolve(waiter.outcomes);
        this.#checkIdle();
      }
    }
  }

  /** #forget drops a waiter that timed out or was aborted, remembering its ids to drop their answers. */
  #forget(waiter: Waiter): void {
    waiter.cleanup();
    for (const [id, w] of this.#pending) {
      if (w !== waiter) continue;
      this.#pending.delete(id);
      this.#abandoned.add(id);
      if (this.#abandoned.size > MAX_ABANDONED) {
        this.#abandoned.delete(this.#abandoned.values().next().value as number);
      }
    }
    this.#checkIdle();
  }

  /** #fail ends the transport: every call in progress rejects with `err` now, and the connection is dropped. */
  #fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    const waiters = new Set(this.#pending.values());
    this.#pending.clear();
    for (const w of waiters) {
      w.cleanup();
      w.reject(err);
    }
    this.#conn.destroy();
    this.#checkIdle();
  }

  #checkIdle(): void {
    if (this.#pending.size === 0 && this.#idle) {
      const idle = this.#idle;
      this.#idle = undefined;
      idle();
    }
  }

  #unusable(): Error {
    const address = this.#conn.remoteAddr?.address;
    return new ConnectionError(
      'NETKIT_CONNECTION_CLOSED',
      `${address ?? 'server'}: the JSON-RPC client is closed${this.#failure ? ` (${this.#failure.message})` : ''}`,
      address,
      { cause: this.#failure },
    );
  }
}
