/** Waiter is one acquire waiting for a resource. */
interface Waiter<T> {
  resolve: (r: T) => void;
  reject: (e: Error) => void;
  start: number;
  done: boolean;
  timer: NodeJS.Timeout | undefined;
  cleanup: (() => void) | undefined;
}

/**
 * WaitQueue holds acquires in arrival order, each with its own timeout and
 * AbortSignal. A waiter that timed out or was cancelled is settled at once
 * and skipped later, so the queue never hands a resource to nobody.
 */
export class WaitQueue<T> {
  readonly #queue: Waiter<T>[] = [];
  #pending = 0;

  /** pending counts waiters not yet settled. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * wait queues an acquire. After `timeoutMs` (0: never) it rejects with
   * `onTimeout()`; when `signal` aborts, with `onAbort()`.
   */
  wait(
    timeoutMs: number,
    signal: AbortSignal | undefined,
    onTimeout: () => Error,
    onAbort: () => Error,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = {
        resolve,
        reject,
        start: performance.now(),
        done: false,
        timer: undefined,
        cleanup: undefined,
      };
      if (timeoutMs > 0) w.timer = setTimeout(() => this.#settle(w, onTimeout()), timeoutMs);
      if (signal) {
        const abort = () => this.#settle(w, onAbort());
        signal.addEventListener('abort', abort, { once: true });
        w.cleanup = () => signal.removeEventListener('abort', abort);
      }
      this.#queue.push(w);
      this.#pending++;
    });
  }

  /** serve hands `value` to the first waiter and returns how long it waited (ms), or undefined when none waits. */
  serve(value: T): number | undefined {
    while (this.#queue.length > 0) {
      const w = this.#queue.shift() as Waiter<T>;
      if (w.done) continue;
      this.#finish(w);
      w.resolve(value);
      return performance.now() - w.start;
    }
    return undefined;
  }

  /** rejectAll settles every waiter with `err`. */
  rejectAll(err: Error): void {
    for (const w of this.#queue.splice(0)) this.#settle(w, err);
  }

  #settle(w: Waiter<T>, err: Error): void {
    if (w.done) return;
    this.#finish(w);
    w.reject(err);
  }

  #finish(w: Waiter<T>): void {
    w.done = true;
    this.#pending--;
    clearTimeout(w.timer);
    w.cleanup?.();
  }
}
