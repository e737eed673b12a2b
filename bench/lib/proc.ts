/**
 * Child processes for the benchmarks: servers that announce `listening
 * <addr>` (or a JSON listening event) on stdout, and bounded one-shot
 * commands. Every child is tracked so an interrupted or crashing harness
 * never leaves one behind, and every wait has a time limit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** live holds every child not yet known to have exited, with whether it leads its own process group. */
const live = new Map<ChildProcess, { group: boolean }>();

function track(child: ChildProcess, group: boolean): void {
  live.set(child, { group });
  child.once('exit', () => live.delete(child));
}

/** signalChild sends `sig` to the child, or to its whole process group when it leads one. Never throws. */
function signalChild(child: ChildProcess, sig: NodeJS.Signals, group: boolean): void {
  if (child.pid === undefined) return;
  try {
    process.kill(group ? -child.pid : child.pid, sig);
  } catch {
    // Already gone.
  }
}

/**
 * killAll SIGKILLs every child (and, for servers, its process group) this
 * module started that may still be running. Synchronous, so it is safe in
 * a process 'exit' handler.
 */
export function killAll(): void {
  for (const [child, { group }] of live) {
    signalChild(child, 'SIGKILL', group);
    if (group) signalChild(child, 'SIGKILL', false);
  }
  live.clear();
}

/**
 * groupAlive reports whether any live process is left in the group led by
 * `pid`. Zombies do not count: an orphan that init has not reaped yet is
 * dead, and some containers' init reaps slowly or never.
 */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
  } catch (err) {
    // EPERM would mean a process exists that we may not signal; treat it as alive.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return true; // No /proc: trust kill(2).
  }
  for (const e of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue; // Exited while we looked.
    }
    // Fields after "(comm)": state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pid && fields[0] !== 'Z') return true;
  }
  return false;
}

/** Tail keeps the last `max` characters written to it. */
class Tail {
  private text = '';
  constructor(private readonly max: number) {}
  add(chunk: string): void {
    this.text += chunk;
    if (this.text.length > 2 * this.max) this.text = this.text.slice(-this.max);
  }
  toString(): string {
    return this.text.slice(-this.max).trim();
  }
}

/** waitExit resolves with the exit status, or null if the child is still running after `ms`. */
function waitExit(
  child: ChildProcess,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | null> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(null);
    }, ms);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      resolve({ code, signal });
    };
    child.once('exit', onExit);
  });
}

/** Server is a running server process started by startServer. */
export interface Server {
  /** address is the host:port from its `listening <addr>` line or JSON listening event. */
  readonly address: string;
  /** firstLine is that whole line, e.g. "listening 127.0.0.1:41234 (frame line, echo)". */
  readonly firstLine: string;
  readonly pid: number;
  /** exited is non-null once the process has exited (on its own or after stop). */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  /** stderr returns the last few KiB the server wrote to stderr. */
  stderr(): string;
  /**
   * stop sends SIGTERM to the server process (only to it: a primary that
   * forked workers is expected to shut them down), waits for it to exit,
   * then waits for the rest of its process group. Whatever is still alive
   * after the grace periods is SIGKILLed. Returns warnings, if any.
   */
  stop(): Promise<string[]>;
}

export interface StartServerOptions {
  /** name is used in messages. */
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  /** readyTimeoutMs bounds the wait for the listening line (default 15 s). */
  readyTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

const LISTENING = /^listening (\S+)/;

/**
 * listeningAddress reads the address from a server's first line: either
 * "listening <addr> …" or, from a netkit command run with --json, the
 * `{"event":"listening","address":"<addr>",…}` event. Null if it is neither.
 */
export function listeningAddress(line: string): string | null {
  const m = LISTENING.exec(line);
  if (m) return m[1]!;
  if (!line.startsWith('{')) return null;
  try {
    const ev = JSON.parse(line) as { event?: unknown; address?: unknown };
    return ev.event === 'listening' && typeof ev.address === 'string' && ev.address !== ''
      ? ev.address
      : null;
  } catch {
    return null;
  }
}

/** SLOW_EXIT_MS: a server taking longer than this to exit after SIGTERM (with no clients left) is reported. */
const SLOW_EXIT_MS = 2000;

/**
 * startServer spawns a server in its own process group and waits until its
 * first stdout line reads `listening <addr>` (or is a JSON listening
 * event). Anything else first, an early exit, or no line within the timeout
 * is an error (and the server is killed).
 */
export async function startServer(o: StartServerOptions): Promise<Server> {
  const child = spawn(o.command, [...o.args], {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so workers it forks can be found and, if they
    // outlive it, killed as a group.
    detached: true,
  });
  track(child, true);
  const err = new Tail(4096);
  child.stderr!.setEncoding('utf8').on('data', (s: string) => err.add(s));
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  }).catch((e: Error) => {
    throw new Error(`${o.name}: cannot start ${o.command}: ${e.message}`);
  });

  const firstLine = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const finish = (fn: () => void): void => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      fn();
    };
    const onData = (s: string): void => {
      buf += s;
      const nl = buf.indexOf('\n');
      if (nl >= 0) finish(() => resolve(buf.slice(0, nl)));
    };
    const onExit = (code: number | null, sig: NodeJS.Signals | null): void => {
      // Give stderr a moment to drain so the message says why.
      setTimeout(
        () =>
          finish(() =>
            reject(new Error(`${o.name} exited (${sig ?? `code ${code}`}) before listening${tailNote(err)}`)),
          ),
        50,
      );
    };
    const timer = setTimeout(
      () =>
        finish(() =>
          reject(
            new Error(`${o.name} printed no line within ${o.readyTimeoutMs ?? 15_000} ms${tailNote(err)}`),
          ),
        ),
      o.readyTimeoutMs ?? 15_000,
    );
    child.stdout!.setEncoding('utf8').on('data', onData);
    child.once('exit', onExit);
  }).catch(async (e: Error) => {
    await forceStop(child, pid);
    throw e;
  });
  // Keep draining stdout so a chatty server can never block on a full pipe.
  child.stdout!.resume();

  const address = listeningAddress(firstLine);
  if (address === null) {
    await forceStop(child, pid);
    throw new Error(
      `${o.name}: expected "listening <addr>" or a JSON listening event as the first line, got ${JSON.stringify(firstLine)}`,
    );
  }

  return {
    address,
    firstLine,
    pid,
    exited: () =>
      child.exitCode !== null || child.signalCode !== null
        ? { code: child.exitCode, signal: child.signalCode }
        : null,
    stderr: () => err.toString(),
    stop: async () => {
      const warnings: string[] = [];
      const t0 = Date.now();
      signalChild(child, 'SIGTERM', false);
      if ((await waitExit(child, 15_000)) === null) {
        warnings.push(`${o.name} (pid ${pid}) ignored SIGTERM for 15 s; killed`);
        signalChild(child, 'SIGKILL', true);
        await waitExit(child, 5_000);
      }
      for (let i = 0; i < 50 && groupAlive(pid); i++) await sleep(100);
      if (groupAlive(pid)) {
        warnings.push(`${o.name}: processes of group ${pid} outlived the server by 5 s; killed`);
        signalChild(child, 'SIGKILL', true);
      }
      live.delete(child);
      const took = Date.now() - t0;
      if (took > SLOW_EXIT_MS && warnings.length === 0) {
        warnings.push(`${o.name} took ${(took / 1000).toFixed(1)} s to exit after SIGTERM`);
      }
      return warnings;
    },
  };
}

function tailNote(t: Tail): string {
  const s = t.toString();
  return s ? `; stderr:\n${s}` : '';
}

async function forceStop(child: ChildProcess, pid: number): Promise<void> {
  signalChild(child, 'SIGKILL', true);
  signalChild(child, 'SIGKILL', false);
  await waitExit(child, 5_000);
  for (let i = 0; i < 20 && groupAlive(pid); i++) await sleep(50);
  live.delete(child);
}

/** CommandResult is the outcome of runCommand. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** timedOut is true when the command was killed for running past its limit. */
  timedOut: boolean;
}

export interface RunCommandOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** timeoutMs: after this the command is SIGKILLed and timedOut is set. */
  timeoutMs: number;
}

/**
 * runCommand runs a command to completion, collecting its output, killing
 * it after timeoutMs. A command that cannot be started (e.g. not on PATH)
 * rejects with the spawn error (code ENOENT).
 */
export async function runCommand(
  command: string,
  args: readonly string[],
  o: RunCommandOptions,
): Promise<CommandResult> {
  const child = spawn(command, [...args], {
    cwd: o.cwd,
    env: o.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(child, false);
  let stdout = '';
  const stderr = new Tail(16 * 1024);
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => stderr.add(s));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    signalChild(child, 'SIGKILL', false);
  }, o.timeoutMs);
  try {
    const status = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
      (resolve, reject) => {
        child.once('error', reject);
        // 'close' (not 'exit') so all output has been read.
        child.once('close', (code, signal) => resolve({ code, signal }));
      },
    );
    return { ...status, stdout, stderr: stderr.toString(), timedOut };
  } finally {
    clearTimeout(timer);
    live.delete(child);
  }
}
