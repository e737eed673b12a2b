import {
  coarseNow,
  coarseStamp,
  preciseNow,
  preciseStamp,
  readCount,
  readFresh,
  type Stamp,
} from './clock.js';

/** Waiter is one acquire waiting for a resource. */
interface Waiter<T> {
  resolve: (r: T) => void;
  reject: (e: Error) => void;
  /** start is when the wait began, from the coarse clock: for the wait time only. */
  start: Stamp;
  /**
   * from is the clock reading its timeout counts from, made no earlier than
   * the acquire (undefined until known, and for a wait without a timeout).
   */
  from: Stamp | undefined;
  timeoutMs: number;
  done: boolean;
  cleanup: (() => void) | undefined;
}

/** MIN_SLOTS is the ring's starting size and what it shrinks back to once a burst has drained. */
const MIN_SLOTS = 64;
/** SHRINK_ABOVE is the ring size beyond which an emptied queue gives its slots back. */
const SHRINK_ABOVE = 1024;

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
 *
 * The queue is a ring of slots that only grows while more wait than it
 * holds. A contended acquire stores a new object into a long-lived one (the
 * ring) only once: each such store costs a write barrier's slow path, and
 * four of them per acquire (two for the resolving functions, the queue, a
 * list of undated waiters) showed in the profile.
 */
export class WaitQueue<T> {
  /** #slots holds the waiters from #head on, #length of them, wrapping around; its size is a power of two. */
  #slots: (Waiter<T> | undefined)[] = new Array(MIN_SLOTS).fill(undefined);
  #head = 0;
  #length = 0;
  readonly #errors: WaitErrors;
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  /**
   * #undated counts the waiters queued since the first one left without a
   * deadline, which are the newest slots (queue order is arrival order, so
   * no list of them is kept); #date gives those that need one a deadline
   * when promise jobs run next.
   */
  #undated = 0;
  /** #undatedRead numbers the clock value the last undated waiter started from (see readCount). */
  #undatedRead = 0;
  #dating = false;
  #lastWait = 0.5;
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
    // An executor written here, not one shared function: the optimising compiler inlines it
    // into `new Promise` and allocates neither it nor the variables it sets, where a shared
    // executor is a call and two stores into long-lived memory (write barriers) per acquire.
    let resolve: ((r: T) => void) | undefined;
    let reject: ((e: Error) => void) | undefined;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const start = coarseStamp();
    const w: Waiter<T> = {
      resolve: resolve as (r: T) => void,
      reject: reject as (e: Error) => void,
      start,
      from: undefined,
      timeoutMs,
      done: false,
      cleanup: undefined,
    };
    this.#push(w);
    if (signal) this.#watch(w, signal);
    this.#pending++;
    if (timeoutMs <= 0) return promise;
    // A start read in this call is exact and makes the deadline; an earlier read of this run of
    // code may be older than the acquire, so the deadline waits for a later read (#date).
    if (readFresh()) {
      w.from = start;
      const deadline = start.at + timeoutMs;
      if (deadline < this.#timerAt) this.#arm(deadline);
      return promise;
    }
    this.#undatedRead = readCount();
    if (!this.#dating) {
      this.#dating = true;
      // This one was queued before dating began; #push counts the rest.
      this.#undated = 1;
      void RESOLVED.then(this.#dateAll);
    }
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
    const coarse = coarseStamp();
    const now = readCount() > this.#undatedRead ? coarse : preciseStamp();
    // Those served or settled since left from the front; the rest are the newest slots.
    const n = Math.min(this.#undated, this.#length);
    this.#undated = 0;
    const slots = this.#slots;
    const mask = slots.length - 1;
    let first = Number.POSITIVE_INFINITY;
    for (let i = this.#head + this.#length - n, end = this.#head + this.#length; i < end; i++) {
      const w = slots[i & mask] as Waiter<T>;
      // Those that read a fresh clock have their deadline already; those without a timeout need none.
      if (w.done || w.from !== undefined || w.timeoutMs <= 0) continue;
      w.from = now;
      const deadline = now.at + w.timeoutMs;
      if (deadline < first) first = deadline;
    }
    if (first < this.#timerAt) this.#arm(first);
  }

  /**
   * serve hands `value` to the first waiter and returns true, or false when
   * none waits. lastWait then says how long it waited.
   */
  serve(value: T): boolean {
    for (let w = this.#shift(); w !== undefined; w = this.#shift()) {
      if (w.done) continue;
      this.#finish(w);
      w.resolve(value);
      // Kept in a field rather than returned: a fractional number returned from a call that is
      // not inlined is a new heap object per hand-over; a field's is updated in place.
      this.#lastWait = coarseNow() - w.start.at;
      return true;
    }
    return false;
  }

  /**
   * lastWait is how long the waiter served last waited, in ms, to within
   * the runs of code in which it started and ended (see the class comment).
   */
  get lastWait(): number {
    return this.#lastWait;
  }

  /** rejectAll settles every waiter with `err`. */
  rejectAll(err: Error): void {
    for (let w = this.#shift(); w !== undefined; w = this.#shift()) this.#settle(w, err);
  }

  #push(w: Waiter<T>): void {
    if (this.#length === this.#slots.length) this.#grow();
    const slots = this.#slots;
    slots[(this.#head + this.#length++) & (slots.length - 1)] = w;
    if (this.#dating) this.#undated++;
  }

  #shift(): Waiter<T> | undefined {
    if (this.#length === 0) return undefined;
    const slots = this.#slots;
    const w = slots[this.#head];
    slots[this.#head] = undefined;
    this.#head = (this.#head + 1) & (slots.length - 1);
    if (--this.#length === 0) {
      this.#head = 0;
      // A drained burst gives its slots back.
      if (slots.length > SHRINK_ABOVE) this.#slots = new Array(MIN_SLOTS).fill(undefined);
    }
    return w;
  }

  #grow(): void {
    const old = this.#slots;
    const slots = new Array<Waiter<T> | undefined>(old.length * 2).fill(undefined);
    for (let i = 0; i < this.#length; i++) slots[i] = old[(this.#head + i) & (old.length - 1)];
    this.#slots = slots;
    this.#head = 0;
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
    const slots = this.#slots;
    const mask = slots.length - 1;
    for (let i = this.#head, end = this.#head + this.#length; i < end; i++) {
      const w = slots[i & mask] as Waiter<T>;
      // Not yet dated (its #date is queued and arms the timer) or no timeout: not due.
      if (w.done || w.from === undefined) continue;
      const deadline = w.from.at + w.timeoutMs;
      if (deadline <= now) this.#settle(w, this.#errors.timeout(w.timeoutMs));
      else if (deadline < next) next = deadline;
    }
    this.#timerAt = Number.POSITIVE_INFINITY;
    this.#timer = undefined;
    // Nobody waits: drop the settled waiters now rather than when the queue is next served.
    if (this.#pending === 0) while (this.#shift() !== undefined);
    this.#arm(next);
  }

  /** #watch settles `w` when `signal` aborts; apart from wait() so that no acquire without a signal allocates for it. */
  #watch(w: Waiter<T>, signal: AbortSignal): void {
    const abort = () => this.#settle(w, this.#errors.abort(signal.reason));
    signal.addEventListener('abort', abort, { once: true });
    w.cleanup = () => signal.removeEventListener('abort', abort);
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
