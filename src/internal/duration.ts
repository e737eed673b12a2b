import { InvalidArgumentError } from '../errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * parseDuration turns a command-line duration (`500ms`, `30s`, `1.5m`, `2h`,
 * or a bare number of milliseconds) into milliseconds. The API itself always
 * takes milliseconds; strings exist for people typing flags. A value below
 * `min` is refused, naming the minimum.
 */
export function parseDuration(text: string, option = 'duration', min = 0): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) {
    throw new InvalidArgumentError(option, `"${text}" is not a duration; use e.g. 500ms, 30s, 2m`);
  }
  const ms = Number(m[1]) * UNITS[m[2] ?? 'ms']!;
  if (!Number.isFinite(ms) || ms > 2 ** 31 - 1) {
    throw new InvalidArgumentError(option, `"${text}" is too long; the maximum is about 24 days`);
  }
  if (ms < min) {
    throw new InvalidArgumentError(option, `"${text}" is below the minimum of ${formatDuration(min)}`);
  }
  return Math.round(ms);
}

/** formatDuration renders milliseconds for people: `850ms`, `2.41s`, `3m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
