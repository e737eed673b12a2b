import type net from 'node:net';
import type tls from 'node:tls';
import { AbortError, ListenError } from '../errors.js';
import { Fifo } from '../internal/fifo.js';
import { acceptProxied, inheritProxied, type ResolvedProxyOptions } from '../proxy/accept.js';
import type { CertificatePair, TlsAcceptor } from '../tls/server.js';
import { Conn } from './conn.js';
import { type Endpoint, endpointText } from './endpoint.js';
import { applyKeepAlive, type KeepAliveOptions } from './keepalive.js';

/** AcceptSteps are what a Listener does to each connection before handing it out. */
export interface AcceptSteps {
  maxPending: number;
  noDelay: boolean;
  keepAlive: KeepAliveOptions | undefined;
  highWaterMark: number | undefined;
  proxy: ResolvedProxyOptions | undefined;
  tls: TlsAcceptor | undefined;
}

/** ListenerTls is what a TLS listener tells about its certificate. */
export interface ListenerTls {
  /** fingerprint is `sha256:<hex>` of the certificate served now: what a client pins. */
  readonly fingerprint: string;
  /** certificate is the PEM certificate served now. */
  readonly certificate: string;
  /** ephemeral is true while the certificate made at start (no cert/key given) is served. */
  readonly ephemeral: boolean;
}

/**
 * Listener accepts stream connections — TCP or a Unix domain socket — like
 * Go's net.Listener, and is the one pipeline every netkit server runs on:
 * bind → PROXY header (from trusted peers, when asked) → TLS handshake
 * (when asked) → the protocol. Iterate it with `for await (const conn of
 * listener)` or call accept(); protocols that want the socket itself
 * (node:http) call acceptSocket(). close() stops accepting without touching
 * connections already handed out.
 */
export class Listener implements AsyncIterable<Conn>, AsyncDisposable {
  /** server is the underlying Node server. */
  readonly server: net.Server;
  /** addr is the bound address (the real port when listening on port 0; the path for unix). */
  readonly addr: Endpoint;
  readonly #ready = new Fifo<net.Socket>();
  readonly #waiters = new Fifo<{ resolve: (s: net.Socket) => void; reject: (e: Error) => void }>();
  /** preparing are connections between accept and hand-out: reading a PROXY header or in the TLS handshake. */
  readonly #preparing = new Set<net.Socket>();
  #closed = false;
  readonly #steps: AcceptSteps;

  /**
   * Listener wraps a listening server; use listen() to make one.
   *
   * @internal
   */
  constructor(server: net.Server, addr: Endpoint, steps: AcceptSteps, signal?: AbortSignal) {
    this.server = server;
    this.addr = addr;
    this.#steps = steps;
    server.on('connection', (socket) => this.#onConnection(socket));
    // A listening server can still fail (EMFILE on accept); never let that crash the process.
    server.on('error', () => {});
    signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  /** closed is true once close() was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** tls describes the certificate of a TLS listener; undefined without TLS. */
  get tls(): ListenerTls | undefined {
    return this.#steps.tls;
  }

  /**
   * setCertificate serves a new certificate to new connections (open ones
   * keep theirs): how a server reloads on SIGHUP. A pair that does not load
   * throws NETKIT_INVALID_ARGUMENT and the old certificate stays.
   */
  setCertificate(pair: CertificatePair): void {
    if (this.#steps.tls === undefined) {
      throw new ListenError('NETKIT_LISTEN_FAILED', `${endpointText(this.addr)}: not a TLS listener`);
    }
    this.#steps.tls.setCertificate(pair);
  }

  /**
   * accept waits for the next connection. Rejects with NETKIT_LISTENER_CLOSED
   * once the listener is closed, NETKIT_ABORTED when `signal` aborts.
   */
  async accept(options: { signal?: AbortSignal } = {}): Promise<Conn> {
    const socket = await this.acceptSocket(options);
    const unix = this.addr.network === 'unix' ? { local: this.addr.address, remote: '' } : undefined;
    return new Conn(socket, { highWaterMark: this.#steps.highWaterMark, unix });
  }

  /**
   * acceptSocket is accept() for protocols that drive the socket themselves:
   * it resolves with the socket (a tls.TLSSocket on a TLS listener) past the
   * PROXY header and the handshake.
   */
  acceptSocket(options: { signal?: AbortSignal } = {}): Promise<net.Socket> {
    const next = this.#ready.shift();
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
          this.#waiters.remove(waiter);
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
   * close stops accepting and frees the address. Connections already
   * accepted stay open (Go's Listener.Close); ones not yet handed out
   * (mid-handshake, or accepted but not yet taken) are destroyed. Resolves
   * once the address is released.
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const s of this.#ready.clear()) s.destroy();
    // Else a peer that never sends its PROXY header would keep its socket until proxy.timeout.
    for (const s of this.#preparing) s.destroy();
    this.#preparing.clear();
    this.#steps.tls?.close();
    const err = this.#closedError();
    for (const w of this.#waiters.clear()) w.reject(err);
    return new Promise((resolve) => {
      // server.close's callback waits for every connection; the address is released right away.
      this.server.close();
      setImmediate(resolve);
    });
  }

  /** [Symbol.asyncDispose] closes the listener, so `await using` stops accepting at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #onConnection(socket: net.Socket): void {
    socket.on('error', () => {}); // replaced by the protocol's listener; guards the gap before it
    if (this.#closed) {
      socket.destroy();
      return;
    }
    const steps = this.#steps;
    if (this.#waiters.length === 0 && this.#ready.length >= steps.maxPending) {
      socket.resetAndDestroy();
      return;
    }
    if (this.addr.network === 'tcp') {
      socket.setNoDelay(steps.noDelay);
      applyKeepAlive(socket, steps.keepAlive).catch(() => socket.destroy());
    }
    if (steps.proxy === undefined && steps.tls === undefined) {
      this.#handOut(socket);
      return;
    }
    void this.#prepare(socket);
  }

  /** prepare reads the PROXY header, then runs the TLS handshake; a failure closes the connection. */
  async #prepare(raw: net.Socket): Promise<void> {
    const { proxy, tls: acceptor } = this.#steps;
    this.#preparing.add(raw);
    try {
      if (proxy !== undefined) {
        // The socket is left paused with the bytes after the header put back: node:tls and
        // Conn read them from the buffer; a protocol fed with acceptSocket() resumes it.
        await acceptProxied(raw, proxy);
      }
      if (acceptor === undefined || this.#closed) {
        this.#handOut(raw);
        return;
      }
      const secure: tls.TLSSocket = await acceptor.handshake(raw);
      if (proxy !== undefined) inheritProxied(raw, secure);
      secure.on('error', () => {}); // as for raw sockets: the protocol adds its own
      this.#handOut(secure);
    } catch {
      raw.destroy();
    } finally {
      this.#preparing.delete(raw);
    }
  }

  #handOut(socket: net.Socket): void {
    if (this.#closed || socket.destroyed) {
      socket.destroy();
      return;
    }
    const waiter = this.#waiters.shift();
    if (waiter) waiter.resolve(socket);
    else this.#ready.push(socket);
  }

  #closedError(): ListenError {
    return new ListenError(
      'NETKIT_LISTENER_CLOSED',
      `accept ${this.addr.network} ${this.addr.address}: use of closed network connection`,
      this.addr.address,
    );
  }
}
