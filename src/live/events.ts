import type { ServerResponse } from 'node:http';
import { InvalidArgumentError } from '../errors.js';
import { resetSocket } from '../internal/reset.js';

/** EVENT_STREAM_HEADERS are the headers of an event stream (also the whole answer to HEAD). */
export const EVENT_STREAM_HEADERS = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // No proxy in between may hold events back (nginx buffers responses by default).
  'x-accel-buffering': 'no',
});

/**
 * EventStream is one page's server-sent events stream, with backpressure:
 * a tab that stops reading (in the background, on a slow link) must never
 * grow the server's memory. Past `maxBuffered` bytes waiting in the socket,
 * events are dropped and the stream is marked behind; once the socket
 * drains, the page gets one fresh `snapshot` event in their place, so it
 * catches up by replacing its state instead of replaying what it missed.
 * What waits is at most `maxBuffered` bytes, or the socket's high-water
 * mark (16 KiB) when that is larger, plus one event. A page whose socket
 * stays full from one ping to the next is cut, and so is one whose snapshot
 * throws: the page reconnects; the process is never at stake.
 */
export class EventStream {
  readonly #res: ServerResponse;
  readonly #maxBuffered: number;
  readonly #snapshot: () => unknown;
  #behind = false;
  #closed = false;
  /** #full is true when the socket was still waiting for 'drain' at the last ping. */
  #full = false;
  /** dropped counts the events this stream skipped while behind. */
  dropped = 0;

  constructor(res: ServerResponse, maxBuffered: number, snapshot: () => unknown) {
    this.#res = res;
    this.#maxBuffered = maxBuffered;
    this.#snapshot = snapshot;
    res.writeHead(200, EVENT_STREAM_HEADERS);
    res.on('drain', () => {
      this.#full = false;
      if (!this.#behind || this.#closed) return;
      this.#behind = false;
      this.#sendSnapshot();
    });
    res.once('close', () => {
      this.#closed = true;
    });
    this.#sendSnapshot();
  }

  /** closed is true once the page went away or close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** behind is true while events are being dropped for a slow reader. */
  get behind(): boolean {
    return this.#behind;
  }

  /** send queues one event, or drops it while the reader is behind. */
  send(event: string, data: unknown): void {
    this.sendFrame(eventFrame(event, data));
  }

  /** sendFrame queues one event already framed by eventFrame() (a broadcast frames it once for every page). */
  sendFrame(frame: string): void {
    if (this.#closed) return;
    // Behind only once the socket has also asked to wait: its 'drain' is what brings the page back.
    // Under a limit below the socket's high-water mark, no 'drain' would ever come for a backlog
    // between the two, and the page would get nothing more, not even a ping.
    if (this.#behind || (this.#res.writableLength > this.#maxBuffered && this.#res.writableNeedDrain)) {
      this.#behind = true;
      this.dropped++;
      return;
    }
    this.#res.write(frame);
  }

  /**
   * ping keeps an idle stream open through proxies (a comment line), and
   * resets one whose socket has not drained since the last ping.
   */
  ping(): void {
    if (this.#closed) return;
    if (this.#res.writableNeedDrain) {
      // Nothing read for a whole ping interval: the peer vanished without a FIN (TCP would retry
      // for ~15 minutes) or holds a zero window (forever), keeping a slot and the buffers until
      // then. A page that is only slow reconnects and starts again from a snapshot.
      if (this.#full) {
        this.#closed = true;
        // RST, not FIN: a FIN would wait behind the unsent bytes, the kernel holding them.
        if (this.#res.socket) resetSocket(this.#res.socket);
        else this.#res.destroy();
        return;
      }
      this.#full = true;
      return;
    }
    this.#full = false;
    if (!this.#behind) this.#res.write(': ping\n\n');
  }

  /** close ends the stream. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#res.end();
  }

  #sendSnapshot(): void {
    let state: unknown;
    try {
      state = this.#snapshot();
    } catch (err) {
      // A throw here would be uncaught (in a 'drain' listener) and end the process.
      this.#closed = true;
      this.#res.destroy(err as Error);
      return;
    }
    this.#res.write(eventFrame('snapshot', state));
  }
}

/** EVENT_NAME is what an event's name may be: a newline in it would end the event early. */
const EVENT_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/**
 * eventFrame is one server-sent event as it goes on the wire. The data is
 * JSON, which has no raw newline, so one `data:` line carries all of it.
 * Throws InvalidArgumentError for a name that is not a short word.
 */
export function eventFrame(event: string, data: unknown): string {
  if (!EVENT_NAME.test(event)) {
    throw new InvalidArgumentError(
      'event',
      `must be 1 to 64 letters, digits, '.', '_' or '-' (got ${JSON.stringify(event)})`,
    );
  }
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
