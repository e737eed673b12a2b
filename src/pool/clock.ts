/**
 * The pool's clock for wait times: performance.now() read at most once per
 * synchronous run of code. Under contention every hand-over ends one wait
 * and, in the same run, the borrower's next acquire starts another; reading
 * the clock for each (performance.now() builds an hrtime pair and calls
 * into the runtime) cost more than the rest of the hand-over put together.
 * A value read here is forgotten when the promise jobs queued before its
 * read have run, so it is never older than the run of code that read it
 * plus the promise callbacks that were already waiting.
 */
import { performance } from 'node:perf_hooks';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Stamp is one reading of the clock, shared by every wait that uses it: a
 * waiter keeps the reading rather than the number, which in a field of its
 * own would be a separately allocated box per waiter.
 */
export interface Stamp {
  readonly at: number;
}

let cached: Stamp = { at: 0 };
let valid = false;
/** fresh is true when the last coarse read read the clock itself. */
let fresh = false;
/** reads counts clock reads: a value from read n was read after every use of a value from before it. */
let reads = 0;

function forget(): void {
  valid = false;
}

/**
 * coarseStamp returns the reading of performance.now() made earlier in this
 * run of code (see the module comment), or reads it. Use it only where a
 * time a little in the past is correct: the start or end of a wait being
 * totalled.
 */
export function coarseStamp(): Stamp {
  if (valid) {
    fresh = false;
    return cached;
  }
  cached = { at: performance.now() };
  reads++;
  valid = true;
  fresh = true;
  void RESOLVED.then(forget);
  return cached;
}

/** coarseNow is coarseStamp().at. */
export function coarseNow(): number {
  return coarseStamp().at;
}

/**
 * readCount numbers the value coarseStamp() returns now: a value numbered
 * higher than one a caller used was read after that use.
 */
export function readCount(): number {
  return reads;
}

/** readFresh reports whether the last coarseStamp() read the clock now rather than reusing an earlier read. */
export function readFresh(): boolean {
  return fresh;
}

/**
 * preciseStamp reads performance.now() and keeps it for coarseStamp(): a
 * value read now is the best this run can have, and keeping it costs nothing.
 */
export function preciseStamp(): Stamp {
  cached = { at: performance.now() };
  reads++;
  if (!valid) {
    valid = true;
    void RESOLVED.then(forget);
  }
  fresh = true;
  return cached;
}

/** preciseNow is preciseStamp().at. */
export function preciseNow(): number {
  return preciseStamp().at;
}
