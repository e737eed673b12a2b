import { Fifo } from '../internal/fifo.js';
import type { WsMessage } from './message.js';

/**
 * MessageQueue turns pushed messages into an async iterator with
 * backpressure: when more than `highWater` messages wait unread, it calls
 * `pause` (the socket stops reading, so TCP flow control slows the peer
 * down) and `resume` once the reader has caught up. It ends cleanly with
 * end(), or with an error through fail().
 */
export class MessageQueue implements AsyncIterable<WsMessage> {
  readonly #items = new Fifo<WsMessage>();
  #waiter: ((r: IteratorResult<WsMessage>) => void) | undefined;
  #rejecter: ((err: unknown) => void) | undefined;
  #done = false;
  #error: unknown;
  #paused = false;
  readonly #highWater: number;
  readonly #pause: () => void;
  readonly #resume: () => void;

  constructor(flow: { highWater: number; pause: () => void; resume: () => void }) {
    this.#highWater = flow.highWater;
    this.#pause = flow.pause;
    this.#resume = flow.resume;
  }

  /** push hands a message to the reader (or queues it). */
  push(msg: WsMessage): void {
    if (this.#done) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = this.#rejecter = undefined;
      waiter({ value: msg, done: false });
      return;
    }
    this.#items.push(msg);
    if (!this.#paused && this.#items.length > this.#highWater) {
      this.#paused = true;
      this.#pause();
    }
  }

  /** end finishes the iteration once queued messages are read. */
  end(): void {
    this.#finish(undefined);
  }

  /** fail makes the reader throw `err` once queued messages are read. */
  fail(err: unknown): void {
    this.#finish(err);
  }

  #finish(err: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = err;
    if (this.#items.length > 0) return;
    const waiter = this.#waiter;
    const rejecter = this.#rejecter;
    this.#waiter = this.#rejecter = undefined;
    if (err !== undefined) rejecter?.(err);
    else waiter?.({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<WsMessage>> {
    const value = this.#items.shift();
    if (value !== undefined) {
      if (this.#paused && this.#items.length <= this.#highWater / 2) {
        this.#paused = false;
        this.#resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) {
      if (this.#error !== undefined) return Promise.reject(this.#error);
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = resolve;
      this.#rejecter = reject;
    });
  }

  [Symbol.asyncIterator](): AsyncIterator<WsMessage> {
    return {
      next: () => this.next(),
      return: async () => {
        this.#done = true;
        this.#items.clear();
        if (this.#paused) this.#resume();
        return { value: undefined, done: true };
      },
    };
  }
}
