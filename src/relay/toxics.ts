import { InvalidArgumentError } from '../errors.js';
import { checkToxic, type ToxicSpec } from './faults/index.js';
import type { Stream } from './types.js';

/** ToxicError is a toxic that cannot be added, changed or found (the API's 404 and 409). */
export class ToxicError extends InvalidArgumentError {
  /** status is the HTTP status the API answers with. */
  readonly status: 404 | 409;
  constructor(status: 404 | 409, message: string) {
    super('toxic', message);
    this.status = status;
  }
}

/**
 * Toxics is one relay's live list of faults. Connections read it before
 * each chunk (through faultFlow), so a fault added, changed or removed
 * reaches connections already open, as in Toxiproxy. Order is insertion
 * order, which is the order faults apply in.
 */
export class Toxics {
  #all: ToxicSpec[] = [];
  #up: readonly ToxicSpec[] = [];
  #down: readonly ToxicSpec[] = [];
  #listeners = new Set<() => void>();

  /** size is the number of faults, both directions. */
  get size(): number {
    return this.#all.length;
  }

  /** list is the faults of one direction, in the order they apply. */
  list(stream: Stream): readonly ToxicSpec[] {
    return stream === 'upstream' ? this.#up : this.#down;
  }

  /** all is every fault, both directions, in the order they were added. */
  all(): readonly ToxicSpec[] {
    return this.#all;
  }

  /** get returns the named fault; an unknown name throws ToxicError 404. */
  get(name: string): ToxicSpec {
    const t = this.#all.find((x) => x.name === name);
    if (t === undefined) throw new ToxicError(404, `toxic not found: ${name}`);
    return t;
  }

  /** add checks `input` (Toxiproxy's toxic JSON) and adds it; a name in use is a 409. */
  add(input: unknown): ToxicSpec {
    const spec = checkToxic(input);
    if (this.#all.some((x) => x.name === spec.name)) {
      throw new ToxicError(409, `toxic already exists: ${spec.name}`);
    }
    this.#all = [...this.#all, spec];
    this.#changed();
    return spec;
  }

  /** update merges `input` (attributes, toxicity, stream) into the named toxic. */
  update(name: string, input: unknown): ToxicSpec {
    const old = this.get(name);
    const spec = checkToxic(
      { ...(typeof input === 'object' && input !== null ? input : {}), name, type: old.type },
      old,
    );
    this.#all = this.#all.map((x) => (x.name === name ? spec : x));
    this.#changed();
    return spec;
  }

  /** remove deletes the named fault; an unknown name throws ToxicError 404. */
  remove(name: string): void {
    this.get(name);
    this.#all = this.#all.filter((x) => x.name !== name);
    this.#changed();
  }

  /** clear removes every fault. */
  clear(): void {
    this.#all = [];
    this.#changed();
  }

  #changed(): void {
    // Fresh arrays on change, so a connection iterating the old list is never disturbed mid-chunk.
    this.#up = this.#all.filter((x) => x.stream === 'upstream');
    this.#down = this.#all.filter((x) => x.stream === 'downstream');
    for (const fn of this.#listeners) fn();
  }

  /**
   * subscribe runs `onchange` after every change until the returned
   * function is called: open connections' fault flows use it, so a fault
   * removed mid-connection lets held bytes go at once.
   */
  subscribe(onchange: () => void): () => void {
    this.#listeners.add(onchange);
    return () => this.#listeners.delete(onchange);
  }
}
