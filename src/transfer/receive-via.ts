import { InvalidArgumentError } from '../errors.js';
import { checkMs, checkSignal } from '../internal/validate.js';
import { endpointText } from '../tcp/index.js';
import { resolveTlsClient, type TlsClientOptions } from '../tls/client.js';
import type { TransferEvent, TransferSummary } from './events.js';
import { prepareRoot, RECEIVER_DEFAULTS, storeOptions } from './receiver.js';
import { joinRendezvous } from './rendezvous/join.js';
import { roomOf } from './secure/codes.js';
import { CodeSecret } from './secure/handshake.js';
import { receiveSession } from './session-recv.js';
import { type OverwritePolicy, Store } from './store.js';
import { dropWhenIdle } from './wire.js';

/** ReceiveOptions configure receiveFiles(): one transfer through a rendezvous. Durations are milliseconds. */
export interface ReceiveOptions {
  /** via is the rendezvous (`netkit relay --rendezvous`) both sides dial out to. */
  via: string;
  /** code is the sender's code (`7-crossword-puzzle-apple`): its first component names the room. */
  code: string;
  /** dir is where files land; created if missing. */
  dir: string;
  /** overwrite says what happens to a file that exists: refuse (default), overwrite or skip. */
  overwrite?: OverwritePolicy;
  /** maxFileBytes refuses larger files (default: no limit). */
  maxFileBytes?: number;
  /** maxEntries bounds files and directories in the transfer (default 1,000,000). */
  maxEntries?: number;
  /** connectTimeout bounds the dial to the rendezvous (default 10 s). */
  connectTimeout?: number;
  /** idleTimeout drops a sender silent this long once paired (default 30 s); its partial file stays. */
  idleTimeout?: number;
  /** fsync makes each file durable before it gets its name (default false). */
  fsync?: boolean;
  /** network is tcp (default), tcp4 or tcp6 for the dial to the rendezvous. */
  network?: string;
  /** tls speaks TLS to the rendezvous (the transfer inside is encrypted end to end either way). */
  tls?: TlsClientOptions | boolean;
  /** signal cancels the wait or the transfer; a partial file stays for a resume. */
  signal?: AbortSignal;
  /** onWaiting hears that the rendezvous holds the room and the sender is not there yet. */
  onWaiting?: () => void;
  /** onEvent reports each file's progress. */
  onEvent?: (e: TransferEvent) => void;
}

/**
 * receiveFiles dials a rendezvous, waits there for the sender of `code`,
 * and receives one encrypted transfer into `dir`, with the guarantees of
 * serveFiles (paths, overwrite policy, parts and resume). It resolves
 * with the summary: check `ok` and `error` (a failure of the transfer is a
 * summary, as for serveFiles); it rejects when the rendezvous could not be
 * reached or refused the room.
 */
export async function receiveFiles(options: ReceiveOptions): Promise<TransferSummary> {
  if (typeof options?.via !== 'string' || options.via === '')
    throw new InvalidArgumentError('via', "must name the rendezvous's address");
  if (typeof options.code !== 'string') throw new InvalidArgumentError('code', "must be the sender's code");
  const secret = new CodeSecret(options.code);
  const room = roomOf(secret.code);
  const { policy, maxEntries, maxFileBytes } = storeOptions(options);
  const connectTimeout = checkMs('connectTimeout', options.connectTimeout ?? 10_000);
  const idle = checkMs('idleTimeout', options.idleTimeout ?? RECEIVER_DEFAULTS.idleTimeout);
  const signal = checkSignal(options.signal);
  resolveTlsClient(options.tls);
  const root = await prepareRoot(options.dir);
  const conn = await joinRendezvous(options.via, {
    room,
    role: 'recv',
    connectTimeout,
    network: options.network,
    tls: options.tls,
    signal,
    onWaiting: options.onWaiting,
  });
  const peer = endpointText(conn.remoteAddr) || options.via;
  dropWhenIdle(conn, idle, `${peer}: the sender sent nothing for ${idle} ms`);
  const store = new Store(root, policy, maxFileBytes, options.fsync ?? false);
  const { summary } = await receiveSession(conn, {
    store,
    secret,
    key: undefined,
    maxEntries,
    onEvent: options.onEvent,
    ...(signal ? { signal } : {}),
  });
  summary.peer = peer;
  return summary;
}
