import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { isNetkitError, TimeoutError, TransferError } from '../errors.js';
import type { Conn } from '../tcp/index.js';
import { nonce, type TransferKey } from './auth.js';
import {
  failure,
  finished,
  newSummary,
  skipped,
  type TransferEvent,
  type TransferSummary,
} from './events.js';
import { writeError } from './incoming.js';
import { checkRelativePath, quote } from './paths.js';
import {
  BATCH_ENTRIES,
  type Entry,
  encodeFrame,
  errorFrame,
  expectFrame,
  type FileEntry,
  type Frame,
  MAGIC_PREFIX,
  PLAIN_VERSION,
  PROTOCOL_VERSION,
  protocolError,
} from './protocol.js';
import { type CodeSecret, type ReceiverGate, sealAsReceiver } from './secure/handshake.js';
import type { Store, WritePlan } from './store.js';
import { EndOfData, PeerClosed, Wire } from './wire.js';

/** RecvSessionOptions are what one receiving connection needs from its receiver. */
export interface RecvSessionOptions {
  store: Store;
  /** secret makes the session encrypted (protocol 2): the receiver's code. Without it the session is cleartext (protocol 1). */
  secret: CodeSecret | undefined;
  /** gate slows handshakes down after wrong codes (encrypted sessions). */
  gate?: ReceiverGate;
  /** key is the cleartext protocol's optional code. */
  key: TransferKey | undefined;
  maxEntries: number;
  onEvent: ((e: TransferEvent) => void) | undefined;
  /** admit is called once the peer has shown it is a sender (and knows the code); it throws to refuse (busy). */
  admit?: () => void;
  /** signal stops the session: the sender is told the receiver stopped, and a file in progress stays a part. */
  signal?: AbortSignal;
}

/** Cut is a file a session stopped in the middle of, kept as a part for a resume. */
interface Cut {
  path: string;
  kept: number;
  size: number;
}

/** RecvResult is a session's summary; `started` is false when the peer never got past the handshake. */
export interface RecvResult {
  summary: TransferSummary;
  started: boolean;
}

/**
 * receiveSession serves one sender on `conn` (see protocol.ts for the
 * frames). Every announced entry is checked and planned before any of its
 * bytes are accepted; a refusal is sent to the sender as an `error` frame
 * and ends the session. The connection is closed when it returns.
 */
export async function receiveSession(conn: Conn, options: RecvSessionOptions): Promise<RecvResult> {
  const started = performance.now();
  const summary = newSummary('recv', conn.remoteAddr?.address ?? '');
  const wire = new Wire(conn, 'sender', options.signal);
  const state: { began: boolean; cut?: Cut } = { began: false };
  try {
    await handshake(wire, options);
    // A transfer counts (for --once) from its first frame after the handshake: a peer that
    // only says hello, or leaves on learning it needs a code, has not started one.
    await receiveEntries(wire, options, summary, state);
    options.store.finishDirs();
    await wire.write(encodeFrame({ type: 'bye' }));
    await wire.flush();
    summary.ok = true;
  } catch (err) {
    const outcome = explain(err, options, summary, state);
    summary.error = failure(outcome);
    // Tell the sender why, when the connection still carries frames; a broken one cannot.
    if (!gone(err)) wire.send(encodeFrame(errorFrame(outcome)));
  } finally {
    summary.seconds = (performance.now() - started) / 1000;
    await hangUp(conn);
  }
  return { summary, started: state.began };
}

/** gone is true for errors that mean the sender is no longer there to read a frame. */
function gone(err: unknown): boolean {
  return (
    err instanceof EndOfData || err instanceof PeerClosed || isNetkitError(err, 'NETKIT_CONNECTION_RESET')
  );
}

/**
 * explain turns an interruption into what it means for this transfer: the
 * receiver stopping is NETKIT_TRANSFER_STOPPED (and the sender is told);
 * the sender leaving after it began is NETKIT_TRANSFER_INCOMPLETE, naming
 * what arrived whole and what stays as a part. Other errors stay as they are.
 */
function explain(
  err: unknown,
  options: RecvSessionOptions,
  summary: TransferSummary,
  state: { began: boolean; cut?: Cut },
): unknown {
  const cut = state.cut;
  const kept = cut ? `; ${quote(cut.path)} is kept at ${cut.kept} of ${cut.size} bytes` : '';
  if (options.signal?.aborted && !(err instanceof TransferError)) {
    return new TransferError(
      'NETKIT_TRANSFER_STOPPED',
      `the receiver stopped before the end of the transfer${kept}${cut ? ': sending it again resumes from there' : ''}`,
      { path: cut?.path, cause: err },
    );
  }
  if (state.began && gone(err)) {
    const how = isNetkitError(err, 'NETKIT_CONNECTION_RESET') ? 'reset' : 'closed';
    const whole = summary.files === 1 ? '1 file' : `${summary.files} files`;
    return new TransferError(
      'NETKIT_TRANSFER_INCOMPLETE',
      `the sender ${how} the connection before the end of the transfer; ${whole} received completely${kept}${cut ? ' for a resume' : ''}`,
      { path: cut?.path, cause: err },
    );
  }
  return err;
}

/**
 * hangUp ends a session's connection without losing its last frame: FIN
 * first, then whatever the peer still sends is read and dropped until it
 * closes too, for at most `lingerMs`. Closing with unread bytes makes the
 * kernel answer with RST, and an RST can destroy a refusal or a "stopped"
 * notice before the sender has read it.
 */
async function hangUp(conn: Conn, lingerMs = 1000): Promise<void> {
  const timer = setTimeout(() => conn.destroy(), lingerMs);
  try {
    void conn.closeWrite();
    while ((await conn.read()) !== null);
  } catch {
    // Reset, timed out or destroyed: the connection is over either way.
  } finally {
    clearTimeout(timer);
    conn.destroy();
  }
  await conn.closed;
}

async function handshake(wire: Wire, options: RecvSessionOptions): Promise<void> {
  const { key, admit, secret } = options;
  // The first byte alone tells a classic sender (a name never starts with NUL), even one whose name is shorter than the magic.
  const first = await wire.exact(1, 'the protocol magic');
  if (first === null) throw protocolError('the peer closed without sending anything');
  const rest =
    first[0] === MAGIC_PREFIX[0] ? await wire.exact(MAGIC_PREFIX.length, 'the protocol magic') : null;
  const magic = rest === null ? first : Buffer.concat([first, rest]);
  if (rest === null || !magic.subarray(0, 5).equals(MAGIC_PREFIX)) {
    throw protocolError('not a netkit transfer (a classic sender? the receiver needs --compat for those)');
  }
  const hello = expectFrame(await wire.mustFrame(), 'hello');
  const version = magic[5]!;
  const want = secret === undefined ? PLAIN_VERSION : PROTOCOL_VERSION;
  if (version !== hello.version || version !== want) {
    throw protocolError(
      version !== hello.version
        ? // Said as it is: "version 2 is not supported (this receiver speaks 2)" would be nonsense.
          `the magic says protocol version ${version} but the hello says ${hello.version}`
        : version === PLAIN_VERSION && want === PROTOCOL_VERSION
          ? "this receiver encrypts (protocol 2) and the sender speaks the cleartext protocol 1: send without --plain, with the receiver's --code"
          : version === PROTOCOL_VERSION && want === PLAIN_VERSION
            ? 'this receiver runs the cleartext protocol 1 (--plain) and the sender encrypts: send with --plain, or start the receiver without it'
            : `protocol version ${version} is not supported (this receiver speaks ${want})`,
    );
  }
  if (secret !== undefined) {
    await sealAsReceiver(wire, hello, secret, admit, options.gate);
    return;
  }
  // Without a code, a hello is all a sender can show; "busy" then answers it instead of our hello.
  if (key === undefined) admit?.();
  const mine = nonce();
  await wire.write(
    encodeFrame({ type: 'hello', version: PLAIN_VERSION, nonce: mine, auth: key !== undefined }),
  );
  if (key === undefined) return;
  const auth = await wire.mustFrame();
  const theirs = hello.nonce as string;
  if (auth.type !== 'auth' || !key.verify('sender', theirs, mine, auth.proof)) {
    throw new TransferError(
      'NETKIT_TRANSFER_AUTH',
      'wrong transfer code: the sender must use the same --code',
    );
  }
  // With a code, only a sender that proved it counts against the limit.
  admit?.();
  await wire.write(encodeFrame({ type: 'auth-ok', proof: key.proof('receiver', theirs, mine) }));
}

/** receiveEntries reads batches of entries, answers each batch's plans, then takes its files' bytes. */
async function receiveEntries(
  wire: Wire,
  options: RecvSessionOptions,
  summary: TransferSummary,
  state: { began: boolean; cut?: Cut },
): Promise<void> {
  const seen = new Set<string>();
  for (;;) {
    const batch: Entry[] = [];
    for (;;) {
      const f = expectFrame(await wire.mustFrame(), 'file', 'dir', 'plan', 'bye');
      state.began = true;
      if (f.type === 'bye') {
        if (batch.length > 0) throw protocolError('"bye" before the batch was planned');
        return;
      }
      if (f.type === 'plan') break;
      if (seen.size >= options.maxEntries) {
        throw new TransferError(
          'NETKIT_TRANSFER_LIMIT',
          `more than ${options.maxEntries} entries in one transfer`,
        );
      }
      // A batch is held whole until its "plan", so it is bounded as it arrives: at most
      // BATCH_ENTRIES entries (what sendFiles sends), each path checked now (at most 4 KiB).
      // Checked only at the plan, a peer could announce a million 60 KiB paths first: the
      // receiver ran out of memory long before the entry limit.
      if (batch.length >= BATCH_ENTRIES) {
        throw new TransferError('NETKIT_TRANSFER_LIMIT', `more than ${BATCH_ENTRIES} entries before "plan"`);
      }
      checkRelativePath(f.path);
      // The paths of earlier batches are remembered by digest: 1,000,000 of them stay tens of MB.
      const key = createHash('sha256').update(f.path).digest('base64');
      if (seen.has(key)) throw protocolError(`${quote(f.path)} was announced twice`, f.path);
      seen.add(key);
      batch.push(f);
    }
    const plans: { entry: FileEntry; plan: WritePlan }[] = [];
    const answers: Buffer[] = [];
    for (const entry of batch) {
      if (entry.type === 'dir') {
        try {
          options.store.prepareDir(entry);
        } catch (err) {
          throw writeError(entry.path, err);
        }
        summary.dirs++;
        answers.push(encodeFrame({ type: 'accept', offset: 0 }));
        continue;
      }
      const plan = await options.store.planFile(entry, { verifyKey: wire.sealed?.verifyKey }).catch((err) => {
        throw writeError(entry.path, err);
      });
      if (plan.action === 'skip') {
        // A plain skip for a kept file, as before `reason` existed; any sender reads both.
        answers.push(
          encodeFrame(plan.why === 'received' ? { type: 'skip', reason: 'received' } : { type: 'skip' }),
        );
        const event = skipped(summary, entry.path, entry.size, plan.why);
        options.onEvent?.(event);
        continue;
      }
      plans.push({ entry, plan });
      answers.push(
        encodeFrame({ type: 'accept', offset: plan.offset, ...(plan.prefix ? { prefix: plan.prefix } : {}) }),
      );
    }
    await wire.write(Buffer.concat(answers));
    for (const { entry, plan } of plans) await receiveFile(wire, options, entry, plan, summary, state);
  }
}

async function receiveFile(
  wire: Wire,
  options: RecvSessionOptions,
  entry: FileEntry,
  plan: WritePlan,
  summary: TransferSummary,
  state: { cut?: Cut },
): Promise<void> {
  const data = expectFrame(await wire.mustFrame(), 'data');
  if (data.offset !== 0 && data.offset !== plan.offset) {
    throw protocolError(
      `${quote(entry.path)}: data from offset ${data.offset}, but ${plan.offset} was offered`,
      entry.path,
    );
  }
  const { store } = options;
  // The same file sent again on a new connection takes over from this one once it has gone silent (see takeOver).
  const file = store.open(entry, plan, data.offset, (silentMs) =>
    wire.conn.destroy(
      new TimeoutError(
        'NETKIT_TIMEOUT',
        'read',
        `${quote(entry.path)}: the sender sent nothing for ${silentMs} ms and sent the file again on a new connection, which resumes it`,
        silentMs,
      ),
    ),
  );
  const onEvent = options.onEvent;
  onEvent?.({ type: 'file-start', path: entry.path, size: entry.size, offset: data.offset });
  let at = data.offset;
  try {
    await wire.bytes(entry.size - data.offset, (chunk) => {
      at += chunk.length;
      summary.sentBytes += chunk.length;
      onEvent?.({ type: 'progress', path: entry.path, bytes: at, size: entry.size });
      return file.write(chunk);
    });
    let end: Frame;
    try {
      end = expectFrame(await wire.mustFrame(), 'end');
    } catch (err) {
      // Whatever follows the announced bytes must be the "end" frame: more data is a sender overrunning its header.
      throw isNetkitError(err, 'NETKIT_TRANSFER_PROTOCOL')
        ? protocolError(
            `${quote(entry.path)}: more bytes than the ${entry.size} announced (${(err as Error).message})`,
            entry.path,
          )
        : err;
    }
    const sha = await file.finish();
    // Encrypted: every record's tag proved its bytes, and a resumed part was checked by its HMAC.
    if (!plan.sealed && sha !== end.sha256) {
      throw new TransferError(
        'NETKIT_TRANSFER_CHECKSUM',
        `${quote(entry.path)}: SHA-256 mismatch; the file was not kept`,
        {
          path: entry.path,
        },
      );
    }
    store.commit(entry, plan.target, file);
  } catch (err) {
    // A broken connection leaves the part for a resume; anything else (checksum, overrun, disk) removes it.
    // (TransferErrors are the second kind; connection errors, timeouts and a closing receiver the first.)
    const keep = !(err instanceof TransferError);
    await file.settle(keep);
    file.close();
    if (keep) {
      store.release(plan.target);
      state.cut = { path: entry.path, kept: at, size: entry.size };
    } else store.discard(plan.target);
    throw err;
  }
  summary.files++;
  summary.bytes += entry.size;
  await wire.write(encodeFrame({ type: 'done' }));
  onEvent?.(finished(entry.path, entry.size, data.offset, 'received'));
}
