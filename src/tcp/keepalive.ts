import type { Socket } from 'node:net';
import { InvalidArgumentError, UnsupportedError } from '../errors.js';
import { checkInt, checkMs } from '../internal/validate.js';

/**
 * KeepAliveOptions configures TCP keep-alive. `true` enables it with Go's
 * default period (15 s idle), `false` disables it. As an object: `idle` is
 * how long a connection is silent before the first probe, `interval` the
 * time between probes, `count` how many unanswered probes drop it (all in
 * milliseconds, whole seconds on Linux).
 *
 * Keep-alive probes only a silent connection. While sent data waits for an
 * acknowledgement the retransmission timer decides instead, and Linux
 * retransmits for about 15 minutes (tcp_retries2 = 15) before a write into
 * a black-holed peer fails. `userTimeout` (TCP_USER_TIMEOUT, RFC 5482, Linux
 * only) bounds that: data unacknowledged this long ends the connection
 * with ETIMEDOUT; idle + interval × count is the usual choice. It is off by
 * default because it also drops a live peer that stops reading (holds a
 * zero window) for that long, which keep-alive alone never does.
 */
export type KeepAliveOptions =
  | boolean
  | { idle?: number; interval?: number; count?: number; userTimeout?: number };

/** GO_KEEPALIVE_IDLE_MS is Go's default keep-alive period for Dial and Listen (15 s). */
export const GO_KEEPALIVE_IDLE_MS = 15_000;

interface Normalized {
  enable: boolean;
  idle: number;
  interval: number | undefined;
  count: number | undefined;
  userTimeout: number | undefined;
}

/** normalizeKeepAlive validates keep-alive options up front, naming the bad field. */
export function normalizeKeepAlive(option: string, value: KeepAliveOptions | undefined): Normalized {
  if (value === undefined || value === true) {
    return {
      enable: true,
      idle: GO_KEEPALIVE_IDLE_MS,
      interval: undefined,
      count: undefined,
      userTimeout: undefined,
    };
  }
  if (value === false) {
    return { enable: false, idle: 0, interval: undefined, count: undefined, userTimeout: undefined };
  }
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError(option, 'must be a boolean or { idle, interval, count, userTimeout }');
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
  // 0 is the kernel's own "none", so it is passed on rather than treated as unset.
  const userTimeout =
    value.userTimeout === undefined ? undefined : checkMs(`${option}.userTimeout`, value.userTimeout);
  if (userTimeout !== undefined && process.platform !== 'linux') {
    throw new UnsupportedError(`${option}.userTimeout (TCP_USER_TIMEOUT) is Linux only; leave it unset here`);
  }
  return { enable: true, idle, interval, count, userTimeout };
}

interface NetKeepAlive {
  setKeepAliveInterval(socket: Socket, ms: number): boolean;
  setKeepAliveProbes(socket: Socket, count: number): boolean;
  setUserTimeout(socket: Socket, ms: number): boolean;
}

let netKeepAlive: Promise<NetKeepAlive | undefined> | undefined;

/**
 * applyKeepAlive sets keep-alive on a connected socket. Node itself sets
 * only the idle time (libuv fixes the interval at 1 s and the count at 10),
 * so `interval`, `count` and `userTimeout` go through the optional
 * `net-keepalive` package (setsockopt TCP_KEEPINTVL / TCP_KEEPCNT /
 * TCP_USER_TIMEOUT); without it they are refused with NETKIT_UNSUPPORTED
 * rather than silently ignored, as is `userTimeout` off Linux.
 */
export async function applyKeepAlive(socket: Socket, value: KeepAliveOptions | undefined): Promise<void> {
  const ka = normalizeKeepAlive('keepAlive', value);
  socket.setKeepAlive(ka.enable, ka.idle);
  const extra = ka.interval !== undefined || ka.count !== undefined || ka.userTimeout !== undefined;
  if (!ka.enable || !extra) return;
  netKeepAlive ??= import('net-keepalive').then(
    (m) => (m.default ?? m) as unknown as NetKeepAlive,
    () => undefined,
  );
  const lib = await netKeepAlive;
  if (!lib) {
    throw new UnsupportedError(
      'keepAlive.interval, keepAlive.count and keepAlive.userTimeout need the optional package net-keepalive; install it or set only keepAlive.idle',
    );
  }
  if (ka.interval !== undefined) lib.setKeepAliveInterval(socket, ka.interval);
  if (ka.count !== undefined) lib.setKeepAliveProbes(socket, ka.count);
  if (ka.userTimeout !== undefined) lib.setUserTimeout(socket, ka.userTimeout);
}
