import type { ReceiverGate } from './handshake.js';

/**
 * Guesses slows a receiver down after wrong codes. Each connection gets
 * one guess (the PAKE's property), so an attacker's only lever is the
 * number of connections; after FREE wrong codes in a row, handshakes are
 * answered one at a time, each waiting DELAY_MS doubled per further wrong
 * code, up to MAX_DELAY_MS. Handshakes that wait past the receiver's
 * handshake timeout are dropped, so a flood of guesses cannot queue up. A
 * right code resets the count. At 33 bits per generated code and 4 s per
 * guess, guessing takes centuries.
 */
export const GUESS_DEFAULTS = Object.freeze({ free: 3, delayMs: 250, maxDelayMs: 4000 });

export class Guesses implements ReceiverGate {
  #failures = 0;
  #nextAt = 0;
  readonly #onWrong: (failures: number, delayMs: number) => void;

  /** onWrong hears each wrong code: how many in a row, and how long the next handshakes wait (0: not slowed yet). */
  constructor(onWrong: (failures: number, delayMs: number) => void = () => {}) {
    this.#onWrong = onWrong;
  }

  /** failures is the count of wrong codes since the last right one. */
  get failures(): number {
    return this.#failures;
  }

  /** delayMs is what each handshake waits now. */
  get delayMs(): number {
    const over = this.#failures - GUESS_DEFAULTS.free;
    if (over < 0) return 0;
    return Math.min(GUESS_DEFAULTS.delayMs * 2 ** over, GUESS_DEFAULTS.maxDelayMs);
  }

  turn(): Promise<void> {
    const delay = this.delayMs;
    if (delay === 0) return Promise.resolve();
    const now = Date.now();
    const at = Math.max(now, this.#nextAt) + delay;
    this.#nextAt = at;
    return new Promise((resolve) => setTimeout(resolve, at - now).unref());
  }

  wrong(): void {
    this.#failures++;
    this.#onWrong(this.#failures, this.delayMs);
  }

  right(): void {
    this.#failures = 0;
    this.#nextAt = 0;
  }
}
