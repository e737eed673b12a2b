import { fstatSync, writeSync } from 'node:fs';
import type { Writable } from 'node:stream';

/**
 * A server's log under load: one line (or a few) per request, each written
 * on its own costs a write(2) per request — process.stdout is synchronous
 * to files and /dev/null, so the server stops for every line. LineWriter
 * gathers the lines of one event-loop turn and writes them at once.
 */

/** FLUSH_BYTES: a batch this large is written at once instead of at the end of the turn. */
const FLUSH_BYTES = 64 * 1024;

/**
 * WRITE_INTERVAL_MS spaces the writes while lines keep coming. A write(2)
 * to a file costs tens of microseconds whatever its size (the file's times,
 * the journal), so a busy server writing once per turn (about 50 requests)
 * spent 1.2 µs of each request there; paired against per-turn writes, this
 * spacing served 2.6 % more requests with the log in a file. A line after a
 * quiet spell still goes out at the end of its turn; under load a line
 * waits at most this long.
 */
export const WRITE_INTERVAL_MS = 25;

/**
 * PIPE_BUF is what POSIX writes to a pipe in one piece: two processes
 * (--workers) writing to the same pipe can interleave longer writes, so
 * writes to a pipe or socket are cut at line ends into pieces no longer.
 */
const PIPE_BUF = 4096;

/**
 * MAX_HELD_BYTES bounds what waits in memory while stdout does not take
 * more (a pipe whose reader is slow). Past it, writes block until the
 * reader has taken everything held: the server stalls rather than drop a
 * line or grow without limit.
 */
export const MAX_HELD_BYTES = 1024 * 1024;

/** RETRY_MS is how often a full pipe is tried again while under MAX_HELD_BYTES. */
const RETRY_MS = 5;

/** sleeper lets a blocked write wait without spinning the CPU. */
const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** StdoutLike is a stream that may sit on a file descriptor (process.stdout has `fd`). */
export type StdoutLike = Writable & { fd?: unknown };

/**
 * LineWriter batches whole lines bound for `stream`: they go out at the
 * end of the event-loop turn (at most once per WRITE_INTERVAL_MS while lines
 * keep coming), or as soon as 64 KiB are waiting, in the order written
 * and never split inside a line (pieces written to a pipe end at a line
 * end). On a file descriptor (process.stdout) it writes with write(2)
 * directly; while a pipe is full it holds up to MAX_HELD_BYTES and tries
 * again every few ms, and past that it blocks until the pipe is drained.
 * Other streams (in-process ones in tests) get the batches through
 * write(), waiting for 'drain' when it returns false. flush() writes
 * everything now; close() flushes and stops. Not for use from several
 * threads.
 */
export class LineWriter {
  readonly #stream: StdoutLike;
  readonly #fd: number | undefined;
  /** #piece is the longest single write: PIPE_BUF on a pipe, unbounded on files and terminals. */
  readonly #piece: number;
  #pending = '';
  /** #held is what the descriptor has not taken yet, written before #pending. */
  #held: Buffer | undefined;
  /** #scheduled is the pending end-of-turn write, or the spaced one (#spaced) while writes come too fast. */
  #scheduled: NodeJS.Immediate | NodeJS.Timeout | undefined;
  #spaced = false;
  /** #lastWrite is when the last scheduled batch was written (Date.now()). */
  #lastWrite = Number.NEGATIVE_INFINITY;
  #retry: NodeJS.Timeout | undefined;
  #waitingDrain = false;
  #broken = false;
  readonly #onExit = () => this.flush();

  constructor(stream: StdoutLike) {
    this.#stream = stream;
    const fd = typeof stream.fd === 'number' ? stream.fd : undefined;
    let piece = Number.POSITIVE_INFINITY;
    if (fd !== undefined) {
      try {
        const st = fstatSync(fd);
        if (st.isFIFO() || st.isSocket()) piece = PIPE_BUF;
      } catch {
        // A descriptor fstat cannot describe is written as a file would be.
      }
    }
    this.#fd = fd;
    this.#piece = piece;
    // A process that exits (process.exit, a second Ctrl-C) still writes what it logged.
    process.on('exit', this.#onExit);
  }

  /** write queues `text`, one or more whole lines ending in '\n'. */
  write(text: string): void {
    if (this.#broken) return;
    this.#pending += text;
    if (this.#pending.length >= FLUSH_BYTES) this.#drain(false);
    else if (this.#scheduled === undefined) this.#schedule();
  }

  /** #schedule writes the batch at the end of this turn, or WRITE_INTERVAL_MS after the last write if that is later. */
  #schedule(): void {
    // Date.now, not a monotonic clock, so tests can drive it; a clock set back waits no longer than the interval.
    const wait = Math.min(this.#lastWrite + WRITE_INTERVAL_MS - Date.now(), WRITE_INTERVAL_MS);
    this.#spaced = wait > 0;
    this.#scheduled = this.#spaced ? setTimeout(this.#onTurn, wait) : setImmediate(this.#onTurn);
  }

  #unschedule(): void {
    if (this.#scheduled === undefined) return;
    if (this.#spaced) clearTimeout(this.#scheduled as NodeJS.Timeout);
    else clearImmediate(this.#scheduled as NodeJS.Immediate);
    this.#scheduled = undefined;
  }

  /** flush writes everything queued now, blocking until a full pipe has taken it. */
  flush(): void {
    this.#drain(true);
  }

  /** close flushes and stops: later lines go to the stream itself. */
  close(): void {
    this.flush();
    this.#unschedule();
    if (this.#retry !== undefined) clearTimeout(this.#retry);
    this.#retry = undefined;
    process.off('exit', this.#onExit);
  }

  readonly #onTurn = () => {
    this.#scheduled = undefined;
    this.#lastWrite = Date.now();
    this.#drain(false);
  };

  readonly #onRetry = () => {
    this.#retry = undefined;
    this.#drain(false);
  };

  /** #drain writes what is queued; `block` (or too much held) waits for a full pipe instead of retrying later. */
  #drain(block: boolean): void {
    if (this.#broken) return;
    if (this.#fd === undefined) {
      this.#drainStream(block);
      return;
    }
    // Something written to the stream itself before (the listening line) must go out first.
    if (this.#stream.writableLength > 0 && !block) {
      this.#retryLater();
      return;
    }
    if (this.#pending !== '') {
      const next = Buffer.from(this.#pending);
      this.#pending = '';
      this.#held = this.#held === undefined ? next : Buffer.concat([this.#held, next]);
    }
    if (this.#held === undefined) return;
    const mustBlock = block || this.#held.length > MAX_HELD_BYTES;
    this.#held = this.#writeOut(this.#held, mustBlock);
    if (this.#held !== undefined) this.#retryLater();
  }

  /** #writeOut writes `buf` to the descriptor and returns what is left when the pipe is full and not `block`. */
  #writeOut(buf: Buffer, block: boolean): Buffer | undefined {
    const fd = this.#fd as number;
    let off = 0;
    while (off < buf.length) {
      let end = buf.length;
      if (end - off > this.#piece) {
        // Cut at the last line end that fits; a longer line goes whole.
        const cut = buf.lastIndexOf(0x0a, off + this.#piece - 1);
        end = cut >= off ? cut + 1 : Math.max(buf.indexOf(0x0a, off) + 1, off + this.#piece);
        if (end <= off) end = buf.length;
      }
      try {
        off += writeSync(fd, buf, off, end - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          if (!block) return buf.subarray(off);
          Atomics.wait(sleeper, 0, 0, 1);
          continue;
        }
        this.#fail(err as Error);
        return undefined;
      }
    }
    return undefined;
  }

  #retryLater(): void {
    if (this.#retry === undefined) this.#retry = setTimeout(this.#onRetry, RETRY_MS);
  }

  /** #drainStream hands the batch to a stream without a descriptor, respecting its backpressure unless `all`. */
  #drainStream(all: boolean): void {
    if (this.#pending === '' || (this.#waitingDrain && !all)) return;
    const chunk = this.#pending;
    this.#pending = '';
    if (!this.#stream.write(chunk) && !this.#waitingDrain) {
      this.#waitingDrain = true;
      this.#stream.once('drain', () => {
        this.#waitingDrain = false;
        this.#drain(false);
      });
    }
  }

  /**
   * #fail stops writing when the reader went away (EPIPE): like the stream
   * itself, it reports the error on the stream, where the CLI turns it into
   * a graceful stop.
   */
  #fail(err: Error): void {
    this.#broken = true;
    this.#pending = '';
    this.#held = undefined;
    if (this.#stream.listenerCount('error') > 0) this.#stream.emit('error', err);
  }
}
