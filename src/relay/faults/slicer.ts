import { type Item, isSignal, Stage } from './stage.js';

/**
 * SlicerStage is Toxiproxy's `slicer`: each chunk is cut into pieces of
 * about `average_size` bytes (± `size_variation`), and `delay` µs pass
 * after each piece before the next leaves, to mimic a network that hands
 * data over in small segments.
 */
export class SlicerStage extends Stage {
  /** free is when the next piece may leave (the last one's time plus the delay). */
  #free = Number.NEGATIVE_INFINITY;

  push(item: Item): void {
    const now = this.ctx.now();
    if (isSignal(item)) {
      this.schedule(item, Math.max(now, this.#free));
      return;
    }
    const delay = (this.spec.attributes.delay ?? 0) / 1000;
    const bounds = this.#cuts(0, item.length, []);
    for (let i = 1; i < bounds.length; i++) {
      const at = Math.max(now, this.#free);
      this.schedule(item.subarray(bounds[i - 1], bounds[i]), at);
      this.#free = at + delay;
    }
  }

  /**
   * cuts is Toxiproxy's SlicerToxic.chunk: halve around the middle, moved
   * by up to ± size_variation, until a part is within size_variation of
   * average_size; parts vary evenly, with no small one left at either end.
   */
  #cuts(start: number, end: number, out: number[]): number[] {
    const { average_size: avg = 1, size_variation: vary = 0 } = this.spec.attributes;
    if (out.length === 0) out.push(start);
    if (end - start - avg <= vary) {
      out.push(end);
      return out;
    }
    const shift = vary > 0 ? Math.floor(this.ctx.random() * 2 * vary) - vary : 0;
    const mid = start + Math.floor((end - start) / 2) + shift;
    this.#cuts(start, mid, out);
    return this.#cuts(mid, end, out);
  }
}
