import type { IncomingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import type WebSocket from 'ws';
import { WsError } from '../../errors.js';
import { CLOSE, closeCodeOf, isNormalClose, type Sendable, toMessage, type WsMessage } from '../message.js';
import { MessageQueue } from '../message-queue.js';
import { RttPings } from '../rtt.js';
import { FrameWriter } from './frame-writer.js';
import { SendWindow } from './send-window.js';

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
 * send() never lets a peer that does not read hold memory without bound:
 * past `maxQueueBytes` sent and not yet read — queued here or in kernel
 * buffers (see SendWindow) — the peer is closed with 1008.
 */
export class WsPeer implements AsyncIterable<WsMessage> {
  /** id numbers peers from 1 within a server. */
  readonly id: number;
  /** remoteAddress is the peer's `ip:port`. */
  readonly remoteAddress: string;
  /** path is the request path (without the query). */
  readonly path: string;
  /** query is the request's query string, parsed. */
  readonly query: URLSearchParams;
  /** room is the broadcast room, in broadcast mode. */
  readonly room: string | undefined;
  /** headers are the upgrade request's headers. */
  readonly headers: IncomingHttpHeaders;
  /** socket is the underlying `ws` WebSocket. */
  readonly socket: WebSocket;
  /**
   * closed resolves with the close code and reason once the connection is
   * gone: the server's own when it closed first (1008 for a peer that does
   * not read, 1009 for an oversized message, 1001 at shutdown), otherwise
   * the peer's (1006 when the connection dropped without a close frame).
   */
  readonly closed: Promise<{
    /** code is the close code. */
    code: number;
    /** reason is the close frame's reason text. */
    reason: string;
  }>;
  /** alive is cleared by each heartbeat ping and set by the pong. */
  alive = true;
  /** messagesIn counts the messages received from this peer. */
  messagesIn = 0;
  readonly #window: SendWindow;
  /** Writes data frames itself when no extension was negotiated (see FrameWriter). */
  readonly #frames: FrameWriter | undefined;
  #queue: MessageQueue | undefined;
  readonly #pings = new RttPings();
  /** The close frame the server sent first, if it did: what ended the connection. */
  #sentClose: { code: number; reason: string } | undefined;

  /**
   * WsPeer is made by the server for each upgraded connection; `raw` is
   * the socket `ws` took it over on.
   *
   * @internal
   */
  constructor(socket: WebSocket, info: PeerInfo, maxQueueBytes: number, raw?: Duplex) {
    this.socket = socket;
    this.id = info.id;
    this.remoteAddress = info.remoteAddress;
    this.path = info.path;
    this.query = info.query;
    this.room = info.room;
    this.headers = info.headers;
    this.#window = new SendWindow(maxQueueBytes);
    this.#frames = raw !== undefined && socket.extensions === '' ? new FrameWriter(socket, raw) : undefined;
    // A protocol error (oversize, bad UTF-8, bad frame) makes `ws` send a close frame with its code and stop
    // reading, so its 'close' says 1006: remember the code that was really sent. The error adds nothing else
    // (and this listener keeps it from being thrown).
    socket.on('error', (err) => {
      const code = closeCodeOf(err);
      if (code !== undefined) this.#sentClose ??= { code, reason: '' };
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (received: number, reasonBuf: Buffer) => {
        const { code, reason: r } = this.#sentClose ?? { code: received, reason: reasonBuf.toString('utf8') };
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
      if (!this.#window.pong(payload)) this.#pings.pong(payload);
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

  /** bufferedAmount is the number of bytes queued in user space, not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /**
   * unreadBytes is the payload sent that the peer has not yet shown it
   * read (by answering a ping sent after it), wherever it waits: queued
   * here, or in the kernel's buffers. It never exceeds `maxQueueBytes`.
   */
  get unreadBytes(): number {
    return this.#window.unread;
  }

  /**
   * send queues a message: strings as text, bytes as binary (unless
   * `binary` says otherwise). It returns false when the peer is not open,
   * or when the message would take what the peer has not read past
   * `maxQueueBytes`; then the peer is closed with 1008 (a reader that slow
   * would otherwise hold the server's memory hostage).
   */
  send(data: Sendable, options: { binary?: boolean } = {}): boolean {
    const ws = this.socket;
    if (ws.readyState !== 1) return false;
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
    if (!this.#window.fits(bytes)) {
      this.#dropSlow();
      return false;
    }
    // The probe ping, when one is due, must follow this message: its pong confirms what came before it.
    const probe = this.#window.sent(bytes);
    if (typeof data === 'string') ws.send(data, { binary: options.binary ?? false });
    else if (this.#frames?.write(data, options.binary ?? true, probe)) return true;
    else ws.send(data, { binary: options.binary ?? true });
    if (probe !== undefined) ws.ping(probe);
    return true;
  }

  #dropSlow(): void {
    const ws = this.socket;
    this.close(CLOSE.POLICY_VIOLATION, `not reading: over ${this.#window.limit} bytes unread`);
    // The close frame waits behind the data a slow reader is not draining; do not wait for long.
    setTimeout(() => ws.terminate(), 1000).unref();
  }

  /** close starts the closing handshake (code 1000 by default). */
  close(code: number = CLOSE.NORMAL, reason = ''): void {
    if (this.socket.readyState > 1) return;
    this.#sentClose ??= { code, reason };
    this.socket.close(code, reason);
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
