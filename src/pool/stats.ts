/** PoolStats is what Pool.stats() reports. */
export interface PoolStats {
  /** size counts every resource: idle, borrowed, and being created. */
  size: number;
  idle: number;
  borrowed: number;
  /** pending counts acquires waiting. */
  pending: number;
  creating: number;
  /** acquires counts resources handed out. */
  acquires: number;
  /** acquireWaitMs totals the time acquires waited (those served at once add nothing). */
  acquireWaitMs: number;
  /** cancelled counts acquires aborted through their signal. */
  cancelled: number;
  timeouts: number;
  createErrors: number;
  created: number;
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
  create: [{ resource: T }];
  createError: [{ error: unknown; attempt: number; delayMs: number }];
  acquire: [{ resource: T; waitedMs: number }];
  release: [{ resource: T }];
  destroy: [{ resource: T; reason: string }];
  destroyError: [{ resource: T; error: unknown }];
  timeout: [{ waitedMs: number }];
}
