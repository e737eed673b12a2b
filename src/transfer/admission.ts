import { ConnectionError, TimeoutError, TransferError } from '../errors.js';
import type { Conn } from '../tcp/index.js';

/**
 * SQUAT_MS and SQUAT_RATE: when every slot is taken, an admitted sender
 * that sent under SQUAT_RATE bytes/s over the last SQUAT_MS or more gives
 * its slot to a newcomer.
 */
export const SQUAT_MS = 1000;
export const SQUAT_RATE = 1024;

/** Ticket is one connection's place in a receiver's admission. */
export interface Ticket {
  /**
   * admit moves the connection from its handshake to the transfers being
   * served, once it has shown it is a sender (and, with a code, the right
   * one). It throws NETKIT_TRANSFER_BUSY when maxConnections are served.
   */
  admit(): void;
  /** leave gives the connection's place back; it runs once, when the connection is done. */
  leave(): void;
}

/**
 * Admission decides which connections a receiver serves (RELIABILITY 37).
 * A connection starts in its handshake: until it has sent the magic and
 * its hello (and, with a code, a valid proof) it could be anyone, so it
 * gets a deadline of its own (`handshakeTimeout`) and a budget of its own
 * (`maxHandshakes`). When that budget is full the oldest connection still
 * in its handshake is dropped to make room: silent sockets cycle out
 * instead of locking senders out, and a flood can only delay a sender by
 * pushing it out before its own hello, which on any real link takes one
 * round trip. Only admitted senders count against `maxConnections`; one
 * that arrives when they are all taken takes the slot of a sender that
 * has sent next to nothing for SQUAT_MS or more (a squatter, a
 * slowloris), and otherwise is told it is busy, not dropped.
 */
export class Admission {
  readonly maxConnections: number;
  readonly maxHandshakes: number;
  readonly handshakeTimeout: number;
  /** pending maps connections in their handshake to their deadline timers; insertion order is age. */
  readonly #pending = new Map<Conn, NodeJS.Timeout | undefined>();
  /** serving maps admitted connections to when their byte count last changed, as last seen. */
  readonly #serving = new Map<Conn, { bytes: number; at: number; release: () => void }>();
  #served = 0;
  readonly #onDrop: ((conn: Conn) => void) | undefined;

  /**
   * `onDrop` may tell a connection dropped to make room why, before it is
   * closed: a sender still waiting for its answer (slowed by wrong codes)
   * is told it is busy rather than left with a bare close.
   */
  constructor(limits: {
    maxConnections: number;
    maxHandshakes: number;
    handshakeTimeout: number;
    onDrop?: (conn: Conn) => void;
  }) {
    this.maxConnections = limits.maxConnections;
    this.maxHandshakes = limits.maxHandshakes;
    this.handshakeTimeout = limits.handshakeTimeout;
    this.#onDrop = limits.onDrop;
  }

  /** served is how many admitted transfers are running. */
  get served(): number {
    return this.#served;
  }

  /** handshakes is how many connections are still in their handshake. */
  get handshakes(): number {
    return this.#pending.size;
  }

  /** arrive registers a new connection in its handshake, making room by dropping the oldest one if needed. */
  arrive(conn: Conn): Ticket {
    if (this.#pending.size >= this.maxHandshakes) {
      const [oldest] = this.#pending.keys();
      if (oldest !== undefined) {
        this.#forget(oldest);
        this.#onDrop?.(oldest);
        oldest.destroy(
          new ConnectionError(
            'NETKIT_CONNECTION_CLOSED',
            `dropped: ${this.maxHandshakes} newer connections arrived before its handshake ended`,
            oldest.remoteAddr?.address,
          ),
        );
      }
    }
    const ms = this.handshakeTimeout;
    const timer =
      ms > 0
        ? setTimeout(() => {
            this.#forget(conn);
            const peer = conn.remoteAddr?.address ?? 'the peer';
            conn.destroy(
              new TimeoutError('NETKIT_TIMEOUT', 'handshake', `${peer}: no handshake within ${ms} ms`, ms),
            );
          }, ms)
        : undefined;
    timer?.unref();
    this.#pending.set(conn, timer);
    let state: 'pending' | 'served' | 'gone' = 'pending';
    return {
      admit: () => {
        if (state !== 'pending') return;
        if (this.#served >= this.maxConnections) this.#evictSquatter();
        if (this.#served >= this.maxConnections) {
          throw new TransferError(
            'NETKIT_TRANSFER_BUSY',
            `the receiver is busy (${this.#served} transfers in progress, its limit); try again later`,
          );
        }
        this.#forget(conn);
        state = 'served';
        this.#served++;
        this.#serving.set(conn, {
          bytes: conn.socket.bytesRead,
          at: Date.now(),
          release: () => {
            if (state !== 'served') return;
            state = 'gone';
            this.#served--;
            this.#serving.delete(conn);
          },
        });
      },
      leave: () => {
        if (state === 'served') {
          this.#served--;
          this.#serving.delete(conn);
        } else if (state === 'pending') this.#forget(conn);
        state = 'gone';
      },
    };
  }

  /**
   * evictSquatter makes room, when every transfer slot is taken, by
   * dropping the admitted sender that sent least over the last SQUAT_MS
   * or more, if that is under SQUAT_RATE bytes/s. A client that passes the
   * handshake (it only needs the magic and a hello) and then goes silent,
   * or trickles a byte now and then (slowloris), would otherwise hold a
   * slot until the idle timeout, and 16 of them lock real senders out.
   * The rate is measured over windows of at least SQUAT_MS since the last
   * one, so a sender is never judged on an instant. A real sender dropped
   * this way (a slow link while the receiver is full) keeps its part and
   * resumes when it sends again.
   */
  #evictSquatter(): void {
    const now = Date.now();
    let victim: Conn | undefined;
    let slowest = SQUAT_RATE;
    for (const [conn, seen] of this.#serving) {
      const window = now - seen.at;
      if (window < SQUAT_MS) continue;
      const bytes = conn.socket.bytesRead;
      const rate = ((bytes - seen.bytes) * 1000) / window;
      seen.bytes = bytes;
      seen.at = now;
      if (rate < slowest) {
        slowest = rate;
        victim = conn;
      }
    }
    if (victim === undefined) return;
    this.#serving.get(victim)?.release();
    victim.destroy(
      new TimeoutError(
        'NETKIT_TIMEOUT',
        'transfer',
        `dropped: sending ${Math.round(slowest)} bytes/s while every transfer slot was taken; sending again resumes`,
      ),
    );
  }

  #forget(conn: Conn): void {
    clearTimeout(this.#pending.get(conn));
    this.#pending.delete(conn);
  }
}
