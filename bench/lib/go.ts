/**
 * The Go toolchain: detecting it and building the helper programs under
 * bench/go/ into the bench cache.
 */
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from './proc.js';
import type { BenchContext } from './types.js';

/**
 * goVersion returns the output of `go version`, or null when Go is not
 * installed (no `go` on PATH) or does not answer within 30 s.
 */
export async function goVersion(cwd: string): Promise<string | null> {
  try {
    const r = await runCommand('go', ['version'], { cwd, timeoutMs: 30_000 });
    return r.code === 0 ? r.stdout.trim() : null;
  } catch {
    return null;
  }
}

/**
 * buildGo compiles bench/go/<program>/main.go (GOPATH mode, no module
 * needed) to <cacheDir>/<program> and returns the binary's path. `source`
 * names another folder (relative to the repository root) holding the
 * program's main.go, e.g. one of the interop peers under test/interop/. It
 * always runs `go build`: Go's build cache makes an unchanged program a near
 * no-op, and the binary can never be stale.
 */
export async function buildGo(
  ctx: BenchContext,
  program: string,
  source = path.join('bench', 'go', program),
): Promise<string> {
  await mkdir(ctx.cacheDir, { recursive: true });
  const out = path.join(ctx.cacheDir, program);
  const dir = path.join(ctx.root, source);
  const r = await runCommand('go', ['build', '-o', out, 'main.go'], {
    cwd: dir,
    // Debian's Go packages (gorilla/websocket) live under /usr/share/gocode.
    env: {
      ...process.env,
      GO111MODULE: 'off',
      GOPATH: `${process.env.GOPATH ?? path.join(os.homedir(), 'go')}:/usr/share/gocode`,
    },
    timeoutMs: 180_000,
  });
  if (r.timedOut) throw new Error(`go build of ${program} took over 180 s; gave up`);
  if (r.code !== 0) {
    throw new Error(`go build of ${source} failed (${r.signal ?? `exit ${r.code}`}):\n${r.stderr}`);
  }
  return out;
}
