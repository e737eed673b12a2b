/**
 * Figures from the fault campaign. Each fault test reports what it
 * measured with figure(): a diagnostic line in the test output, and, when
 * NETKIT_FAULTS_OUT names a file (`npm run faults` sets it), one JSON line
 * appended there for the summary table. NETKIT_FAULTS_FULL=1 asks tests
 * for their longer rounds (`rounds(short, full)`).
 */
import { appendFileSync } from 'node:fs';
import type { TestContext } from 'node:test';

/** Figure is one case's measurements: numbers with their unit in the key (`ms`, `bytes`, `pct`). */
export type Figure = Record<string, number | string | boolean>;

/** figure records what case `name` measured. */
export function figure(t: TestContext, name: string, values: Figure): void {
  t.diagnostic(`figure ${name}: ${JSON.stringify(values)}`);
  const out = process.env.NETKIT_FAULTS_OUT;
  if (out) appendFileSync(out, `${JSON.stringify({ case: name, ...values })}\n`);
}

/** full is true under `npm run faults`: longer rounds, bigger files. */
export const full = process.env.NETKIT_FAULTS_FULL === '1';

/** rounds picks the suite's short count or the campaign's full one. */
export function rounds<T>(short: T, long: T): T {
  return full ? long : short;
}

/** spread summarises durations: min, median, max. */
export function spread(ms: readonly number[]): { min: number; p50: number; max: number } {
  const s = [...ms].sort((x, y) => x - y);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
  return {
    min: Math.round(s[0] ?? Number.NaN),
    p50: Math.round(at(0.5)),
    max: Math.round(s.at(-1) ?? Number.NaN),
  };
}
