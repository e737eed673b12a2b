/**
 * A counting semaphore: JSON-RPC calls run concurrently (a batch, or the
 * requests pipelined on one TCP connection), but a client must not be able
 * to start unboundedly many at once.
 */
import { Fifo } from '../../internal/fifo.js';

/** Limiter runs at most `max` tasks at once; the others wait in FIFO order. */
export class Limiter {
  readonly max: number;
  #active = 0;
  readonly #queue = new Fifo<() => void>();
  #roomWaiters: (() => void)[] = [];

  constructor(max: number) {
    this.max = max;
  }

  /** active is the number of tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** run starts `task` once a slot is free and settles as it does. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active < this.max) this.#active++;
    else await new Promise<void>((resolve) => this.#queue.push(resolve));
    try {
      return await task();
    } finally {
      this.#release();
    }
  }

  /**
   * room resolves once a new task would start at once (a slot is free and
   * nobody is queued): a reader waits for it before taking the next request,
   * which is how a busy connection stops being read.
   */
  room(): Promise<void> {
    if (this.#hasRoom()) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push(resolve));
  }

  #hasRoom(): boolean {
    return this.#active + this.#queue.length < this.max;
  }

  #release(): void {
    const next = this.#queue.shift();
    // The slot passes straight to the next queued task, so #active stays the same.
    if (next) next();
    else this.#active--;
    if (this.#roomWaiters.length > 0 && this.#hasRoom()) {
      const waiters = this.#roomWaiters;
      this.#roomWaiters = [];
      for (const w of waiters) w();
    }
  }
}
