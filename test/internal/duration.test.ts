import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { formatDuration, parseDuration } from '../../src/internal/duration.js';

test('parseDuration reads Go durations into milliseconds; a bare number is seconds', () => {
  const cases: [string, number][] = [
    ['500ms', 500],
    ['30s', 30_000],
    ['1.5m', 90_000],
    ['2h', 7_200_000],
    ['1m30s', 90_000],
    ['2h45m', 9_900_000],
    ['1h2m3s4ms', 3_723_004],
    ['1500us', 2],
    ['250µs', 0],
    ['5', 5_000],
    ['0.25', 250],
    [' 10s ', 10_000],
    ['0', 0],
  ];
  for (const [i, [text, ms]] of cases.entries()) assert.equal(parseDuration(text), ms, `#${i}: ${text}`);
});

test('parseDuration reads a bare number as milliseconds when told to (the ?delay= parameter)', () => {
  assert.equal(parseDuration('250', 'delay', 0, 'ms'), 250);
  assert.equal(parseDuration('2s', 'delay', 0, 'ms'), 2_000);
});

test('parseDuration refuses what is not a duration, naming the option', () => {
  for (const text of ['soon', '10 s', '-1s', '1d', '', '1e3', '999999h', 's', '1m-30s', '1.5.2s', 'ms5']) {
    assert.throws(
      () => parseDuration(text, '--idle-timeout'),
      (e: InvalidArgumentError) => e instanceof InvalidArgumentError && e.option === '--idle-timeout',
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
