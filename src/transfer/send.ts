import { performance } from 'node:perf_hooks';
import { AbortError, InvalidArgumentError, TimeoutError, TransferError } from '../errors.js';
import { checkMs, checkSignal } from '../internal/validate.js';
import { dial, endpointText } from '../tcp/index.js';
import { resolveTlsClient, type TlsClientOptions } from '../tls/client.js';
import { nonce, TransferKey } from './auth.js';
import { sendClassic } from './compat.js';
import { newSummary, skipped, type TransferEvent, type TransferSummary } from './events.js';
import { sendFile } from './outgoing.js';
import { quote } from './paths.js';
import { BATCH_ENTRIES, encodeFrame, expectFrame, MAGIC, PROTOCOL_VERSION } from './protocol.js';
import { collectSources, type Skipped, type SourceEntry } from './tree.js';
import { Wire } from './wire.js';

/** SendOptions configure sendFiles(). Durations are milliseconds. */
export interface SendOptions {
  /** code is the receiver's shared secret; the receiver must prove it knows it too. */
  code?: string;
  /** compat sends each file the classic way (name, "ok", bytes, close), one connection per file. */
  compat?: boolean;
  /** connectTimeout bounds the dial (default 10 s). */
  connectTimeout?: number;
  /** idleTimeout fails the transfer when the receiver stalls this long (default 30 s). */
  idleTimeout?: number;
  /** network is tcp (default), tcp4, tcp6, or unix (or give the address as `unix:/path`). */
  network?: string;
  /**
   * tls speaks TLS to the receiver (`true`: the system's roots; or a CA, a
   * pin, a client certificate: see TlsClientOptions). A pin is checked
   * before the first byte of the protocol is sent.
   */
  tls?: TlsClientOptions | boolean;
  signal?: AbortSignal;
  onEvent?: (e: TransferEvent) => void;
  /** onSkipped reports what in the source trees is not sent (symlinks, special files). */
  onSkipped?: (s: Skipped) => void;
}

/**
 * sendFiles sends files and directories (recursively) to a receiver
 * (`netkit recv`, serveFiles()) and resolves with the summary once the
 * receiver confirmed every file; it rejects with the first failure (the
 * receiver's refusals arrive as their TransferError codes).
 */
export async function sendFiles(
  paths: readonly string[],
  address: string,
  options: SendOptions = {},
): Promise<TransferSummary> {
  if (!Array.isArray(paths) || paths.length === 0)
    throw new InvalidArgumentError('paths', 'name at least one file or directory');
  const connectTimeout = checkMs('connectTimeout', options.connectTimeout ?? 10_000);
  const idle = checkMs('idleTimeout', options.idleTimeout ?? 30_000);
  const signal = checkSignal(options.signal);
  // Checked now rather than at the dial: a bad pin or CA fails before any source is read.
  resolveTlsClient(options.tls);
  if (options.compat && options.code !== undefined)
    throw new InvalidArgumentError('code', 'the classic protocol (compat) has no way to check a code');
  const started = performance.now();
  const summary = newSummary('send', address);
  if (options.compat) {
    for (const p of paths) {
      const r = await sendClassic(p, address, {
        connectTimeout,
        network: options.network,
        tls: options.tls,
        signal,
        onEvent: options.onEvent,
      });
      summary.peer = r.peer;
      summary.files++;
      summary.bytes += r.size;
      summary.sentBytes += r.size;
    }
  } else {
    const { entries, skipped } = await collectSources(paths);
    for (const s of skipped) options.onSkipped?.(s);
    const key = options.code === undefined ? undefined : new TransferKey(options.code);
    const conn = await dial(address, {
      network: options.network,
      timeout: connectTimeout,
      signal,
      tls: options.tls,
      highWaterMark: 1024 * 1024,
    });
    summary.peer = endpointText(conn.remoteAddr) || address;
    const onAbort = () => conn.destroy(new AbortError('send', signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (idle > 0) {
      conn.socket.setTimeout(idle, () =>
        conn.destroy(
          new TimeoutError(
            'NETKIT_TIMEOUT',
            'read',
            `${summary.peer}: the receiver stalled for ${idle} ms`,
            idle,
          ),
        ),
      );
    }
    try {
      const wire = new Wire(conn, 'receiver');
      await handshake(wire, key);
      for (let i = 0; i < entries.length; i += BATCH_ENTRIES) {
        await sendBatch(wire, entries.slice(i, i + BATCH_ENTRIES), summary, options.onEvent);
      }
      await conn.write(encodeFrame({ type: 'bye' }));
      expectFrame(await wire.mustFrame(), 'bye');
    } finally {
      signal?.removeEventListener('abort', onAbort);
      await conn.close({ lingerMs: 1000 });
    }
  }
  summary.ok = true;
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

async function handshake(wire: Wire, key: TransferKey | undefined): Promise<void> {
  const mine = nonce();
  await wire.conn.write(
    Buffer.concat([MAGIC, encodeFrame({ type: 'hello', version: PROTOCOL_VERSION, nonce: mine })]),
  );
  const hello = expectFrame(await wire.mustFrame(), 'hello');
  if (hello.version !== PROTOCOL_VERSION)
    throw new TransferError(
      'NETKIT_TRANSFER_PROTOCOL',
      `the receiver speaks protocol version ${hello.version}, not ${PROTOCOL_VERSION}`,
    );
  if (hello.auth && key === undefined)
    throw new TransferError('NETKIT_TRANSFER_AUTH', 'the receiver requires a code: pass the same --code');
  if (!hello.auth && key !== undefined) {
    throw new TransferError(
      'NETKIT_TRANSFER_AUTH',
      'the receiver does not use a code, so it cannot prove it is the one meant: not sending',
    );
  }
  if (key === undefined) return;
  await wire.conn.write(encodeFrame({ type: 'auth', proof: key.proof('sender', mine, hello.nonce) }));
  const ok = expectFrame(await wire.mustFrame(), 'auth-ok');
  if (!key.verify('receiver', mine, hello.nonce, ok.proof)) {
    throw new TransferError('NETKIT_TRANSFER_AUTH', 'the receiver does not know the code: not sending');
  }
}

/**
 * sendBatch announces a batch of entries, reads the receiver's plan for
 * each, then streams the accepted files back to back. The receiver's
 * "done" frames are read while later files are sent, so small files do not
 * wait a round trip each; an "error" frame stops the batch.
 */
async function sendBatch(
  wire: Wire,
  batch: SourceEntry[],
  summary: TransferSummary,
  onEvent: SendOptions['onEvent'],
): Promise<void> {
  await wire.conn.write(
    Buffer.concat([...batch.map(({ source: _, ...e }) => encodeFrame(e)), encodeFrame({ type: 'plan' })]),
  );
  const accepted: { entry: SourceEntry & { type: 'file' }; offset: number; prefix?: string }[] = [];
  for (const entry of batch) {
    const answer = expectFrame(await wire.mustFrame(), 'accept', 'skip');
    if (entry.type === 'dir') {
      summary.dirs++;
      continue;
    }
    if (answer.type === 'skip') {
      const event = skipped(summary, entry.path, entry.size, answer.reason ?? 'exists');
      onEvent?.(event);
      continue;
    }
    if (answer.offset > entry.size)
      throw new TransferError(
        'NETKIT_TRANSFER_PROTOCOL',
        `the receiver offered to resume ${quote(entry.path)} past its end`,
      );
    accepted.push({ entry, offset: answer.offset, prefix: answer.prefix });
  }
  let pending = accepted.length;
  let failure: Error | undefined;
  const confirmations = (async () => {
    while (pending > 0) {
      expectFrame(await wire.mustFrame(), 'done');
      pending--;
    }
  })().catch((err) => {
    failure = err;
    // Stop the sending loop at once: its bytes would only pile up behind the refusal.
    wire.conn.destroy(err);
    throw err;
  });
  // Awaited below; until then a refusal must not count as an unhandled rejection.
  confirmations.catch(() => {});
  try {
    for (const a of accepted) await sendFile(wire.conn, a.entry, a.offset, a.prefix, summary, onEvent);
  } catch (err) {
    await confirmations.catch(() => {});
    throw failure ?? err;
  }
  await confirmations;
}
