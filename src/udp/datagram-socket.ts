/**
 * DatagramSocket wraps a bound `node:dgram` socket with a promise API. Node
 * delivers datagrams as events whether or not anyone is listening, so they
 * are buffered here (up to `maxQueue`) until receive() or the iterator asks,
 * or handed straight to a serve() handler, with no promise per datagram.
 */
import type { Socket } from 'node:dgram';
import { AbortError, InvalidArgumentError, NetkitError, TimeoutError } from '../errors.js';
import { Fifo } from '../internal/fifo.js';
import { checkMs, checkSignal } from '../internal/validate.js';
import { type IpEndpoint as Endpoint, endpoint } from '../tcp/endpoint.js';
import { checkDatagramSize, maxPayload } from './limits.js';
import { PeerCache } from './peers.js';
import { closedError, resolveDestination, udpError } from './support.js';

/** Datagram is one received UDP datagram and the endpoint it came from. */
export interface Datagram {
  /** data is the payload, whole: UDP never splits or merges datagrams. */
  data: Buffer;
  /** from is the sender's address and port. */
  from: Endpoint;
}

/** UdpOptions configures bind() and dial(). */
export interface UdpOptions {
  /** network is `udp` (default), `udp4` or `udp6`, with Go's meaning. */
  network?: string;
  /** signal closes the socket when aborted (and aborts bind/dial while they resolve). */
  signal?: AbortSignal;
  /** maxQueue is how many datagrams wait for receive(); beyond it new ones are dropped and counted. Default 1024. */
  maxQueue?: number;
  /** maxDatagramBytes caps what send() accepts. Default: the destination family's maximum. */
  maxDatagramBytes?: number;
}

/** ReceiveOptions bounds one receive() call. */
export interface ReceiveOptions {
  /** signal cancels this receive only; it then rejects with `AbortError` and the socket stays open. */
  signal?: AbortSignal;
  /** timeout in milliseconds; 0 or undefined waits forever. */
  timeout?: number;
}

/** SocketSetup is what bind()/dial() hand to the DatagramSocket constructor. */
export interface SocketSetup {
  /** network used to resolve send() destinations: udp4 / udp6 follow the socket type. */
  network: 'udp' | 'udp4' | 'udp6';
  /** type is the dgram socket type, which fixes the address family of destinations. */
  type: 'udp4' | 'udp6';
  maxQueue: number;
  maxDatagramBytes: number | undefined;
  signal: AbortSignal | undefined;
  remote: Endpoint | undefined;
}

type Entry = Datagram | NetkitError;

/** DatagramHandler is what serve() calls for each datagram, with the payload and its sender. */
export type DatagramHandler = (data: Buffer, from: Endpoint) => void;

/** Serving is a running serve(): its handler and the promise to settle when it stops. */
interface Serving {
  handler: DatagramHandler;
  resolve(): void;
  reject(e: unknown): void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Waiter is a receive() or an iterator's next() waiting for a datagram. An
 * iterator's waiter is settled with the IteratorResult itself, so a
 * datagram reaches `for await` through one promise, not a receive() promise
 * and a then() on it.
 */
interface Waiter {
  resolve(value: Datagram | IteratorResult<Datagram>): void;
  reject(e: unknown): void;
  iterator: boolean;
}

// One executor for every plain waiter's promise: it hands the resolving
// functions out through these slots, read right after `new Promise` returns
// (the executor runs synchronously), so a waiting receive allocates no closure.
let nextResolve: ((value: never) => void) | undefined;
let nextReject: ((e: unknown) => void) | undefined;
function capture(resolve: (value: never) => void, reject: (e: unknown) => void): void {
  nextResolve = resolve;
  nextReject = reject;
}

const DONE: IteratorResult<Datagram> = Object.freeze({ value: undefined, done: true });

/**
 * DatagramSocket is a bound (and, from dial(), connected) UDP socket. Create
 * it with bind() or dial(); `socket` is the underlying `node:dgram` socket
 * for options netkit does not wrap (multicast, TTL, buffer sizes).
 */
export class DatagramSocket implements AsyncIterable<Datagram>, AsyncDisposable {
  /** socket is the underlying `node:dgram` socket, for options netkit does not wrap. */
  readonly socket: Socket;
  readonly #setup: SocketSetup;
  readonly #local: Endpoint;
  readonly #queue = new Fifo<Entry>();
  readonly #waiters = new Fifo<Waiter>();
  #dropped = 0;
  /** Endpoints of received datagrams, one per peer, so a reply to one skips re-resolution. */
  readonly #peers = new PeerCache();
  #closed = false;
  #closing: Promise<void> | undefined;
  #serving: Serving | undefined;
  readonly #onAbort = () => void this.close();

  /** @internal Use bind() or dial(); the socket must already be bound. */
  constructor(socket: Socket, setup: SocketSetup) {
    this.socket = socket;
    this.#setup = setup;
    const a = socket.address();
    this.#local = endpoint(a.address, a.port, 'udp')!;
    // Without an 'error' listener a late ICMP error would crash the process.
    socket.on('error', (err) => {
      const e = udpError(err, 'receive from', setup.remote?.address);
      if (this.#serving !== undefined) this.#stopServing(e);
      else this.#push(e);
    });
    socket.on('message', (data, rinfo) => {
      const from = this.#peers.get(rinfo.address, rinfo.port);
      const serving = this.#serving;
      if (serving !== undefined) this.#deliver(serving, data, from);
      else this.#push({ data, from });
    });
    // Covers close() and a caller closing `socket` directly.
    socket.on('close', () => this.#markClosed());
    setup.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  /** localAddr is the bound address (the real port when bound to port 0). */
  get localAddr(): Endpoint {
    return this.#local;
  }

  /** remoteAddr is the peer of a socket from dial(), undefined for bind(). */
  get remoteAddr(): Endpoint | undefined {
    return this.#setup.remote;
  }

  /** dropped counts datagrams discarded because the receive queue was full. */
  get dropped(): number {
    return this.#dropped;
  }

  /** closed reports whether close() was called or the dgram socket closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * send sends one datagram. `to` ('host:port', resolved with Go's rules, or
   * `{ ip, port }`) is required on a bound socket and refused on a dialed one.
   * A datagram larger than the limit rejects with DatagramError and nothing
   * is sent; UDP never splits a datagram, so the caller must. A reply to the
   * `from` of a received datagram is sent at once and resolves immediately;
   * if the kernel refuses it, the error comes out of receive() or serve().
   * reply() does the same without a promise.
   */
  send(data: string | Uint8Array, to?: string | { ip: string; port: number }): Promise<void> {
    try {
      return this.#send(data, to);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #send(data: string | Uint8Array, to?: string | { ip: string; port: number }): Promise<void> {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new InvalidArgumentError('data', 'must be a string or a Uint8Array');
    }
    if (this.#closed) throw closedError();
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const remote = this.#setup.remote;
    if (remote) {
      if (to !== undefined)
        throw new InvalidArgumentError('to', 'must be omitted on a connected (dialed) socket');
      checkDatagramSize(buf.byteLength, this.#limit(remote.family));
      return this.#sendRaw(buf, undefined, undefined, remote.address);
    }
    if (to === undefined)
      throw new InvalidArgumentError('to', 'is required on an unconnected (bound) socket');
    // A reply to a datagram this socket received: the sender's endpoint is
    // already valid for this socket, so skip resolving it again (the hot path
    // of every UDP server). IPv4 senders of an IPv6 socket still go through
    // resolution, which maps them.
    if (typeof to === 'object' && this.#peers.issued(to)) {
      const from = to;
      if (this.#setup.type === 'udp4' || from.family === 6) {
        checkDatagramSize(buf.byteLength, this.#limit(from.family));
        // No completion callback: dgram then tries sendmsg right away instead
        // of queueing the send for the next turn of the event loop, which in
        // request/response traffic is the difference between answering now
        // and answering a poll cycle later. A failure surfaces from receive().
        this.socket.send(buf, from.port, from.ip);
        return RESOLVED;
      }
    }
    return resolveDestination(this.#setup.type, this.#setup.network, to).then((dest) => {
      checkDatagramSize(buf.byteLength, this.#limit(dest.family));
      if (this.#closed) throw closedError();
      return this.#sendRaw(buf, dest.port, dest.host, dest.address);
    });
  }

  /**
   * reply sends `data` to `to`, the `from` of a datagram this socket
   * received, at once and without a promise: the fire-and-forget send of a
   * server answering its peers. Misuse (a `to` this socket did not hand out,
   * a datagram over the limit, a closed socket) throws at once; a failure the
   * kernel reports later comes out where socket errors do: serve() rejects,
   * or receive() and the iterator throw.
   */
  reply(data: string | Uint8Array, to: Endpoint): void {
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new InvalidArgumentError('data', 'must be a string or a Uint8Array');
    }
    if (!this.#peers.issued(to)) {
      throw new InvalidArgumentError(
        'to',
        'must be the from of a datagram this socket received; use send() for other destinations',
      );
    }
    if (this.#closed) throw closedError();
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    checkDatagramSize(buf.byteLength, this.#limit(to.family));
    // No completion callback, as in send()'s reply path: a failed send is
    // emitted as the socket's 'error', which reaches serve() or receive().
    if (this.#setup.remote) this.socket.send(buf);
    // A dual-stack socket reaches an IPv4 peer through its IPv4-mapped address.
    else if (to.family === 4 && this.#setup.type === 'udp6')
      this.socket.send(buf, to.port, `::ffff:${to.ip}`);
    else this.socket.send(buf, to.port, to.ip);
  }

  /**
   * serve calls `handler` with each datagram as it arrives (queued ones
   * first), synchronously and without a promise per datagram, until the
   * socket closes (serve resolves), a socket error arrives or the handler
   * throws (serve rejects with it and stops; later datagrams queue for
   * receive() again). The handler is not awaited: an async one must catch
   * its own errors. While the socket is served, receive() and the iterator
   * get nothing. One serve() at a time: another rejects with
   * NETKIT_INVALID_ARGUMENT.
   */
  serve(handler: DatagramHandler): Promise<void> {
    if (typeof handler !== 'function') {
      return Promise.reject(new InvalidArgumentError('handler', 'must be a function'));
    }
    if (this.#serving !== undefined) {
      return Promise.reject(
        new InvalidArgumentError('handler', 'this socket is served already; call serve() once'),
      );
    }
    // Like the iterator: a closed socket is the end, not an error.
    if (this.#closed) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const serving: Serving = { handler, resolve, reject };
      this.#serving = serving;
      while (this.#serving === serving) {
        const next = this.#queue.shift();
        if (next === undefined) break;
        if (next instanceof NetkitError) this.#stopServing(next);
        else this.#deliver(serving, next.data, next.from);
      }
    });
  }

  /**
   * receive resolves with the next datagram (queued ones first). It rejects
   * with NETKIT_TIMEOUT after `timeout` ms, NETKIT_ABORTED when `signal`
   * aborts, NETKIT_SOCKET_CLOSED once the socket is closed, and with the
   * socket's error (e.g. NETKIT_CONNECTION_RESET) when one arrived first.
   */
  receive(options?: ReceiveOptions): Promise<Datagram> {
    // Without options (a server's receive loop) nothing needs checking, and
    // no `= {}` default is allocated per call.
    if (options === undefined) return this.#next(false) as Promise<Datagram>;
    try {
      const signal = checkSignal(options.signal);
      const timeout = options.timeout === undefined ? 0 : checkMs('timeout', options.timeout);
      if (signal === undefined && timeout === 0) return this.#next(false) as Promise<Datagram>;
      if (this.#closed) throw closedError();
      if (signal?.aborted) throw new AbortError('receive', signal.reason);
      const next = this.#queue.shift();
      if (next) return next instanceof NetkitError ? Promise.reject(next) : Promise.resolve(next);
      return new Promise<Datagram>((resolve, reject) => {
        let timer: NodeJS.Timeout | undefined;
        const onAbort = () => settle(() => reject(new AbortError('receive', signal?.reason)));
        const waiter: Waiter = {
          resolve: (d) => settle(() => resolve(d as Datagram)),
          reject: (e) => settle(() => reject(e)),
          iterator: false,
        };
        const settle = (fn: () => void) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          this.#waiters.remove(waiter);
          fn();
        };
        if (timeout > 0) {
          timer = setTimeout(
            () =>
              settle(() =>
                reject(
                  new TimeoutError(
                    'NETKIT_TIMEOUT',
                    'receive',
                    `receive timed out after ${timeout} ms`,
                    timeout,
                  ),
                ),
              ),
            timeout,
          );
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(waiter);
      });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** [Symbol.asyncIterator] yields datagrams until the socket is closed; socket errors are thrown. */
  [Symbol.asyncIterator](): AsyncIterator<Datagram> {
    // Not an async generator, nor then() on receive(): either adds a promise per datagram.
    return {
      next: () => this.#next(true) as Promise<IteratorResult<Datagram>>,
      return: () => Promise.resolve(DONE),
    };
  }

  /**
   * #next is receive() without a timeout or signal, and (`iterator`) the
   * iterator's next(): the next queued datagram, or a promise the next one
   * to arrive settles. For the iterator a closed socket is the end, not an error.
   */
  #next(iterator: boolean): Promise<Datagram | IteratorResult<Datagram>> {
    if (this.#closed) return iterator ? Promise.resolve(DONE) : Promise.reject(closedError());
    const next = this.#queue.shift();
    if (next) {
      if (next instanceof NetkitError) return Promise.reject(next);
      return Promise.resolve(iterator ? { value: next, done: false } : next);
    }
    const promise = new Promise<Datagram | IteratorResult<Datagram>>(capture);
    this.#waiters.push({
      resolve: nextResolve as (value: Datagram | IteratorResult<Datagram>) => void,
      reject: nextReject as (e: unknown) => void,
      iterator,
    });
    nextResolve = undefined;
    nextReject = undefined;
    return promise;
  }

  /** close closes the socket; pending and later receives reject with NETKIT_SOCKET_CLOSED. Idempotent. */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = new Promise<void>((resolve) => {
        if (this.#closed) return resolve();
        this.socket.once('close', () => resolve());
        try {
          this.socket.close();
        } catch {
          // Already closed by someone holding `socket`: 'close' has fired or will not.
          this.#markClosed();
          resolve();
        }
      });
    }
    return this.#closing;
  }

  /** [Symbol.asyncDispose] closes the socket, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #limit(family: 4 | 6): number {
    return Math.min(this.#setup.maxDatagramBytes ?? Number.POSITIVE_INFINITY, maxPayload(family));
  }

  #sendRaw(
    buf: Uint8Array,
    port: number | undefined,
    host: string | undefined,
    address: string,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const done = (err: Error | null) => (err ? reject(udpError(err, 'send to', address)) : resolve());
      try {
        if (port === undefined) this.socket.send(buf, done);
        else this.socket.send(buf, port, host, done);
      } catch (err) {
        // dgram throws synchronously when the socket closed meanwhile.
        reject(this.#closed ? closedError() : udpError(err, 'send to', address));
      }
    });
  }

  /** #deliver runs the handler; written as a method so the try/catch costs no closure per datagram. */
  #deliver(serving: Serving, data: Buffer, from: Endpoint): void {
    try {
      serving.handler(data, from);
    } catch (err) {
      if (this.#serving === serving) this.#stopServing(err);
    }
  }

  #stopServing(err: unknown): void {
    const serving = this.#serving;
    if (serving === undefined) return;
    this.#serving = undefined;
    serving.reject(err);
  }

  #push(entry: Entry): void {
    if (this.#closed) return;
    // Taken off the queue here: a receive() with a timeout or signal also takes itself off when
    // it settles first, and finds itself gone when settled from here.
    const w = this.#waiters.shift();
    if (w) {
      if (entry instanceof NetkitError) w.reject(entry);
      else w.resolve(w.iterator ? { value: entry, done: false } : entry);
      return;
    }
    // Errors are always kept so the next receive() learns of them.
    if (!(entry instanceof NetkitError) && this.#queue.length >= this.#setup.maxQueue) {
      this.#dropped++;
      return;
    }
    this.#queue.push(entry);
  }

  #markClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#setup.signal?.removeEventListener('abort', this.#onAbort);
    this.#queue.clear();
    const serving = this.#serving;
    this.#serving = undefined;
    serving?.resolve();
    for (const w of this.#waiters.clear()) {
      if (w.iterator) w.resolve(DONE);
      else w.reject(closedError());
    }
  }
}
