/**
 * Helpers for tests that need an outside tool (go, ss, curl). Locally a
 * missing tool skips the test with a clear message; under CI=true it fails,
 * because CI installs every tool the suite needs.
 */
import { execFile } from 'node:child_process';
import { mkdir, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** ROOT is the repository root. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const found = new Map<string, Promise<boolean>>();

function which(tool: string): Promise<boolean> {
  let p = found.get(tool);
  if (!p) {
    p = execFileP('sh', ['-c', `command -v ${tool}`]).then(
      () => true,
      () => false,
    );
    found.set(tool, p);
  }
  return p;
}

/**
 * requireTool returns true when `tool` is on PATH. Otherwise it skips the
 * test (locally) or throws (under CI=true) and returns false.
 */
export async function requireTool(t: TestContext, tool: string, apt = tool): Promise<boolean> {
  if (await which(tool)) return true;
  const msg = `${tool} is not installed (apt-get install ${apt})`;
  if (process.env.CI === 'true') throw new Error(`${msg}; CI must provide it`);
  t.skip(msg);
  return false;
}

const builds = new Map<string, Promise<string>>();

/**
 * goProgram builds the Go program in `dir` (relative to the repository root,
 * e.g. `test/interop/lineserver`) once per test process and returns the
 * binary's path, or undefined when Go is missing (the test is then skipped).
 */
export async function goProgram(t: TestContext, dir: string): Promise<string | undefined> {
  if (!(await requireTool(t, 'go', 'golang-go'))) return undefined;
  let p = builds.get(dir);
  if (!p) {
    p = buildGo(dir);
    builds.set(dir, p);
  }
  return p;
}

/**
 * goPath is GOPATH for GOPATH-mode builds: the user's own, then Debian's
 * /usr/share/gocode, where packages such as golang-github-gorilla-websocket-dev
 * install their sources.
 */
export function goPath(): string {
  return [process.env.GOPATH ?? path.join(os.homedir(), 'go'), '/usr/share/gocode'].join(path.delimiter);
}

async function buildGo(dir: string): Promise<string> {
  const out = path.join(ROOT, '.cache', 'go', dir.replaceAll('/', '_'));
  await mkdir(path.dirname(out), { recursive: true });
  const src = path.join(ROOT, dir);
  const srcStat = await stat(path.join(src, 'main.go'));
  const outStat = await stat(out).catch(() => undefined);
  if (outStat && outStat.mtimeMs >= srcStat.mtimeMs) return out;
  await execFileP('go', ['build', '-o', out, 'main.go'], {
    cwd: src,
    env: { ...process.env, GO111MODULE: 'off', GOFLAGS: '', GOPATH: goPath() },
  });
  return out;
}
