import { performance } from 'node:perf_hooks';

/** Entry is the pool's record of one resource. */
export interface Entry<T> {
  resource: T;
  createdAt: number;
  borrowed: boolean;
  /** borrows counts hand-outs, so a borrower can tell its borrow from a later one. */
  borrows: number;
  idle: boolean;
  /** due is when an idle resource should go (idle timeout or end of life), as performance.now() time. */
  due: number;
  unwatch?: (() => void) | undefined;
}

/** ExpireReason says why an idle resource left: idle too long, too old, or found dead. */
export type ExpireReason = 'idle' | 'lifetime' | 'dead';

/** IdleOptions are the pool options an IdleList needs. */
export interface IdleOptions<T> {
  order: 'lifo' | 'fifo';
  idleTimeout: number;
  maxLifetime: number;
  watch: ((resource: T, dead: () => void) => () => void) | undefined;
}

/**
 * IdleList holds the resources waiting to be borrowed, each due to go at
 * whichever comes first of its idle timeout and its end of life, and (with
 * a watch hook) able to report that it died while idle. One timer serves
 * the list, armed for the earliest due time: a timer per park and take
 * would cost more than the rest of a borrow.
 */
export class IdleList<T> {
  readonly #list: Entry<T>[] = [];
  readonly #o: IdleOptions<T>;
  /** expire returns false to keep a resource (an idle timeout that would take the pool below min). */
  readonly #expire: (e: Entry<T>, reason: ExpireReason) => boolean;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;

  constructor(o: IdleOptions<T>, expire: (e: Entry<T>, reason: ExpireReason) => boolean) {
    this.#o = o;
    this.#expire = expire;
  }

  get length(): number {
    return this.#list.length;
  }

  /** park adds a resource, setting when it is due and watching it. */
  park(e: Entry<T>): void {
    e.idle = true;
    this.#list.push(e);
    const o = this.#o;
    const now = performance.now();
    const idleDue = o.idleTimeout > 0 ? now + o.idleTimeout : Number.POSITIVE_INFINITY;
    const lifeDue = o.maxLifetime > 0 ? e.createdAt + o.maxLifetime : Number.POSITIVE_INFINITY;
    e.due = Math.min(idleDue, lifeDue);
    if (e.due < this.#timerAt) this.#arm(e.due);
    if (o.watch) e.unwatch = o.watch(e.resource, () => this.#expire(e, 'dead'));
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = undefined;
    if (!Number.isFinite(at)) return;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, at - performance.now()));
    // Idle resources alone must not keep a process alive.
    this.#timer.unref();
  }

  /** #sweep lets go of every resource past its due time, then re-arms for the next. */
  #sweep(): void {
    const now = performance.now();
    const o = this.#o;
    this.#timerAt = Number.POSITIVE_INFINITY;
    for (const e of [...this.#list]) {
      if (e.due > now) continue;
      const aged = o.maxLifetime > 0 && now - e.createdAt >= o.maxLifetime;
      // Kept (the pool is at min): look again one idle timeout later.
      if (!this.#expire(e, aged ? 'lifetime' : 'idle')) e.due = now + o.idleTimeout;
    }
    let next = Number.POSITIVE_INFINITY;
    for (const e of this.#list) if (e.due < next) next = e.due;
    this.#arm(next);
  }

  /** take removes the next resource to hand out: the most recent (lifo) or the oldest (fifo). */
  take(): Entry<T> {
    const e = (this.#o.order === 'lifo' ? this.#list.pop() : this.#list.shift()) as Entry<T>;
    unpark(e);
    return e;
  }

  /** remove takes a particular resource out. */
  remove(e: Entry<T>): void {
    const i = this.#list.indexOf(e);
    if (i >= 0) this.#list.splice(i, 1);
    unpark(e);
  }

  /** takeAll empties the list. */
  takeAll(): Entry<T>[] {
    const all = this.#list.splice(0);
    for (const e of all) unpark(e);
    return all;
  }
}

function unpark<T>(e: Entry<T>): void {
  e.idle = false;
  e.unwatch?.();
  e.unwatch = undefined;
}
