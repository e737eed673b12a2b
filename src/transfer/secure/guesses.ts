import { AbortError, TransferError } from '../../errors.js';
import type { ReceiverGate } from './handshake.js';

/**
 * Guesses slows a receiver down after wrong codes. Each connection gets
 * one guess (the PAKE's property), so an attacker's only lever is the
 * number of connections; after GUESS_DEFAULTS.free wrong codes in a row,
 * handshakes are answered one at a time, DELAY_MS apart, doubled per
 * further wrong code up to MAX_DELAY_MS. A right code resets the count.
 *
 * Waiting handshakes form a queue. One whose connection closes while it
 * waits leaves the queue without using a turn, and a newcomer that would
 * wait longer than `maxWaitMs` (under the handshake timeout) is refused at
 * once with NETKIT_TRANSFER_BUSY rather than queued: nobody waits for a
 * turn that the handshake timeout would take away, and a flood of hellos
 * cannot book turns ahead of an honest sender. At 33 bits per generated
 * code and 4 s per guess, guessing takes centuries.
 */
export const GUESS_DEFAULTS = Object.freeze({ free: 3, delayMs: 250, maxDelayMs: 4000 });

interface Waiter {
  go: () => void;
  gone: boolean;
}

export class Guesses implements ReceiverGate {
  #failures = 0;
  /** #lastAt is when the last handshake was answered (Date.now()): the next slowed one waits the delay after it. */
  #lastAt = 0;
  readonly #queue: Waiter[] = [];
  #timer: NodeJS.Timeout | null = null;
  readonly #maxWaitMs: number;

  /** maxWaitMs bounds a handshake's wait for its turn (default 60 s). */
  constructor(maxWaitMs = 60_000) {
    this.#maxWaitMs = maxWaitMs;
  }

  /** failures is the count of wrong codes since the last right one. */
  get failures(): number {
    return this.#failures;
  }

  /** delayMs is the spacing between answered handshakes now (0: not slowed). */
  get delayMs(): number {
    const over = this.#failures - GUESS_DEFAULTS.free;
    if (over < 0) return 0;
    return Math.min(GUESS_DEFAULTS.delayMs * 2 ** over, GUESS_DEFAULTS.maxDelayMs);
  }

  turn(signal?: AbortSignal): Promise<void> {
    const delay = this.delayMs;
    if (delay === 0 && this.#queue.length === 0) {
      this.#lastAt = Date.now();
      return Promise.resolve();
    }
    const waiting = this.#queue.filter((w) => !w.gone).length;
    const eta = Math.max(0, this.#lastAt + delay - Date.now()) + waiting * delay;
    if (eta > this.#maxWaitMs) {
      return Promise.reject(
        new TransferError(
          'NETKIT_TRANSFER_BUSY',
          `the receiver is slowing down after ${this.#failures} wrong codes in a row and has ${waiting} handshakes waiting: try again in ${Math.ceil(eta / 1000)} s`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const w: Waiter = { go: resolve, gone: false };
      signal?.addEventListener(
        'abort',
        () => {
          w.gone = true;
          reject(new AbortError('handshake', signal.reason));
        },
        { once: true },
      );
      this.#queue.push(w);
      this.#pump();
    });
  }

  /** pump answers the next live waiter once the spacing since the last answer has passed. */
  #pump(): void {
    if (this.#timer !== null) return;
    while (this.#queue[0]?.gone) this.#queue.shift();
    if (this.#queue.length === 0) return;
    const wait = Math.max(0, this.#lastAt + this.delayMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      while (this.#queue[0]?.gone) this.#queue.shift();
      const w = this.#queue.shift();
      if (w !== undefined) {
        this.#lastAt = Date.now();
        w.go();
      }
      this.#pump();
    }, wait);
    this.#timer.unref();
  }

  wrong(): void {
    this.#failures++;
  }

  right(): void {
    this.#failures = 0;
  }
}
