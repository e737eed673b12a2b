import { type Item, isSignal, Stage } from './stage.js';

/**
 * BandwidthStage is Toxiproxy's `bandwidth`: data leaves at `rate` KB/s
 * (1 KB = 1000 bytes, as Toxiproxy computes it), each chunk once the time
 * its bytes take at that rate has passed; a rate of 0 is no limit. A chunk
 * larger than 100 ms' worth leaves in 100 ms pieces, as in Toxiproxy, so a
 * slow reader sees a steady trickle rather than one late burst.
 */
export class BandwidthStage extends Stage {
  /** free is when the link, at this rate, has sent everything scheduled so far. */
  #free = Number.NEGATIVE_INFINITY;

  push(item: Item): void {
    const now = this.ctx.now();
    const rate = this.spec.attributes.rate ?? 0;
    if (isSignal(item) || rate <= 0) {
      this.schedule(item, now);
      return;
    }
    const piece = rate * 100;
    for (let off = 0; off < item.length; off += piece) {
      const part = item.subarray(off, off + piece);
      this.#free = Math.max(now, this.#free) + part.length / rate;
      this.schedule(part, this.#free);
    }
  }
}
