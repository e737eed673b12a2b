import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type WebSocket from 'ws';
import { ConnectionError, WsError } from '../../errors.js';
import { backoffDelay } from '../../internal/backoff.js';
import { unixUrlText } from '../../tcp/unix-url.js';
import { CLOSE, closeCodeOf, isNormalClose, type Sendable, toMessage, type WsMessage } from '../message.js';
import { MessageQueue } from '../message-queue.js';
import { RttPings } from '../rtt.js';
import { closeText } from '../server/peer.js';
import { type Opened, openSocket } from './open.js';
import { type ResolvedClientOptions, resolveClientOptions, type WsClientOptions } from './options.js';

/** WsClientEvents are what a WsClient emits, for display and logging. */
export interface WsClientEvents {
  /** open: the connection is up again after a reconnect (dialWs resolving is the first open). */
  open: [
    {
      /** url is the server's URL. */
      url: string;
      /** protocol is the subprotocol agreed, '' for none. */
      protocol: string;
      /** reconnect counts the reconnects so far, this one included. */
      reconnect: number;
    },
  ];
  /** close: the connection ended. */
  close: [
    {
      /** code is the close code (1006 when the connection dropped without a close frame). */
      code: number;
      /** reason is the close frame's reason text. */
      reason: string;
      /** reconnecting is true when the client will try again. */
      reconnecting: boolean;
    },
  ];
  /** reconnecting: a reconnect is scheduled after a drop or a failed attempt. */
  reconnecting: [
    {
      /** attempt counts the attempts since the last successful connection, from 1. */
      attempt: number;
      /** delayMs is the backoff before this attempt. */
      delayMs: number;
      /** error is why the connection dropped, or why the previous attempt failed. */
      error?: Error;
    },
  ];
  /** ping: the server sent a ping (answered automatically). */
  ping: [
    {
      /** payload is the ping's application data. */
      payload: Buffer;
    },
  ];
  /** pong: a pong arrived. */
  pong: [
    {
      /** payload is the pong's application data. */
      payload: Buffer;
      /** rttMs is the round-trip time when it answers a ping this client sent. */
      rttMs?: number;
    },
  ];
}

const HIGH_WATER = 64;
/** HEARTBEAT is the payload of heartbeat pings, so their pongs are not reported as the caller's. */
const HEARTBEAT = Buffer.from('nkhb', 'latin1');

/**
 * WsClient is an open WebSocket connection (see dialWs). Iterate it for
 * messages; send(), ping() and close() it. With `reconnect`, a dropped
 * connection is reopened behind the scenes: iteration goes on, sends wait
 * for the new connection, and the preamble is sent again first.
 */
export class WsClient extends EventEmitter<WsClientEvents> implements AsyncIterable<WsMessage> {
  readonly #o: ResolvedClientOptions;
  readonly #queue: MessageQueue;
  readonly #pings = new RttPings();
  readonly #closed: Promise<{ code: number; reason: string }>;
  #resolveClosed!: (v: { code: number; reason: string }) => void;
  #ws: WebSocket;
  /** While reconnecting, the promise of the next socket. */
  #reopening: Promise<WebSocket> | undefined;
  #closing = false;
  #reconnects = 0;
  readonly #abort = new AbortController();

  private constructor(ws: WebSocket, o: ResolvedClientOptions) {
    super();
    this.#o = o;
    this.#ws = ws;
    this.#queue = new MessageQueue({
      highWater: HIGH_WATER,
      pause: () => this.#ws.pause(),
      resume: () => this.#ws.resume(),
    });
    this.#closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    o.signal?.addEventListener('abort', () => void this.close(CLOSE.GOING_AWAY), { once: true });
  }

  /** connect opens the first connection and sends the preamble; dialWs() is the public name. */
  static async connect(url: string | URL, options?: WsClientOptions): Promise<WsClient> {
    const o = resolveClientOptions(url instanceof URL ? url.href : url, options);
    const opened = await openSocket(o, o.signal);
    const client = new WsClient(opened.ws, o);
    client.#attach(opened);
    await client.#sendPreamble(opened.ws);
    return client;
  }

  /** url is the server's URL. */
  get url(): string {
    const { url, socketPath } = this.#o;
    return socketPath === undefined ? url.href : unixUrlText(url, socketPath);
  }

  /** protocol is the subprotocol the server chose ('' when none). */
  get protocol(): string {
    return this.#ws.protocol;
  }

  /** reconnects counts the connections reopened after a drop. */
  get reconnects(): number {
    return this.#reconnects;
  }

  /** closed resolves with the final close code and reason. */
  get closed(): Promise<{
    /** code is the close code (1006 when no close frame came). */
    code: number;
    /** reason is the close frame's reason text. */
    reason: string;
  }> {
    return this.#closed;
  }

  #attach(opened: Opened): void {
    const ws = opened.ws;
    for (const m of opened.take()) this.#queue.push(m);
    ws.on('message', (data: Buffer, binary: boolean) => this.#queue.push(toMessage(data, binary)));
    ws.on('ping', (payload: Buffer) => this.emit('ping', { payload }));
    const stopHeartbeat = heartbeat(ws, this.#o.heartbeat);
    ws.on('pong', (payload: Buffer) => {
      if (payload.equals(HEARTBEAT)) return;
      const rttMs = this.#pings.pong(payload);
      this.emit('pong', rttMs === undefined ? { payload } : { payload, rttMs });
    });
    // A protocol error (oversize, bad UTF-8) ends in 'close' with 1006 on this side, because the
    // client stops reading; the code it sent the server says what really happened.
    let sent: { code: number; reason: string } | undefined;
    ws.on('error', (err) => {
      const code = closeCodeOf(err);
      if (code !== undefined) sent = { code, reason: err.message };
    });
    ws.once('close', (code: number, reasonBuf: Buffer) => {
      stopHeartbeat();
      if (code === CLOSE.ABNORMAL && sent) this.#onClose(sent.code, sent.reason);
      else this.#onClose(code, reasonBuf.toString('utf8'));
    });
  }

  async #sendPreamble(ws: WebSocket): Promise<void> {
    for (const m of this.#o.preamble) await write(ws, m, typeof m !== 'string');
  }

  #onClose(code: number, reason: string): void {
    this.#pings.cancel();
    const reconnecting = !this.#closing && this.#o.reconnect !== undefined;
    this.emit('close', { code, reason, reconnecting });
    if (reconnecting) {
      this.#reopening = this.#reopen(code, reason);
      // Waiting senders see the failure; nobody else needs to.
      this.#reopening.catch(() => {});
      return;
    }
    if (this.#closing || isNormalClose(code)) this.#queue.end();
    else
      this.#queue.fail(new WsError('NETKIT_WS_CLOSED', closeText(code, reason), { closeCode: code, reason }));
    this.#resolveClosed({ code, reason });
  }

  async #reopen(code: number, reason: string): Promise<WebSocket> {
    const b = this.#o.reconnect!;
    let error: Error = new WsError('NETKIT_WS_CLOSED', closeText(code, reason), { closeCode: code, reason });
    for (let attempt = 0; attempt < b.retries; attempt++) {
      const delayMs = backoffDelay(b, attempt);
      this.emit('reconnecting', { attempt: attempt + 1, delayMs, error });
      try {
        await sleep(delayMs, undefined, { signal: this.#abort.signal });
        const opened = await openSocket(this.#o, this.#abort.signal);
        const ws = opened.ws;
        this.#ws = ws;
        this.#attach(opened);
        await this.#sendPreamble(ws);
        this.#reconnects++;
        this.#reopening = undefined;
        this.emit('open', { url: this.url, protocol: ws.protocol, reconnect: this.#reconnects });
        return ws;
      } catch (err) {
        if (this.#closing) break;
        error = err as Error;
        // A refusal that will not change by retrying (403 origin, 404 path) ends the client.
        if (
          error instanceof WsError &&
          error.status !== undefined &&
          error.status < 500 &&
          error.status !== 429
        )
          break;
      }
    }
    this.#reopening = undefined;
    if (this.#closing) {
      this.#queue.end();
      this.#resolveClosed({ code: CLOSE.NORMAL, reason: '' });
    } else {
      this.#queue.fail(error);
      this.#resolveClosed({ code, reason });
    }
    throw error;
  }

  /**
   * send sends a message (strings as text, bytes as binary unless `binary`
   * says otherwise) and resolves once it is handed to the socket. While
   * reconnecting it waits for the new connection.
   */
  async send(data: Sendable, options: { binary?: boolean } = {}): Promise<void> {
    if (this.#closing)
      throw new ConnectionError('NETKIT_CONNECTION_CLOSED', `${this.url}: websocket is closed`);
    const ws = this.#reopening ? await this.#reopening : this.#ws;
    if (ws.readyState !== 1) {
      throw new WsError('NETKIT_WS_CLOSED', `${this.url}: websocket is not open`, {
        closeCode: CLOSE.ABNORMAL,
      });
    }
    await write(ws, data, options.binary ?? typeof data !== 'string');
  }

  /** ping sends a ping and resolves with the round-trip time in ms (NaN if the connection went away first). */
  ping(): Promise<number> {
    return this.#pings.ping(this.#ws);
  }

  /** close sends a close frame and resolves with the close code and reason once the server answers (or closeTimeout passes). */
  async close(
    code: number = CLOSE.NORMAL,
    reason = '',
  ): Promise<{
    /** code is the close code the connection ended with. */
    code: number;
    /** reason is the close frame's reason text. */
    reason: string;
  }> {
    if (!this.#closing) {
      this.#closing = true;
      this.#abort.abort();
      const ws = this.#ws;
      if (ws.readyState <= 1) {
        ws.close(code, reason);
        const force = setTimeout(() => ws.terminate(), this.#o.closeTimeout);
        force.unref();
        void this.#closed.then(() => clearTimeout(force));
      }
    }
    return this.#closed;
  }

  /** [Symbol.asyncIterator] yields each message received, and ends when the client is closed for good. */
  [Symbol.asyncIterator](): AsyncIterator<WsMessage> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** [Symbol.asyncDispose] runs close(), so `await using ws = await dialWs(…)` closes at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * heartbeat pings `ws` every `intervalMs` and terminates it when the pong to
 * the previous ping has not come back: without it, a client whose server
 * went silent (no FIN, no RST) waits for TCP's retransmission timeout,
 * about 15 minutes on Linux, before `reconnect` even starts. Any pong
 * counts, as in the server's heartbeat. Returns a function that stops it.
 */
function heartbeat(ws: WebSocket, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  let answered = true;
  const onPong = () => {
    answered = true;
  };
  ws.on('pong', onPong);
  const timer = setInterval(() => {
    if (!answered) {
      ws.terminate();
      return;
    }
    answered = false;
    if (ws.readyState === 1) ws.ping(HEARTBEAT);
  }, intervalMs);
  // Like the server's: a heartbeat alone does not keep the process alive.
  timer.unref();
  return () => {
    clearInterval(timer);
    ws.off('pong', onPong);
  };
}

function write(ws: WebSocket, data: Sendable, binary: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.send(data, { binary }, (err) => {
      if (err)
        reject(
          new WsError('NETKIT_WS_CLOSED', `websocket send: ${err.message}`, {
            cause: err,
            closeCode: CLOSE.ABNORMAL,
          }),
        );
      else resolve();
    });
  });
}

/**
 * dialWs opens a WebSocket connection to `url` (ws:, wss:, or http:/https:
 * which mean the same) and resolves once the opening handshake succeeded and
 * the preamble is sent. Rejects with NETKIT_INVALID_ARGUMENT, a dial, lookup,
 * TLS or timeout error, or NETKIT_WS_HANDSHAKE (with the HTTP `status`).
 */
export function dialWs(url: string | URL, options?: WsClientOptions): Promise<WsClient> {
  return WsClient.connect(url, options);
}
