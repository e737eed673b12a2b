import { type Backoff, type BackoffOptions, checkBackoff } from '../internal/backoff.js';
import { checkFunction, checkInt, checkMs, checkObject, checkOneOf } from '../internal/validate.js';

/** PoolOptions configure a Pool. Durations are milliseconds; 0 turns a limit off. */
export interface PoolOptions<T> {
  /** create makes a resource; the signal aborts when the pool drains or creation times out. */
  create: (ctx: { signal: AbortSignal }) => Promise<T>;
  /** destroy releases a resource for good (close a socket). Errors are reported, never thrown. */
  destroy?: (resource: T) => unknown;
  /** validate checks an idle resource before it is handed out; false (or a throw) destroys it and tries the next. */
  validate?: (resource: T) => boolean | Promise<boolean>;
  /**
   * watch is told about each idle resource and may call `dead()` when it
   * learns the resource is gone (a server closed an idle connection), so it
   * is dropped at once instead of on the next borrow. Returns an unwatch function.
   */
  watch?: (resource: T, dead: () => void) => () => void;
  /** max caps resources in existence: idle, borrowed and being created. Default 10. */
  max?: number;
  /** min keeps this many resources alive, created ahead of demand. Default 0. */
  min?: number;
  /** maxWaiting caps queued acquires; beyond it acquire rejects at once (NETKIT_POOL_EXHAUSTED). Default unlimited. */
  maxWaiting?: number;
  /** acquireTimeout bounds each acquire (NETKIT_TIMEOUT). Default 30 s. */
  acquireTimeout?: number;
  /** createTimeout bounds each create() call. Default 10 s. */
  createTimeout?: number;
  /** idleTimeout destroys resources idle this long (down to `min`). Default 30 s. */
  idleTimeout?: number;
  /** maxLifetime destroys resources this old when they come back or sit idle. Default none. */
  maxLifetime?: number;
  /** order hands out the most recently used idle resource (lifo, the default: warm ones) or the oldest (fifo). */
  order?: 'lifo' | 'fifo';
  /** createRetry spaces out creation attempts after failures: capped exponential backoff with jitter. */
  createRetry?: BackoffOptions;
}

/** ResolvedPoolOptions are options after defaults and validation. */
export interface ResolvedPoolOptions<T> {
  create: (ctx: { signal: AbortSignal }) => Promise<T>;
  destroy: (resource: T) => unknown;
  validate: ((resource: T) => boolean | Promise<boolean>) | undefined;
  watch: ((resource: T, dead: () => void) => () => void) | undefined;
  max: number;
  min: number;
  maxWaiting: number;
  acquireTimeout: number;
  createTimeout: number;
  idleTimeout: number;
  maxLifetime: number;
  order: 'lifo' | 'fifo';
  createRetry: Backoff;
}

/** resolvePoolOptions applies defaults and throws InvalidArgumentError naming a bad option. */
export function resolvePoolOptions<T>(o: PoolOptions<T>): ResolvedPoolOptions<T> {
  checkObject('options', o, true);
  checkFunction('create', o.create, true);
  checkFunction('destroy', o.destroy);
  checkFunction('validate', o.validate);
  checkFunction('watch', o.watch);
  const max = checkInt('max', o.max ?? 10, 1, 1_000_000);
  const min = checkInt('min', o.min ?? 0, 0, max);
  return {
    create: o.create,
    destroy: o.destroy ?? (() => {}),
    validate: o.validate,
    watch: o.watch,
    max,
    min,
    maxWaiting:
      o.maxWaiting === undefined
        ? Number.POSITIVE_INFINITY
        : checkInt('maxWaiting', o.maxWaiting, 0, 2 ** 31 - 1),
    acquireTimeout: checkMs('acquireTimeout', o.acquireTimeout ?? 30_000),
    createTimeout: checkMs('createTimeout', o.createTimeout ?? 10_000),
    idleTimeout: checkMs('idleTimeout', o.idleTimeout ?? 30_000),
    maxLifetime: checkMs('maxLifetime', o.maxLifetime ?? 0),
    order: checkOneOf('order', o.order ?? 'lifo', ['lifo', 'fifo'] as const),
    createRetry: checkBackoff('createRetry', { initial: 100, max: 5_000, ...o.createRetry }),
  };
}
