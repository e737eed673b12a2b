import { performance } from 'node:perf_hooks';
import { Fifo } from '../internal/fifo.js';

/** Waiter is one acquire waiting for a resource. */
interface Waiter<T> {
  resolve: (r: T) => void;
  reject: (e: Error) => void;
  start: number;
  deadline: number;
  timeoutMs: number;
  done: boolean;
  cleanup: (() => void) | undefined;
}

// One executor for every waiter's promise: it hands the resolving functions
// out through these two slots, so a contended acquire does not allocate a
// closure (and its context) just to learn them. Read right after `new Promise`
// returns, which runs the executor synchronously.
let nextResolve: ((r: never) => void) | undefined;
let nextReject: ((e: Error) => void) | undefined;
function capture(resolve: (r: never) => void, reject: (e: Error) => void): void {
  nextResolve = resolve;
  nextReject = reject;
}

/** Errors make the errors a WaitQueue settles waiters with. */
export interface WaitErrors {
  timeout(timeoutMs: number): Error;
  abort(reason: unknown): Error;
}

/**
 * WaitQueue holds acquires in arrival order, each with its own deadline and
 * AbortSignal. One timer serves the whole queue, armed for the earliest
 * deadline: a timer per acquire would cost more than the rest of a
 * contended acquire put together. A waiter that timed out or was cancelled
 * is settled at once and skipped later, so nothing is handed to nobody.
 */
export class WaitQueue<T> {
  // Not an array with shift(): under contention (dozens waiting, millions of hand-overs)
  // Array#shift copying the queue was most of the cost of an acquire.
  readonly #queue = new Fifo<Waiter<T>>();
  readonly #errors: WaitErrors;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(errors: WaitErrors) {
    this.#errors = errors;
  }

  /** pending counts waiters not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  /** wait queues an acquire that times out after `timeoutMs` (0: never) or when `signal` aborts. */
  wait(timeoutMs: number, signal: AbortSignal | undefined): Promise<T> {
    const promise = new Promise<T>(capture);
    // performance from node:perf_hooks, not the global: the global is a getter, and a contended
    // acquire reads the clock twice (here and when served), which showed in profiles.
    const start = performance.now();
    const deadline = timeoutMs > 0 ? start + timeoutMs : Number.POSITIVE_INFINITY;
    const w: Waiter<T> = {
      resolve: nextResolve as (r: T) => void,
      reject: nextReject as (e: Error) => void,
      start,
      deadline,
      timeoutMs,
      done: false,
      cleanup: undefined,
    };
    nextResolve = undefined;
    nextReject = undefined;
    if (signal) {
      const abort = () => this.#settle(w, this.#errors.abort(signal.reason));
      signal.addEventListener('abort', abort, { once: true });
      w.cleanup = () => signal.removeEventListener('abort', abort);
    }
    this.#queue.push(w);
    this.#pending++;
    if (deadline < this.#timerAt) this.#arm(deadline);
    return promise;
  }

  /** serve hands `value` to the first waiter and returns how long it waited (ms), or undefined when none waits. */
  serve(value: T): number | undefined {
    for (let w = this.#queue.shift(); w !== undefined; w = this.#queue.shift()) {
      if (w.done) continue;
      this.#finish(w);
      w.resolve(value);
      return performance.now() - w.start;
    }
    return undefined;
  }

  /** rejectAll settles every waiter with `err`. */
  rejectAll(err: Error): void {
    for (const w of this.#queue.clear()) this.#settle(w, err);
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    if (!Number.isFinite(at)) {
      this.#timer = undefined;
      return;
    }
    // Referenced: a process with an acquire waiting is not done. Cleared once nobody waits.
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, at - performance.now()));
  }

  /** #expire times out every waiter past its deadline and re-arms for the next one. */
  #expire(): void {
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const w of this.#queue) {
      if (w.done) continue;
      if (w.deadline <= now) this.#settle(w, this.#errors.timeout(w.timeoutMs));
      else if (w.deadline < next) next = w.deadline;
    }
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#timer = undefined;
    if (this.#pending === 0) this.#queue.clear();
    this.#arm(next);
  }

  #settle(w: Waiter<T>, err: Error): void {
    if (w.done) return;
    this.#finish(w);
    w.reject(err);
  }

  #finish(w: Waiter<T>): void {
    w.done = true;
    if (--this.#pending === 0 && this.#timer) this.#arm(Number.POSITIVE_INFINITY);
    w.cleanup?.();
  }
}
