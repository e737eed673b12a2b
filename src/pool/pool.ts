import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { AbortError, PoolError, TimeoutError } from '../errors.js';
import { Creator } from './creator.js';
import { type Entry, type ExpireReason, IdleList } from './idle.js';
import { type PoolOptions, type ResolvedPoolOptions, resolvePoolOptions } from './options.js';
import { type PoolEvents, type PoolStats, zeroStats } from './stats.js';
import { WaitQueue } from './waiters.js';

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
  readonly #idle: IdleList<T>;
  readonly #waiters = new WaitQueue<T>({
    timeout: (ms) => {
      this.#stats.timeouts++;
      this.emit('timeout', { waitedMs: ms });
      return this.#timeoutError(ms);
    },
    abort: (reason) => {
      this.#stats.cancelled++;
      return new AbortError('pool acquire', reason);
    },
  });
  readonly #creator: Creator<T>;
  readonly #destroying = new Set<Promise<unknown>>();
  #closing: Promise<void> | undefined;
  #onEmpty: (() => void) | undefined;
  readonly #stats = zeroStats();
  /** observed turns on the per-borrow events once anyone listens: building them costs more than the borrow. */
  #observed = false;

  constructor(options: PoolOptions<T>) {
    super();
    (this as EventEmitter).once('newListener', () => {
      this.#observed = true;
    });
    this.#o = resolvePoolOptions(options);
    this.#idle = new IdleList(this.#o, (e, reason) => this.#expire(e, reason));
    this.#creator = new Creator(this.#o, {
      created: (r) => this.#created(r),
      failed: (error, attempt, delayMs) => this.#createFailed(error, attempt, delayMs),
      retry: () => this.#dispatch(),
      ended: () => this.#onEmpty?.(),
    });
    this.#fill();
  }

  /** stats reports the pool now: sizes, and counters since it was made. */
  stats(): PoolStats {
    const idle = this.#idle.length;
    return {
      ...this.#stats,
      size: this.#entries.size + this.#creator.creating,
      idle,
      borrowed: this.#entries.size - idle,
      pending: this.#waiters.pending,
      creating: this.#creator.creating,
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
  acquire(options?: { signal?: AbortSignal; timeout?: number }): Promise<T> {
    if (this.#closing) return Promise.reject(closedError());
    // No `= {}` default: it would allocate an object on every acquire made without options.
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('pool acquire', signal.reason));
    // Fast path: nobody queued ahead and a ready idle resource.
    if (this.#waiters.pending === 0 && this.#idle.length > 0 && !this.#o.validate && !this.#o.maxLifetime) {
      const e = this.#idle.take();
      e.borrowed = true;
      e.borrows++;
      this.#stats.acquires++;
      if (this.#observed) this.emit('acquire', { resource: e.resource, waitedMs: 0 });
      return Promise.resolve(e.resource);
    }
    // maxWaiting counts acquires that must wait for a release: those an idle resource or a free
    // slot (one being created, or still to create) will serve are not waiting for anyone.
    const waitingForRelease = this.#waiters.pending - this.#idle.length - (this.#o.max - this.#entries.size);
    if (waitingForRelease >= this.#o.maxWaiting) return Promise.reject(this.#exhausted(waitingForRelease));
    const waiting = this.#waiters.wait(options?.timeout ?? this.#o.acquireTimeout, signal);
    this.#dispatch();
    return waiting;
  }

  /** release gives a borrowed resource back. Throws NETKIT_POOL_MISUSE if it is not borrowed from this pool. */
  release(resource: T): void {
    const e = this.#borrowedEntry(resource, 'release');
    e.borrowed = false;
    if (this.#observed) this.emit('release', { resource });
    if (this.#closing) {
      this.#remove(e, 'drain');
      return;
    }
    if (this.#o.maxLifetime > 0 && performance.now() - e.createdAt >= this.#o.maxLifetime) {
      this.#remove(e, 'lifetime');
      this.#dispatch();
      return;
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
    const borrow = this.#entries.get(r)?.borrows;
    let ok = false;
    try {
      const v = await fn(r);
      ok = true;
      return v;
    } finally {
      // fn may have given it back itself, and someone else may hold it by now: only this borrow is ours.
      const e = this.#entries.get(r);
      if (e?.borrowed && e.borrows === borrow) {
        if (ok) this.release(r);
        else this.destroy(r);
      }
    }
  }

  /** clear destroys every idle resource (not borrowed ones); the pool stays usable and refills to `min`. */
  clear(): void {
    for (const e of this.#idle.takeAll()) this.#remove(e, 'clear');
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
      this.#creator.stop(closedError());
      this.#waiters.rejectAll(closedError());
      for (const e of this.#idle.takeAll()) this.#remove(e, 'drain');
      this.#onEmpty = () => {
        if (this.#entries.size > 0 || this.#creator.creating > 0) return;
        this.#onEmpty = undefined;
        void Promise.allSettled([...this.#destroying]).then(() => resolve());
      };
      this.#onEmpty();
    });
    return this.#closing;
  }

  /** [Symbol.asyncDispose] runs drain(), so `await using pool = new Pool(…)` drains it at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.drain();
  }

  #borrowedEntry(resource: T, op: string): Entry<T> {
    const e = this.#entries.get(resource);
    if (!e) throw misuse(op, 'this resource is not from this pool (or was destroyed)');
    if (!e.borrowed) throw misuse(op, 'this resource is not borrowed (released twice?)');
    return e;
  }

  #exhausted(waitingForRelease: number): PoolError {
    return new PoolError(
      'NETKIT_POOL_EXHAUSTED',
      `pool acquire: ${waitingForRelease} acquires already waiting at max ${this.#o.max} (maxWaiting ${this.#o.maxWaiting})`,
    );
  }

  /** #give hands an available resource to the first waiter, or parks it idle. */
  #give(e: Entry<T>): void {
    e.borrowed = true;
    if (this.#waiters.pending === 0 || !this.#waiters.serve(e.resource)) {
      e.borrowed = false;
      this.#idle.park(e);
      return;
    }
    const waitedMs = this.#waiters.lastWait;
    e.borrows++;
    this.#stats.acquires++;
    this.#stats.acquireWaitMs += waitedMs;
    if (this.#observed) this.emit('acquire', { resource: e.resource, waitedMs });
  }

  /** #expire removes an idle resource that timed out, aged out or died; false when it stays. */
  #expire(e: Entry<T>, reason: ExpireReason): boolean {
    if (!e.idle) return true;
    // Idle timeouts trim down to min; a dead or too-old resource goes regardless (and is replaced).
    if (reason === 'idle' && this.#entries.size + this.#creator.creating <= this.#o.min) return false;
    this.#idle.remove(e);
    this.#remove(e, reason);
    this.#dispatch();
    return true;
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
    while (this.#waiters.pending > 0 && this.#idle.length > 0) {
      const e = this.#idle.take();
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
      verdict(false);
      return;
    }
    if (typeof r === 'boolean') verdict(r);
    else Promise.resolve(r).then(verdict, () => verdict(false));
  }

  #fill(): void {
    const c = this.#creator;
    if (this.#closing || c.backingOff) return;
    // Runs on every queued acquire: written out rather than with a size() closure made per call.
    for (;;) {
      const size = this.#entries.size + c.creating;
      if (size >= this.#o.max || (this.#waiters.pending <= c.creating && size >= this.#o.min)) return;
      c.start();
    }
  }

  #created(resource: T): void {
    this.#stats.created++;
    const e: Entry<T> = {
      resource,
      createdAt: performance.now(),
      borrowed: false,
      borrows: 0,
      idle: false,
      due: 0,
    };
    this.#entries.set(resource, e);
    this.emit('create', { resource });
    if (this.#closing) {
      this.#remove(e, 'drain');
      return;
    }
    this.#give(e);
    this.#dispatch();
  }

  #createFailed(error: unknown, attempt: number, delayMs: number): void {
    if (this.#closing) return;
    this.#stats.createErrors++;
    this.emit('createError', { error, attempt, delayMs });
  }

  #timeoutError(ms: number): TimeoutError {
    const last = this.#creator.lastError;
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

// The errors are built apart from the methods that throw them, which run on every borrow:
// small functions are the ones the optimising compiler inlines.
function misuse(op: string, why: string): PoolError {
  return new PoolError('NETKIT_POOL_MISUSE', `pool ${op}: ${why}`);
}

function closedError(): PoolError {
  return new PoolError('NETKIT_POOL_CLOSED', 'pool is draining or drained');
}
