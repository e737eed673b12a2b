import { Fifo } from '../../internal/fifo.js';
import type { Stream } from '../types.js';
import type { ToxicSpec } from './spec.js';

/**
 * The pieces every toxic's stage is built from. A direction's toxics form
 * a chain, as in Toxiproxy: each stage takes items from the one before and
 * hands them to the one after, and the last hands them to the sink, which
 * writes them to the next Flow.
 */

/**
 * Signal is the end of a stream travelling behind its data: `fin` is the
 * source's FIN, `close` and `reset` end the whole connection (with FIN or
 * RST) once everything before them has been written.
 */
export type Signal = { readonly kind: 'fin' } | { readonly kind: 'close' | 'reset'; readonly reason: string };

/** Item is what moves along a chain: data, or a signal that ends it. */
export type Item = Buffer | Signal;

/** Input is anything a stage can hand items to: the next stage, or the sink. */
export interface Input {
  push(item: Item): void;
}

/** StageContext is what a stage may ask of the flow it is in. */
export interface StageContext {
  readonly stream: Stream;
  now(): number;
  random(): number;
  /** dropped accounts for bytes a stage throws away, so the flow's queue bound stays right. */
  dropped(bytes: number): void;
  /** sync re-reads the toxic list; a stage calls it before acting, in case its toxic was removed meanwhile. */
  sync(): void;
}

export const FIN: Signal = Object.freeze({ kind: 'fin' });

export function isSignal(item: Item): item is Signal {
  return !Buffer.isBuffer(item);
}

/**
 * Stage is one toxic applied to one direction of one connection. It owns
 * a queue of items each due at a time; they leave in order, never before
 * the ones ahead of them, so a stage cannot reorder the stream. Subclasses
 * decide, in push(), when each item is due (schedule) or whether it goes
 * on at once (emit) or not at all.
 */
export abstract class Stage implements Input {
  spec: ToxicSpec;
  next: Input;
  protected readonly ctx: StageContext;
  /** gone is set once the stage left its chain (removed or destroyed); its timers are cleared. */
  protected gone = false;
  #queue = new Fifo<{ item: Item; at: number }>();
  #lastAt = Number.NEGATIVE_INFINITY;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #immediates = new Set<ReturnType<typeof setImmediate>>();
  #running = false;

  constructor(spec: ToxicSpec, next: Input, ctx: StageContext) {
    this.spec = spec;
    this.next = next;
    this.ctx = ctx;
  }

  abstract push(item: Item): void;

  /** update takes a changed spec of the same toxic; what is already scheduled keeps its time. */
  update(spec: ToxicSpec): void {
    this.spec = spec;
  }

  /** holds says the stage keeps data back with no timer to release it (a black hole). */
  holds(): boolean {
    return false;
  }

  /** remove takes the stage out of its chain: what it holds goes on at once, as Toxiproxy drops no data when a toxic is removed. */
  remove(): void {
    this.clearTimers();
    const q = this.#queue;
    this.#lastAt = Number.NEGATIVE_INFINITY;
    for (let e = q.shift(); e !== undefined; e = q.shift()) this.next.push(e.item);
    this.release();
    this.gone = true;
  }

  /** destroy drops what the stage holds and clears its timers. */
  destroy(): void {
    this.gone = true;
    this.clearTimers();
    this.#queue = new Fifo();
  }

  /** release hands on what a subclass holds outside the timed queue (only on remove). */
  protected release(): void {}

  /** lastAt is when the latest scheduled item is due; later items are never due before it. */
  protected get lastAt(): number {
    return this.#lastAt;
  }

  /** emit hands `item` on now. */
  protected emit(item: Item): void {
    this.next.push(item);
  }

  /** schedule hands `item` on at time `at` (not before the items ahead of it). */
  protected schedule(item: Item, at: number): void {
    at = Math.max(at, this.#lastAt);
    this.#lastAt = at;
    this.#queue.push({ item, at });
    if (!this.#running && this.#queue.length === 1) this.#run();
  }

  /** after runs `fn` in `ms` unless the stage leaves its chain first. */
  protected after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      if (!this.gone) fn();
    }, ms);
    this.#timers.add(t);
  }

  /** soon runs `fn` on the event loop's next turn unless the stage leaves its chain first. */
  protected soon(fn: () => void): void {
    const i = setImmediate(() => {
      this.#immediates.delete(i);
      if (!this.gone) fn();
    });
    this.#immediates.add(i);
  }

  protected clearTimers(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const i of this.#immediates) clearImmediate(i);
    this.#immediates.clear();
  }

  #run(): void {
    this.#timer = undefined;
    this.#running = true;
    try {
      const q = this.#queue;
      for (let e = q.peek(); e !== undefined && !this.gone; e = q.peek()) {
        const wait = e.at - this.ctx.now();
        if (wait > 0) {
          // Rounded up, so the timer never fires before the item is due and spins.
          this.#timer = setTimeout(() => this.#run(), Math.ceil(wait));
          return;
        }
        q.shift();
        this.next.push(e.item);
      }
    } finally {
      this.#running = false;
    }
  }
}

/** cut splits `chunk` for a stage that lets only `left` more bytes pass: the part that passes, and the rest. */
/**
 * CountingStage is a stage that lets the first `bytes` of its stream
 * through and then acts (limit_data closes, reset_peer resets, timeout
 * black-holes): the count, kept across updates as Toxiproxy keeps it, and
 * the cut at the Nth byte live here once.
 */
export abstract class CountingStage extends Stage {
  /** passed is how many bytes went through before the stage acted. */
  protected passed = 0;

  /**
   * passFirst emits what is left of the first `limit` bytes from `chunk`;
   * it returns the bytes after the limit once it is reached, or undefined
   * while the stream is still under it.
   */
  protected passFirst(chunk: Buffer, limit: number): Buffer | undefined {
    const [pass, rest] = cut(chunk, limit - this.passed);
    this.passed += pass.length;
    if (pass.length > 0) this.emit(pass);
    return this.passed < limit ? undefined : rest;
  }
}

export function cut(chunk: Buffer, left: number): [Buffer, Buffer] {
  const n = Math.max(0, Math.min(left, chunk.length));
  return [chunk.subarray(0, n), chunk.subarray(n)];
}
