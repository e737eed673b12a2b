/**
 * `exec:COMMAND` endpoints, like `ncat -e` and socat's `EXEC:`: each
 * connection gets its own child process, whose stdin and stdout the relay
 * treats as one socket. No shell is involved anywhere, so a command line
 * cannot expand into something its author did not type.
 */
import { type ChildProcess, spawn as spawnChild } from 'node:child_process';
import { Duplex } from 'node:stream';
import { ExecError, InvalidArgumentError } from '../errors.js';
import { errnoText } from '../internal/os-errors.js';
import { checkInt, checkMs, checkObject, checkString, shown } from '../internal/validate.js';

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);

/**
 * splitArgv splits a command line into argv the way a POSIX shell splits
 * words, and does nothing else a shell does: whitespace separates words,
 * single quotes keep everything literal, double quotes keep everything but
 * `\"` and `\\`, and a backslash outside quotes takes the next character
 * literally. `;`, `|`, `$`, `*` and `~` are plain characters. An empty
 * command, an unterminated quote or a trailing backslash throws
 * InvalidArgumentError.
 */
export function splitArgv(command: string): string[] {
  checkString('command', command);
  const argv: string[] = [];
  let word = '';
  // inWord is apart from `word` because `''` is a word: the empty argument.
  let inWord = false;
  let quote: "'" | '"' | undefined;
  let quoteAt = 0;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      const next = command[i + 1];
      if (c === '"') quote = undefined;
      else if (c === '\\' && (next === '"' || next === '\\')) word += command[++i];
      else word += c;
    } else if (WHITESPACE.has(c)) {
      if (inWord) argv.push(word);
      word = '';
      inWord = false;
    } else {
      inWord = true;
      if (c === "'" || c === '"') {
        quote = c;
        quoteAt = i;
      } else if (c === '\\') {
        if (i + 1 === command.length) {
          throw new InvalidArgumentError('command', `ends with a lone backslash: ${shown(command)}`);
        }
        word += command[++i];
      } else {
        word += c;
      }
    }
  }
  if (quote !== undefined) {
    const kind = quote === "'" ? 'single' : 'double';
    throw new InvalidArgumentError(
      'command',
      `unterminated ${kind} quote at column ${quoteAt + 1} of ${shown(command)}; close it with ${quote}`,
    );
  }
  if (inWord) argv.push(word);
  if (argv.length === 0) {
    throw new InvalidArgumentError('command', 'is empty; name a program to run, as in exec:/bin/cat');
  }
  return argv;
}

/** ExecCode is the codes an exec endpoint fails with. */
/** execBusy is the error spawn() throws when `max` children are running. */
export function execBusy(max: number): ExecError {
  return new ExecError(
    'NETKIT_EXEC_LIMIT',
    `${max} exec children are running, as many as maxChildren allows; wait for one to exit or raise maxChildren`,
    { limit: max },
  );
}

/** execFailed is the error for a program that could not be started, naming it and the reason in words. */
export function execFailed(program: string, cause: unknown): ExecError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  const why = errnoText(code) ?? (cause instanceof Error ? cause.message : String(cause));
  return new ExecError(
    'NETKIT_EXEC_FAILED',
    `cannot start ${JSON.stringify(program)}: ${why}${code ? ` (${code})` : ''}`,
    { program, cause },
  );
}

/** ExecExit is how a child ended: its exit code, or the signal that killed it. */
export interface ExecExit {
  /** code is the exit status, or null when a signal ended the program. */
  code: number | null;
  /** signal is the signal that ended the program, or null when it exited. */
  signal: NodeJS.Signals | null;
}

/**
 * ExecStream is one child as a socket-like Duplex: what is written goes to
 * the child's stdin, `end()` closes its stdin (a half-close), and its
 * stdout is what is read, ending when the child closes stdout. Destroying
 * it stops the child: SIGTERM, then SIGKILL after killGrace, and 'close'
 * comes only once the child is reaped. It emits 'exit' with an ExecExit
 * before 'close' (not for a program that never started: that is an
 * ExecError 'error'). Made by ExecSpawner.spawn().
 */
export class ExecStream extends Duplex {
  readonly #child: ChildProcess;
  readonly #killGrace: number;
  #gone: (() => void) | undefined;
  #exit: ExecExit | undefined;
  /** stdinGone is set when the child stopped reading; later writes are dropped, as a socket's peer that shut its read side would. */
  #stdinGone = false;
  #afterExit: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /** @internal */
  constructor(child: ChildProcess, program: string, killGrace: number, gone: () => void) {
    super({ allowHalfOpen: true });
    this.#child = child;
    this.#killGrace = killGrace;
    this.#gone = gone;
    child.on('error', (err) => {
      if (child.pid === undefined) {
        // Node reports a program it could not start (ENOENT, EACCES) as
        // 'error' without an 'exit': there is no process to wait for.
        this.#reaped();
        this.destroy(execFailed(program, err));
      } else {
        this.destroy(err);
      }
    });
    child.on('exit', (code, signal) => {
      this.#exit = { code, signal };
      this.#reaped();
      this.emit('exit', this.#exit);
      this.#afterExit?.();
    });
    const { stdin, stdout } = child;
    stdin!.on('error', (err) => {
      if (isPipeGone(err)) this.#stdinGone = true;
      else this.destroy(err);
    });
    stdout!.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) stdout!.pause();
    });
    stdout!.on('end', () => {
      if (child.pid !== undefined) this.push(null);
    });
    stdout!.on('error', (err) => this.destroy(err));
  }

  /** pid is the child's process id, or undefined when it could not be started. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** exit is how the child ended, once it has. */
  get exit(): ExecExit | undefined {
    return this.#exit;
  }

  /** @internal */
  override _read(): void {
    this.#child.stdout!.resume();
  }

  /** @internal */
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (this.#stdinGone) {
      callback();
      return;
    }
    // Waiting for each write's callback makes the child's reading speed our
    // backpressure: the relay pauses its source while a write is pending.
    this.#child.stdin!.write(chunk, (err) => {
      if (err && isPipeGone(err)) this.#stdinGone = true;
      callback(err && !isPipeGone(err) ? err : null);
    });
  }

  /** @internal */
  override _final(callback: (err?: Error | null) => void): void {
    const { stdin } = this.#child;
    if (this.#stdinGone || stdin!.destroyed) callback();
    else stdin!.end(() => callback());
  }

  /** @internal */
  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    const child = this.#child;
    // A grandchild may still hold the pipes; ours must not keep Node running.
    child.stdin!.destroy();
    child.stdout!.destroy();
    if (this.#exit !== undefined || child.pid === undefined) {
      callback(err);
      return;
    }
    this.#afterExit = () => {
      clearTimeout(this.#timer);
      callback(err);
    };
    // When both directions finished cleanly the child is most likely
    // exiting already; signalling it now would report SIGTERM instead of its
    // own exit status. Anything else means the connection is gone: stop it.
    const clean = err === null && this.readableEnded && this.writableFinished;
    const term = () => {
      signalGroup(child, 'SIGTERM');
      this.#timer = setTimeout(() => signalGroup(child, 'SIGKILL'), this.#killGrace);
    };
    if (clean) this.#timer = setTimeout(term, this.#killGrace);
    else term();
  }

  #reaped(): void {
    const gone = this.#gone;
    this.#gone = undefined;
    gone?.();
  }
}

const isPipeGone = (err: Error) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EPIPE' || code === 'ECONNRESET' || code === 'ERR_STREAM_DESTROYED';
};

/** ExecOptions configures an ExecSpawner. */
export interface ExecOptions {
  /** maxChildren is how many children may run at once (default 16); spawn() refuses more. */
  maxChildren?: number;
  /** killGrace is how long, in ms, a child has after SIGTERM before SIGKILL (default 2000). */
  killGrace?: number;
  /** cwd is the children's working directory (default: ours). */
  cwd?: string;
  /** env is the children's environment (default: ours). */
  env?: NodeJS.ProcessEnv;
}

const DEFAULTS = Object.freeze({ maxChildren: 16, killGrace: 2000 });

/**
 * ExecSpawner starts one child per connection from a fixed argv, never
 * through a shell, and keeps count so that a flood of connections cannot
 * fork without bound. Its methods are synchronous.
 */
export class ExecSpawner {
  /** argv is the program and its arguments, as split from the `exec:` command. */
  readonly argv: readonly string[];
  readonly #maxChildren: number;
  readonly #killGrace: number;
  readonly #cwd: string | undefined;
  readonly #env: NodeJS.ProcessEnv | undefined;
  #running = 0;

  constructor(argv: readonly string[], options: ExecOptions = {}) {
    if (!Array.isArray(argv) || argv.length === 0) {
      throw new InvalidArgumentError('argv', 'must name a program to run');
    }
    argv.forEach((arg, i) => {
      checkString(`argv[${i}]`, arg, i === 0);
      if (arg.includes('\0')) throw new InvalidArgumentError(`argv[${i}]`, 'must not contain a NUL byte');
    });
    const o = checkObject('options', options);
    const { maxChildren = DEFAULTS.maxChildren, killGrace = DEFAULTS.killGrace, cwd, env } = o;
    this.argv = Object.freeze([...argv]);
    this.#maxChildren = checkInt('maxChildren', maxChildren, 1, 65536);
    this.#killGrace = checkMs('killGrace', killGrace);
    this.#cwd = cwd === undefined ? undefined : checkString('cwd', cwd, true);
    this.#env = env === undefined ? undefined : (checkObject('env', env, true) as NodeJS.ProcessEnv);
  }

  /** running is how many children are started and not yet reaped. */
  get running(): number {
    return this.#running;
  }

  /**
   * spawn starts a child and returns it as an ExecStream. It throws an
   * ExecError with NETKIT_EXEC_LIMIT when maxChildren are running; a program
   * that cannot be started surfaces as the stream's 'error' (NETKIT_EXEC_FAILED).
   */
  spawn(): ExecStream {
    if (this.#running >= this.#maxChildren) throw execBusy(this.#maxChildren);
    const [program, ...args] = this.argv as [string, ...string[]];
    let child: ChildProcess;
    try {
      child = spawnChild(program, args, {
        stdio: ['pipe', 'pipe', 'inherit'],
        shell: false,
        // Its own process group, so stopping it reaches what it started too (`sh -c 'a | b'`).
        detached: true,
        ...(this.#cwd !== undefined ? { cwd: this.#cwd } : {}),
        ...(this.#env !== undefined ? { env: this.#env } : {}),
      });
    } catch (err) {
      throw execFailed(program, err);
    }
    this.#running++;
    return new ExecStream(child, program, this.#killGrace, () => this.#running--);
  }
}

/**
 * signalGroup signals the child's whole process group (it leads one: it
 * was spawned detached), so a program's own children do not outlive the
 * connection; the child alone when the group is already gone.
 */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid !== undefined) {
      process.kill(-child.pid, signal);
      return;
    }
  } catch {
    // ESRCH: the group is gone; the child itself may still be there to signal.
  }
  child.kill(signal);
}
