import { createHash, type Hash } from 'node:crypto';
import fs from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { TransferError } from '../errors.js';
import type { Conn } from '../tcp/index.js';
import { finished, type TransferEvent, type TransferSummary } from './events.js';
import { fsReason } from './fs-checks.js';
import { quote } from './paths.js';
import { encodeFrame } from './protocol.js';
import type { SourceEntry } from './tree.js';

/** CHUNK is the read size: large reads keep syscalls and hash calls few. */
const CHUNK = 1024 * 1024;

type FileSource = SourceEntry & { type: 'file' };

/**
 * sendFile streams one accepted file: a `data` frame, the bytes from the
 * agreed offset, an `end` frame with the SHA-256 of the whole file. A file
 * that fits in one chunk (most files in a tree) is read synchronously and
 * goes out in a single write with its frames: a thread-pool round trip per
 * open, read and close was most of what a small file cost.
 */
export async function sendFile(
  conn: Conn,
  entry: FileSource,
  offered: number,
  prefix: string | undefined,
  summary: TransferSummary,
  onEvent: ((e: TransferEvent) => void) | undefined,
): Promise<void> {
  const offset =
    offered === 0 && entry.size <= CHUNK
      ? await sendSmall(conn, entry, summary, onEvent)
      : await sendLarge(conn, entry, offered, prefix, summary, onEvent);
  summary.files++;
  summary.bytes += entry.size;
  onEvent?.(finished(entry.path, entry.size, offset, 'sent'));
}

/** sendLarge streams a file in CHUNK reads, one read ahead; it returns the offset it sent from. */
async function sendLarge(
  conn: Conn,
  entry: FileSource,
  offered: number,
  prefix: string | undefined,
  summary: TransferSummary,
  onEvent: ((e: TransferEvent) => void) | undefined,
): Promise<number> {
  const fh = await open(entry.source, 'r').catch((err) => {
    throw unreadable(entry, err);
  });
  try {
    let hash = createHash('sha256');
    let offset = 0;
    // Resume only from bytes that are verifiably ours: the receiver's partial file must hash like our prefix.
    if (offered > 0 && prefix !== undefined) {
      if ((await hashInto(fh, hash, offered, entry)) === prefix) offset = offered;
      else hash = createHash('sha256');
    }
    onEvent?.({ type: 'file-start', path: entry.path, size: entry.size, offset });
    await conn.write(encodeFrame({ type: 'data', offset }));
    let at = offset;
    let next = prefetch(fh, at, entry);
    while (next !== null) {
      const chunk = await next;
      at += chunk.length;
      // The next read runs on the thread pool while this chunk is hashed and written.
      next = prefetch(fh, at, entry);
      hash.update(chunk);
      await conn.write(chunk);
      summary.sentBytes += chunk.length;
      onEvent?.({ type: 'progress', path: entry.path, bytes: at, size: entry.size });
    }
    await conn.write(encodeFrame({ type: 'end', sha256: hash.digest('hex') }));
    return offset;
  } finally {
    await fh.close();
  }
}

/** prefetch starts the read at `position`, or returns null at the announced end. */
function prefetch(fh: FileHandle, position: number, entry: FileSource): Promise<Buffer> | null {
  if (position >= entry.size) return null;
  const p = readChunk(fh, position, entry);
  // Awaited later; if sending fails first, its failure must not surface as an unhandled rejection.
  p.catch(() => {});
  return p;
}

/** readChunk reads up to CHUNK bytes at `position`, never past the announced size (a growing file is cut there). */
async function readChunk(fh: FileHandle, position: number, entry: FileSource): Promise<Buffer> {
  const want = Math.min(CHUNK, entry.size - position);
  const buf = Buffer.allocUnsafe(want);
  const { bytesRead } = await fh.read(buf, 0, want, position);
  if (bytesRead === 0) throw shrunk(entry, position);
  return bytesRead === want ? buf : buf.subarray(0, bytesRead);
}

/** hashInto hashes the file's first n bytes into `hash` and returns that prefix's digest (hash stays open). */
async function hashInto(fh: FileHandle, hash: Hash, n: number, entry: FileSource): Promise<string> {
  for (let at = 0; at < n; ) {
    const chunk = await readChunk(fh, at, { ...entry, size: n });
    hash.update(chunk);
    at += chunk.length;
  }
  return hash.copy().digest('hex');
}

function shrunk(entry: SourceEntry, at: number): TransferError {
  return new TransferError(
    'NETKIT_TRANSFER_SOURCE',
    `${quote(entry.source)} shrank while it was sent (ended at ${at} bytes)`,
    { path: entry.path },
  );
}

/** sendSmall reads a one-chunk file synchronously and sends it, with its frames, in one write. */
async function sendSmall(
  conn: Conn,
  entry: FileSource,
  summary: TransferSummary,
  onEvent: ((e: TransferEvent) => void) | undefined,
): Promise<number> {
  const bytes = Buffer.allocUnsafe(entry.size);
  let fd: number;
  try {
    fd = fs.openSync(entry.source, 'r');
  } catch (err) {
    throw unreadable(entry, err);
  }
  try {
    for (let at = 0; at < entry.size; ) {
      const n = fs.readSync(fd, bytes, at, entry.size - at, at);
      if (n === 0) throw shrunk(entry, at);
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  onEvent?.({ type: 'file-start', path: entry.path, size: entry.size, offset: 0 });
  await conn.write(
    Buffer.concat([encodeFrame({ type: 'data', offset: 0 }), bytes, encodeFrame({ type: 'end', sha256 })]),
  );
  summary.sentBytes += entry.size;
  onEvent?.({ type: 'progress', path: entry.path, bytes: entry.size, size: entry.size });
  return 0;
}

function unreadable(entry: FileSource, err: unknown): TransferError {
  return new TransferError('NETKIT_TRANSFER_SOURCE', `cannot read ${quote(entry.source)}: ${fsReason(err)}`, {
    path: entry.path,
    cause: err,
  });
}
