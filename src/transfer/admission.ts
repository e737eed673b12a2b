import { ConnectionError, TimeoutError, TransferError } from '../errors.js';
import type { Conn } from '../tcp/index.js';

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
 * that arrives when they are all taken is told it is busy, not dropped.
 */
export class Admission {
  readonly maxConnections: number;
  readonly maxHandshakes: number;
  readonly handshakeTimeout: number;
  /** pending maps connections in their handshake to their deadline timers; insertion order is age. */
  readonly #pending = new Map<Conn, NodeJS.Timeout | undefined>();
  #served = 0;

  constructor(limits: { maxConnections: number; maxHandshakes: number; handshakeTimeout: number }) {
    this.maxConnections = limits.maxConnections;
    this.maxHandshakes = limits.maxHandshakes;
    this.handshakeTimeout = limits.handshakeTimeout;
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
        if (this.#served >= this.maxConnections) {
          throw new TransferError(
            'NETKIT_TRANSFER_BUSY',
            `the receiver is busy (${this.#served} transfers in progress, its limit); try again later`,
          );
        }
        this.#forget(conn);
        state = 'served';
        this.#served++;
      },
      leave: () => {
        if (state === 'served') this.#served--;
        else if (state === 'pending') this.#forget(conn);
        state = 'gone';
      },
    };
  }

  #forget(conn: Conn): void {
    clearTimeout(this.#pending.get(conn));
    this.#pending.delete(conn);
  }
}
