import type { TcpSocket } from './parse.js';
import type { TcpStateName } from './states.js';

/** StateChange is one difference between two samples of the socket table. */
export interface StateChange {
  /** kind says whether the socket is new, changed state, or is gone. */
  kind: 'appeared' | 'changed' | 'vanished';
  /** socket is the socket as in the newer sample (the older one for `vanished`). */
  socket: TcpSocket;
  /** from is the previous state, for `changed`. */
  from?: TcpStateName;
}

/**
 * socketKey identifies a connection across samples by its addresses, not
 * its inode: a socket that moves to TIME_WAIT loses its inode (the kernel
 * keeps only a small timewait record) but is still the same connection.
 */
export function socketKey(s: TcpSocket): string {
  return `${s.local} ${s.remote}`;
}

function group(sockets: readonly TcpSocket[]): Map<string, TcpSocket[]> {
  const m = new Map<string, TcpSocket[]>();
  for (const s of sockets) {
    const k = socketKey(s);
    const list = m.get(k);
    if (list) list.push(s);
    else m.set(k, [s]);
  }
  return m;
}

/**
 * diffSockets lists what appeared, changed state, or vanished between two
 * samples. Sockets sharing addresses (SO_REUSEPORT listeners in several
 * processes) are told apart by inode, so the one that went is the one named.
 */
export function diffSockets(prev: readonly TcpSocket[], next: readonly TcpSocket[]): StateChange[] {
  const before = group(prev);
  const changes: StateChange[] = [];
  for (const [k, list] of group(next)) {
    const old = [...(before.get(k) ?? [])];
    const unmatched: TcpSocket[] = [];
    for (const s of list) {
      const i = old.findIndex((o) => o.inode === s.inode);
      if (i >= 0) changes.push(...changed(old.splice(i, 1)[0] as TcpSocket, s));
      else unmatched.push(s);
    }
    // No inode in common (a socket that moved to TIME_WAIT drops its inode): pair the rest in order.
    for (const s of unmatched) {
      const o = old.shift();
      if (o) changes.push(...changed(o, s));
      else changes.push({ kind: 'appeared', socket: s });
    }
    if (old.length > 0) before.set(k, old);
    else before.delete(k);
  }
  for (const list of before.values()) for (const s of list) changes.push({ kind: 'vanished', socket: s });
  return changes;
}

function changed(old: TcpSocket, s: TcpSocket): StateChange[] {
  return old.state === s.state ? [] : [{ kind: 'changed', socket: s, from: old.state }];
}

/** CloseWaitWarning says that a local port's CLOSE_WAIT sockets look like a leak. */
export interface CloseWaitWarning {
  /** port is the local port whose sockets are in CLOSE_WAIT. */
  port: number;
  /** count is how many sockets on the port are in CLOSE_WAIT. */
  count: number;
  /**
   * reason is `growing` when the count rose in every recent sample, `lingering` when one stayed past the age
   * limit.
   */
  reason: 'growing' | 'lingering';
  /** oldestMs is how long the oldest CLOSE_WAIT socket on the port has been seen. */
  oldestMs: number;
  /** pid is the owning process, when it could be read. */
  pid?: number;
  /** command is the owning process's name, when it could be read. */
  command?: string;
}

/**
 * CloseWaitMonitor watches samples for the classic leak: a server that
 * never closes connections its clients closed. A port is flagged when its
 * CLOSE_WAIT count rose in each of the last `growthSamples` samples, or
 * when a CLOSE_WAIT socket has stayed for `maxAgeMs`. Each port is flagged
 * once per reason until its CLOSE_WAIT sockets are gone.
 */
export class CloseWaitMonitor {
  readonly #growthSamples: number;
  readonly #maxAgeMs: number;
  readonly #firstSeen = new Map<string, number>();
  readonly #history = new Map<number, number[]>();
  readonly #flagged = new Set<string>();
  #samples = 0;

  constructor(options: { growthSamples?: number; maxAgeMs?: number } = {}) {
    this.#growthSamples = options.growthSamples ?? 3;
    this.#maxAgeMs = options.maxAgeMs ?? 30_000;
  }

  /** observe takes one sample (taken at `now`, in ms) and returns new warnings. */
  observe(sockets: readonly TcpSocket[], now: number): CloseWaitWarning[] {
    const byPort = new Map<number, TcpSocket[]>();
    const seen = new Set<string>();
    for (const s of sockets) {
      if (s.state !== 'CLOSE_WAIT') continue;
      const k = socketKey(s);
      seen.add(k);
      if (!this.#firstSeen.has(k)) this.#firstSeen.set(k, now);
      const list = byPort.get(s.localPort) ?? [];
      list.push(s);
      byPort.set(s.localPort, list);
    }
    for (const k of this.#firstSeen.keys()) if (!seen.has(k)) this.#firstSeen.delete(k);
    const warnings: CloseWaitWarning[] = [];
    for (const port of new Set([...this.#history.keys(), ...byPort.keys()])) {
      const list = byPort.get(port) ?? [];
      // A port first seen after earlier samples had none there: its history starts at zero.
      const past = this.#history.get(port) ?? (this.#samples > 0 ? [0] : []);
      const counts = [...past, list.length].slice(-(this.#growthSamples + 1));
      this.#history.set(port, counts);
      if (list.length === 0) {
        this.#history.delete(port);
        this.#flagged.delete(`${port} growing`);
        this.#flagged.delete(`${port} lingering`);
        continue;
      }
      const oldestMs = Math.max(...list.map((s) => now - (this.#firstSeen.get(socketKey(s)) ?? now)));
      const owner = list.find((s) => s.pid !== undefined);
      const base = {
        port,
        count: list.length,
        oldestMs,
        ...(owner ? { pid: owner.pid, command: owner.command } : {}),
      };
      const growing =
        counts.length === this.#growthSamples + 1 &&
        counts.every((c, i) => i === 0 || c > (counts[i - 1] as number));
      if (growing && !this.#flagged.has(`${port} growing`)) {
        this.#flagged.add(`${port} growing`);
        warnings.push({ ...base, reason: 'growing' });
      }
      if (oldestMs >= this.#maxAgeMs && !this.#flagged.has(`${port} lingering`)) {
        this.#flagged.add(`${port} lingering`);
        warnings.push({ ...base, reason: 'lingering' });
      }
    }
    this.#samples++;
    return warnings;
  }
}
