import { TimeoutError } from '../errors.js';
import { backoffDelay } from '../internal/backoff.js';
import type { ResolvedPoolOptions } from './options.js';

/** CreatorHooks are how a Creator reports to its pool. */
export interface CreatorHooks<T> {
  created(resource: T): void;
  failed(error: unknown, attempt: number, delayMs: number): void;
  /** retry is called when a backoff delay is over and creating may resume. */
  retry(): void;
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
    const limit = this.#o.createTimeout;
    const timer = limit > 0 ? setTimeout(() => ac.abort(createTimeout(limit)), limit) : undefined;
    Promise.resolve()
      .then(() => this.#o.create({ signal: ac.signal }))
      .then(
        (resource) => {
          this.#creating--;
          if (!ac.signal.aborted) {
            this.#failures = 0;
            return this.#hooks.created(resource);
          }
          // Abandoned (timed out, or the pool stopped) and it came anyway: too late to use.
          void Promise.resolve()
            .then(() => this.#o.destroy(resource))
            .catch(() => {});
          this.#failed(ac.signal.reason);
        },
        (error: unknown) => {
          this.#creating--;
          this.#failed(ac.signal.aborted ? ac.signal.reason : error);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.#attempts.delete(ac);
      });
  }

  /** stop abandons attempts in flight (with `reason`) and any pending retry. */
  stop(reason: Error): void {
    this.#stopped = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    for (const ac of this.#attempts) ac.abort(reason);
  }

  #failed(error: unknown): void {
    this.lastError = error;
    const delayMs = backoffDelay(this.#o.createRetry, this.#failures++);
    if (!this.#stopped) {
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => {
        this.#retry = undefined;
        this.#hooks.retry();
      }, delayMs);
      this.#retry.unref();
    }
    this.#hooks.failed(error, this.#failures, delayMs);
  }
}

function createTimeout(ms: number): TimeoutError {
  return new TimeoutError('NETKIT_TIMEOUT', 'pool create', `pool create: no resource within ${ms} ms`, ms);
}
