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
  /**
   * #answered counts handshakes answered whose guess is not settled yet (no
   * right() or wrong() so far). The answer is all a guesser needs, so these
   * count as misses when spacing answers: counting only settled guesses let
   * a burst of connections that hold on after their answer get one answer
   * each at once (64 at a time), with the slow-down starting only after.
   */
  #answered = 0;
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
    return spacing(this.#failures);
  }

  turn(signal?: AbortSignal): Promise<void> {
    const delay = spacing(this.#failures + this.#answered);
    if (delay === 0 && this.#queue.length === 0) {
      this.#answer();
      return Promise.resolve();
    }
    // The estimate counts settled misses only: honest senders arriving together are
    // answered within a round trip each, and are not told "busy" on a worst case.
    const settled = this.delayMs;
    const waiting = this.#queue.filter((w) => !w.gone).length;
    const eta = Math.max(0, this.#lastAt + settled - Date.now()) + waiting * settled;
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
    const wait = Math.max(0, this.#lastAt + spacing(this.#failures + this.#answered) - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      while (this.#queue[0]?.gone) this.#queue.shift();
      const w = this.#queue.shift();
      if (w !== undefined) {
        this.#answer();
        w.go();
      }
      this.#pump();
    }, wait);
    this.#timer.unref();
  }

  #answer(): void {
    this.#lastAt = Date.now();
    this.#answered++;
  }

  wrong(): void {
    this.#answered = Math.max(0, this.#answered - 1);
    this.#failures++;
  }

  right(): void {
    this.#answered = Math.max(0, this.#answered - 1);
    this.#failures = 0;
  }
}

/** spacing is the delay between answers after `misses` wrong (or unsettled) guesses. */
function spacing(misses: number): number {
  const over = misses - GUESS_DEFAULTS.free;
  if (over < 0) return 0;
  return Math.min(GUESS_DEFAULTS.delayMs * 2 ** over, GUESS_DEFAULTS.maxDelayMs);
}
