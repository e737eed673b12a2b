import { open } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AbortError, isNetkitError, TransferError } from '../errors.js';
import { type Conn, dial } from '../tcp/index.js';
import type { TlsClientOptions } from '../tls/client.js';
import type { ProxySpec } from '../tunnel/index.js';
import {
  failure,
  finished,
  newSummary,
  skipped,
  type TransferEvent,
  type TransferSummary,
} from './events.js';
import { fsReason } from './fs-checks.js';
import { quote } from './paths.js';
import type { Store } from './store.js';

/**
 * The classic protocol of the Go file-transfer example: the sender writes
 * the file's name, the receiver answers "ok", the sender streams the bytes
 * and closes. There is no size, checksum or resume: the file is complete
 * when the sender closes cleanly (FIN); a reset or timeout means it is not,
 * and the partial file is removed. netkit still applies every path and
 * overwrite rule to the name.
 */

/** MAX_NAME_BYTES bounds the first read, which the classic sender fills with the name alone. */
const MAX_NAME_BYTES = 4096;
const OK = Buffer.from('ok');

/** receiveClassic serves one classic sender on `conn`, closing it when done. */
export async function receiveClassic(
  conn: Conn,
  store: Store,
  options: {
    onEvent: ((e: TransferEvent) => void) | undefined;
    /** admit is called once the name arrived; it throws to refuse (busy). */
    admit?: () => void;
    /** signal stops the transfer; the classic protocol cannot resume, so the part is removed. */
    signal?: AbortSignal;
  },
): Promise<{ summary: TransferSummary; started: boolean }> {
  const { onEvent, signal } = options;
  const started = performance.now();
  const summary = newSummary('recv', conn.remoteAddr?.address ?? '');
  let began = false;
  const read = () => {
    if (signal?.aborted) throw new AbortError('read', signal.reason);
    return conn.read({ signal });
  };
  try {
    const first = await read();
    if (first === null)
      throw new TransferError('NETKIT_TRANSFER_PROTOCOL', 'the peer closed without sending a name');
    if (first.length > MAX_NAME_BYTES) {
      throw new TransferError('NETKIT_TRANSFER_PROTOCOL', `a file name over ${MAX_NAME_BYTES} bytes`);
    }
    const name = first.toString('utf8');
    if (!first.equals(Buffer.from(name))) {
      throw new TransferError('NETKIT_TRANSFER_PATH', `unsafe path ${quote(name)}: not valid UTF-8`, {
        path: name,
      });
    }
    const entry = { type: 'file' as const, path: name, size: 0, mode: 0o644, mtime: Date.now() };
    options.admit?.();
    const plan = await store.planFile(entry, { classic: true });
    began = true;
    if (plan.action === 'skip') {
      const event = skipped(summary, name, 0, plan.why);
      onEvent?.(event);
      summary.ok = true;
      return { summary, started: began };
    }
    const file = store.open(entry, plan, 0);
    await conn.write(OK);
    onEvent?.({ type: 'file-start', path: name, size: 0, offset: 0 });
    try {
      for (;;) {
        const chunk = await read();
        if (chunk === null) break;
        summary.sentBytes += chunk.length;
        if (summary.sentBytes > store.maxFileBytes) {
          throw new TransferError(
            'NETKIT_TRANSFER_LIMIT',
            `${quote(name)} is over the receiver's limit of ${store.maxFileBytes} bytes`,
            { path: name },
          );
        }
        onEvent?.({ type: 'progress', path: name, bytes: summary.sentBytes, size: 0 });
        const p = file.write(chunk);
        if (p !== undefined) await p;
      }
      await file.finish();
      store.commit({ ...entry, size: summary.sentBytes }, plan.target, file);
    } catch (err) {
      await file.settle(false);
      file.close();
      store.discard(plan.target);
      throw err;
    }
    summary.files = 1;
    summary.bytes = summary.sentBytes;
    summary.ok = true;
    onEvent?.(finished(name, summary.bytes, 0, 'received'));
  } catch (err) {
    summary.error = failure(err);
  } finally {
    summary.seconds = (performance.now() - started) / 1000;
    // Refusals close without "ok": the classic sender sees the connection end, the only "no" it knows.
    await conn.close({ lingerMs: 1000 });
  }
  return { summary, started: began };
}

/** sendClassic sends one file the classic way: its base name, wait for "ok", the bytes, close. */
export async function sendClassic(
  file: string,
  address: string,
  options: {
    connectTimeout: number;
    network?: string;
    tls?: TlsClientOptions | boolean;
    signal?: AbortSignal;
    onEvent?: (e: TransferEvent) => void;
    proxy?: ProxySpec | undefined;
  },
): Promise<{ size: number; peer: string }> {
  const name = path.basename(file);
  const fh = await open(file, 'r').catch((err) => {
    throw new TransferError('NETKIT_TRANSFER_SOURCE', `cannot read ${quote(file)}: ${fsReason(err)}`, {
      path: file,
      cause: err,
    });
  });
  try {
    const st = await fh.stat();
    if (!st.isFile())
      throw new TransferError(
        'NETKIT_TRANSFER_SOURCE',
        `${quote(file)} is not a regular file (--compat sends files one at a time)`,
        { path: file },
      );
    const { signal } = options;
    const conn = await dial(address, {
      network: options.network,
      timeout: options.connectTimeout,
      signal,
      tls: options.tls,
      ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
    });
    // The signal must also end a write stuck behind a receiver that stopped reading, not only the dial.
    const onAbort = () => conn.destroy(new AbortError('send', signal?.reason));
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      await conn.write(name);
      const reply = await conn.readFull(2).catch((err) => {
        if (
          isNetkitError(err, 'NETKIT_TIMEOUT') ||
          isNetkitError(err, 'NETKIT_ABORTED') ||
          isNetkitError(err, 'NETKIT_TLS_FAILED')
        )
          throw err;
        throw new TransferError(
          'NETKIT_TRANSFER_PROTOCOL',
          `the receiver refused ${quote(name)} (closed without "ok")`,
          { path: name },
        );
      });
      if (!reply.equals(OK)) {
        throw new TransferError(
          'NETKIT_TRANSFER_PROTOCOL',
          `the receiver answered ${quote(reply.toString())} instead of "ok"`,
          { path: name },
        );
      }
      options.onEvent?.({ type: 'file-start', path: name, size: st.size, offset: 0 });
      let sent = 0;
      for (;;) {
        const buf = Buffer.allocUnsafe(1024 * 1024);
        const { bytesRead } = await fh.read(buf, 0, buf.length, null);
        if (bytesRead === 0) break;
        sent += bytesRead;
        await conn.write(buf.subarray(0, bytesRead));
        options.onEvent?.({ type: 'progress', path: name, bytes: sent, size: st.size });
      }
      await conn.close();
      options.onEvent?.(finished(name, sent, 0, 'sent'));
      return { size: sent, peer: conn.remoteAddr?.address ?? address };
    } finally {
      signal?.removeEventListener('abort', onAbort);
      conn.destroy();
    }
  } finally {
    await fh.close();
  }
}
