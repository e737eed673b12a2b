import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { formatDuration, parseDuration } from '../../src/internal/duration.js';

test('parseDuration reads command-line durations as milliseconds', () => {
  const cases: [string, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['250', 250],
    [' 10s ', 10_000],
    ['0', 0],
  ];
  for (const [i, [text, ms]] of cases.entries()) assert.equal(parseDuration(text), ms, `#${i}: ${text}`);
});

test('parseDuration refuses what is not a duration, naming the option', () => {
  for (const text of ['soon', '10 s', '-1s', '1d', '', '1e3', '999999h']) {
    assert.throws(
      () => parseDuration(text, '--idle'),
      (e: InvalidArgumentError) => e instanceof InvalidArgumentError && e.option === '--idle',
      text,
    );
  }
});

test('formatDuration renders milliseconds for people', () => {
  const cases: [number, string][] = [
    [0, '0ms'],
    [850.4, '850ms'],
    [2410, '2.41s'],
    [185_000, '3m05s'],
  ];
  for (const [ms, want] of cases) assert.equal(formatDuration(ms), want, `${ms}`);
});
