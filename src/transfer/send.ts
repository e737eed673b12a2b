import { performance } from 'node:perf_hooks';
import { AbortError, InvalidArgumentError, isNetkitError, TransferError } from '../errors.js';
import { checkMs, checkSignal } from '../internal/validate.js';
import { type Conn, dial, endpointText } from '../tcp/index.js';
import { resolveTlsClient, type TlsClientOptions } from '../tls/client.js';
import { type ProxyInput, parseProxyUrl } from '../tunnel/index.js';
import { nonce, TransferKey } from './auth.js';
import { sendClassic } from './compat.js';
import { newSummary, skipped, type TransferEvent, type TransferSummary } from './events.js';
import { sendFile } from './outgoing.js';
import { quote } from './paths.js';
import { BATCH_ENTRIES, encodeFrame, expectFrame, magicOf, PLAIN_VERSION } from './protocol.js';
import { joinRendezvous } from './rendezvous/join.js';
import { generateCode, roomOf } from './secure/codes.js';
import { CodeSecret, sealAsSender } from './secure/handshake.js';
import { collectSources, type Skipped, type SourceEntry } from './tree.js';
import { dropWhenIdle, Wire } from './wire.js';

/** SendOptions configure sendFiles(). Durations are milliseconds. */
export interface SendOptions {
  /**
   * code is the secret both sides share: the receiver's code in direct mode
   * (required unless `plain`), or, through a rendezvous, the code the
   * receiver will be told (generated when absent: see onCode). Encrypted
   * transfers derive their keys from it with SPAKE2; `plain` ones use it
   * only to authenticate.
   */
  code?: string;
  /**
   * via sends through a rendezvous (`netkit relay --rendezvous`) instead of
   * dialling the receiver: both sides dial out to it and it pairs them by
   * the code's room (its first component). Give `via` instead of an address.
   */
  via?: string;
  /** onCode hears a generated code once the rendezvous holds its room: show it to the receiving person. */
  onCode?: (code: string) => void;
  /** plain speaks the cleartext protocol 1 (to a receiver started with `plain`): no encryption, SHA-256 per file. */
  plain?: boolean;
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
  /** signal aborts the transfer; sendFiles then rejects with `AbortError`, and sending again resumes. */
  signal?: AbortSignal;
  /**
   * proxy reaches the receiver (or the rendezvous, with `via`) through a
   * forward proxy: `http://` (HTTP CONNECT), `socks5://`, `socks5h://`,
   * credentials as `user:password@`. The transfer's own encryption and
   * `tls` run inside the tunnel, end to end. See docs/proxies.md.
   */
  proxy?: ProxyInput;
  /** onEvent reports each file's progress. */
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
  addressOrOptions: string | (SendOptions & { via: string }),
  moreOptions: SendOptions = {},
): Promise<TransferSummary> {
  const options = typeof addressOrOptions === 'string' ? moreOptions : addressOrOptions;
  const address = typeof addressOrOptions === 'string' ? addressOrOptions : undefined;
  if (!Array.isArray(paths) || paths.length === 0)
    throw new InvalidArgumentError('paths', 'name at least one file or directory');
  const via = options.via;
  if (via !== undefined && address !== undefined)
    throw new InvalidArgumentError(
      'via',
      "give either the receiver's address or a rendezvous (via), not both",
    );
  if (via === undefined && (typeof address !== 'string' || address === ''))
    throw new InvalidArgumentError('address', "name the receiver's address, or a rendezvous (via)");
  if (via !== undefined && (options.plain || options.compat))
    throw new InvalidArgumentError(
      'via',
      'a rendezvous carries only encrypted transfers: drop plain and compat',
    );
  const plain = options.plain === true || options.compat === true;
  if (!plain && via === undefined && options.code === undefined) {
    throw new InvalidArgumentError(
      'code',
      "an encrypted transfer needs the receiver's code (netkit recv prints it), or plain for a cleartext receiver",
    );
  }
  // Checked before any source is read: a bad code or room fails at once.
  let secret = plain ? undefined : new CodeSecret(options.code ?? generateCode());
  if (via !== undefined) roomOf(secret!.code);
  const connectTimeout = checkMs('connectTimeout', options.connectTimeout ?? 10_000);
  const idle = checkMs('idleTimeout', options.idleTimeout ?? 30_000);
  const signal = checkSignal(options.signal);
  // Checked now rather than at the dial: a bad pin, CA or proxy fails before any source is read.
  resolveTlsClient(options.tls);
  const proxy =
    options.proxy === undefined || options.proxy === '' ? undefined : parseProxyUrl(options.proxy);
  if (options.compat && options.code !== undefined)
    throw new InvalidArgumentError('code', 'the classic protocol (compat) has no way to check a code');
  const started = performance.now();
  const summary = newSummary('send', address ?? via!);
  if (options.compat) {
    for (const p of paths) {
      const r = await sendClassic(p, address!, {
        connectTimeout,
        network: options.network,
        tls: options.tls,
        signal,
        onEvent: options.onEvent,
        proxy,
      });
      summary.peer = r.peer;
      summary.files++;
      summary.bytes += r.size;
      summary.sentBytes += r.size;
    }
  } else {
    const { entries, skipped } = await collectSources(paths);
    for (const s of skipped) options.onSkipped?.(s);
    const key = plain && options.code !== undefined ? new TransferKey(options.code) : undefined;
    let conn: Conn;
    if (via === undefined) {
      conn = await dial(address!, {
        network: options.network,
        timeout: connectTimeout,
        signal,
        tls: options.tls,
        highWaterMark: 1024 * 1024,
        proxy,
      });
    } else {
      ({ conn, secret } = await meet(via, secret!, options.code === undefined, {
        connectTimeout,
        signal,
        options: { ...options, proxy },
      }));
    }
    summary.peer = endpointText(conn.remoteAddr) || address || via!;
    const onAbort = () => conn.destroy(new AbortError('send', signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    dropWhenIdle(conn, idle, `${summary.peer}: the receiver stalled for ${idle} ms`);
    try {
      const wire = new Wire(conn, 'receiver');
      if (secret === undefined) await handshake(wire, key);
      else await sealAsSender(wire, secret);
      for (let i = 0; i < entries.length; i += BATCH_ENTRIES) {
        await sendBatch(wire, entries.slice(i, i + BATCH_ENTRIES), summary, options.onEvent);
      }
      await wire.write(encodeFrame({ type: 'bye' }));
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

/** ROOM_TRIES is how many fresh codes a sender tries when the rendezvous has its room taken already. */
const ROOM_TRIES = 5;

/**
 * meet joins the code's room at the rendezvous as the sender. A generated
 * code whose room is taken is replaced by a fresh one (nobody has been told
 * it yet); a given one fails with NETKIT_RENDEZVOUS_FULL.
 */
async function meet(
  via: string,
  secret: CodeSecret,
  generated: boolean,
  at: { connectTimeout: number; signal: AbortSignal | undefined; options: SendOptions },
): Promise<{ conn: Conn; secret: CodeSecret }> {
  const { options } = at;
  for (let attempt = 1; ; attempt++) {
    try {
      const conn = await joinRendezvous(via, {
        room: roomOf(secret.code),
        role: 'send',
        connectTimeout: at.connectTimeout,
        network: options.network,
        tls: options.tls,
        proxy: options.proxy,
        signal: at.signal,
        onWaiting: () => {
          if (generated) options.onCode?.(secret.code);
        },
      });
      return { conn, secret };
    } catch (err) {
      if (!generated || attempt >= ROOM_TRIES || !isNetkitError(err, 'NETKIT_RENDEZVOUS_FULL')) throw err;
      secret = new CodeSecret(generateCode());
    }
  }
}

async function handshake(wire: Wire, key: TransferKey | undefined): Promise<void> {
  const mine = nonce();
  await wire.write(
    Buffer.concat([
      magicOf(PLAIN_VERSION),
      encodeFrame({ type: 'hello', version: PLAIN_VERSION, nonce: mine }),
    ]),
  );
  const hello = expectFrame(await wire.mustFrame(), 'hello');
  if (hello.version !== PLAIN_VERSION || hello.nonce === undefined)
    throw new TransferError(
      'NETKIT_TRANSFER_PROTOCOL',
      hello.version === 2
        ? 'the receiver encrypts (protocol 2): drop --plain and pass its --code'
        : `the receiver speaks protocol version ${hello.version}, not ${PLAIN_VERSION}`,
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
  await wire.write(encodeFrame({ type: 'auth', proof: key.proof('sender', mine, hello.nonce) }));
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
  await wire.write(
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
    const verifyKey = wire.sealed?.verifyKey;
    for (const a of accepted) await sendFile(wire, a.entry, a.offset, a.prefix, verifyKey, summary, onEvent);
    // The last small files may still be held back, and the receiver confirms only what it has.
    await wire.flush();
  } catch (err) {
    await confirmations.catch(() => {});
    throw failure ?? err;
  }
  await confirmations;
}
