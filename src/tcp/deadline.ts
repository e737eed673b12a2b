/**
 * Deadline is one direction's Go-style deadline: an absolute time after which
 * pending and future operations fail with a timeout, until it is moved.
 * Moving it into the future (or clearing it) makes the direction usable again,
 * exactly as Go's SetReadDeadline/SetWriteDeadline do.
 */
export class Deadline {
  #at: number | null = null;
  #timer: NodeJS.Timeout | null = null;
  readonly #onExpire: () => void;

  constructor(onExpire: () => void) {
    this.#onExpire = onExpire;
  }

  /** at is the deadline in epoch milliseconds, or null when none is set. */
  get at(): number | null {
    return this.#at;
  }

  /** expired is true while a deadline is set and has passed. */
  get expired(): boolean {
    return this.#at !== null && Date.now() >= this.#at;
  }

  /** set moves the deadline; null clears it. Pending waiters are failed at once if it is already past. */
  set(at: number | null): void {
    this.clear();
    this.#at = at;
    if (at === null) return;
    const delay = at - Date.now();
    if (delay <= 0) {
      this.#onExpire();
      return;
    }
    // Timers cap at 2^31-1 ms; a later deadline simply re-arms when it fires early.
    this.#timer = setTimeout(() => this.#fire(), Math.min(delay, 2 ** 31 - 1));
    this.#timer.unref();
  }

  /** clear stops the timer without changing whether the deadline counts as set. */
  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #fire(): void {
    this.#timer = null;
    if (this.#at === null) return;
    if (Date.now() < this.#at) {
      this.set(this.#at);
      return;
    }
    this.#onExpire();
  }
}

/** toEpochMs converts a deadline argument (Date, epoch ms, or null/0 for none) to epoch ms or null. */
export function toEpochMs(t: Date | number | null | undefined): number | null {
  if (t === null || t === undefined || t === 0) return null;
  return t instanceof Date ? t.getTime() : t;
}
