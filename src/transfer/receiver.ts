import { constants } from 'node:fs';
import { access, mkdir, realpath, stat } from 'node:fs/promises';
import { FileAccessError, InvalidArgumentError, TimeoutError } from '../errors.js';
import { checkInt, checkMs, checkOneOf, checkSignal } from '../internal/validate.js';
import { type Conn, type Endpoint, type Listener, listen } from '../tcp/index.js';
import { TransferKey } from './auth.js';
import { receiveClassic } from './compat.js';
import type { TransferEvent, TransferSummary } from './events.js';
import { fsReason, lstatOrNull } from './fs-checks.js';
import { quote } from './paths.js';
import { receiveSession } from './session-recv.js';
import { type OverwritePolicy, Store } from './store.js';

/** ReceiverOptions configure serveFiles(). Durations are milliseconds. */
export interface ReceiverOptions {
  /** dir is where files land; created if missing. */
  dir: string;
  /** overwrite: 'refuse' (default) fails a transfer naming an existing file, 'overwrite' replaces, 'skip' keeps it. */
  overwrite?: OverwritePolicy;
  /** code is a shared secret a sender must prove it knows before anything is written. */
  code?: string;
  /** compat speaks the classic protocol (name, "ok", bytes until close) instead of netkit's. */
  compat?: boolean;
  /** maxFileBytes refuses larger files (default: no limit). */
  maxFileBytes?: number;
  /** maxEntries bounds files and directories in one transfer (default 1,000,000). */
  maxEntries?: number;
  /** idleTimeout drops a sender that sends nothing for this long (default 30 s); its partial file stays for a resume. */
  idleTimeout?: number;
  /** maxConnections bounds concurrent senders (default 16); more are closed at once. */
  maxConnections?: number;
  /** fsync makes each file durable before it gets its name (default false: a killed receiver is safe without it). */
  fsync?: boolean;
  /** network is tcp, tcp4 or tcp6. */
  network?: string;
  signal?: AbortSignal;
  /** onEvent reports each file's progress; `peer` tells concurrent senders apart. */
  onEvent?: (e: TransferEvent, peer: string) => void;
  /** onTransfer reports each transfer that got past its handshake, when it ends. */
  onTransfer?: (s: TransferSummary) => void;
}

/** RECEIVER_DEFAULTS are serveFiles()'s defaults. */
export const RECEIVER_DEFAULTS = Object.freeze({
  overwrite: 'refuse' as OverwritePolicy,
  maxEntries: 1_000_000,
  idleTimeout: 30_000,
  maxConnections: 16,
});

/**
 * FileReceiver accepts senders until closed. Iterate it for the summaries of
 * transfers that got past their handshake (a stranger with a wrong code or
 * the wrong protocol does not count), e.g. to stop after the first.
 */
export class FileReceiver implements AsyncIterable<TransferSummary> {
  readonly addr: Endpoint;
  readonly dir: string;
  readonly #listener: Listener;
  readonly #active = new Set<Conn>();
  readonly #done: TransferSummary[] = [];
  #waiters: ((s: TransferSummary | null) => void)[] = [];
  #closed = false;
  readonly #finished: Promise<void>;

  constructor(
    listener: Listener,
    dir: string,
    run: (conn: Conn) => Promise<{ summary: TransferSummary; started: boolean }>,
    max: number,
    onTransfer?: (s: TransferSummary) => void,
  ) {
    this.#listener = listener;
    this.addr = listener.addr;
    this.dir = dir;
    this.#finished = (async () => {
      for await (const conn of listener) {
        if (this.#active.size >= max) {
          conn.destroy();
          continue;
        }
        this.#active.add(conn);
        void run(conn).then(({ summary, started }) => {
          this.#active.delete(conn);
          if (!started) return;
          onTransfer?.(summary);
          const w = this.#waiters.shift();
          if (w) w(summary);
          else this.#done.push(summary);
        });
      }
    })();
  }

  /** next resolves with the next finished transfer, or null once the receiver is closed. */
  next(): Promise<TransferSummary | null> {
    const s = this.#done.shift();
    if (s) return Promise.resolve(s);
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<TransferSummary> {
    for (;;) {
      const s = await this.next();
      if (s === null) return;
      yield s;
    }
  }

  /** close stops accepting and ends transfers in progress (their partial files stay for a resume). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#listener.close();
    for (const c of this.#active) c.destroy();
    await this.#finished;
    for (const w of this.#waiters.splice(0)) w(null);
  }
}

/**
 * serveFiles listens on `address` and receives files into `options.dir`
 * from `netkit send` (or, with `compat`, from classic senders).
 */
export async function serveFiles(address: string, options: ReceiverOptions): Promise<FileReceiver> {
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
  const idle = checkMs('idleTimeout', options.idleTimeout ?? RECEIVER_DEFAULTS.idleTimeout);
  const maxConnections = checkInt(
    'maxConnections',
    options.maxConnections ?? RECEIVER_DEFAULTS.maxConnections,
    1,
    1e6,
  );
  const signal = checkSignal(options.signal);
  if (options.code !== undefined && (typeof options.code !== 'string' || options.code.trim() === '')) {
    throw new InvalidArgumentError('code', 'must be a non-empty string');
  }
  if (options.compat && options.code !== undefined) {
    throw new InvalidArgumentError('code', 'the classic protocol (compat) has no way to check a code');
  }
  const root = await prepareRoot(options.dir);
  const key = options.code === undefined ? undefined : new TransferKey(options.code);
  const listener = await listen(address, { network: options.network, signal });
  const run = (conn: Conn) => {
    // One Store per connection: the directory modes it collects belong to that transfer.
    const store = new Store(root, policy, maxFileBytes, options.fsync ?? false);
    const peer = conn.remoteAddr?.address ?? '';
    const onEvent = options.onEvent && ((e: TransferEvent) => options.onEvent?.(e, peer));
    if (idle > 0) {
      conn.socket.setTimeout(idle, () =>
        conn.destroy(
          new TimeoutError('NETKIT_TIMEOUT', 'read', `${peer}: sent nothing for ${idle} ms`, idle),
        ),
      );
    }
    return options.compat
      ? receiveClassic(conn, store, onEvent)
      : receiveSession(conn, { store, key, maxEntries, onEvent });
  };
  const receiver = new FileReceiver(listener, root, run, maxConnections, options.onTransfer);
  signal?.addEventListener('abort', () => void receiver.close(), { once: true });
  return receiver;
}

/**
 * prepareRoot checks the receiving directory before listening, so a bad
 * `dir` fails at start with NETKIT_FILE_ACCESS and a sentence, rather than
 * with the first sender or as a raw errno: it must be a directory (created
 * if missing, parents too) that this process can write into. It returns
 * the real path.
 */
async function prepareRoot(dir: string): Promise<string> {
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
