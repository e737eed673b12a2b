/**
 * Run netkit's CLI in-process (runCli with in-memory stdio) or as a real
 * child process, and wait for what servers print.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { TestContext } from 'node:test';
import type { Io } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/program.js';
import { ROOT } from './tools.js';

/** CliRun is a command started in-process: its exit code and captured output. */
export interface CliRun {
  done: Promise<number>;
  stdout: () => string;
  stderr: () => string;
  stdin: PassThrough;
  abort: () => void;
  /** waitFor resolves with the first stdout match of `re`, polling until it shows up. */
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
}

/** startCli runs `netkit ...argv` in this process with in-memory stdio. */
export function startCli(
  argv: string[],
  options: { stdin?: string | Buffer; env?: Record<string, string>; tty?: boolean } = {},
): CliRun {
  const stdin: PassThrough & { isTTY?: boolean } = new PassThrough();
  // Makes the command treat stdin as a terminal (interactive mode).
  if (options.tty) stdin.isTTY = true;
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString('latin1');
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  if (options.stdin !== undefined) stdin.end(options.stdin);
  const controller = new AbortController();
  const io: Io = { stdin, stdout, stderr, env: { ...options.env }, signal: controller.signal };
  const done = runCli(argv, io);
  return {
    done,
    stdout: () => out,
    stderr: () => err,
    stdin,
    abort: () => controller.abort('SIGINT'),
    waitFor: (re, ms = 5000) => waitFor(() => out, re, ms),
  };
}

/** startedCli is startCli stopped (as by Ctrl-C) and awaited when the test ends. */
export function startedCli(t: TestContext, argv: string[], options?: Parameters<typeof startCli>[1]): CliRun {
  const run = startCli(argv, options);
  t.after(async () => {
    run.abort();
    await run.done;
  });
  return run;
}

/** events parses the --json lines a command printed so far; a line still being written is left out. */
export function events(stdout: string): Record<string, unknown>[] {
  const all: Record<string, unknown>[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      all.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line still being written.
    }
  }
  return all;
}

/** cli runs a command to completion in-process. */
export async function cli(
  argv: string[],
  options: { stdin?: string | Buffer } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = startCli(argv, { stdin: options.stdin ?? '' });
  const code = await run.done;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

async function waitFor(read: () => string, re: RegExp, ms: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = read().match(re);
    if (m) return m;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in output:\n${read()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Proc is a spawned child with captured output. */
export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  waitFor: (re: RegExp, ms?: number) => Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (sig?: NodeJS.Signals) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** spawnProc starts a program and captures its output. */
export function spawnProc(
  cmd: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Proc {
  const child = spawn(cmd, args, {
    cwd: options.cwd ?? ROOT,
    env: options.env ?? process.env,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitFor: (re, ms = 10000) => waitFor(() => out, re, ms),
    exited,
    kill: (sig = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      return exited;
    },
  };
}

/** NETKIT_BIN is the built CLI (tests run `npm run build` first through `npm test`). */
export const NETKIT_BIN = path.join(ROOT, 'dist', 'cli', 'main.js');

/** spawnNetkit runs the built CLI as a child process. */
export function spawnNetkit(args: string[], env: NodeJS.ProcessEnv = process.env): Proc {
  return spawnProc(process.execPath, [NETKIT_BIN, ...args], { env });
}

/** MemoryIo is an Io over in-memory streams, with what each stream received so far. */
export interface MemoryIo {
  value: Io;
  out: () => string;
  err: () => string;
}

/** memoryIo builds an Io whose stdout and stderr are terminals or pipes as asked, collecting their text. */
export function memoryIo(
  options: { stdoutTTY?: boolean; stderrTTY?: boolean; columns?: number; env?: Record<string, string> } = {},
): MemoryIo {
  const stdout: PassThrough & { isTTY?: boolean } = new PassThrough();
  const stderr: PassThrough & { isTTY?: boolean; columns?: number } = new PassThrough();
  stdout.isTTY = options.stdoutTTY ?? false;
  stderr.isTTY = options.stderrTTY ?? false;
  if (options.columns !== undefined) stderr.columns = options.columns;
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const value: Io = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env: options.env ?? {},
    signal: new AbortController().signal,
  };
  return { value, out: () => out, err: () => err };
}
