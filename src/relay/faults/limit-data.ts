import { CountingStage, type Item, isSignal } from './stage.js';

/**
 * LimitDataStage is Toxiproxy's `limit_data`: the first `bytes` bytes of
 * the stream pass, then the connection is closed (FIN both ways) once they
 * have been written; the rest is dropped. The count survives an update, as
 * Toxiproxy keeps it in the stub's state: lowering the limit below what
 * has passed closes at the next chunk.
 */
export class LimitDataStage extends CountingStage {
  #spent = false;

  push(item: Item): void {
    if (this.#spent) {
      if (!isSignal(item)) this.ctx.dropped(item.length);
      return;
    }
    if (isSignal(item)) {
      this.#spent = item.kind !== 'fin';
      this.emit(item);
      return;
    }
    const rest = this.passFirst(item, this.spec.attributes.bytes ?? 0);
    if (rest === undefined) return;
    this.#spent = true;
    this.ctx.dropped(rest.length);
    this.emit({
      kind: 'close',
      reason: `fault ${this.spec.name}: limit_data closed ${this.ctx.stream} after ${this.passed} bytes`,
    });
  }
}
