/**
 * Shared pieces of the `netkit send` / `netkit recv` CLI tests: scratch
 * directories, the JSON event lines both commands print, and a receiver
 * started in-process that the test stops afterwards.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { type CliRun, startCli } from './cli.js';

/** tempDir makes a fresh directory under `base` (the system temp dir by default), removed after the test. */
export async function tempDir(t: TestContext, base = os.tmpdir()): Promise<string> {
  const dir = await mkdtemp(path.join(base, 'netkit-xfer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Line is one `--json` line of send or recv; which fields are set depends on `event`. */
export interface Line {
  event: string;
  address?: string;
  path?: string;
  size?: number;
  sentBytes?: number;
  resumedFrom?: number;
  status?: string;
  reason?: string;
  bytes?: number;
  total?: number;
  rate?: number;
  role?: string;
  peer?: string;
  files?: number;
  skipped?: number;
  alreadyReceived?: number;
  dirs?: number;
  seconds?: number;
  mibPerSec?: number;
  ok?: boolean;
  code?: string;
  message?: string;
  error?: { code: string; message: string };
}

/** lines parses every line of a `--json` stdout. */
export function lines(stdout: string): Line[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Line);
}

/** only keeps the lines of one event type. */
export function only(stdout: string, event: string): Line[] {
  return lines(stdout).filter((l) => l.event === event);
}

/** fileFields picks what a `file` event promises, so whole events can be compared. */
export function fileFields(l: Line): Pick<Line, 'path' | 'size' | 'sentBytes' | 'resumedFrom' | 'status'> {
  return { path: l.path, size: l.size, sentBytes: l.sentBytes, resumedFrom: l.resumedFrom, status: l.status };
}

/**
 * startRecv runs `netkit recv 127.0.0.1:0 --dir DIR ...args` in-process and
 * waits until it listens; with --json among the args it reads the address
 * and the code from the `listening` event, else from the human line. The
 * code is what senders pass as --code: the one given, or the one generated;
 * undefined for a --plain or --compat receiver.
 */
export async function startRecv(
  t: TestContext,
  dir: string,
  args: string[] = [],
): Promise<{ run: CliRun; address: string; code: string | undefined }> {
  const run = startCli(['recv', '127.0.0.1:0', '--dir', dir, ...args]);
  t.after(() => run.abort());
  if (args.includes('--json')) {
    const [line] = await run.waitFor(/^\{"event":"listening".*\}$/m);
    const { address, code } = JSON.parse(line) as Line;
    return { run, address: address!, code };
  }
  const [line, address] = await run.waitFor(/^listening (\S+) .*$/m);
  return { run, address: address!, code: line.match(/\(encrypted; code ([^\s)]+)\)/)?.[1] };
}

/** tree lists every path under `dir`, relative to it, sorted. */
export async function tree(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true })).map(String).sort();
}
