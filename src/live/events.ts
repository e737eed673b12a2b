import type { ServerResponse } from 'node:http';

/**
 * EventStream is one page's server-sent events stream, with backpressure:
 * a tab that stops reading (in the background, on a slow link) must never
 * grow the server's memory. Past `maxBuffered` bytes waiting in the socket,
 * events are dropped and the stream is marked behind; once the socket
 * drains, the page gets one fresh `snapshot` event in their place, so it
 * catches up by replacing its state instead of replaying what it missed.
 */
export class EventStream {
  readonly #res: ServerResponse;
  readonly #maxBuffered: number;
  readonly #snapshot: () => unknown;
  #behind = false;
  #closed = false;
  /** dropped counts the events this stream skipped while behind. */
  dropped = 0;

  constructor(res: ServerResponse, maxBuffered: number, snapshot: () => unknown) {
    this.#res = res;
    this.#maxBuffered = maxBuffered;
    this.#snapshot = snapshot;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // No proxy in between may hold events back (nginx buffers responses by default).
      'x-accel-buffering': 'no',
    });
    res.on('drain', () => {
      if (!this.#behind || this.#closed) return;
      this.#behind = false;
      this.#write('snapshot', this.#snapshot());
    });
    res.once('close', () => {
      this.#closed = true;
    });
    this.#write('snapshot', this.#snapshot());
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
    if (this.#closed) return;
    if (this.#behind || this.#res.writableLength > this.#maxBuffered) {
      this.#behind = true;
      this.dropped++;
      return;
    }
    this.#write(event, data);
  }

  /** ping keeps an idle stream open through proxies and tells a dead peer apart (a comment line). */
  ping(): void {
    if (!this.#closed && !this.#behind) this.#res.write(': ping\n\n');
  }

  /** close ends the stream. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#res.end();
  }

  #write(event: string, data: unknown): void {
    // JSON has no raw newlines, so one data: line carries the whole event.
    this.#res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
