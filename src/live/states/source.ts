/**
 * The data behind `netkit states --web`: the kernel's TCP table sampled
 * while a page is open, the transitions between samples, and the
 * CLOSE_WAIT leak warnings, as a LiveSource for serveLive().
 */
import { InvalidArgumentError } from '../../errors.js';
import { checkInt } from '../../internal/validate.js';
import {
  CloseWaitMonitor,
  type CloseWaitWarning,
  diffSockets,
  type ReadOptions,
  readTcpSockets,
  type StateChange,
  type TcpSocket,
} from '../../tcpstate/index.js';
import type { LiveSource } from '../server.js';

/** SocketView is one socket as the page gets it. */
export interface SocketView {
  /** state is the kernel's name of the socket's state: `ESTABLISHED`, `CLOSE_WAIT`. */
  state: string;
  /** local is the local endpoint, Go's form: `127.0.0.1:8330`. */
  local: string;
  /** remote is the peer's endpoint (`0.0.0.0:0` for a listener). */
  remote: string;
  /** localPort is the local port. */
  localPort: number;
  /** remotePort is the peer's port. */
  remotePort: number;
  /** recvQueue is bytes received and not yet read (for LISTEN: the accept backlog). */
  recvQueue: number;
  /** sendQueue is bytes sent and not yet acknowledged. */
  sendQueue: number;
  /** timer is the running timer: `off`, `retransmit`, `keepalive`, `time_wait`, `probe`. */
  timer: string;
  /** timerMs is how long until the timer fires, in ms. */
  timerMs: number;
  /** retransmits counts retransmissions (or keep-alive probes) so far. */
  retransmits: number;
  /** pid is the owning process, when it could be read. */
  pid?: number;
  /** command is the owning process's command name, when it could be read. */
  command?: string;
}

/** Transition is one entry of the timeline: a socket appeared, changed state, or vanished. */
export interface Transition {
  /** at is when the sample that saw it was taken (ms since the epoch). */
  at: number;
  /** kind is what happened: `appeared`, `changed` or `vanished`. */
  kind: StateChange['kind'];
  /** state is the socket's state now (its last state for `vanished`). */
  state: string;
  /** from is the previous state, for `changed`. */
  from?: string;
  /** local is the socket's local endpoint. */
  local: string;
  /** remote is the socket's peer. */
  remote: string;
  /** pid is the owning process, when known. */
  pid?: number;
  /** command is the owning process's command name, when known. */
  command?: string;
}

/** LeakWarning is a CLOSE_WAIT leak still going on: the monitor's warning, kept while the port has CLOSE_WAIT sockets. */
export interface LeakWarning {
  /** port is the local port whose sockets stay in CLOSE_WAIT. */
  port: number;
  /** count is how many sockets on it are in CLOSE_WAIT now. */
  count: number;
  /** reason is why it is a leak: `growing` (the count keeps rising) or `lingering` (one stayed past warnAfter). */
  reason: CloseWaitWarning['reason'];
  /** since is when the oldest CLOSE_WAIT socket on the port was first seen (ms since the epoch). */
  since: number;
  /** pid is the process that is not closing them, when known. */
  pid?: number;
  /** command is that process's command name, when known. */
  command?: string;
}

/** StatesSample is what each sample pushes (event `sample`), and the core of a snapshot. */
export interface StatesSample {
  /** at is when the table was read (ms since the epoch); 0 before the first sample. */
  at: number;
  /** sockets are the selected sockets, at most maxSockets of them. */
  sockets: SocketView[];
  /** total is how many sockets were selected (sockets may hold fewer). */
  total: number;
  /** counts is the number of selected sockets per state (all of them, not only those listed). */
  counts: Record<string, number>;
  /** warnings are the CLOSE_WAIT leaks going on now. */
  warnings: LeakWarning[];
  /** transitions are what changed since the previous sample (in a snapshot: the recent timeline). */
  transitions: Transition[];
}

/** StatesSnapshot is a whole state for a new page: the last sample, the recent timeline, and the settings. */
export interface StatesSnapshot extends StatesSample {
  /** interval is the time between samples in ms. */
  interval: number;
  /** warnAfter is how long a CLOSE_WAIT socket may stay before it is reported, in ms. */
  warnAfter: number;
  /** filter is what selects the sockets (as given to readTcpSockets). */
  filter: {
    /** port selects sockets with this local or remote port. */
    port?: number;
    /** pid selects sockets owned by this process. */
    pid?: number;
    /** states selects sockets in these states. */
    states?: string[];
  };
  /** error is the last sampling error, if the last sample failed. */
  error?: string;
}

/** StatesSourceOptions configure a StatesSource. */
export interface StatesSourceOptions {
  /** read selects the sockets: readTcpSockets's options (--port, --pid, --state). */
  read?: ReadOptions;
  /** interval is the time between samples while a page is open, in ms. Default 1000; at least 10. */
  interval?: number;
  /** warnAfter is how long a CLOSE_WAIT socket may stay before it is a leak, in ms. Default 30 s. */
  warnAfter?: number;
  /** maxTimeline bounds the transitions kept for new pages. Default 500. */
  maxTimeline?: number;
  /** maxSockets bounds the sockets listed per sample (counts cover all). Default 1000. */
  maxSockets?: number;
}

/** STATES_SOURCE_DEFAULTS are StatesSource's defaults. */
export const STATES_SOURCE_DEFAULTS = Object.freeze({
  /** interval: a sample a second while a page is open. */
  interval: 1000,
  /** warnAfter: a CLOSE_WAIT socket 30 s old is a leak. */
  warnAfter: 30_000,
  /** maxTimeline: the last 500 transitions are kept for new pages. */
  maxTimeline: 500,
  /** maxSockets: at most 1,000 sockets listed per sample. */
  maxSockets: 1000,
});

function view(s: TcpSocket): SocketView {
  return {
    state: s.state,
    local: s.local,
    remote: s.remote,
    localPort: s.localPort,
    remotePort: s.remotePort,
    recvQueue: s.recvQueue,
    sendQueue: s.sendQueue,
    timer: s.timer,
    timerMs: s.timerMs,
    retransmits: s.retransmits,
    ...(s.pid !== undefined ? { pid: s.pid, command: s.command } : {}),
  };
}

function transition(c: StateChange, at: number): Transition {
  const s = c.socket;
  return {
    at,
    kind: c.kind,
    state: s.state,
    ...(c.from !== undefined ? { from: c.from } : {}),
    local: s.local,
    remote: s.remote,
    ...(s.pid !== undefined ? { pid: s.pid, command: s.command } : {}),
  };
}

/**
 * StatesSource samples the TCP table every `interval` while at least one
 * page is subscribed, and not at all otherwise: each sample reads the
 * whole table and every process's fd list, which an unwatched page must
 * not cost. A sample starts only after the previous one finished, so a
 * slow read delays the next instead of piling up. The first sample after
 * a pause is a new baseline: what changed while nobody watched is not
 * reported as if it had just happened.
 */
export class StatesSource implements LiveSource {
  readonly #read: ReadOptions;
  readonly #interval: number;
  readonly #warnAfter: number;
  readonly #maxTimeline: number;
  readonly #maxSockets: number;
  readonly #subscribers = new Set<(event: string, data: unknown) => void>();
  readonly #timeline: Transition[] = [];
  #prev: TcpSocket[] | undefined;
  #monitor: CloseWaitMonitor;
  #warnings = new Map<string, LeakWarning>();
  #last: StatesSample = { at: 0, sockets: [], total: 0, counts: {}, warnings: [], transitions: [] };
  #error: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sampling = false;
  #closed = false;
  /** samples counts the samples taken so far. */
  samples = 0;

  constructor(options: StatesSourceOptions = {}) {
    this.#read = { ...options.read };
    this.#interval = checkInt(
      'interval',
      options.interval ?? STATES_SOURCE_DEFAULTS.interval,
      10,
      2 ** 31 - 1,
    );
    this.#warnAfter = checkInt(
      'warnAfter',
      options.warnAfter ?? STATES_SOURCE_DEFAULTS.warnAfter,
      0,
      2 ** 31 - 1,
    );
    this.#maxTimeline = checkInt(
      'maxTimeline',
      options.maxTimeline ?? STATES_SOURCE_DEFAULTS.maxTimeline,
      1,
      100_000,
    );
    this.#maxSockets = checkInt(
      'maxSockets',
      options.maxSockets ?? STATES_SOURCE_DEFAULTS.maxSockets,
      1,
      1_000_000,
    );
    if (this.#read.states !== undefined && !Array.isArray(this.#read.states)) {
      throw new InvalidArgumentError('read.states', 'must be an array of TCP state names');
    }
    this.#monitor = new CloseWaitMonitor({ maxAgeMs: this.#warnAfter });
  }

  /** sampling is true while a page is subscribed and samples are being taken. */
  get sampling(): boolean {
    return this.#subscribers.size > 0 && !this.#closed;
  }

  /** snapshot returns the last sample with the recent timeline (oldest first) and the settings. */
  snapshot(): StatesSnapshot {
    const r = this.#read;
    return {
      ...this.#last,
      transitions: [...this.#timeline],
      interval: this.#interval,
      warnAfter: this.#warnAfter,
      filter: {
        ...(r.port !== undefined ? { port: r.port } : {}),
        ...(r.pid !== undefined ? { pid: r.pid } : {}),
        ...(r.states?.length ? { states: [...r.states] } : {}),
      },
      ...(this.#error !== undefined ? { error: this.#error } : {}),
    };
  }

  /** subscribe starts sampling with the first subscriber; the function it returns stops it with the last. */
  subscribe(push: (event: string, data: unknown) => void): () => void {
    // A function may subscribe twice (two pages sharing one broadcast); each call gets its own handle.
    const handle = (event: string, data: unknown) => push(event, data);
    this.#subscribers.add(handle);
    if (this.#subscribers.size === 1 && !this.#closed) this.#start();
    return () => {
      if (!this.#subscribers.delete(handle)) return;
      if (this.#subscribers.size === 0) this.#stop();
    };
  }

  /** close stops sampling for good. */
  close(): void {
    this.#closed = true;
    this.#stop();
    this.#subscribers.clear();
  }

  #start(): void {
    // A new baseline: the previous sample, and the monitor's ages, are from before the pause.
    this.#prev = undefined;
    this.#monitor = new CloseWaitMonitor({ maxAgeMs: this.#warnAfter });
    this.#warnings.clear();
    this.#schedule(0);
  }

  #stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delay: number): void {
    if (!this.sampling || this.#timer !== undefined || this.#sampling) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#sample();
    }, delay);
  }

  async #sample(): Promise<void> {
    if (!this.sampling) return;
    this.#sampling = true;
    try {
      const sockets = await readTcpSockets(this.#read);
      if (this.sampling) this.#take(sockets, Date.now());
      this.#error = undefined;
    } catch (err) {
      this.#error = (err as Error).message;
      this.#emit('problem', { at: Date.now(), message: this.#error });
    } finally {
      this.#sampling = false;
    }
    this.#schedule(this.#interval);
  }

  #take(sockets: TcpSocket[], at: number): void {
    this.samples++;
    const transitions =
      this.#prev === undefined ? [] : diffSockets(this.#prev, sockets).map((c) => transition(c, at));
    this.#prev = sockets;
    this.#timeline.push(...transitions);
    if (this.#timeline.length > this.#maxTimeline) {
      this.#timeline.splice(0, this.#timeline.length - this.#maxTimeline);
    }
    this.#track(sockets, at);
    const counts: Record<string, number> = {};
    for (const s of sockets) counts[s.state] = (counts[s.state] ?? 0) + 1;
    this.#last = {
      at,
      sockets: sockets.slice(0, this.#maxSockets).map(view),
      total: sockets.length,
      counts,
      warnings: [...this.#warnings.values()],
      transitions: [],
    };
    this.#emit('sample', {
      ...this.#last,
      transitions:
        transitions.length > this.#maxTimeline ? transitions.slice(-this.#maxTimeline) : transitions,
    });
  }

  /**
   * track turns the monitor's one-off warnings into ones that last while
   * the leak does: a page opened later must still see it, and it goes away
   * when the port's CLOSE_WAIT sockets are gone.
   */
  #track(sockets: readonly TcpSocket[], at: number): void {
    const closeWait = new Map<number, number>();
    for (const s of sockets) {
      if (s.state === 'CLOSE_WAIT') closeWait.set(s.localPort, (closeWait.get(s.localPort) ?? 0) + 1);
    }
    for (const w of this.#monitor.observe(sockets, at)) {
      this.#warnings.set(`${w.port} ${w.reason}`, {
        port: w.port,
        count: w.count,
        reason: w.reason,
        since: at - w.oldestMs,
        ...(w.pid !== undefined ? { pid: w.pid, command: w.command } : {}),
      });
    }
    for (const [key, w] of this.#warnings) {
      const count = closeWait.get(w.port) ?? 0;
      if (count === 0) this.#warnings.delete(key);
      else w.count = count;
    }
  }

  #emit(event: string, data: unknown): void {
    for (const push of this.#subscribers) push(event, data);
  }
}
