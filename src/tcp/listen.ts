import net from 'node:net';
import { resolveTCPAddr } from '../addr/index.js';
import { AbortError, ListenError } from '../errors.js';
import { checkInt, checkSignal } from '../internal/validate.js';
import {
  acceptProxied,
  type ProxyOptions,
  type ResolvedProxyOptions,
  resolveProxyOptions,
} from '../proxy/accept.js';
import { Conn } from './conn.js';
import { type Endpoint, endpoint } from './endpoint.js';
import { applyKeepAlive, type KeepAliveOptions, normalizeKeepAlive } from './keepalive.js';

/** ListenOptions tunes listen(). */
export interface ListenOptions {
  /** network is tcp (default: dual-stack for an empty host), tcp4 or tcp6 (IPv6 only). */
  network?: string;
  /** backlog is the kernel's queue of connections not yet accepted by Node. */
  backlog?: number;
  /** maxPending caps connections Node accepted but the program has not; beyond it new ones are reset. */
  maxPending?: number;
  /** keepAlive for accepted connections; Go's default (15 s) when omitted. */
  keepAlive?: KeepAliveOptions;
  /** noDelay for accepted connections; true by default, as in Go. */
  noDelay?: boolean;
  highWaterMark?: number;
  /** proxy reads a PROXY protocol header from trusted peers, so connections report the real client. */
  proxy?: ProxyOptions;
  /** signal closes the listener when aborted. */
  signal?: AbortSignal;
}

/** LISTEN_DEFAULTS are listen()'s defaults. */
export const LISTEN_DEFAULTS = Object.freeze({
  network: 'tcp',
  backlog: 511,
  maxPending: 511,
  noDelay: true,
});

/**
 * Listener accepts TCP connections, like Go's net.Listener. Iterate it with
 * `for await (const conn of listener)` or call accept(); close() stops
 * accepting without touching connections already handed out.
 */
export class Listener implements AsyncIterable<Conn>, AsyncDisposable {
  /** server is the underlying Node server. */
  readonly server: net.Server;
  /** addr is the bound address (the real port when listening on port 0). */
  readonly addr: Endpoint;
  #pending: Conn[] = [];
  #waiters: { resolve: (c: Conn) => void; reject: (e: Error) => void }[] = [];
  #closed = false;
  readonly #options: ListenOptions;
  readonly #proxy: ResolvedProxyOptions | undefined;

  /** Listener wraps a listening server; use listen() to make one. */
  constructor(server: net.Server, options: ListenOptions = {}) {
    this.server = server;
    this.#options = options;
    this.#proxy = resolveProxyOptions(options.proxy);
    const a = server.address() as net.AddressInfo;
    this.addr = endpoint(a.address, a.port)!;
    server.on('connection', (socket) => this.#onConnection(socket));
    // A listening server can still fail (EMFILE on accept); never let that crash the process.
    server.on('error', () => {});
    options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** closed is true once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * accept waits for the next connection. Rejects with NETKIT_LISTENER_CLOSED
   * once the listener is closed, NETKIT_ABORTED when `signal` aborts.
   */
  accept(options: { signal?: AbortSignal } = {}): Promise<Conn> {
    const next = this.#pending.shift();
    if (next) return Promise.resolve(next);
    if (this.#closed) return Promise.reject(this.#closedError());
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('accept', signal.reason));
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#waiters.push(waiter);
      signal?.addEventListener(
        'abort',
        () => {
          const i = this.#waiters.indexOf(waiter);
          if (i >= 0) this.#waiters.splice(i, 1);
          reject(new AbortError('accept', signal.reason));
        },
        { once: true },
      );
    });
  }

  /** Listener is async-iterable over accepted connections, ending when it is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<Conn> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (err) {
        if (err instanceof ListenError && err.code === 'NETKIT_LISTENER_CLOSED') return;
        throw err;
      }
    }
  }

  /**
   * close stops accepting and frees the port. Connections already accepted
   * stay open (Go's Listener.Close); ones accepted by Node but not yet by the
   * program are destroyed. Resolves once the port is released.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const c of this.#pending) c.destroy();
    this.#pending = [];
    const err = this.#closedError();
    for (const w of this.#waiters) w.reject(err);
    this.#waiters = [];
    return new Promise((resolve) => {
      // server.close's callback waits for every connection; the port is released right away.
      this.server.close();
      setImmediate(resolve);
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onConnection(socket: net.Socket): void {
    socket.on('error', () => {}); // replaced by Conn's listener; guards the gap before it
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const maxPending = this.#options.maxPending ?? LISTEN_DEFAULTS.maxPending;
    if (this.#waiters.length === 0 && this.#pending.length >= maxPending) {
      socket.resetAndDestroy();
      return;
    }
    socket.setNoDelay(this.#options.noDelay ?? LISTEN_DEFAULTS.noDelay);
    if (this.#proxy) {
      // The connection is handed out once its header is in; a bad or missing one closes it.
      acceptProxied(socket, this.#proxy).then(
        () => this.#handOut(socket),
        () => socket.destroy(),
      );
      return;
    }
    this.#handOut(socket);
  }

  #handOut(socket: net.Socket): void {
    if (this.#closed || socket.destroyed) {
      socket.destroy();
      return;
    }
    const conn = new Conn(socket, { highWaterMark: this.#options.highWaterMark });
    applyKeepAlive(socket, this.#options.keepAlive).catch((err) => conn.destroy(err));
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(conn);
    else this.#pending.push(conn);
  }

  #closedError(): ListenError {
    return new ListenError(
      'NETKIT_LISTENER_CLOSED',
      `accept tcp ${this.addr.address}: use of closed network connection`,
      this.addr.address,
    );
  }
}

/**
 * listen binds `address` (Go's syntax: `:8080`, `127.0.0.1:0`, `[::1]:0`)
 * and resolves with a Listener. Port 0 picks a free port; read it from
 * `listener.addr`. Rejects with NETKIT_LISTEN_FAILED (in use, permission) or
 * an address error.
 */
export async function listen(address: string, options: ListenOptions = {}): Promise<Listener> {
  const network = options.network ?? LISTEN_DEFAULTS.network;
  const backlog = checkInt('backlog', options.backlog ?? LISTEN_DEFAULTS.backlog, 1, 65535);
  checkInt('maxPending', options.maxPending ?? LISTEN_DEFAULTS.maxPending, 0, 1_000_000);
  normalizeKeepAlive('keepAlive', options.keepAlive);
  resolveProxyOptions(options.proxy); // checked before binding, so a bad trust list leaves no port open
  const signal = checkSignal(options.signal);
  if (signal?.aborted) throw new AbortError('listen', signal.reason);
  const target = await resolveTCPAddr(network, address, { signal });
  const listenOpts: net.ListenOptions = { port: target.port, backlog };
  if (target.ip !== '') listenOpts.host = target.zone ? `${target.ip}%${target.zone}` : target.ip;
  else if (target.network === 'tcp4') listenOpts.host = '0.0.0.0';
  else if (target.network === 'tcp6') {
    listenOpts.host = '::';
    listenOpts.ipv6Only = true;
  }
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: false });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new ListenError(
          'NETKIT_LISTEN_FAILED',
          `listen ${network} ${address}: ${err.code === 'EADDRINUSE' ? 'bind: address already in use' : err.message}`,
          address,
          { cause: err },
        ),
      );
    });
    server.listen(listenOpts, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  return new Listener(server, options);
}
