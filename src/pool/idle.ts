/** Entry is the pool's record of one resource. */
export interface Entry<T> {
  resource: T;
  createdAt: number;
  borrowed: boolean;
  idle: boolean;
  timer?: NodeJS.Timeout | undefined;
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
 * IdleList holds the resources waiting to be borrowed. Each carries one
 * timer, for whichever comes first of its idle timeout and its end of
 * life, and (with a watch hook) a way to learn that it died while idle.
 */
export class IdleList<T> {
  readonly #list: Entry<T>[] = [];
  readonly #o: IdleOptions<T>;
  readonly #expire: (e: Entry<T>, reason: ExpireReason) => void;

  constructor(o: IdleOptions<T>, expire: (e: Entry<T>, reason: ExpireReason) => void) {
    this.#o = o;
    this.#expire = expire;
  }

  get length(): number {
    return this.#list.length;
  }

  /** park adds a resource, arming its timer and watch. */
  park(e: Entry<T>): void {
    e.idle = true;
    this.#list.push(e);
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
  clearTimeout(e.timer);
  e.timer = undefined;
  e.unwatch?.();
  e.unwatch = undefined;
}
