import { EventEmitter } from 'node:events';
import net from 'node:net';
import { splitHostPort } from '../addr/index.js';
import type { RelayEndpoint } from './endpoint.js';

/** Balance is how a relay with several targets picks one for each new connection. */
export type Balance = 'round-robin' | 'least-conns';

/** HealthCheck tunes the active checks: a TCP connect to each target every `interval` ms. */
export interface HealthCheck {
  /** interval is the time between checks of one target, ms. */
  interval: number;
  /** timeout bounds one check's connect. */
  timeout: number;
  /** fall is how many failed checks in a row mark a target down; rise, how many passed mark it up. */
  fall: number;
  /** rise is how many passed checks in a row mark a down target up again. */
  rise: number;
}

/** HEALTH_DEFAULTS are HAProxy's `check` defaults (inter 2s, fall 3, rise 2). */
export const HEALTH_DEFAULTS: Readonly<HealthCheck> = Object.freeze({
  interval: 2000,
  timeout: 2000,
  fall: 3,
  rise: 2,
});

/** Target is one backend a relay spreads connections over. */
export class Target {
  readonly endpoint: RelayEndpoint;
  /** active is how many relayed connections use this target now. */
  active = 0;
  /** dialing is how many new connections are being opened to this target (see Targets.order). */
  dialing = 0;
  /** up is false once checks failed `fall` times in a row, or a connection to it failed. */
  up = true;
  /** reason says why the target is down. */
  reason = '';
  passes = 0;
  fails = 0;
  constructor(endpoint: RelayEndpoint) {
    this.endpoint = endpoint;
  }
  get text(): string {
    return this.endpoint.text;
  }
}

/** TargetChange is emitted when a target goes down or comes back. */
export interface TargetChange {
  /** target is the target as given (`127.0.0.1:8330`). */
  target: string;
  /** up is the target's new state. */
  up: boolean;
  /** reason says why it went down (the check's or the connection's error), '' when it came back. */
  reason: string;
}

/**
 * Targets spreads connections over backends, as HAProxy's `balance
 * roundrobin` / `leastconn` with `check` do: a target whose connection
 * fails is taken out at once (passive), active TCP-connect checks take it
 * out after `fall` failures and bring it back after `rise` successes.
 * While every target is down, connections are still tried in turn, so a
 * relay in front of one restarting server recovers without waiting for a
 * check.
 */
export class Targets extends EventEmitter<{ change: [TargetChange] }> {
  readonly list: readonly Target[];
  readonly balance: Balance;
  #next = 0;
  #timer: NodeJS.Timeout | undefined;
  #checking = new Set<net.Socket>();

  constructor(endpoints: readonly RelayEndpoint[], balance: Balance) {
    super();
    this.list = endpoints.map((e) => new Target(e));
    this.balance = balance;
  }

  /**
   * order yields the targets to try for one connection, best first: the
   * picked one, then the other live ones; every target when none is up.
   * From the moment a target is yielded until the caller's loop moves on
   * or stops, it counts as one more connection for least-conns: dials
   * overlap (a TLS handshake takes milliseconds), and a burst that only saw
   * established connections would all land on the same emptiest target.
   * The caller counts the connection in `active` as soon as its loop stops
   * on a target, so the load goes straight from `dialing` to `active`.
   */
  *order(): Generator<Target, void, undefined> {
    for (const t of this.#candidates()) {
      t.dialing++;
      try {
        yield t;
      } finally {
        t.dialing--;
      }
    }
  }

  #candidates(): Target[] {
    const all = this.list;
    if (all.length === 1) return [all[0] as Target];
    const live = all.filter((t) => t.up);
    const pool = live.length > 0 ? live : [...all];
    const start = this.#next++ % pool.length;
    const rotated = pool.slice(start).concat(pool.slice(0, start));
    if (this.balance === 'round-robin') return rotated;
    // Ties go round-robin (the sort is stable), so equal backends share new connections evenly.
    return rotated.sort((a, b) => a.active + a.dialing - (b.active + b.dialing));
  }

  /** failed takes a target out after a failed connect (passive ejection). */
  failed(t: Target, reason: string): void {
    t.passes = 0;
    if (this.list.length > 1) this.#set(t, false, reason);
  }

  /** succeeded notes a good connect; a target marked down by a connect failure comes back. */
  succeeded(t: Target): void {
    t.fails = 0;
    if (!t.up) this.#set(t, true, 'connected');
  }

  /** startChecks runs active health checks on TCP and TLS targets (a plain connect). */
  startChecks(check: HealthCheck): void {
    this.stopChecks();
    const run = () => {
      for (const t of this.list) {
        if (t.endpoint.kind === 'tcp' || t.endpoint.kind === 'tls') this.#check(t, check);
      }
    };
    this.#timer = setInterval(run, check.interval);
    run();
  }

  stopChecks(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const s of this.#checking) s.destroy();
    this.#checking.clear();
  }

  #check(t: Target, check: HealthCheck): void {
    if (t.endpoint.kind !== 'tcp' && t.endpoint.kind !== 'tls') return;
    let host: string;
    let port: number;
    try {
      const hp = splitHostPort(t.endpoint.address);
      host = hp.host === '' ? 'localhost' : hp.host;
      port = Number(hp.port);
    } catch {
      return;
    }
    const socket = net.connect({ host, port, timeout: check.timeout });
    this.#checking.add(socket);
    const done = (ok: boolean, reason: string) => {
      if (!this.#checking.delete(socket)) return;
      socket.destroy();
      if (ok) {
        t.fails = 0;
        if (++t.passes >= check.rise && !t.up) this.#set(t, true, 'health check passed');
      } else {
        t.passes = 0;
        if (++t.fails >= check.fall && t.up) this.#set(t, false, `health check: ${reason}`);
      }
    };
    socket.once('connect', () => done(true, ''));
    socket.once('timeout', () => done(false, `no connection within ${check.timeout} ms`));
    socket.once('error', (err: NodeJS.ErrnoException) =>
      done(false, err.code === 'ECONNREFUSED' ? 'connection refused' : err.message),
    );
  }

  #set(t: Target, up: boolean, reason: string): void {
    if (t.up === up) return;
    t.up = up;
    t.reason = up ? '' : reason;
    this.emit('change', { target: t.text, up, reason });
  }
}
