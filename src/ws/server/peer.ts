import type { IncomingHttpHeaders } from 'node:http';
import type WebSocket from 'ws';
import { WsError } from '../../errors.js';
import { CLOSE, isNormalClose, type Sendable, toMessage, type WsMessage } from '../message.js';
import { MessageQueue } from '../message-queue.js';
import { RttPings } from '../rtt.js';

/** PeerInfo is what the upgrade request said about a peer. */
export interface PeerInfo {
  id: number;
  remoteAddress: string;
  path: string;
  query: URLSearchParams;
  room: string | undefined;
  headers: IncomingHttpHeaders;
}

// Unread messages before the socket stops reading (TCP backpressure to the peer).
const HIGH_WATER = 64;

/**
 * WsPeer is one server-side WebSocket connection. Iterate it for messages
 * (the socket pauses while the reader lags), send() to it, close() it.
 * send() never lets a slow peer grow memory without bound: past
 * `maxQueueBytes` of unsent data the peer is closed with 1008.
 */
export class WsPeer implements AsyncIterable<WsMessage> {
  readonly id: number;
  /** remoteAddress is the peer's `ip:port`. */
  readonly remoteAddress: string;
  /** path is the request path (without the query). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** room is the broadcast room, in broadcast mode. */
  readonly room: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** socket is the underlying `ws` WebSocket. */
  readonly socket: WebSocket;
  /** closed resolves with the close code and reason once the connection is gone. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** alive is cleared by each heartbeat ping and set by the pong. */
  alive = true;
  messagesIn = 0;
  readonly #maxQueueBytes: number;
  #queue: MessageQueue | undefined;
  readonly #pings = new RttPings();

  constructor(socket: WebSocket, info: PeerInfo, maxQueueBytes: number) {
    this.socket = socket;
    this.id = info.id;
    this.remoteAddress = info.remoteAddress;
    this.path = info.path;
    this.query = info.query;
    this.room = info.room;
    this.headers = info.headers;
    this.#maxQueueBytes = maxQueueBytes;
    this.closed = new Promise((resolve) => {
      socket.once('close', (code: number, reason: Buffer) => {
        const r = reason.toString('utf8');
        if (isNormalClose(code)) this.#queue?.end();
        else
          this.#queue?.fail(
            new WsError('NETKIT_WS_CLOSED', closeText(code, r), { closeCode: code, reason: r }),
          );
        this.#pings.cancel();
        resolve({ code, reason: r });
      });
    });
    socket.on('pong', (payload: Buffer) => {
      this.alive = true;
      this.#pings.pong(payload);
    });
  }

  /** protocol is the agreed subprotocol ('' when none). */
  get protocol(): string {
    return this.socket.protocol;
  }

  /** open is true while messages can be sent. */
  get open(): boolean {
    return this.socket.readyState === 1;
  }

  /** bufferedAmount is the number of bytes queued to send. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /**
   * send queues a message: strings as text, bytes as binary (unless
   * `binary` says otherwise). It returns false when the peer is not open,
   * or when the message would take its send queue past `maxQueueBytes`;
   * then the peer is closed with 1008 (a reader that slow would otherwise
   * hold the server's memory hostage).
   */
  send(data: Sendable, options: { binary?: boolean } = {}): boolean {
    const ws = this.socket;
    if (ws.readyState !== 1) return false;
    if (ws.bufferedAmount + data.length > this.#maxQueueBytes) {
      this.#dropSlow();
      return false;
    }
    ws.send(data, { binary: options.binary ?? typeof data !== 'string' });
    return true;
  }

  #dropSlow(): void {
    const ws = this.socket;
    ws.close(CLOSE.POLICY_VIOLATION, `send queue over ${this.#maxQueueBytes} bytes`);
    // The close frame waits behind the queue a slow reader is not draining; do not wait for long.
    setTimeout(() => ws.terminate(), 1000).unref();
  }

  /** close starts the closing handshake (code 1000 by default). */
  close(code: number = CLOSE.NORMAL, reason = ''): void {
    if (this.socket.readyState <= 1) this.socket.close(code, reason);
  }

  /** terminate destroys the connection at once, without a closing handshake. */
  terminate(): void {
    this.socket.terminate();
  }

  /** ping sends a ping and resolves with the round-trip time in milliseconds (NaN if the peer went away). */
  ping(): Promise<number> {
    return this.#pings.ping(this.socket);
  }

  /**
   * messages iterates what the peer sends. Iteration ends when the peer
   * closes normally (1000, 1001, no status) and throws WsError
   * NETKIT_WS_CLOSED otherwise. Iterate once per peer.
   */
  [Symbol.asyncIterator](): AsyncIterator<WsMessage> {
    if (!this.#queue) {
      const ws = this.socket;
      const q = new MessageQueue({
        highWater: HIGH_WATER,
        pause: () => ws.pause(),
        resume: () => ws.resume(),
      });
      this.#queue = q;
      ws.on('message', (data: Buffer, binary: boolean) => q.push(toMessage(data, binary)));
      if (ws.readyState >= 2) q.end();
    }
    return this.#queue[Symbol.asyncIterator]();
  }
}

/** closeText describes a close for an error message. */
export function closeText(code: number, reason: string): string {
  const what =
    code === CLOSE.ABNORMAL ? 'connection dropped without a close frame' : `closed with code ${code}`;
  return `websocket ${what}${reason ? `: ${reason}` : ''}`;
}
