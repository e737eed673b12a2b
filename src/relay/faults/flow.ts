import { Fifo } from '../../internal/fifo.js';
import type { ConnControl, Flow, Stream } from '../types.js';
import { BandwidthStage } from './bandwidth.js';
import { LatencyStage } from './latency.js';
import { LimitDataStage } from './limit-data.js';
import { ResetPeerStage } from './reset-peer.js';
import { SlicerStage } from './slicer.js';
import { SlowCloseStage } from './slow-close.js';
import type { ToxicSpec, ToxicType } from './spec.js';
import { FIN, type Input, type Item, isSignal, type Signal, type Stage, type StageContext } from './stage.js';
import { TimeoutStage } from './timeout.js';

/**
 * MAX_QUEUED_BYTES bounds what one direction's faults hold (data written
 * to the flow and not yet written on): past it write() returns false and
 * the source is paused. Latency, bandwidth and black holes all hold data,
 * and without a bound a fast sender behind a slow toxic would grow the
 * relay's memory without limit; 256 KiB is four 64 KiB socket reads,
 * enough to keep a 100 Mbit/s link with 20 ms of latency busy.
 */
export const MAX_QUEUED_BYTES = 256 * 1024;

/**
 * SYNC_POLL_MS is how often a flow whose black hole holds data re-reads a
 * ToxicSource that cannot tell it of changes: nothing else would notice
 * the toxic's removal, since the paused source writes nothing more.
 */
export const SYNC_POLL_MS = 100;

/**
 * ToxicSource is a live list of toxics. Flows read it before each chunk,
 * so toxics added, changed and removed reach open connections, as in
 * Toxiproxy; `subscribe`, when there, tells them of a change at once.
 */
export interface ToxicSource {
  /** list gives the toxics of one direction in the order they apply; a change gives a new array or new specs. */
  list(stream: Stream): readonly ToxicSpec[];
  /** subscribe runs `onchange` after every change until the function it returns is called. */
  subscribe?(onchange: () => void): () => void;
}

/** FaultFlowOptions replace the clock and the dice (for tests). */
export interface FaultFlowOptions {
  /** random is Math.random's shape: toxicity rolls, jitter, slice sizes. */
  random?: () => number;
  /** now is Date.now's shape. */
  now?: () => number;
}

type StageClass = new (spec: ToxicSpec, next: Input, ctx: StageContext) => Stage;

// noop and refuse have no stage: noop does nothing, refuse acts at accept (refuses()).
const STAGES: Partial<Record<ToxicType, StageClass>> = {
  latency: LatencyStage,
  bandwidth: BandwidthStage,
  slicer: SlicerStage,
  limit_data: LimitDataStage,
  reset_peer: ResetPeerStage,
  timeout: TimeoutStage,
  slow_close: SlowCloseStage,
};

/**
 * faultFlow makes the Flow one direction (`stream`) of a connection writes
 * through to apply the toxics `toxics` lists for it, in order, before
 * `next`. Each toxic's toxicity is rolled once per connection. Data keeps
 * its order; at most MAX_QUEUED_BYTES are held before write() returns
 * false, and `next.write()` returning false holds delivery until
 * `next.ondrain` (the flow takes `next.ondrain` over). end() passes the
 * FIN on after everything written before it; limit_data, reset_peer and
 * timeout end the connection through `control`. destroy() clears every
 * timer. Not safe to share between connections.
 */
export function faultFlow(
  stream: Stream,
  toxics: ToxicSource,
  next: Flow,
  control: ConnControl,
  options: FaultFlowOptions = {},
): Flow {
  return new FaultFlow(stream, toxics, next, control, options);
}

class FaultFlow implements Flow, StageContext {
  ondrain: (() => void) | undefined;
  readonly stream: Stream;
  readonly random: () => number;
  readonly now: () => number;
  #source: ToxicSource;
  #next: Flow;
  #control: ConnControl;
  #sink: Sink;
  #stages: Stage[] = [];
  #seen: ToxicSpec[] = [];
  #rolls = new Map<string, number>();
  #queued = 0;
  #needDrain = false;
  #inWrite = false;
  #state: 'open' | 'ended' | 'done' = 'open';
  #destroyed = false;
  #poll: ReturnType<typeof setTimeout> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(
    stream: Stream,
    source: ToxicSource,
    next: Flow,
    control: ConnControl,
    options: FaultFlowOptions,
  ) {
    this.stream = stream;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.#source = source;
    this.#next = next;
    this.#control = control;
    this.#sink = new Sink(this, next);
    next.ondrain = () => {
      this.#sink.resume();
      this.settle();
    };
    this.#unsubscribe = source.subscribe?.(() => {
      this.sync();
      this.settle();
    });
    this.sync();
  }

  write(chunk: Buffer): boolean {
    // A write racing the connection's end has nowhere to go.
    if (this.#state !== 'open') return true;
    this.#inWrite = true;
    try {
      this.sync();
      this.#queued += chunk.length;
      this.#head().push(chunk);
    } finally {
      this.#inWrite = false;
    }
    this.#armPoll();
    const ok = this.#accepting();
    if (!ok) this.#needDrain = true;
    return ok;
  }

  end(): void {
    if (this.#state !== 'open') return;
    this.#state = 'ended';
    this.sync();
    this.#head().push(FIN);
    this.#armPoll();
  }

  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#finish();
    this.#sink.destroy();
    this.#next.destroy();
  }

  dropped(bytes: number): void {
    if (bytes === 0) return;
    this.#queued -= bytes;
    this.settle();
  }

  /** delivered is the sink's count of bytes handed to next. */
  delivered(bytes: number): void {
    this.#queued -= bytes;
  }

  /** signal is the sink acting on the end of the stream, once the data before it is written. */
  signal(s: Signal): void {
    this.#finish();
    if (s.kind === 'fin') this.#next.end();
    else if (s.kind === 'close') this.#control.close(s.reason);
    else this.#control.reset(s.reason);
  }

  get done(): boolean {
    return this.#state === 'done';
  }

  /**
   * sync brings the chain in line with the toxic list: toxics gone are
   * taken out (what they hold goes on at once), new ones are put in
   * their place, changed ones are updated. Stages kept stay in order, so
   * nothing already in the chain is reordered.
   */
  sync(): void {
    if (this.#state === 'done') return;
    const specs = this.#source.list(this.stream);
    if (specs.length === this.#seen.length && specs.every((s, i) => s === this.#seen[i])) return;
    this.#seen = [...specs];
    const old = this.#stages;
    const plan: Stage[] = [];
    const gone: Stage[] = [];
    let j = 0;
    for (const spec of specs) {
      const make = STAGES[spec.type];
      if (make === undefined || spec.stream !== this.stream || !(this.#roll(spec.name) < spec.toxicity))
        continue;
      let k = j;
      while (k < old.length && !(old[k]!.spec.name === spec.name && old[k]!.spec.type === spec.type)) k++;
      if (k < old.length) {
        gone.push(...old.slice(j, k));
        if (old[k]!.spec !== spec) old[k]!.update(spec);
        plan.push(old[k]!);
        j = k + 1;
      } else plan.push(new make(spec, this.#sink, this));
    }
    gone.push(...old.slice(j));
    // Upstream first: a stage's data goes to the one after it, which, if it goes too, passes it on in turn.
    const chain = [...old];
    for (const stage of gone) {
      const i = chain.indexOf(stage);
      chain.splice(i, 1);
      stage.remove();
      if (i > 0) chain[i - 1]!.next = chain[i] ?? this.#sink;
    }
    this.#stages = plan;
    for (let i = 0; i < plan.length; i++) plan[i]!.next = plan[i + 1] ?? this.#sink;
  }

  #roll(name: string): number {
    let r = this.#rolls.get(name);
    if (r === undefined) {
      r = this.random();
      this.#rolls.set(name, r);
    }
    return r;
  }

  #head(): Input {
    return this.#stages[0] ?? this.#sink;
  }

  #accepting(): boolean {
    return this.#queued < MAX_QUEUED_BYTES && !this.#sink.paused;
  }

  /** settle runs ondrain once a write that returned false can be followed by more (never from inside write). */
  settle(): void {
    if (this.#needDrain && !this.#inWrite && this.#state === 'open' && this.#accepting()) {
      this.#needDrain = false;
      this.ondrain?.();
    }
  }

  #armPoll(): void {
    if (this.#source.subscribe !== undefined || this.#poll !== undefined || this.#state === 'done') return;
    if (!this.#stages.some((s) => s.holds())) return;
    this.#poll = setTimeout(() => {
      this.#poll = undefined;
      this.sync();
      this.settle();
      this.#armPoll();
    }, SYNC_POLL_MS);
  }

  #finish(): void {
    this.#state = 'done';
    for (const s of this.#stages) s.destroy();
    this.#stages = [];
    if (this.#poll !== undefined) clearTimeout(this.#poll);
    this.#poll = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }
}

/**
 * Sink is the end of the chain: it writes data to the next Flow, holding
 * it while that Flow's write() has returned false, and acts on the signal
 * that ends the stream only once everything before it is written.
 */
class Sink implements Input {
  paused = false;
  #flow: FaultFlow;
  #next: Flow;
  #queue = new Fifo<Item>();
  #pumping = false;

  constructor(flow: FaultFlow, next: Flow) {
    this.#flow = flow;
    this.#next = next;
  }

  push(item: Item): void {
    this.#queue.push(item);
    this.#pump();
  }

  resume(): void {
    this.paused = false;
    this.#pump();
  }

  destroy(): void {
    this.#queue = new Fifo();
  }

  // A write may call back in (ondrain, a reset destroying the flow); the loop below stays the only one.
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.paused && !this.#flow.done) {
        const item = this.#queue.shift();
        if (item === undefined) break;
        if (isSignal(item)) {
          this.#flow.signal(item);
          break;
        }
        this.#flow.delivered(item.length);
        if (!this.#next.write(item)) this.paused = true;
      }
    } finally {
      this.#pumping = false;
    }
    this.#flow.settle();
  }
}
