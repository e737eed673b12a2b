import { setMaxListeners } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdir, realpath, stat } from 'node:fs/promises';
import { FileAccessError, InvalidArgumentError } from '../errors.js';
import { Fifo } from '../internal/fifo.js';
import { checkInt, checkMs, checkOneOf, checkSignal } from '../internal/validate.js';
import {
  type BindOptions,
  type Conn,
  type Endpoint,
  endpointText,
  type Listener,
  listenFor,
} from '../tcp/index.js';
import { verifiedSubject } from '../tls/client.js';
import { Admission, type Ticket } from './admission.js';
import { TransferKey } from './auth.js';
import { receiveClassic } from './compat.js';
import type { TransferEvent, TransferSummary } from './events.js';
import { fsReason, lstatOrNull } from './fs-checks.js';
import { quote } from './paths.js';
import { encodeFrame } from './protocol.js';
import { generateCode } from './secure/codes.js';
import { GuessGates } from './secure/guesses.js';
import { CodeSecret } from './secure/handshake.js';
import { type RecvResult, receiveSession } from './session-recv.js';
import { type OverwritePolicy, Store } from './store.js';
import { dropWhenIdle } from './wire.js';

/** ReceiverOptions configure serveFiles(). Durations are milliseconds. */
export interface ReceiverOptions extends BindOptions {
  /** dir is where files land; created if missing. */
  dir: string;
  /** overwrite: 'refuse' (default) fails a transfer naming an existing file, 'overwrite' replaces, 'skip' keeps it. */
  overwrite?: OverwritePolicy;
  /**
   * code is the secret senders must know. Transfers are encrypted with a
   * key both sides derive from it (SPAKE2); without one a code is
   * generated (FileReceiver.code). With `plain` it only authenticates, and
   * is optional.
   */
  code?: string;
  /** plain receives the cleartext protocol 1 instead (no encryption; a SHA-256 per file). */
  plain?: boolean;
  /** compat speaks the classic protocol (name, "ok", bytes until close) instead of netkit's. */
  compat?: boolean;
  /** maxFileBytes refuses larger files (default: no limit). */
  maxFileBytes?: number;
  /** maxEntries bounds files and directories in one transfer (default 1,000,000). */
  maxEntries?: number;
  /** idleTimeout drops a sender that sends nothing for this long (default 30 s); its partial file stays for a resume. */
  idleTimeout?: number;
  /**
   * handshakeTimeout drops a connection that has not shown it is a sender
   * (magic and hello, and with a code a valid proof) this long after it
   * connected (default 5 s; 0 for none).
   */
  handshakeTimeout?: number;
  /** maxConnections bounds the transfers served at once (default 16); a sender beyond it is told NETKIT_TRANSFER_BUSY. */
  maxConnections?: number;
  /**
   * maxHandshakes bounds connections still in their handshake (default 64);
   * when it is reached the oldest is dropped to make room for the newest,
   * so silent connections cannot lock senders out.
   */
  maxHandshakes?: number;
  /** fsync makes each file durable before it gets its name (default false: a killed receiver is safe without it). */
  fsync?: boolean;
  /** shutdownTimeout is how long close() lets transfers tell their senders they stop before cutting them (default 2 s). */
  shutdownTimeout?: number;
  /** signal closes the receiver (as close()) when aborted. */
  signal?: AbortSignal;
  /** onEvent reports each file's progress; `peer` tells concurrent senders apart. */
  onEvent?: (e: TransferEvent, peer: string) => void;
  /** onTransfer reports each transfer that got past its handshake, when it ends. */
  onTransfer?: (s: TransferSummary) => void;
}

/** RECEIVER_DEFAULTS are serveFiles()'s defaults. */
export const RECEIVER_DEFAULTS = Object.freeze({
  /** An existing file is never replaced unless asked. */
  overwrite: 'refuse' as OverwritePolicy,
  /** A bound on the work one sender can make the receiver do. */
  maxEntries: 1_000_000,
  /** A silent sender is dropped after 30 s; its partial file stays. */
  idleTimeout: 30_000,
  /** 5 s to show a connection is a sender. */
  handshakeTimeout: 5_000,
  /** Transfers served at once; beyond, senders are told busy. */
  maxConnections: 16,
  /** Connections still in their handshake; the oldest is dropped for a new one. */
  maxHandshakes: 64,
  /** close() gives transfers 2 s to tell their senders they stop. */
  shutdownTimeout: 2_000,
});

/** Session is how a receiver runs one connection: `ticket` admits it, `signal` stops it. */
type Session = (conn: Conn, ticket: Ticket, signal: AbortSignal) => Promise<RecvResult>;

/**
 * FileReceiver accepts senders until closed. Iterate it for the summaries of
 * transfers that got past their handshake (a stranger with a wrong code or
 * the wrong protocol does not count), e.g. to stop after the first.
 */
export class FileReceiver implements AsyncIterable<TransferSummary>, AsyncDisposable {
  /** listener is where senders come from (its `tls` tells the certificate's fingerprint). */
  readonly listener: Listener;
  /** addr is the bound address; `address` says it in Go's form, or the Unix socket's path. */
  readonly addr: Endpoint;
  /** dir is the directory files land in. */
  readonly dir: string;
  /** code is what senders must pass (generated when none was given); undefined for a plain or classic receiver without one. */
  readonly code: string | undefined;
  /** #running maps each open connection to its session's end. */
  readonly #running = new Map<Conn, Promise<void>>();
  readonly #done = new Fifo<TransferSummary>();
  readonly #stop = new AbortController();
  readonly #waiters = new Fifo<(s: TransferSummary | null) => void>();
  #closing: Promise<void> | null = null;
  /** #drained is true once closed and every session has ended: next() then returns null. */
  #drained = false;
  readonly #finished: Promise<void>;
  readonly #shutdownTimeout: number;

  /**
   * FileReceiver is made by serveFiles(), which binds its listener and checks its options.
   *
   * @internal
   */
  constructor(
    listener: Listener,
    dir: string,
    run: Session,
    admission: Admission,
    onTransfer?: (s: TransferSummary) => void,
    shutdownTimeout: number = RECEIVER_DEFAULTS.shutdownTimeout,
    code?: string,
  ) {
    this.code = code;
    // Each open session listens on the stop signal until it ends; the default of 10 would warn of a leak at the 11th.
    setMaxListeners(0, this.#stop.signal);
    this.listener = listener;
    this.#shutdownTimeout = shutdownTimeout;
    this.addr = listener.addr;
    this.dir = dir;
    this.#finished = (async () => {
      for await (const conn of listener) {
        const ticket = admission.arrive(conn);
        const session = run(conn, ticket, this.#stop.signal)
          .then(({ summary, started }) => {
            if (!started) return;
            onTransfer?.(summary);
            const w = this.#waiters.shift();
            if (w) w(summary);
            else this.#done.push(summary);
          })
          .catch(() => {
            // Sessions report their own failures in their summaries; nothing else can be done here.
          })
          .finally(() => {
            ticket.leave();
            this.#running.delete(conn);
          });
        this.#running.set(conn, session);
      }
    })();
  }

  /** address is the bound address in Go's form (`127.0.0.1:8340`), or the Unix socket's path. */
  get address(): string {
    return this.addr.address;
  }

  /** next resolves with the next finished transfer, or null once the receiver is closed and drained. */
  next(): Promise<TransferSummary | null> {
    const s = this.#done.shift();
    if (s) return Promise.resolve(s);
    if (this.#drained) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * [Symbol.asyncIterator] yields each finished transfer's summary, as next() does, until the receiver is
   * closed and drained.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<TransferSummary> {
    for (;;) {
      const s = await this.next();
      if (s === null) return;
      yield s;
    }
  }

  /**
   * close stops accepting and stops transfers in progress: each sender is
   * told NETKIT_TRANSFER_STOPPED and a file in progress stays a part for a
   * resume. Their summaries arrive before next() returns null. A transfer
   * that cannot say so within a short grace period (its sender reads
   * nothing) is cut. Calling it again returns the same promise.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** destroy stops accepting and cuts every transfer now; parts stay for a resume. */
  destroy(): void {
    this.#stop.abort();
    void this.listener.close();
    for (const c of this.#running.keys()) c.destroy();
  }

  /** [Symbol.asyncDispose] runs close(), so `await using` stops the receiver at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #close(): Promise<void> {
    this.#stop.abort();
    await this.listener.close();
    await this.#finished;
    const all = Promise.all(this.#running.values());
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#shutdownTimeout);
    });
    await Promise.race([all, grace]);
    clearTimeout(timer);
    for (const c of this.#running.keys()) c.destroy();
    await all;
    this.#drained = true;
    for (const w of this.#waiters.clear()) w(null);
  }
}

/**
 * serveFiles listens on `address` (or serves a Listener it is given) and receives files into `options.dir`
 * from `netkit send` (or, with `compat`, from classic senders).
 */
export async function serveFiles(
  address: Listener | string,
  options: ReceiverOptions,
): Promise<FileReceiver> {
  const { policy, maxEntries, maxFileBytes } = storeOptions(options);
  const idle = checkMs('idleTimeout', options.idleTimeout ?? RECEIVER_DEFAULTS.idleTimeout);
  const shutdownTimeout = checkMs(
    'shutdownTimeout',
    options.shutdownTimeout ?? RECEIVER_DEFAULTS.shutdownTimeout,
  );
  const admission = new Admission({
    handshakeTimeout: checkMs(
      'handshakeTimeout',
      options.handshakeTimeout ?? RECEIVER_DEFAULTS.handshakeTimeout,
    ),
    maxConnections: checkInt(
      'maxConnections',
      options.maxConnections ?? RECEIVER_DEFAULTS.maxConnections,
      1,
      1e6,
    ),
    maxHandshakes: checkInt(
      'maxHandshakes',
      options.maxHandshakes ?? RECEIVER_DEFAULTS.maxHandshakes,
      1,
      1e6,
    ),
    // The classic protocol has no way to say it; netkit's does, in the clear, before any record.
    onDrop: options.compat
      ? undefined
      : (conn) =>
          conn.send(
            encodeFrame({
              type: 'error',
              code: 'NETKIT_TRANSFER_BUSY',
              message: 'the receiver has more connections in their handshake than it takes; try again later',
            }),
          ),
  });
  const signal = checkSignal(options.signal);
  if (options.code !== undefined && (typeof options.code !== 'string' || options.code.trim() === '')) {
    throw new InvalidArgumentError('code', 'must be a non-empty string');
  }
  if (options.compat && options.code !== undefined) {
    throw new InvalidArgumentError('code', 'the classic protocol (compat) has no way to check a code');
  }
  const plain = options.plain === true || options.compat === true;
  const secret = plain ? undefined : new CodeSecret(options.code ?? generateCode());
  const root = await prepareRoot(options.dir);
  const key = plain && options.code !== undefined ? new TransferKey(options.code) : undefined;
  // A handshake never waits for its turn past its deadline (a second before it, to answer in time).
  const handshakeMs = checkMs(
    'handshakeTimeout',
    options.handshakeTimeout ?? RECEIVER_DEFAULTS.handshakeTimeout,
  );
  const guesses = new GuessGates(handshakeMs > 0 ? Math.max(handshakeMs - 1000, handshakeMs / 2) : undefined);
  const listener = await listenFor(address, { ...options, signal });
  const run: Session = (conn, ticket, stop) => {
    // One Store per connection: the directory modes it collects belong to that transfer.
    const store = new Store(root, policy, maxFileBytes, options.fsync ?? false);
    const peer = endpointText(conn.remoteAddr);
    // Known once the TLS handshake is done, and only while the socket is open: taken now, told in the summary.
    const subject = verifiedSubject(conn.socket);
    const onEvent = options.onEvent && ((e: TransferEvent) => options.onEvent?.(e, peer));
    dropWhenIdle(conn, idle, `${peer}: sent nothing for ${idle} ms`);
    const admit = () => ticket.admit();
    const gate = guesses.gate(conn.remoteAddr?.ip || 'unix', (failures, delayMs) =>
      onEvent?.({ type: 'wrong-code', failures, delayMs }),
    );
    const session = options.compat
      ? receiveClassic(conn, store, { onEvent, admit, signal: stop })
      : receiveSession(conn, { store, secret, gate, key, maxEntries, onEvent, admit, signal: stop });
    return session.then((r) => {
      r.summary.peer = peer;
      if (subject !== undefined) r.summary.subject = subject;
      return r;
    });
  };
  const receiver = new FileReceiver(
    listener,
    root,
    run,
    admission,
    options.onTransfer,
    shutdownTimeout,
    secret?.code ?? options.code,
  );
  signal?.addEventListener('abort', () => void receiver.close(), { once: true });
  return receiver;
}

/** storeOptions checks what a receiving directory takes, for serveFiles and receiveFiles alike. */
export function storeOptions(
  options: Pick<ReceiverOptions, 'dir' | 'overwrite' | 'maxEntries' | 'maxFileBytes'>,
): { policy: OverwritePolicy; maxEntries: number; maxFileBytes: number } {
  if (typeof options?.dir !== 'string' || options.dir === '')
    throw new InvalidArgumentError('dir', 'must name a directory');
  const policy = checkOneOf('overwrite', options.overwrite ?? RECEIVER_DEFAULTS.overwrite, [
    'refuse',
    'overwrite',
    'skip',
  ]);
  const maxEntries = checkInt('maxEntries', options.maxEntries ?? RECEIVER_DEFAULTS.maxEntries, 1, 1e9);
  const maxFileBytes = checkInt(
    'maxFileBytes',
    options.maxFileBytes ?? Number.MAX_SAFE_INTEGER,
    0,
    Number.MAX_SAFE_INTEGER,
  );
  return { policy, maxEntries, maxFileBytes };
}

/**
 * prepareRoot checks the receiving directory before listening, so a bad
 * `dir` fails at start with NETKIT_FILE_ACCESS and a sentence, rather than
 * with the first sender or as a raw errno: it must be a directory (created
 * if missing, parents too) that this process can write into. It returns
 * the real path.
 */
export async function prepareRoot(dir: string): Promise<string> {
  const refuse = (why: string, cause?: unknown) =>
    new FileAccessError(dir, `cannot receive into ${quote(dir)}: ${why}`, { cause });
  let st = await stat(dir).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw refuse(fsReason(err), err);
  });
  if (st === null) {
    await mkdir(dir, { recursive: true }).catch((err: unknown) => {
      if (lstatOrNull(dir)?.isSymbolicLink()) throw refuse('it is a symlink to nothing', err);
      throw refuse(fsReason(err), err);
    });
    st = await stat(dir);
  }
  if (!st.isDirectory()) throw refuse(`it is ${st.isFile() ? 'a file, ' : ''}not a directory`);
  await access(dir, constants.W_OK | constants.X_OK).catch((err: unknown) => {
    throw refuse(fsReason(err), err);
  });
  return realpath(dir);
}
