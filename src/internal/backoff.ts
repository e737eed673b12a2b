import { InvalidArgumentError } from '../errors.js';
import { checkInt, checkMs } from './validate.js';

/** BackoffOptions shape retry delays: `initial · factor^attempt`, capped at `max`, with jitter. */
export interface BackoffOptions {
  /** initial is the first delay in ms. Default 250. */
  initial?: number;
  /** max caps every delay, in ms. Default 30 s. */
  max?: number;
  /** factor multiplies the delay after each failure. Default 2. */
  factor?: number;
  /** jitter is the fraction of each delay that is random (0 to 1). Default 0.5. */
  jitter?: number;
  /** retries is how many attempts follow the first failure. Default unlimited. */
  retries?: number;
}

/** Backoff is BackoffOptions after defaults and validation. */
export type Backoff = Required<BackoffOptions>;

/** checkBackoff applies defaults and throws InvalidArgumentError naming a bad field of `option`. */
export function checkBackoff(option: string, o: BackoffOptions = {}): Backoff {
  const b: Backoff = {
    initial: checkMs(`${option}.initial`, o.initial ?? 250),
    max: checkMs(`${option}.max`, o.max ?? 30_000),
    factor: o.factor ?? 2,
    jitter: o.jitter ?? 0.5,
    retries:
      o.retries === undefined
        ? Number.POSITIVE_INFINITY
        : checkInt(`${option}.retries`, o.retries, 0, 2 ** 31 - 1),
  };
  if (typeof b.factor !== 'number' || !(b.factor >= 1 && b.factor <= 100)) {
    throw new InvalidArgumentError(
      `${option}.factor`,
      `must be a number from 1 to 100, got ${String(o.factor)}`,
    );
  }
  if (typeof b.jitter !== 'number' || !(b.jitter >= 0 && b.jitter <= 1)) {
    throw new InvalidArgumentError(
      `${option}.jitter`,
      `must be a number from 0 to 1, got ${String(o.jitter)}`,
    );
  }
  if (b.initial > b.max) {
    throw new InvalidArgumentError(
      `${option}.initial`,
      `must not exceed max (${b.max} ms), got ${b.initial}`,
    );
  }
  return b;
}

/**
 * backoffDelay is the wait before retry number `attempt` (0 for the first
 * retry): exponential, capped, and with its top `jitter` fraction random so
 * that many clients cut off at once do not come back in lockstep.
 */
export function backoffDelay(b: Backoff, attempt: number, random: () => number = Math.random): number {
  const base = Math.min(b.max, b.initial * b.factor ** Math.min(attempt, 64));
  return Math.round(base * (1 - b.jitter * random()));
}
