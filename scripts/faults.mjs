// The fault campaign: every test under test/faults/ with its longer rounds
// (NETKIT_FAULTS_FULL=1), one file at a time, then a summary of the figures
// each case recorded (test/helpers/figures.ts) as a Markdown table on stdout
// and JSON in .cache/faults/figures.json. `npm run faults -- transfer` runs
// only the files whose name contains "transfer".
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const filters = process.argv.slice(2);
const files = readdirSync('test/faults')
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort()
  .map((f) => path.join('test/faults', f));
if (files.length === 0) {
  console.error(`no fault cases match ${filters.join(' ')}`);
  process.exit(1);
}
const dir = path.join('.cache', 'faults');
mkdirSync(dir, { recursive: true });
const lines = path.join(dir, 'figures.jsonl');
rmSync(lines, { force: true });
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-timeout=900000', ...files],
  {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, NETKIT_FAULTS_FULL: '1', NETKIT_FAULTS_OUT: lines },
  },
);
let figures = [];
try {
  figures = readFileSync(lines, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
} catch {
  // No figure was recorded (every case skipped or failed early).
}
writeFileSync(path.join(dir, 'figures.json'), `${JSON.stringify(figures, null, 2)}\n`);
console.log('\n## Fault campaign figures\n');
console.log('| case | figures |');
console.log('|---|---|');
for (const { case: name, ...values } of figures) {
  const text = Object.entries(values)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  console.log(`| ${name} | ${text} |`);
}
console.log(`\n${figures.length} figures; JSON in ${path.join(dir, 'figures.json')}`);
process.exit(r.status ?? 1);
