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
  | {
      /** idle is how long the connection is quiet before the first probe (TCP_KEEPIDLE), ms. */
      idle?: number;
      /** interval is the time between unanswered probes (TCP_KEEPINTVL), ms; needs the optional package sockopt. */
      interval?: number;
      /** count is how many unanswered probes end the connection (TCP_KEEPCNT); needs the optional package sockopt. */
      count?: number;
      /** userTimeout bounds unacknowledged data (TCP_USER_TIMEOUT), ms; Linux only, off by default. */
      userTimeout?: number;
    };

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

/** Sockopt is the part of the optional `sockopt` package netkit uses: setsockopt/getsockopt with integer values. */
interface Sockopt {
  setsockopt(socket: Socket, level: number, option: number, value: number): void;
  getsockopt(socket: Socket, level: number, option: number): number;
}

/**
 * TCP_OPTIONS are the setsockopt numbers, per platform, from the system
 * headers (Linux <netinet/tcp.h>, Darwin <netinet/tcp.h>). Intervals are in
 * whole seconds on both; TCP_USER_TIMEOUT (Linux only) is in milliseconds.
 * Windows is absent: its sockets have no file descriptor for setsockopt.
 */
const TCP_OPTIONS: Partial<
  Record<NodeJS.Platform, { keepIntvl: number; keepCnt: number; userTimeout?: number }>
> = {
  linux: { keepIntvl: 5, keepCnt: 6, userTimeout: 18 },
  darwin: { keepIntvl: 0x101, keepCnt: 0x102 },
};

/** IPPROTO_TCP is the protocol level for TCP options (6 on every platform above). */
export const IPPROTO_TCP = 6;

let sockopt: Promise<Sockopt | undefined> | undefined;

/**
 * loadSockopt loads the optional `sockopt` package once (a small N-API addon
 * doing only setsockopt/getsockopt, chosen over a general-purpose FFI for its
 * size, load time and per-call cost; docs/tcp.md has the measurements), or
 * resolves undefined when it is not installed.
 */
export function loadSockopt(): Promise<Sockopt | undefined> {
  // The package ships no types; the specifier is a variable so the compiler takes the
  // interface above instead of asking for a declaration file.
  const name = 'sockopt';
  sockopt ??= import(name).then(
    (m) => (m.default ?? m) as unknown as Sockopt,
    () => undefined,
  );
  return sockopt;
}

/** tcpOptionNumbers returns this platform's TCP_KEEPINTVL / TCP_KEEPCNT / TCP_USER_TIMEOUT numbers, if known. */
export function tcpOptionNumbers(): { keepIntvl: number; keepCnt: number; userTimeout?: number } | undefined {
  return TCP_OPTIONS[process.platform];
}

/**
 * keepAliveSupport resolves with the setsockopt library when `ka` asks for
 * more than Node sets itself (interval, count, user timeout), undefined when
 * it does not, and rejects with NETKIT_UNSUPPORTED when this platform or
 * install cannot set them. `listen` awaits it before binding, so a listener
 * fails at once instead of dropping every connection it accepts, and its
 * first connection does not wait for the package to load.
 */
export async function keepAliveSupport(ka: Normalized): Promise<Sockopt | undefined> {
  const extra = ka.interval !== undefined || ka.count !== undefined || ka.userTimeout !== undefined;
  if (!ka.enable || !extra) return undefined;
  if (!tcpOptionNumbers()) {
    throw new UnsupportedError(
      `keepAlive.interval, keepAlive.count and keepAlive.userTimeout are not supported on ${process.platform}; set only keepAlive.idle`,
    );
  }
  const lib = await loadSockopt();
  if (!lib) {
    throw new UnsupportedError(
      'keepAlive.interval, keepAlive.count and keepAlive.userTimeout need the optional package sockopt; install it or set only keepAlive.idle',
    );
  }
  return lib;
}

/**
 * applyKeepAlive sets keep-alive on a connected socket. Node itself sets
 * only the idle time (libuv fixes the interval at 1 s and the count at 10),
 * so `interval`, `count` and `userTimeout` are set with setsockopt
 * (TCP_KEEPINTVL / TCP_KEEPCNT / TCP_USER_TIMEOUT) through the optional
 * `sockopt` package; without it, or on a platform without those options,
 * they are refused with NETKIT_UNSUPPORTED rather than silently ignored.
 */
export async function applyKeepAlive(socket: Socket, value: KeepAliveOptions | undefined): Promise<void> {
  const ka = normalizeKeepAlive('keepAlive', value);
  socket.setKeepAlive(ka.enable, ka.idle);
  const lib = await keepAliveSupport(ka);
  // A socket closed while the package loaded has no descriptor left to set.
  if (lib === undefined || socket.destroyed) return;
  const numbers = tcpOptionNumbers() as NonNullable<ReturnType<typeof tcpOptionNumbers>>;
  if (ka.interval !== undefined)
    lib.setsockopt(socket, IPPROTO_TCP, numbers.keepIntvl, Math.round(ka.interval / 1000));
  if (ka.count !== undefined) lib.setsockopt(socket, IPPROTO_TCP, numbers.keepCnt, ka.count);
  if (ka.userTimeout !== undefined && numbers.userTimeout !== undefined) {
    lib.setsockopt(socket, IPPROTO_TCP, numbers.userTimeout, ka.userTimeout);
  }
}
