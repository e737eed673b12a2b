import { InvalidArgumentError } from '../errors.js';

/** Milliseconds per unit of Go's time.ParseDuration (`µs` spelled with the micro sign or the Greek mu). */
const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const BARE = /^\d+(?:\.\d+)?$/;
const GO = /^(?:\d+(?:\.\d*)?(?:ns|us|µs|μs|ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d*)?)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * parseDuration turns a command-line duration into milliseconds: Go's
 * syntax (`500ms`, `30s`, `1.5m`, `1m30s`, `2h45m`), or a bare number,
 * which means seconds (`-w 5` as with nc, `-m 5` as with curl) unless
 * `bare` says milliseconds. The API itself always takes milliseconds;
 * strings exist for people typing flags. A value below `min` is refused,
 * naming the minimum.
 */
export function parseDuration(text: string, option = 'duration', min = 0, bare: 's' | 'ms' = 's'): number {
  const t = text.trim();
  let ms: number;
  if (BARE.test(t)) ms = Number(t) * UNITS[bare]!;
  else if (GO.test(t)) {
    ms = 0;
    for (const [, n, unit] of t.matchAll(PART)) ms += Number(n) * UNITS[unit!]!;
  } else {
    throw new InvalidArgumentError(
      option,
      `"${text}" is not a duration; use e.g. 500ms, 30s, 1m30s (a bare number is ${bare === 's' ? 'seconds' : 'milliseconds'})`,
    );
  }
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
