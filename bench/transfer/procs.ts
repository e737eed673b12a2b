/**
 * One timed transfer: a receiver process that exits when it has the data, a
 * sender command, and the wall clock from the sender's start to the
 * receiver's exit. Receivers that print nothing when ready (socat, iperf3)
 * are waited for in the kernel's socket table, since a probe connection
 * would use up their single accept.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type CommandResult, listeningAddress, runCommand } from '../lib/proc.js';

/** live holds receivers still running, so an interrupted run leaves none behind. */
const live = new Set<ChildProcess>();
let hooked = false;

/** Exit is how and when (performance.now()) a receiver exited. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface Receiver {
  address: string;
  exited: Promise<Exit>;
  stdout(): string;
  stderr(): string;
  kill(): void;
}

/** Ready says how to tell a receiver is listening: its first stdout line, or a LISTEN socket on `port`. */
export type Ready = { line: true } | { port: number } | { waiting: string };

/** freePort asks the kernel for a free loopback port (for tools that cannot listen on port 0 and say which). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', resolve);
  });
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** listeningOn reports whether /proc/net/tcp{,6} has a socket in LISTEN on `port`. */
function listeningOn(port: number): boolean {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(`:${hex}`)) return true;
    }
  }
  return false;
}

function tail(s: string): string {
  const t = s.trim().slice(-2000);
  return t ? `; stderr:\n${t}` : '';
}

/** startReceiver spawns a receiver and resolves once it listens; it rejects (and kills it) if it exits first or takes over 15 s. */
export async function startReceiver(
  name: string,
  command: string,
  args: readonly string[],
  ready: Ready,
  cwd: string,
): Promise<Receiver> {
  if (!hooked) {
    hooked = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  const child = spawn(command, [...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err = (err + s).slice(-8192);
  });
  let gone: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      gone = { code, signal, at: performance.now() };
      live.delete(child);
      resolve(gone);
    });
    child.once('error', (e) => {
      err += String(e.message);
      gone = { code: null, signal: null, at: performance.now() };
      live.delete(child);
      resolve(gone);
    });
  });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const deadline = performance.now() + 15_000;
  for (;;) {
    if ('line' in ready || 'waiting' in ready) {
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        // `recv --via` listens nowhere: it is ready once the rendezvous holds its room.
        const address =
          'waiting' in ready
            ? out.startsWith('{"event":"waiting"')
              ? ready.waiting
              : null
            : listeningAddress(out.slice(0, nl));
        if (address) return { address, exited, stdout: () => out, stderr: () => err, kill };
        kill();
        throw new Error(`${name}: unexpected first line ${JSON.stringify(out.slice(0, nl))}`);
      }
    } else if (listeningOn(ready.port)) {
      return { address: `127.0.0.1:${ready.port}`, exited, stdout: () => out, stderr: () => err, kill };
    }
    if (gone)
      throw new Error(`${name} exited (${gone.signal ?? `code ${gone.code}`}) before listening${tail(err)}`);
    if (performance.now() > deadline) {
      kill();
      throw new Error(`${name} was not listening after 15 s${tail(err)}`);
    }
    await sleep(5);
  }
}

/** Timed is one transfer's wall-clock time and the sender's output. */
export interface Timed {
  seconds: number;
  sender: CommandResult;
  receiverStdout: string;
}

/**
 * timedTransfer runs the sender against a started receiver and waits for the
 * receiver to exit. Both must succeed within `timeoutMs`, or it throws.
 */
export async function timedTransfer(
  recv: Receiver,
  sender: { name: string; command: string; args: readonly string[]; cwd: string },
  timeoutMs: number,
): Promise<Timed> {
  const t0 = performance.now();
  try {
    const s = await runCommand(sender.command, sender.args, { cwd: sender.cwd, timeoutMs });
    if (s.timedOut) throw new Error(`${sender.name} did not finish within ${timeoutMs / 1000} s`);
    if (s.code !== 0) {
      throw new Error(
        `${sender.name} failed (${s.signal ?? `exit ${s.code}`}): ${s.stderr || s.stdout.slice(-2000) || 'no output'}`,
      );
    }
    const left = Math.max(1000, timeoutMs - (performance.now() - t0));
    const exit = await Promise.race([recv.exited, sleep(left, null, { ref: false })]);
    if (!exit) throw new Error(`the receiver was still running ${left / 1000} s after the sender finished`);
    if (exit.code !== 0) {
      throw new Error(`the receiver failed (${exit.signal ?? `exit ${exit.code}`})${tail(recv.stderr())}`);
    }
    return { seconds: (exit.at - t0) / 1000, sender: s, receiverStdout: recv.stdout() };
  } finally {
    recv.kill();
  }
}
