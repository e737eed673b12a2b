import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import fs from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { TransferError } from '../errors.js';
import { finished, type TransferEvent, type TransferSummary } from './events.js';
import { fsReason } from './fs-checks.js';
import { quote } from './paths.js';
import { encodeFrame } from './protocol.js';
import type { SourceEntry } from './tree.js';

/** Out is where a file goes: the Wire, sealed or not. */
interface Out {
  write(data: Buffer): Promise<void>;
}

/** CHUNK is the read size: large reads keep syscalls and hash calls few. */
const CHUNK = 1024 * 1024;

type FileSource = SourceEntry & { type: 'file' };

/**
 * sendFile streams one accepted file: a `data` frame, the bytes from the
 * agreed offset, an `end` frame. In the cleartext protocol `end` carries
 * the SHA-256 of the whole file; an encrypted session (`verifyKey` set)
 * sends none, since every record's tag already proved its bytes, and
 * checks a resumed prefix with HMAC-SHA-256 under the session's verify key
 * instead. A file that fits in one chunk (most files in a tree) is read
 * synchronously and goes out in a single write with its frames: a
 * thread-pool round trip per open, read and close was most of what a small
 * file cost.
 */
export async function sendFile(
  out: Out,
  entry: FileSource,
  offered: number,
  prefix: string | undefined,
  verifyKey: Buffer | undefined,
  summary: TransferSummary,
  onEvent: ((e: TransferEvent) => void) | undefined,
): Promise<void> {
  const offset =
    offered === 0 && entry.size <= CHUNK
      ? await sendSmall(out, entry, verifyKey === undefined, summary, onEvent)
      : await sendLarge(out, entry, offered, prefix, verifyKey, summary, onEvent);
  summary.files++;
  summary.bytes += entry.size;
  onEvent?.(finished(entry.path, entry.size, offset, 'sent'));
}

/** sendLarge streams a file in CHUNK reads, one read ahead; it returns the offset it sent from. */
async function sendLarge(
  out: Out,
  entry: FileSource,
  offered: number,
  prefix: string | undefined,
  verifyKey: Buffer | undefined,
  summary: TransferSummary,
  onEvent: ((e: TransferEvent) => void) | undefined,
): Promise<number> {
  const fh = await open(entry.source, 'r').catch((err) => {
    throw unreadable(entry, err);
  });
  try {
    // Sealed: nothing to hash per byte. Cleartext: the SHA-256 of the whole file, resumed prefix included.
    let hash: Hash | null = verifyKey === undefined ? createHash('sha256') : null;
    let offset = 0;
    // Resume only from bytes that are verifiably ours: the receiver's partial file must digest like our prefix.
    if (offered > 0 && prefix !== undefined) {
      if (verifyKey !== undefined) {
        if ((await digestInto(fh, createHmac('sha256', verifyKey), offered, entry)) === prefix)
          offset = offered;
      } else if ((await digestInto(fh, hash!, offered, entry)) === prefix) offset = offered;
      else hash = createHash('sha256');
    }
    onEvent?.({ type: 'file-start', path: entry.path, size: entry.size, offset });
    await out.write(encodeFrame({ type: 'data', offset }));
    // Sealed, a chunk is encrypted into a new buffer as it is written, so two read buffers
    // take turns; in the clear the socket keeps the chunk itself until it is sent.
    const buffers = verifyKey === undefined ? null : [Buffer.allocUnsafe(CHUNK), Buffer.allocUnsafe(CHUNK)];
    let turn = 0;
    const into = () => (buffers === null ? undefined : buffers[turn++ & 1]);
    let at = offset;
    let next = prefetch(fh, at, entry, into());
    while (next !== null) {
      const chunk = await next;
      at += chunk.length;
      // The next read runs on the thread pool while this chunk is hashed and written.
      next = prefetch(fh, at, entry, into());
      hash?.update(chunk);
      await out.write(chunk);
      summary.sentBytes += chunk.length;
      onEvent?.({ type: 'progress', path: entry.path, bytes: at, size: entry.size });
    }
    await out.write(
      encodeFrame(hash === null ? { type: 'end' } : { type: 'end', sha256: hash.digest('hex') }),
    );
    return offset;
  } finally {
    await fh.close();
  }
}

/** prefetch starts the read at `position` (into `buf` when given), or returns null at the announced end. */
function prefetch(fh: FileHandle, position: number, entry: FileSource, buf?: Buffer): Promise<Buffer> | null {
  if (position >= entry.size) return null;
  const p = readChunk(fh, position, entry, buf);
  // Awaited later; if sending fails first, its failure must not surface as an unhandled rejection.
  p.catch(() => {});
  return p;
}

/** readChunk reads up to CHUNK bytes at `position`, never past the announced size (a growing file is cut there). */
async function readChunk(
  fh: FileHandle,
  position: number,
  entry: FileSource,
  into?: Buffer,
): Promise<Buffer> {
  const want = Math.min(CHUNK, entry.size - position);
  const buf = into === undefined ? Buffer.allocUnsafe(want) : into.subarray(0, want);
  const { bytesRead } = await fh.read(buf, 0, want, position);
  if (bytesRead === 0) throw shrunk(entry, position);
  return bytesRead === want ? buf : buf.subarray(0, bytesRead);
}

/** digestInto feeds the file's first n bytes to `h` and returns their digest (a Hash stays open; an Hmac is done). */
async function digestInto(fh: FileHandle, h: Hash | Hmac, n: number, entry: FileSource): Promise<string> {
  for (let at = 0; at < n; ) {
    const chunk = await readChunk(fh, at, { ...entry, size: n });
    h.update(chunk);
    at += chunk.length;
  }
  return 'copy' in h ? h.copy().digest('hex') : h.digest('hex');
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
  out: Out,
  entry: FileSource,
  hashed: boolean,
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
  const end = hashed
    ? { type: 'end' as const, sha256: createHash('sha256').update(bytes).digest('hex') }
    : { type: 'end' as const };
  onEvent?.({ type: 'file-start', path: entry.path, size: entry.size, offset: 0 });
  await out.write(Buffer.concat([encodeFrame({ type: 'data', offset: 0 }), bytes, encodeFrame(end)]));
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
