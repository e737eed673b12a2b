// Builds dist/ only when the sources changed since the last build this script
// made, so `npm start` on an unchanged checkout starts the tour at once
// instead of recompiling everything (about 14 s on a 2-core machine).
// `npm run build`, `npm test` and `npm run bench` always build: CI must never
// run stale output, and only `npm start` trusts the stamp.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** STAMP is the file, inside dist/, whose mtime is when the last build by this script started. */
export const STAMP = path.join('dist', '.build-stamp');

/** INPUTS are what a build reads besides src/: a change to either can change the output. */
export const INPUTS = ['tsconfig.json', 'package.json'];

/** ENTRY is a file every complete build leaves; without it dist/ is missing or half-deleted. */
export const ENTRY = path.join('dist', 'cli', 'main.js');

function mtimeMs(file) {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * newestMtimeMs is the newest mtime of dir, its files and its subdirectories.
 * Directories count because deleting or renaming a source changes only its
 * directory's mtime.
 */
export function newestMtimeMs(dir) {
  let newest = statSync(dir).mtimeMs;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    const t = e.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

/**
 * staleReason says why `root` needs a build, or returns undefined when dist/
 * is up to date: no stamp, no dist/cli/main.js, or a file under src/ (or
 * tsconfig.json, package.json) newer than the stamp.
 */
export function staleReason(root) {
  const stamp = mtimeMs(path.join(root, STAMP));
  if (stamp === undefined) return 'no build stamp';
  if (mtimeMs(path.join(root, ENTRY)) === undefined) return `${ENTRY} is missing`;
  if (newestMtimeMs(path.join(root, 'src')) > stamp) return 'src/ changed';
  for (const f of INPUTS) {
    const t = mtimeMs(path.join(root, f));
    if (t !== undefined && t > stamp) return `${f} changed`;
  }
  return undefined;
}

function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const reason = staleReason(root);
  if (reason === undefined) return 0;
  process.stderr.write(`building (${reason})\n`);
  // The stamp gets the time the build started, so a file saved during the build counts as newer.
  const started = new Date();
  const r = spawnSync('npm', ['run', 'build', '--silent'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) return r.status ?? 1;
  const stamp = path.join(root, STAMP);
  writeFileSync(stamp, 'written by scripts/build-if-stale.mjs after a successful build\n');
  utimesSync(stamp, started, started);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main();
