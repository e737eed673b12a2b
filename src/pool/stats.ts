/** PoolStats is what Pool.stats() reports. */
export interface PoolStats {
  /** size counts every resource: idle, borrowed, and being created. */
  size: number;
  /** idle counts resources ready to hand out. */
  idle: number;
  /** borrowed counts resources handed out and not yet released. */
  borrowed: number;
  /** pending counts acquires waiting. */
  pending: number;
  /** creating counts resources being created. */
  creating: number;
  /** acquires counts resources handed out. */
  acquires: number;
  /**
   * acquireWaitMs totals the time acquires waited (those served at once add
   * nothing), each wait to within the runs of code in which it began and
   * ended: the pool reads its clock once per run (see docs/pool.md).
   */
  acquireWaitMs: number;
  /** cancelled counts acquires aborted through their signal. */
  cancelled: number;
  /** timeouts counts acquires that gave up at their timeout. */
  timeouts: number;
  /** createErrors counts failed create() calls. */
  createErrors: number;
  /** created counts resources created. */
  created: number;
  /** destroyed counts resources destroyed, for any reason. */
  destroyed: number;
}

/** zeroStats is a fresh set of counters. */
export function zeroStats(): Pick<
  PoolStats,
  'acquires' | 'acquireWaitMs' | 'cancelled' | 'timeouts' | 'createErrors' | 'created' | 'destroyed'
> {
  return {
    acquires: 0,
    acquireWaitMs: 0,
    cancelled: 0,
    timeouts: 0,
    createErrors: 0,
    created: 0,
    destroyed: 0,
  };
}

/** PoolEvents are what a Pool emits (see the fields of each). */
export interface PoolEvents<T> {
  /** create: a resource was created. */
  create: [
    {
      /** resource is the new resource. */
      resource: T;
    },
  ];
  /** createError: create() failed; the pool retries after a backoff. */
  createError: [
    {
      /** error is what create() threw or rejected with. */
      error: unknown;
      /** attempt counts failures in a row, from 1. */
      attempt: number;
      /** delayMs is the backoff before the next try. */
      delayMs: number;
    },
  ];
  /** acquire: a resource was handed out. */
  acquire: [
    {
      /** resource is the resource handed out. */
      resource: T;
      /** waitedMs is how long the acquire waited (0 when served at once), as acquireWaitMs counts it. */
      waitedMs: number;
    },
  ];
  /** release: a resource came back. */
  release: [
    {
      /** resource is the resource released. */
      resource: T;
    },
  ];
  /** destroy: a resource was removed from the pool. */
  destroy: [
    {
      /** resource is the resource removed. */
      resource: T;
      /** reason says why: user, invalid, idle, lifetime, dead, clear or drain. */
      reason: string;
    },
  ];
  /** destroyError: the pool's destroy() hook failed for a resource (it is gone from the pool anyway). */
  destroyError: [
    {
      /** resource is the resource being destroyed. */
      resource: T;
      /** error is what destroy() threw or rejected with. */
      error: unknown;
    },
  ];
  /** timeout: an acquire gave up at its timeout. */
  timeout: [
    {
      /** waitedMs is how long it waited. */
      waitedMs: number;
    },
  ];
}
