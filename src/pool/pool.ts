import { EventEmitter } from 'node:events';
import { AbortError, PoolError, TimeoutError } from '../errors.js';
import { backoffDelay } from '../internal/backoff.js';
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.js';
import { type PoolEvents, type PoolStats, zeroStats } from './stats.js';

interface Entry<T> {
  resource: T;
  createdAt: number;
  borrowed: boolean;
  idle: boolean;
  timer?: NodeJS.Timeout | undefined;
  unwatch?: (() => void) | undefined;
}

interface Waiter<T> {
  resolve: (r: T) => void;
  reject: (e: Error) => void;
  start: number;
  done: boolean;
  timer: NodeJS.Timeout | undefined;
  cleanup: (() => void) | undefined;
}

/**
 * Pool lends out resources (connections, clients) made by `create`, up to
 * `max` at a time. It never hangs: every acquire has a timeout and honours
 * an AbortSignal, a full queue is refused at once, and failing creation
 * backs off instead of spinning. It never leaks: misuse is an error, use()
 * always gives the resource back, and drain() waits for every borrowed one
 * and destroys it. stats() and events say what it is doing.
 */
export class Pool<T> extends EventEmitter<PoolEvents<T>> implements AsyncDisposable {
  readonly #o: ResolvedPoolOptions<T>;
  readonly #entries = new Map<T, Entry<T>>();
  readonly #idle: Entry<T>[] = [];
  readonly #waiters: Waiter<T>[] = [];
  #pending = 0;
  #creating = 0;
  readonly #creates = new Set<AbortController>();
  readonly #destroying = new Set<Promise<unknown>>();
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #lastCreateError: unknown;
  #closing: Promise<void> | undefined;
  #onEmpty: (() => void) | undefined;
  readonly #stats = zeroStats();

  constructor(options: PoolOptions<T>) {
    super();
    this.#o = resolvePoolOptions(options);
    this.#fill();
  }

  /** stats reports the pool now: sizes, and counters since it was made. */
  stats(): PoolStats {
    const idle = this.#idle.length;
    return {
      ...this.#stats,
      size: this.#entries.size + this.#creating,
      idle,
      borrowed: this.#entries.size - idle,
      pending: this.#pending,
      creating: this.#creating,
    };
  }

  /** closed is true once drain() was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * acquire resolves with a resource: an idle one (validated first), a new
   * one while under `max`, or the next one released. Rejects with
   * NETKIT_TIMEOUT after `timeout` (default acquireTimeout), NETKIT_ABORTED
   * when `signal` aborts, NETKIT_POOL_EXHAUSTED when maxWaiting acquires
   * already wait, NETKIT_POOL_CLOSED once draining.
   */
  acquire(options: { signal?: AbortSignal; timeout?: number } = {}): Promise<T> {
    if (this.#closing) return Promise.reject(closedError());
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(new AbortError('pool acquire', signal.reason));
    // Fast path: nobody queued ahead and a ready idle resource.
    if (this.#pending === 0 && this.#idle.length > 0 && !this.#o.validate && !this.#o.maxLifetime) {
      const e = this.#takeIdle();
      e.borrowed = true;
      this.#stats.acquires++;
      this.emit('acquire', { resource: e.resource, waitedMs: 0 });
      return Promise.resolve(e.resource);
    }
    if (this.#pending >= this.#o.maxWaiting) {
      return Promise.reject(
        new PoolError(
          'NETKIT_POOL_EXHAUSTED',
          `pool acquire: ${this.#pending} acquires already waiting (maxWaiting)`,
        ),
      );
    }
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = {
        resolve,
        reject,
        start: performance.now(),
        done: false,
        timer: undefined,
        cleanup: undefined,
      };
      const timeout = options.timeout ?? this.#o.acquireTimeout;
      if (timeout > 0) {
        w.timer = setTimeout(() => {
          this.#stats.timeouts++;
          this.emit('timeout', { waitedMs: timeout });
          this.#drop(w, this.#timeoutError(timeout));
        }, timeout);
      }
      if (signal) {
        const onAbort = () => {
          this.#stats.cancelled++;
          this.#drop(w, new AbortError('pool acquire', signal.reason));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        w.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.#waiters.push(w);
      this.#pending++;
      this.#dispatch();
    });
  }

  /** release gives a borrowed resource back. Throws NETKIT_POOL_MISUSE if it is not borrowed from this pool. */
  release(resource: T): void {
    const e = this.#borrowedEntry(resource, 'release');
    e.borrowed = false;
    this.emit('release', { resource });
    if (this.#closing) return this.#remove(e, 'drain');
    if (this.#o.maxLifetime > 0 && performance.now() - e.createdAt >= this.#o.maxLifetime) {
      this.#remove(e, 'lifetime');
      return this.#dispatch();
    }
    this.#give(e);
  }

  /** destroy drops a borrowed resource that is broken; the pool makes another if needed. Throws NETKIT_POOL_MISUSE like release. */
  destroy(resource: T): void {
    const e = this.#borrowedEntry(resource, 'destroy');
    e.borrowed = false;
    this.#remove(e, 'user');
    this.#dispatch();
  }

  /**
   * use borrows a resource for `fn` and always gives it back: released when
   * fn succeeds, destroyed when it throws (its state is then unknown, as a
   * connection with a half-read reply would be).
   */
  async use<R>(
    fn: (resource: T) => R | Promise<R>,
    options?: { signal?: AbortSignal; timeout?: number },
  ): Promise<R> {
    const r = await this.acquire(options);
    let ok = false;
    try {
      const v = await fn(r);
      ok = true;
      return v;
    } finally {
      // fn may have given it back itself.
      if (this.#entries.get(r)?.borrowed) {
        if (ok) this.release(r);
        else this.destroy(r);
      }
    }
  }

  /** clear destroys every idle resource (not borrowed ones); the pool stays usable and refills to `min`. */
  clear(): void {
    for (const e of this.#idle.splice(0)) {
      e.idle = false;
      this.#remove(e, 'clear');
    }
    this.#dispatch();
  }

  /**
   * drain closes the pool: new and waiting acquires reject with
   * NETKIT_POOL_CLOSED, creation stops, idle resources are destroyed now and
   * borrowed ones when they come back. Resolves once every resource is
   * destroyed. Idempotent.
   */
  drain(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      clearTimeout(this.#retry);
      for (const ac of this.#creates) ac.abort(closedError());
      for (const w of this.#waiters) if (!w.done) this.#drop(w, closedError());
      for (const e of this.#idle.splice(0)) {
        e.idle = false;
        this.#remove(e, 'drain');
      }
      this.#onEmpty = () => {
        if (this.#entries.size > 0 || this.#creating > 0) return;
        this.#onEmpty = undefined;
        void Promise.allSettled([...this.#destroying]).then(() => resolve());
      };
      this.#onEmpty();
    });
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain();
  }

  #borrowedEntry(resource: T, op: string): Entry<T> {
    const e = this.#entries.get(resource);
    if (!e)
      throw new PoolError(
        'NETKIT_POOL_MISUSE',
        `pool ${op}: this resource is not from this pool (or was destroyed)`,
      );
    if (!e.borrowed)
      throw new PoolError(
        'NETKIT_POOL_MISUSE',
        `pool ${op}: this resource is not borrowed (released twice?)`,
      );
    return e;
  }

  #takeIdle(): Entry<T> {
    const e = (this.#o.order === 'lifo' ? this.#idle.pop() : this.#idle.shift()) as Entry<T>;
    e.idle = false;
    clearTimeout(e.timer);
    e.unwatch?.();
    e.unwatch = undefined;
    return e;
  }

  #drop(w: Waiter<T>, err: Error): void {
    if (w.done) return;
    w.done = true;
    this.#pending--;
    clearTimeout(w.timer);
    w.cleanup?.();
    w.reject(err);
  }

  #nextWaiter(): Waiter<T> | undefined {
    while (this.#waiters.length > 0) {
      const w = this.#waiters.shift() as Waiter<T>;
      if (!w.done) return w;
    }
    return undefined;
  }

  /** #give hands an available resource to the first waiter, or parks it idle. */
  #give(e: Entry<T>): void {
    const w = this.#pending > 0 ? this.#nextWaiter() : undefined;
    if (w) {
      w.done = true;
      this.#pending--;
      clearTimeout(w.timer);
      w.cleanup?.();
      e.borrowed = true;
      this.#stats.acquires++;
      const waitedMs = performance.now() - w.start;
      this.#stats.acquireWaitMs += waitedMs;
      this.emit('acquire', { resource: e.resource, waitedMs });
      w.resolve(e.resource);
      return;
    }
    this.#park(e);
  }

  #park(e: Entry<T>): void {
    e.idle = true;
    this.#idle.push(e);
    const o = this.#o;
    const lifeLeft =
      o.maxLifetime > 0 ? o.maxLifetime - (performance.now() - e.createdAt) : Number.POSITIVE_INFINITY;
    const wait = Math.min(o.idleTimeout > 0 ? o.idleTimeout : Number.POSITIVE_INFINITY, lifeLeft);
    if (Number.isFinite(wait)) {
      e.timer = setTimeout(() => this.#expire(e, wait === lifeLeft ? 'lifetime' : 'idle'), Math.max(0, wait));
      e.timer.unref();
    }
    if (o.watch) e.unwatch = o.watch(e.resource, () => this.#expire(e, 'dead'));
  }

  /** #expire removes an idle resource that timed out, aged out or died. */
  #expire(e: Entry<T>, reason: 'idle' | 'lifetime' | 'dead'): void {
    if (!e.idle) return;
    // Idle timeouts trim down to min; a dead or too-old resource goes regardless (and is replaced).
    if (reason === 'idle' && this.#entries.size + this.#creating <= this.#o.min) return;
    this.#idle.splice(this.#idle.indexOf(e), 1);
    e.idle = false;
    clearTimeout(e.timer);
    e.unwatch?.();
    this.#remove(e, reason);
    this.#dispatch();
  }

  #remove(e: Entry<T>, reason: string): void {
    this.#entries.delete(e.resource);
    this.#stats.destroyed++;
    this.emit('destroy', { resource: e.resource, reason });
    const done = Promise.resolve()
      .then(() => this.#o.destroy(e.resource))
      .catch((error: unknown) => this.emit('destroyError', { resource: e.resource, error }))
      .finally(() => this.#destroying.delete(done));
    this.#destroying.add(done);
    this.#onEmpty?.();
  }

  /** #dispatch serves waiters from idle resources, then creates what is missing (never while backing off). */
  #dispatch(): void {
    while (this.#pending > 0 && this.#idle.length > 0) {
      const e = this.#takeIdle();
      if (this.#o.maxLifetime > 0 && performance.now() - e.createdAt >= this.#o.maxLifetime) {
        this.#remove(e, 'lifetime');
        continue;
      }
      if (!this.#o.validate) {
        this.#give(e);
        continue;
      }
      this.#check(e);
    }
    this.#fill();
  }

  #check(e: Entry<T>): void {
    e.borrowed = true; // held by the pool while it is checked
    const verdict = (ok: boolean) => {
      e.borrowed = false;
      if (this.#closing) return this.#remove(e, 'drain');
      if (!ok) {
        this.#remove(e, 'invalid');
        return this.#dispatch();
      }
      this.#give(e);
    };
    let r: boolean | Promise<boolean>;
    try {
      r = (this.#o.validate as (x: T) => boolean | Promise<boolean>)(e.resource);
    } catch {
      return verdict(false);
    }
    if (typeof r === 'boolean') verdict(r);
    else Promise.resolve(r).then(verdict, () => verdict(false));
  }

  #fill(): void {
    if (this.#closing || this.#retry) return;
    const size = () => this.#entries.size + this.#creating;
    while (size() < this.#o.max && (this.#pending > this.#creating || size() < this.#o.min)) this.#create();
  }

  #create(): void {
    this.#creating++;
    const ac = new AbortController();
    this.#creates.add(ac);
    const limit = this.#o.createTimeout;
    const timer =
      limit > 0
        ? setTimeout(
            () =>
              ac.abort(
                new TimeoutError(
                  'NETKIT_TIMEOUT',
                  'pool create',
                  `pool create: no resource within ${limit} ms`,
                  limit,
                ),
              ),
            limit,
          )
        : undefined;
    Promise.resolve()
      .then(() => this.#o.create({ signal: ac.signal }))
      .then(
        (resource) => {
          this.#creating--;
          if (ac.signal.aborted) {
            // Timed out (or drained) while creating, and it came anyway: too late to use.
            void Promise.resolve()
              .then(() => this.#o.destroy(resource))
              .catch(() => {});
            return this.#createFailed(ac.signal.reason);
          }
          this.#failures = 0;
          this.#stats.created++;
          const e: Entry<T> = { resource, createdAt: performance.now(), borrowed: false, idle: false };
          this.#entries.set(resource, e);
          this.emit('create', { resource });
          if (this.#closing) return this.#remove(e, 'drain');
          this.#give(e);
          this.#dispatch();
        },
        (error: unknown) => {
          this.#creating--;
          this.#createFailed(ac.signal.aborted ? ac.signal.reason : error);
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.#creates.delete(ac);
      });
  }

  /** #createFailed counts a failed creation and waits a backoff delay before the next attempt. */
  #createFailed(error: unknown): void {
    if (this.#closing) return this.#onEmpty?.();
    this.#stats.createErrors++;
    this.#lastCreateError = error;
    const delayMs = backoffDelay(this.#o.createRetry, this.#failures++);
    this.emit('createError', { error, attempt: this.#failures, delayMs });
    clearTimeout(this.#retry);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#dispatch();
    }, delayMs);
    this.#retry.unref();
  }

  #timeoutError(ms: number): TimeoutError {
    const last = this.#lastCreateError;
    const why =
      last === undefined ? '' : `; last create error: ${last instanceof Error ? last.message : String(last)}`;
    return new TimeoutError(
      'NETKIT_TIMEOUT',
      'pool acquire',
      `pool acquire: no resource within ${ms} ms${why}`,
      ms,
    );
  }
}

function closedError(): PoolError {
  return new PoolError('NETKIT_POOL_CLOSED', 'pool is draining or drained');
}
