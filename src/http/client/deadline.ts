/** Deadline is one request's own abort signal, and how to let go of it. */
export interface Deadline {
  /** signal aborts when the caller's signal does or when the time is up. */
  signal: AbortSignal;
  /** timer is the timeout's timer, if there is one (fetch unrefs it while a body waits). */
  timer: NodeJS.Timeout | undefined;
  /** settle stops the timer and stops following the caller's signal. */
  settle(): void;
}

/**
 * deadline gives request() and fetch() a signal of their own for every hop:
 * aborted with `aborted(reason)` when the caller's `signal` aborts, or with
 * `timedOut()` once `timeout` ms (0: never) have passed. The two differ only
 * in those reasons: request() wraps an abort in its AbortError, fetch()
 * passes the caller's reason on, as the fetch standard says.
 */
export function deadline(
  signal: AbortSignal | undefined,
  timeout: number,
  aborted: (reason: unknown) => unknown,
  timedOut: () => Error,
): Deadline {
  const control = new AbortController();
  const onAbort = () => control.abort(aborted(signal?.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = timeout > 0 ? setTimeout(() => control.abort(timedOut()), timeout) : undefined;
  return {
    signal: control.signal,
    timer,
    settle() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}
