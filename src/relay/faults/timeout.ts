import { Fifo } from '../../internal/fifo.js';
import type { ToxicSpec } from './spec.js';
import { CountingStage, type Input, type Item, isSignal, type StageContext } from './stage.js';

/**
 * TimeoutStage is Toxiproxy's `timeout`: no data passes (it is held, not
 * dropped), and `timeout` ms later the connection is closed; with 0 it is
 * never closed, a black hole. Removing the toxic lets the held data go on,
 * as in Toxiproxy, where it waits unread in the chain. netkit's `bytes`
 * lets that many bytes pass first, and the hole opens at the Nth byte.
 */
export class TimeoutStage extends CountingStage {
  #holding = false;
  #spent = false;
  #held = new Fifo<Item>();

  constructor(spec: ToxicSpec, next: Input, ctx: StageContext) {
    super(spec, next, ctx);
    if ((spec.attributes.bytes ?? 0) === 0) this.#hold();
  }

  override holds(): boolean {
    return this.#holding && !this.#spent && this.#held.length > 0;
  }

  push(item: Item): void {
    if (this.#spent) {
      if (!isSignal(item)) this.ctx.dropped(item.length);
      return;
    }
    if (this.#holding) {
      this.#held.push(item);
      return;
    }
    if (isSignal(item)) {
      this.emit(item);
      return;
    }
    const rest = this.passFirst(item, this.spec.attributes.bytes ?? 0);
    if (rest === undefined) return;
    this.#hold();
    if (rest.length > 0) this.#held.push(rest);
  }

  // Toxiproxy restarts a toxic when it changes, so the countdown starts again.
  override update(spec: ToxicSpec): void {
    super.update(spec);
    if (this.#spent) return;
    if (this.#holding) {
      this.clearTimers();
      this.#countdown();
    } else if (this.passed >= (spec.attributes.bytes ?? 0)) this.#hold();
  }

  protected override release(): void {
    const held = this.#held;
    this.#held = new Fifo();
    for (let item = held.shift(); item !== undefined; item = held.shift()) this.next.push(item);
  }

  #hold(): void {
    this.#holding = true;
    this.#countdown();
  }

  #countdown(): void {
    const timeout = this.spec.attributes.timeout ?? 0;
    if (timeout === 0) return;
    this.after(timeout, () => {
      this.ctx.sync();
      if (this.gone) return;
      this.#spent = true;
      let bytes = 0;
      for (let item = this.#held.shift(); item !== undefined; item = this.#held.shift()) {
        if (!isSignal(item)) bytes += item.length;
      }
      this.ctx.dropped(bytes);
      this.emit({
        kind: 'close',
        reason: `fault ${this.spec.name}: timeout closed ${this.ctx.stream} after ${timeout}ms without data`,
      });
    });
  }
}
