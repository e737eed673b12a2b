import type { Hash } from 'node:crypto';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { NetkitError, TransferError } from '../errors.js';
import { fsReason } from './fs-checks.js';
import { quote } from './paths.js';

const writev = promisify(fs.writev);

/** MAX_UNWRITTEN is how many received bytes may wait for the disk before the socket is held back. */
const MAX_UNWRITTEN = 8 * 1024 * 1024;
/** BATCH_BYTES is the least a background write takes: fewer, larger writes. */
const BATCH_BYTES = 1024 * 1024;
/** IOV_MAX on Linux: the most buffers one writev may take. */
const MAX_BATCH = 1024;

/**
 * IncomingFile writes one file's bytes into its `.part` file while hashing
 * them. Hashing runs on the main thread as chunks arrive and writes go to
 * the thread pool in batches (one writev per batch), so the disk and the
 * hash work at the same time; at most MAX_UNWRITTEN bytes wait, and then
 * write() returns a promise that holds the socket back.
 */
export class IncomingFile {
  readonly path: string;
  /** fd is the open `.part` file. */
  readonly fd: number;
  #open = true;
  /** hash is the whole file's SHA-256 (cleartext protocol), or null in an encrypted session. */
  readonly #hash: Hash | null;
  #position: number;
  #queue: Buffer[] = [];
  #queued = 0;
  #flushing: Promise<void> | null = null;
  #error: NetkitError | null = null;
  /** lastWriteAt is when the last chunk arrived (performance.now()): a receiver tells a stale connection by it. */
  lastWriteAt = performance.now();

  constructor(path: string, fd: number, hash: Hash | null, offset: number) {
    this.path = path;
    this.fd = fd;
    this.#hash = hash;
    this.#position = offset;
  }

  /** write takes the next chunk; it resolves at once unless too much waits for the disk. */
  write(chunk: Buffer): undefined | Promise<void> {
    if (this.#error) throw this.#error;
    this.lastWriteAt = performance.now();
    this.#hash?.update(chunk);
    this.#queue.push(chunk);
    this.#queued += chunk.length;
    // Writes wait for a batch worth a thread-pool trip; finish() writes a small remainder itself.
    if (this.#flushing === null && this.#queued >= BATCH_BYTES) this.#flushing = this.#flush();
    return this.#queued >= MAX_UNWRITTEN ? (this.#flushing ?? undefined) : undefined;
  }

  async #flush(): Promise<void> {
    try {
      const write = async (buffers: Buffer[], position: number) =>
        (await writev(this.fd, buffers, position)).bytesWritten;
      while (this.#queue.length > 0 && this.#error === null) await this.#writeBatch(write);
    } catch (err) {
      this.#error = writeError(this.path, err);
    } finally {
      this.#flushing = null;
    }
  }

  /** writeBatch writes the next queued buffers, all of them: writev may write less than asked (a full disk writes what fits first). */
  async #writeBatch(write: (buffers: Buffer[], position: number) => number | Promise<number>): Promise<void> {
    const batch = this.#queue.splice(0, MAX_BATCH);
    let bytes = 0;
    for (const b of batch) bytes += b.length;
    this.#queued -= bytes;
    for (let done = 0; done < bytes; ) {
      const n = await write(done === 0 ? batch : rest(batch, done), this.#position);
      if (n === 0) throw Object.assign(new Error('no progress writing'), { code: 'EIO' });
      this.#position += n;
      done += n;
    }
  }

  /** finish waits for every byte to reach the file and returns the SHA-256 of the whole file ('' when not hashed). */
  async finish(): Promise<string> {
    while (this.#flushing !== null) await this.#flushing;
    if (this.#error) throw this.#error;
    // What is left is under a batch: a synchronous write costs microseconds, a trip to the thread pool tens.
    try {
      while (this.#queue.length > 0)
        await this.#writeBatch((buffers, position) => fs.writevSync(this.fd, buffers, position));
    } catch (err) {
      throw writeError(this.path, err);
    }
    return this.#hash?.digest('hex') ?? '';
  }

  /**
   * settle waits for a write in flight after a failure; when the part is
   * kept for a resume it also writes what is still queued, so the part holds
   * every byte that arrived (each was hashed in order, so none is suspect).
   */
  async settle(keep: boolean): Promise<void> {
    while (this.#flushing !== null) await this.#flushing;
    if (!keep || this.#error) return;
    await this.finish().catch(() => {});
  }

  /** close closes the file once; errors are ignored (a failure already decided the outcome). */
  close(): void {
    if (!this.#open) return;
    this.#open = false;
    try {
      fs.closeSync(this.fd);
    } catch {
      // EBADF or EIO on close: nothing more to save.
    }
  }
}

function rest(batch: Buffer[], skip: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of batch) {
    if (skip >= b.length) skip -= b.length;
    else {
      out.push(skip > 0 ? b.subarray(skip) : b);
      skip = 0;
    }
  }
  return out;
}

/**
 * writeError names what failed writing a file, with the errno as cause. The
 * message holds the relative path and the errno only: it goes to the sender,
 * who has no business learning the receiver's directory layout.
 */
export function writeError(path: string, err: unknown): NetkitError {
  if (err instanceof NetkitError) return err;
  return new TransferError('NETKIT_TRANSFER_WRITE', `cannot write ${quote(path)}: ${fsReason(err)}`, {
    path,
    cause: err,
  });
}
