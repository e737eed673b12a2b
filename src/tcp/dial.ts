import net from 'node:net';
import { type Resolution, type ResolveOptions, resolveTCPAddr } from '../addr/index.js';
import { AbortError, ConnectionError, TimeoutError } from '../errors.js';
import { checkMs, checkSignal } from '../internal/validate.js';
import { Conn } from './conn.js';
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
 * several addresses is dialled as Go's Dialer does: in the resolver's order,
 * the first address's family first, each address given a share of the
 * timeout (at least 2 s), moving on when one fails. Rejects with
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
    const hosts = dialOrder(target, local);
    const deadline = timeout > 0 ? Date.now() + timeout : undefined;
    let socket: net.Socket | undefined;
    let firstError: unknown;
    for (const [i, host] of hosts.entries()) {
      try {
        socket = await connect(
          host,
          target.port,
          local,
          controller.signal,
          partialTimeout(deadline, hosts.length - i),
        );
        break;
      } catch (err) {
        if (controller.signal.aborted) throw stopped(controller.signal.reason, network, address, timeout);
        // Go reports the first address's error when every address fails.
        firstError ??= err;
      }
    }
    if (socket === undefined) {
      const err = firstError as NodeJS.ErrnoException;
      throw new ConnectionError(
        'NETKIT_DIAL_FAILED',
        `dial ${network} ${address}: ${describe(err)}`,
        address,
        {
          cause: err,
        },
      );
    }
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

/**
 * dialOrder lists the addresses to try, as Go's Dialer does: an empty host
 * means the local system; otherwise every address of the family the network
 * allows, in the resolver's order, those of the first address's family
 * first, then the others as fallbacks (Go races the fallbacks after 300 ms;
 * netkit tries them in turn). With a local address, only its family.
 */
function dialOrder(target: Resolution, local: { ip: string; family: 4 | 6 } | undefined): string[] {
  if (target.ip === '') return [target.network === 'tcp6' ? '::1' : '127.0.0.1'];
  const withZone = (ip: string, zone: string) => (zone ? `${ip}%${zone}` : ip);
  const usable = target.candidates.filter(
    (c) => c.eligible && (local === undefined || c.family === local.family),
  );
  if (usable.length === 0) return [withZone(target.ip, target.zone)];
  const first = usable[0]!.family;
  return [...usable.filter((c) => c.family === first), ...usable.filter((c) => c.family !== first)].map((c) =>
    withZone(c.ip, c.zone),
  );
}

/**
 * partialTimeout is Go's partialDeadline: the time left is shared among the
 * addresses left, but each gets at least 2 s (or all that is left), so one
 * silent address cannot use up the whole timeout before a fallback is tried.
 */
function partialTimeout(deadline: number | undefined, remaining: number): number | undefined {
  // The last address runs until the dial's own deadline.
  if (deadline === undefined || remaining <= 1) return undefined;
  const left = Math.max(deadline - Date.now(), 1);
  const share = left / remaining;
  return share >= 2000 ? share : Math.min(left, 2000);
}

function connect(
  host: string,
  port: number,
  local: { ip: string; port: number } | undefined,
  signal: AbortSignal,
  attemptMs: number | undefined,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    // allowHalfOpen: a peer's FIN must not close our write side (Go's model; see Conn.closeWrite).
    const socket = net.connect({
      host,
      port,
      allowHalfOpen: true,
      ...(local ? { localAddress: local.ip, localPort: local.port || undefined } : {}),
    });
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const attempt =
      attemptMs === undefined
        ? undefined
        : setTimeout(() => {
            signal.removeEventListener('abort', onAbort);
            socket.destroy();
            reject(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' }));
          }, attemptMs);
    socket.once('connect', () => {
      clearTimeout(attempt);
      signal.removeEventListener('abort', onAbort);
      socket.removeListener('error', reject);
      resolve(socket);
    });
    socket.once('error', (err) => {
      clearTimeout(attempt);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    });
  });
}

async function localBind(
  address: string,
  network: string,
): Promise<{ ip: string; port: number; family: 4 | 6 }> {
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
