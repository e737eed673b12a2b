import { type Item, isSignal, Stage } from './stage.js';

/**
 * LatencyStage is Toxiproxy's `latency`: each chunk is held `latency` ms
 * ± `jitter` ms after it arrives. Toxiproxy handles one chunk at a time,
 * so with jitter a chunk may wait longer than drawn but never overtakes
 * the one before it; the same holds here. An end of stream goes on as soon
 * as the data before it has.
 */
export class LatencyStage extends Stage {
  push(item: Item): void {
    const now = this.ctx.now();
    if (isSignal(item)) {
      this.schedule(item, now);
      return;
    }
    const { latency = 0, jitter = 0 } = this.spec.attributes;
    // Toxiproxy draws rand.Int63n(2*jitter) - jitter: from -jitter up to jitter-1.
    const delay = jitter > 0 ? latency + Math.floor(this.ctx.random() * 2 * jitter) - jitter : latency;
    this.schedule(item, now + Math.max(0, delay));
  }
}
