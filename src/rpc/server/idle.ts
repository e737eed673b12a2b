/**
 * The idle timeout of an RPC connection. tcp.serve()'s idle sweep looks at
 * traffic only, which would cut a connection whose call is still running (a
 * slow method sends nothing until it answers). Here a connection is idle
 * when no bytes moved either way and no call ran for the whole timeout;
 * replies queued for a client that does not read them do not count as
 * traffic, so such a client is reaped too.
 */
import { TimeoutError } from '../../errors.js';
import type { Conn } from '../../tcp/conn.js';

interface Watched {
  busy: () => boolean;
  activity: number;
  seen: number;
}

/**
 * IdleSweep checks its connections a few times per timeout with one timer,
 * comparing byte counters, as tcp.serve() does: a timer per socket re-armed
 * on every message would cost something on every call.
 */
class IdleSweep {
  readonly #ms: number;
  readonly #watched = new Map<Conn, Watched>();
  #timer: NodeJS.Timeout | undefined;

  constructor(ms: number) {
    this.#ms = ms;
  }

  watch(conn: Conn, busy: () => boolean): () => void {
    this.#watched.set(conn, { busy, activity: activity(conn), seen: Date.now() });
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), Math.min(Math.max(this.#ms / 4, 25), 1000));
      this.#timer.unref();
    }
    const stop = () => this.#forget(conn);
    conn.socket.once('close', stop);
    return stop;
  }

  #forget(conn: Conn): void {
    this.#watched.delete(conn);
    if (this.#watched.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      sweeps.delete(this.#ms);
    }
  }

  #sweep(): void {
    const now = Date.now();
    for (const [conn, w] of this.#watched) {
      const a = activity(conn);
      if (a !== w.activity || w.busy()) {
        w.activity = a;
        w.seen = now;
      } else if (now - w.seen >= this.#ms) {
        this.#forget(conn);
        conn.destroy(
          new TimeoutError(
            'NETKIT_TIMEOUT',
            'idle',
            `no traffic and no call running for ${this.#ms} ms; connection closed`,
            this.#ms,
          ),
        );
      }
    }
  }
}

/** activity counts bytes read plus bytes the kernel took; bytes still queued in user space are not traffic yet. */
function activity(conn: Conn): number {
  const s = conn.socket;
  return s.bytesRead + s.bytesWritten - s.writableLength;
}

/** One sweep per distinct timeout, shared by every server using it. */
const sweeps = new Map<number, IdleSweep>();

/**
 * watchIdle destroys `conn` with NETKIT_TIMEOUT once nothing was read or
 * written and `busy()` (a call running) was false for `ms` milliseconds; 0
 * means never. It returns a function that stops watching; a closed
 * connection stops by itself.
 */
export function watchIdle(conn: Conn, ms: number, busy: () => boolean): () => void {
  if (ms <= 0) return () => {};
  let sweep = sweeps.get(ms);
  if (sweep === undefined) {
    sweep = new IdleSweep(ms);
    sweeps.set(ms, sweep);
  }
  return sweep.watch(conn, busy);
}
