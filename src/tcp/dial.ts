import net from 'node:net';
import { type ResolveOptions, resolveTCPAddr } from '../addr/index.js';
import { AbortError, ConnectionError, TimeoutError } from '../errors.js';
import { checkMs, checkSignal } from '../internal/validate.js';
import { Conn } from './conn.js';
import { dialPlan, type LocalBind, planDial } from './dial-plan.js';
import { applyKeepAlive, type KeepAliveOptions, normalizeKeepAlive } from './keepalive.js';

/** DialOptions tunes dial(). Durations are milliseconds. */
export interface DialOptions {
  /** network is tcp (default), tcp4 or tcp6, with Go's meaning. */
  network?: string;
  /** timeout bounds the whole dial, resolution included; 0 means none. Default 30 s. */
  timeout?: number;
  signal?: AbortSignal;
  /** keepAlive defaults to Go's: enabled, 15 s idle. */
  keepAlive?: KeepAliveOptions;
  /** noDelay disables Nagle's algorithm; true by default, as in Go. */
  noDelay?: boolean;
  /** localAddress binds the local side: `127.0.0.2` or `127.0.0.2:0`. */
  localAddress?: string;
  /** lookup replaces the system resolver for host names (same shape as resolveTCPAddr's option). */
  lookup?: ResolveOptions['lookup'];
  /** highWaterMark is how many unread bytes Conn buffers before pausing the socket. */
  highWaterMark?: number;
}

/** DIAL_DEFAULTS are dial()'s defaults. */
export const DIAL_DEFAULTS = Object.freeze({ network: 'tcp', timeout: 30_000, noDelay: true });

/**
 * dial connects to `address` (`host:port`, Go's syntax: `[::1]:80`,
 * `localhost:http`) and resolves with a Conn. The host is resolved by Go's
 * rules (resolveTCPAddr); an empty host means the local system. A name with
 * several addresses is dialled as Go's Dialer does (see dial-plan.ts):
 * addresses in turn, the other family raced in after 300 ms. Rejects with
 * NETKIT_DIAL_FAILED (cause: ECONNREFUSED…), NETKIT_CONNECT_TIMEOUT,
 * NETKIT_ABORTED, or an address error.
 */
export async function dial(address: string, options: DialOptions = {}): Promise<Conn> {
  const network = options.network ?? DIAL_DEFAULTS.network;
  const timeout = checkMs('timeout', options.timeout ?? DIAL_DEFAULTS.timeout);
  const signal = checkSignal(options.signal);
  normalizeKeepAlive('keepAlive', options.keepAlive);
  const local =
    options.localAddress === undefined ? undefined : await localBind(options.localAddress, network);

  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeout > 0
      ? setTimeout(
          () => controller.abort(new TimeoutError('NETKIT_CONNECT_TIMEOUT', 'dial', '', timeout)),
          timeout,
        )
      : undefined;
  try {
    if (signal?.aborted) throw new AbortError('dial', signal.reason);
    const resolveOpts = { signal: controller.signal, ...(options.lookup ? { lookup: options.lookup } : {}) };
    const target = await resolveTCPAddr(network, address, resolveOpts).catch((err) => {
      throw controller.signal.aborted ? stopped(controller.signal.reason, network, address, timeout) : err;
    });
    const deadline = timeout > 0 ? Date.now() + timeout : undefined;
    const socket = await dialPlan(
      planDial(target, local),
      target.port,
      local,
      controller.signal,
      deadline,
    ).catch((err: NodeJS.ErrnoException) => {
      if (controller.signal.aborted) throw stopped(controller.signal.reason, network, address, timeout);
      throw new ConnectionError(
        'NETKIT_DIAL_FAILED',
        `dial ${network} ${address}: ${describe(err)}`,
        address,
        {
          cause: err,
        },
      );
    });
    socket.setNoDelay(options.noDelay ?? DIAL_DEFAULTS.noDelay);
    const conn = new Conn(socket, { highWaterMark: options.highWaterMark });
    await applyKeepAlive(socket, options.keepAlive).catch((err) => {
      conn.destroy();
      throw err;
    });
    return conn;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

async function localBind(address: string, network: string): Promise<LocalBind> {
  // Accept a bare IP as well as Go's host:port form.
  const withPort =
    net.isIP(address) === 6 ? `[${address}]:0` : net.isIP(address) === 4 ? `${address}:0` : address;
  const r = await resolveTCPAddr(network, withPort);
  return { ip: r.ip, port: r.port, family: r.family === 6 ? 6 : 4 };
}

function stopped(reason: unknown, network: string, address: string, timeout: number): Error {
  if (reason instanceof TimeoutError) {
    return new TimeoutError(
      'NETKIT_CONNECT_TIMEOUT',
      'dial',
      `dial ${network} ${address}: no connection within ${timeout} ms; check that the server is up or raise the timeout`,
      timeout,
    );
  }
  return new AbortError(`dial ${network} ${address}`, reason);
}

function describe(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'EHOSTUNREACH':
      return 'no route to host';
    case 'ENETUNREACH':
      return 'network is unreachable';
    case 'EADDRNOTAVAIL':
      return 'cannot assign requested address';
    default:
      return err.message;
  }
}
