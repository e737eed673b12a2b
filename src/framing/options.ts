/**
 * Option validation shared by the framing codecs. Every failure is an
 * InvalidArgumentError naming the option, raised at construction so a bad
 * configuration fails at startup rather than on the first frame.
 */
import { constants } from 'node:buffer';
import { FrameError, InvalidArgumentError } from '../errors.js';
import { checkBool, checkObject, shown } from '../internal/validate.js';

/** MAX_BUFFER_BYTES is the largest Buffer this Node.js can allocate; no frame limit may exceed it. */
export const MAX_BUFFER_BYTES: number = constants.MAX_LENGTH;

/** optionsObject returns `options`, or an empty object when undefined; anything else is rejected. */
export function optionsObject<T extends object>(options: T | undefined): Partial<T> {
  return checkObject('options', options);
}

/** byteLimit validates a frame or line limit: an integer from 1 to MAX_BUFFER_BYTES. */
export function byteLimit(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_BUFFER_BYTES) {
    throw new InvalidArgumentError(
      option,
      `must be an integer from 1 to ${MAX_BUFFER_BYTES}, got ${shown(value)}; there is no unlimited setting, pick the largest frame you accept`,
    );
  }
  return value;
}

/** optionalByteLimit validates a limit like byteLimit but leaves it undefined when absent. */
export function optionalByteLimit(option: string, value: unknown): number | undefined {
  return value === undefined ? undefined : byteLimit(option, value, 0);
}

/** oneOf validates that `value` is one of `allowed`. */
export function oneOf<T extends string | number>(
  option: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new InvalidArgumentError(
      option,
      `must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${shown(value)}`,
    );
  }
  return value as T;
}

/** bool validates a boolean option. */
export function bool(option: string, value: unknown, fallback: boolean): boolean {
  return checkBool(option, value) ?? fallback;
}

/** tooLargeAdvice is the shared "what to do" tail of NETKIT_FRAME_TOO_LARGE messages. */
export function tooLargeAdvice(option: string): string {
  return `raise ${option} or check the peer's framing`;
}

/**
 * checkEncodeSize is every encoder's maxFrameBytes check: refuse a payload
 * over the limit rather than send a frame the peer's decoder will reject.
 */
export function checkEncodeSize(n: number, maxFrameBytes: number): void {
  if (n > maxFrameBytes) {
    throw new FrameError(
      'NETKIT_FRAME_TOO_LARGE',
      `frame of ${n} bytes exceeds maxFrameBytes (${maxFrameBytes}); raise maxFrameBytes or split the payload`,
      { limit: maxFrameBytes, size: n },
    );
  }
}
