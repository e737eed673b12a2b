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

/** checkBool asserts a boolean or undefined. */
export function checkBool(option: string, value: unknown): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') {
    throw new InvalidArgumentError(option, `must be true or false, got ${shown(value)}`);
  }
  return value;
}

/** checkFunction asserts a function, or undefined unless `required`. */
export function checkFunction<F extends (...args: never[]) => unknown>(
  option: string,
  value: unknown,
  required = false,
): F | undefined {
  if ((required || value !== undefined) && typeof value !== 'function') {
    throw new InvalidArgumentError(option, 'must be a function');
  }
  return value as F | undefined;
}

/** checkString asserts a string; with `nonEmpty`, not ''. */
export function checkString(option: string, value: unknown, nonEmpty = false): string {
  if (typeof value !== 'string' || (nonEmpty && value === '')) {
    throw new InvalidArgumentError(
      option,
      `must be a ${nonEmpty ? 'non-empty ' : ''}string, got ${shown(value)}`,
    );
  }
  return value;
}

/** checkObject asserts an options object; undefined gives `{}` unless `required`. */
export function checkObject<T extends object>(
  option: string,
  value: T | undefined,
  required = false,
): Partial<T> {
  if (value === undefined && !required) return {};
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(option, `must be an object, got ${shown(value)}`);
  }
  return value;
}

/** shown is how a message shows the value it refused: strings quoted, objects by kind. */
export function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
