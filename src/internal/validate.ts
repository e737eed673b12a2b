import { InvalidArgumentError } from '../errors.js';

/**
 * Option validators shared by every module. Each throws InvalidArgumentError
 * naming the option, so a caller learns which setting to fix.
 */

/** checkInt asserts an integer in [min, max] (or undefined when optional). */
export function checkInt(option: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(option, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** checkMs asserts a duration in milliseconds: a finite number >= 0 (0 often means "none"). */
export function checkMs(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new InvalidArgumentError(
      option,
      `must be a duration in milliseconds from 0 to 2147483647, got ${String(value)}`,
    );
  }
  return value;
}

/** checkOneOf asserts that value is one of the allowed strings. */
export function checkOneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !allowed.includes(value as T)) {
    throw new InvalidArgumentError(option, `must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

/** checkSignal asserts an AbortSignal or undefined. */
export function checkSignal(value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', 'must be an AbortSignal');
  }
  return value;
}
