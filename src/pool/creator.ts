import { TimeoutError } from '../errors.js';
import { backoffDelay } from '../internal/backoff.js';
import type { ResolvedPoolOptions } from './options.js';

/** CreatorHooks are how a Creator reports to its pool. */
export interface CreatorHooks<T> {
  created(resource: T): void;
  failed(error: unknown, attempt: number, delayMs: number): void;
  /** retry is called when a backoff delay is over and creating may resume. */
  retry(): void;
  /** ended is called after every attempt, however it ended. */
  ended(): void;
}

/**
 * Creator runs the pool's create() calls: each bounded by createTimeout and
 * abortable, and after a failure no new attempt until a capped exponential
 * backoff with jitter has passed, so a server that is down sees a trickle
 * of connection attempts, not a spin. A resource that arrives after its
 * attempt was abandoned is destroyed rather than leaked.
 */
export class Creator<T> {
  readonly #o: ResolvedPoolOptions<T>;
  readonly #hooks: CreatorHooks<T>;
  readonly #attempts = new Set<AbortController>();
  #creating = 0;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  /** lastError is the most recent creation failure, for error messages. */
  lastError: unknown;

  constructor(o: ResolvedPoolOptions<T>, hooks: CreatorHooks<T>) {
    this.#o = o;
    this.#hooks = hooks;
  }

  /** creating counts attempts in flight. */
  get creating(): number {
    return this.#creating;
  }

  /** backingOff is true while waiting out the delay after a failure. */
  get backingOff(): boolean {
    return this.#retry !== undefined;
  }

  /** start begins one attempt. */
  start(): void {
    this.#creating++;
    const ac = new AbortController();
    this.#attempts.add(ac);
    let settled = false;
    // An attempt ends once: with a resource, an error, or abandonment (timeout or stop), even if
    // create() ignores its signal and never settles; its slot must not be held forever.
    const end = () => {
      if (settled) return false;
      settled = true;
      this.#creating--;
      clearTimeout(timer);
      this.#attempts.delete(ac);
      queueMicrotask(() => this.#hooks.ended());
      return true;
    };
    const limit = this.#o.createTimeout;
    const timer = limit > 0 ? setTimeout(() => ac.abort(createTimeout(limit)), limit) : undefined;
    ac.signal.addEventListener('abort', () => {
      if (end()) this.#failed(ac.signal.reason);
    });
    Promise.resolve()
      .then(() => this.#o.create({ signal: ac.signal }))
      .then(
        (resource) => {
          if (end()) {
            this.#failures = 0;
            this.#hooks.created(resource);
            return;
          }
          // Abandoned, and it came anyway: too late to use, and nobody else will close it.
          void Promise.resolve()
            .then(() => this.#o.destroy(resource))
            .catch(() => {});
        },
        (error: unknown) => {
          if (end()) this.#failed(error);
        },
      );
  }

  /** stop abandons attempts in flight (with `reason`) and any pending retry. */
  stop(reason: Error): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    for (const ac of this.#attempts) ac.abort(reason);
  }

  #failed(error: unknown): void {
    // Stopped on purpose (the pool drains): not a failure to report or retry.
    if (this.#stopped) return;
    this.lastError = error;
    const delayMs = backoffDelay(this.#o.createRetry, this.#failures++);
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#hooks.retry();
    }, delayMs);
    this.#retry.unref();
    this.#hooks.failed(error, this.#failures, delayMs);
  }
}

function createTimeout(ms: number): TimeoutError {
  return new TimeoutError('NETKIT_TIMEOUT', 'pool create', `pool create: no resource within ${ms} ms`, ms);
}
