import type { Socket } from 'node:net';
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import { checkInt, checkMs } from '../internal/validate.js';

/**
 * KeepAliveOptions configures TCP keep-alive. `true` enables it with Go's
 * default period (15 s idle), `false` disables it. As an object: `idle` is
 * how long a connection is silent before the first probe, `interval` the
 * time between probes, `count` how many unanswered probes drop it (all in
 * milliseconds, whole seconds on Linux).
 */
export type KeepAliveOptions = boolean | { idle?: number; interval?: number; count?: number };

/** GO_KEEPALIVE_IDLE_MS is Go's default keep-alive period for Dial and Listen (15 s). */
export const GO_KEEPALIVE_IDLE_MS = 15_000;

interface Normalized {
  enable: boolean;
  idle: number;
  interval: number | undefined;
  count: number | undefined;
}

/** normalizeKeepAlive validates keep-alive options up front, naming the bad field. */
export function normalizeKeepAlive(option: string, value: KeepAliveOptions | undefined): Normalized {
  if (value === undefined || value === true) {
    return { enable: true, idle: GO_KEEPALIVE_IDLE_MS, interval: undefined, count: undefined };
  }
  if (value === false) return { enable: false, idle: 0, interval: undefined, count: undefined };
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(option, 'must be a boolean or { idle, interval, count }');
  }
  const idle = value.idle === undefined ? GO_KEEPALIVE_IDLE_MS : checkMs(`${option}.idle`, value.idle);
  if (idle < 1000)
    throw new InvalidArgumentError(`${option}.idle`, 'must be at least 1000 ms (Linux counts whole seconds)');
  const interval = value.interval === undefined ? undefined : checkMs(`${option}.interval`, value.interval);
  if (interval !== undefined && interval < 1000) {
    throw new InvalidArgumentError(
      `${option}.interval`,
      'must be at least 1000 ms (Linux counts whole seconds)',
    );
  }
  const count = value.count === undefined ? undefined : checkInt(`${option}.count`, value.count, 1, 127);
  return { enable: true, idle, interval, count };
}

interface NetKeepAlive {
  setKeepAliveInterval(socket: Socket, ms: number): boolean;
  setKeepAliveProbes(socket: Socket, count: number): boolean;
}

let netKeepAlive: Promise<NetKeepAlive | undefined> | undefined;

/**
 * applyKeepAlive sets keep-alive on a connected socket. Node itself sets
 * only the idle time (libuv fixes the interval at 1 s and the count at 10),
 * so `interval` and `count` go through the optional `net-keepalive` package
 * (setsockopt TCP_KEEPINTVL / TCP_KEEPCNT); without it they are refused
 * with NETKIT_UNSUPPORTED rather than silently ignored.
 */
export async function applyKeepAlive(socket: Socket, value: KeepAliveOptions | undefined): Promise<void> {
  const ka = normalizeKeepAlive('keepAlive', value);
  socket.setKeepAlive(ka.enable, ka.idle);
  if (!ka.enable || (ka.interval === undefined && ka.count === undefined)) return;
  netKeepAlive ??= import('net-keepalive').then(
    (m) => (m.default ?? m) as unknown as NetKeepAlive,
    () => undefined,
  );
  const lib = await netKeepAlive;
  if (!lib) {
    throw new UnsupportedError(
      'keepAlive.interval and keepAlive.count need the optional package net-keepalive; install it or set only keepAlive.idle',
    );
  }
  if (ka.interval !== undefined) lib.setKeepAliveInterval(socket, ka.interval);
  if (ka.count !== undefined) lib.setKeepAliveProbes(socket, ka.count);
}
