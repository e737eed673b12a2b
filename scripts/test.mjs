// Runs every test/**/*.test.ts file with node's test runner (through tsx,
// so tests stay TypeScript). Extra arguments filter files by substring:
// `npm test -- framing` runs only the framing tests.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk('test')
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(1);
}

// A file marked `// test: alone` either loads both cores for seconds (256 MiB through a
// relay) or measures timing under a flood (1,000 stalled handshakes, a pool restart):
// run together, one makes the other's bounds miss. Those run after the rest, one at a time.
const ALONE = /^\/\/ test: alone\b/m;
const alone = files.filter((f) => ALONE.test(readFileSync(f, 'utf8')));
const together = files.filter((f) => !alone.includes(f));

function run(list, concurrency) {
  if (list.length === 0) return 0;
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-timeout=120000', ...list],
    { stdio: 'inherit' },
  );
  return r.status ?? 1;
}

const first = run(together, 2);
const second = run(alone, 1);
process.exit(first || second);
