import { type Item, isSignal, Stage } from './stage.js';

/**
 * SlowCloseStage is Toxiproxy's `slow_close`: data passes at once, but a
 * FIN (the source's, or limit_data's or timeout's close) waits `delay` ms
 * before it goes on. A reset is not delayed: an RST is not a close a peer
 * can hold back.
 */
export class SlowCloseStage extends Stage {
  push(item: Item): void {
    const now = this.ctx.now();
    const late = isSignal(item) && item.kind !== 'reset';
    this.schedule(item, late ? now + (this.spec.attributes.delay ?? 0) : now);
  }
}
