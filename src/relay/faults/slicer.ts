import { Fifo } from '../../internal/fifo.js';
import { type Item, isSignal, Stage } from './stage.js';

/**
 * SlicerStage is Toxiproxy's `slicer`: each chunk is cut into pieces of
 * about `average_size` bytes (± `size_variation`), and `delay` µs pass
 * after each piece before the next leaves, to mimic a network that hands
 * data over in small segments.
 *
 * The delay runs from when a piece actually left, as Toxiproxy sleeps
 * after each send, not from a timetable made when the chunk arrived: after
 * a stalled event loop a timetable would find many pieces overdue and send
 * them together, and the peer would read one large piece, which is what
 * this toxic exists to prevent.
 */
export class SlicerStage extends Stage {
  #pending = new Fifo<Item>();
  /** waiting is set while the delay after the last piece runs. */
  #waiting = false;

  push(item: Item): void {
    if (isSignal(item)) this.#pending.push(item);
    else {
      const bounds = this.#cuts(0, item.length, []);
      for (let i = 1; i < bounds.length; i++) this.#pending.push(item.subarray(bounds[i - 1], bounds[i]));
    }
    this.#send();
  }

  override destroy(): void {
    super.destroy();
    this.#pending = new Fifo();
  }

  protected override release(): void {
    const pending = this.#pending;
    this.#pending = new Fifo();
    this.#waiting = false;
    for (let item = pending.shift(); item !== undefined; item = pending.shift()) this.next.push(item);
  }

  #send(): void {
    while (!this.#waiting && !this.gone) {
      const item = this.#pending.shift();
      if (item === undefined) return;
      this.emit(item);
      const delay = (this.spec.attributes.delay ?? 0) / 1000;
      if (isSignal(item) || this.#pending.length === 0) continue;
      this.#waiting = true;
      const next = () => {
        this.#waiting = false;
        this.#send();
      };
      // Even with no delay each piece leaves on its own turn of the event loop, as each is its own
      // write in Toxiproxy: pieces written in one turn are merged by Node into one writev, and the
      // peer would read them whole again.
      if (delay > 0) this.after(delay, next);
      else this.soon(next);
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
