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

let cached = 0;
let valid = false;
/** fresh is true when the last coarseNow() read the clock itself. */
let fresh = false;
/** reads counts clock reads: a value from read n was read after every use of a value from before it. */
let reads = 0;

function forget(): void {
  valid = false;
}

/**
 * coarseNow returns performance.now() as read earlier in this run of code
 * (see the module comment), or reads it. Use it only where a time a little
 * in the past is correct: the start or end of a wait being totalled.
 */
export function coarseNow(): number {
  if (valid) {
    fresh = false;
    return cached;
  }
  cached = performance.now();
  reads++;
  valid = true;
  fresh = true;
  void RESOLVED.then(forget);
  return cached;
}

/**
 * readCount numbers the value coarseNow() returns now: a value numbered
 * higher than one a caller used was read after that use.
 */
export function readCount(): number {
  return reads;
}

/** readFresh reports whether the last coarseNow() read the clock now rather than reusing an earlier read. */
export function readFresh(): boolean {
  return fresh;
}

/**
 * preciseNow reads performance.now() and keeps it for coarseNow(): a value
 * read now is the best this run can have, and keeping it costs nothing.
 */
export function preciseNow(): number {
  cached = performance.now();
  reads++;
  if (!valid) {
    valid = true;
    void RESOLVED.then(forget);
  }
  fresh = true;
  return cached;
}
