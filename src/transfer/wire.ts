import { AbortError, NetkitError, TimeoutError } from '../errors.js';
import type { Conn } from '../tcp/index.js';
import { type Frame, MAX_FRAME_BYTES, parseFrame, protocolError } from './protocol.js';
import { type Link, Sealed, type SessionKeys } from './secure/sealed.js';

/** SMALL_WRITE: writes under this size may be held back and sent with the next ones. */
const SMALL_WRITE = 16 * 1024;
/** HELD_BYTES: held-back writes are sent once this much waits. */
const HELD_BYTES = 64 * 1024;
const RESOLVED = Promise.resolve();

/**
 * Wire reads a transfer connection: control frames, and runs of raw file
 * bytes of a known length. Chunks arrive as the socket delivers them; what
 * a read does not need is kept for the next one, so a frame and the bytes
 * after it may share a chunk (they usually do). Reads and writes go through
 * `link`: the connection itself, or after seal() its encrypted records.
 */
export class Wire {
  readonly conn: Conn;
  #link: Link;
  #sealed: Sealed | null = null;
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** peer names the other side in errors: "sender" or "receiver". */
  readonly peer: string;
  readonly #signal: AbortSignal | undefined;
  #rest: Buffer | null = null;

  /** `signal` stops reading: the next read fails with NETKIT_ABORTED, even when bytes are waiting. */
  constructor(conn: Conn, peer: 'sender' | 'receiver', signal?: AbortSignal) {
    this.conn = conn;
    this.#link = conn;
    this.peer = peer;
    this.#signal = signal;
  }

  /**
   * seal switches both directions to encrypted records under `keys`. Bytes
   * already read past the handshake (none, in a well-behaved session) are
   * the first record's.
   */
  seal(keys: SessionKeys): void {
    // What is still held back belongs to the cleartext part: it goes out before the switch.
    this.#flushNow();
    const rest = this.#rest;
    this.#rest = null;
    this.#sealed = new Sealed(this.conn, keys, this.peer, rest);
    this.#link = this.#sealed;
  }

  /** sealed is the record layer once seal() ran: its verifyKey checks partial files. */
  get sealed(): Sealed | null {
    return this.#sealed;
  }

  /**
   * write sends bytes through the link, honouring backpressure. Small
   * writes (a small file with its frames, a "done") are held back and sent
   * together: once HELD_BYTES are waiting, before a larger write, before
   * this side waits to read (the peer may be waiting for them), and on
   * flush(). Ten thousand small files then cost a few hundred writes (and,
   * encrypted, records) instead of ten thousand.
   */
  write(data: Buffer): Promise<void> {
    if (data.length < SMALL_WRITE) {
      this.#held.push(data);
      this.#heldBytes += data.length;
      return this.#heldBytes >= HELD_BYTES ? this.flush() : RESOLVED;
    }
    this.#flushNow();
    return this.#link.write(data);
  }

  /** flush sends what write() held back. */
  flush(): Promise<void> {
    if (this.#held.length === 0) return RESOLVED;
    const data = this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held, this.#heldBytes);
    this.#held = [];
    this.#heldBytes = 0;
    return this.#link.write(data);
  }

  /** flushNow flushes without waiting; a failure shows on the next read. */
  #flushNow(): void {
    if (this.#held.length > 0) this.flush().catch(() => {});
  }

  /** send writes without waiting (an error frame on the way out), after what was held back. */
  send(data: Buffer): void {
    this.#flushNow();
    this.#link.send(data);
  }

  /** chunk resolves with the next bytes, or null at the peer's FIN. */
  async chunk(): Promise<Buffer | null> {
    // Checked here, not only in read(): a fast peer keeps bytes queued, and read() hands those out first.
    if (this.#signal?.aborted) throw new AbortError('read', this.#signal.reason);
    const rest = this.#rest;
    if (rest !== null) {
      this.#rest = null;
      return rest;
    }
    // About to wait for the peer, which may be waiting for what we hold back.
    this.#flushNow();
    return this.#link.read({ signal: this.#signal });
  }

  /** unread puts bytes back in front of the stream. */
  unread(b: Buffer): void {
    if (b.length === 0) return;
    this.#rest = this.#rest === null ? b : Buffer.concat([b, this.#rest]);
  }

  /** exact reads exactly n bytes; null when the stream ends before any arrive. */
  async exact(n: number, what: string): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let have = 0;
    while (have < n) {
      const c = await this.chunk();
      if (c === null) {
        if (have === 0) return null;
        throw protocolError(`the connection ended inside ${what}`);
      }
      const take = Math.min(c.length, n - have);
      parts.push(take === c.length ? c : c.subarray(0, take));
      have += take;
      if (take < c.length) this.unread(c.subarray(take));
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /** frame reads one control frame; null when the peer closed cleanly between frames. */
  async frame(): Promise<Frame | null> {
    const head = await this.exact(4, 'a frame header');
    if (head === null) return null;
    const len = head.readUInt32BE(0);
    // Checked before reading: a peer cannot make us buffer more than this.
    if (len > MAX_FRAME_BYTES) {
      throw protocolError(`a control frame of ${len} bytes is over the ${MAX_FRAME_BYTES}-byte limit`);
    }
    const body = await this.exact(len, 'a frame');
    if (body === null) throw protocolError('the connection ended inside a frame');
    return parseFrame(body);
  }

  /** mustFrame is frame() where the end of the stream is an error: the peer left before the protocol's end. */
  async mustFrame(): Promise<Frame> {
    const f = await this.frame();
    if (f === null) throw new PeerClosed(this.peer);
    return f;
  }

  /**
   * bytes hands exactly n raw bytes to `sink` chunk by chunk, awaiting it
   * when it returns a promise (backpressure reaches the socket). Bytes past n
   * stay for the next read: they are the next frame, not file data, however
   * many the peer sends.
   */
  async bytes(n: number, sink: (chunk: Buffer) => undefined | Promise<void>): Promise<void> {
    let left = n;
    while (left > 0) {
      const c = await this.chunk();
      if (c === null) throw new EndOfData(n - left);
      let piece = c;
      if (c.length > left) {
        piece = c.subarray(0, left);
        this.unread(c.subarray(left));
      }
      left -= piece.length;
      const p = sink(piece);
      if (p !== undefined) await p;
    }
  }
}

/** EndOfData is the connection ending inside a file's bytes: an interruption, so the partial file is kept for resume. */
export class EndOfData extends NetkitError {
  readonly received: number;
  constructor(received: number) {
    super('NETKIT_CONNECTION_CLOSED', `the connection ended after ${received} bytes of the file`);
    this.received = received;
  }
}

/**
 * PeerClosed is the peer closing the connection between frames, before its
 * "bye" or an "error": it stopped or was killed. Like EndOfData it is an
 * interruption, not a broken protocol, so a partial file is kept.
 */
export class PeerClosed extends NetkitError {
  constructor(peer: string) {
    super('NETKIT_CONNECTION_CLOSED', `the ${peer} closed the connection before the end of the transfer`);
  }
}

/**
 * dropWhenIdle closes `conn` with NETKIT_TIMEOUT once it has moved nothing
 * either way for `ms` (0: never); `said` is the message, e.g. "the
 * receiver stalled for 30000 ms".
 */
export function dropWhenIdle(conn: Conn, ms: number, said: string): void {
  if (ms <= 0) return;
  conn.socket.setTimeout(ms, () => conn.destroy(new TimeoutError('NETKIT_TIMEOUT', 'read', said, ms)));
}
