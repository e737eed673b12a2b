import { Fifo } from '../internal/fifo.js';
import { coarseNow, preciseNow, readCount, readFresh } from './clock.js';

/** Waiter is one acquire waiting for a resource. */
interface Waiter<T> {
  resolve: (r: T) => void;
  reject: (e: Error) => void;
  /** start is when the wait began, from the coarse clock: for the wait time only. */
  start: number;
  /** deadline is when it times out, from a clock read no earlier than the acquire (Infinity until known). */
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

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * WaitQueue holds acquires in arrival order, each with its own deadline and
 * AbortSignal. One timer serves the whole queue, armed for the earliest
 * deadline: a timer per acquire would cost more than the rest of a
 * contended acquire put together. A waiter that timed out or was cancelled
 * is settled at once and skipped later, so nothing is handed to nobody.
 *
 * Wait times come from the coarse clock (./clock.ts), read once per run of
 * code: under contention a hand-over ends one wait and starts the next in
 * the same run, and two clock reads per hand-over were most of its cost.
 * Deadlines stay exact: they are never set from a time read before the
 * acquire. An acquire that found the clock already read in its run gets its
 * deadline when that run's queued promise callbacks have run, from one read
 * made then for every such acquire, so it times out no earlier than
 * `timeout` after it was made, and at most that run of code later.
 */
export class WaitQueue<T> {
  // Not an array with shift(): under contention (dozens waiting, millions of hand-overs)
  // Array#shift copying the queue was most of the cost of an acquire.
  readonly #queue = new Fifo<Waiter<T>>();
  readonly #errors: WaitErrors;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /** #undated are waiters still without a deadline; #date gives them one when promise jobs run next. */
  readonly #undated: (Waiter<T> | undefined)[] = [];
  #undatedCount = 0;
  /** #undatedRead numbers the clock value the last undated waiter started from (see readCount). */
  #undatedRead = 0;
  #dating = false;
  readonly #dateAll = () => this.#date();

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
    const start = coarseNow();
    // A start read in this call is exact and makes the deadline; an earlier read of this run of
    // code may be older than the acquire, so the deadline waits for a later read (#date).
    const dated = timeoutMs <= 0 || readFresh();
    const deadline = timeoutMs > 0 && dated ? start + timeoutMs : Number.POSITIVE_INFINITY;
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
    if (!dated) {
      this.#undated[this.#undatedCount++] = w;
      this.#undatedRead = readCount();
      if (!this.#dating) {
        this.#dating = true;
        void RESOLVED.then(this.#dateAll);
      }
    } else if (deadline < this.#timerAt) this.#arm(deadline);
    return promise;
  }

  /**
   * #date gives the waiters queued without a deadline one, from a clock
   * value read after all of them were queued, so no deadline is early: the
   * coarse clock's value when it was read since (usually: the runs that
   * queued them are over, so it is read afresh here and serves what comes
   * next too), else a read now.
   */
  #date(): void {
    this.#dating = false;
    const undated = this.#undated;
    const coarse = coarseNow();
    const now = readCount() > this.#undatedRead ? coarse : preciseNow();
    let first = Number.POSITIVE_INFINITY;
    const n = this.#undatedCount;
    this.#undatedCount = 0;
    for (let i = 0; i < n; i++) {
      const w = undated[i] as Waiter<T>;
      // Not `length = 0`: the slots are reused, and setting an array's length is a runtime call.
      undated[i] = undefined;
      if (w.done) continue;
      w.deadline = now + w.timeoutMs;
      if (w.deadline < first) first = w.deadline;
    }
    if (first < this.#timerAt) this.#arm(first);
  }

  /**
   * serve hands `value` to the first waiter and returns how long it waited
   * (ms, to within the runs of code in which it started and ended; see the
   * class comment), or undefined when none waits.
   */
  serve(value: T): number | undefined {
    for (let w = this.#queue.shift(); w !== undefined; w = this.#queue.shift()) {
      if (w.done) continue;
      this.#finish(w);
      w.resolve(value);
      return coarseNow() - w.start;
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
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, at - preciseNow()));
  }

  /** #expire times out every waiter past its deadline and re-arms for the next one. */
  #expire(): void {
    const now = preciseNow();
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
