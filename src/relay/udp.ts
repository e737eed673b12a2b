/**
 * relayUdp: the UDP side of `netkit relay udp:… udp:…`. Datagrams are
 * relayed per client, as socat's `UDP-LISTEN:…,fork` and HAProxy's and
 * nginx's stream UDP do: each client address gets its own socket connected
 * to the target, so the target's replies on that socket belong to that
 * client, and they go back from the listen socket so the client sees the
 * address it sent to.
 */
import { EventEmitter } from 'node:events';
import { joinHostPort, resolveUDPAddr, splitHostPort } from '../addr/index.js';
import { AbortError, InvalidArgumentError, isNetkitError } from '../errors.js';
import {
  checkFunction,
  checkInt,
  checkMs,
  checkObject,
  checkOneOf,
  checkSignal,
  checkString,
} from '../internal/validate.js';
import type { IpEndpoint } from '../tcp/endpoint.js';
import { bind, type DatagramSocket, dial } from '../udp/index.js';
import { maxPayload } from '../udp/limits.js';
import type { Stream } from './types.js';

/** UdpDatagram is one relayed datagram as `onDatagram` sees it. */
export interface UdpDatagram {
  /** id is the client's number, from 1 in the order clients appeared. */
  id: number;
  /** stream is the direction: upstream is client → target. */
  stream: Stream;
  /** offset is how many bytes this client relayed that way before this datagram. */
  offset: number;
  /** time is when it was relayed, in ms since the epoch. */
  time: number;
  /** bytes are the datagram's payload. */
  bytes: Buffer;
}

/** UdpRelayOptions configures relayUdp(). */
export interface UdpRelayOptions {
  /** listen is the address to bind ('127.0.0.1:5353', ':5353'). */
  listen: string;
  /** target is where every client's datagrams go; resolved once, when the relay starts. */
  target: string;
  /** idleTimeout closes a client after this many ms with no datagram either way. Default 60,000. */
  idleTimeout?: number;
  /** maxClients bounds the client table; a new client's datagram beyond it is dropped. Default 1024. */
  maxClients?: number;
  /** network is `udp` (default), `udp4` or `udp6`, with Go's meaning, for both addresses. */
  network?: 'udp' | 'udp4' | 'udp6';
  /** signal closes the relay when aborted. */
  signal?: AbortSignal;
  /** onDatagram sees every relayed datagram (for `--dump`); it runs on the hot path, so keep it cheap. */
  onDatagram?: (d: UdpDatagram) => void;
}

/** UdpClientSummary describes a client that the relay has forgotten. */
export interface UdpClientSummary {
  /** id is the client's number, from 1 in the order clients appeared. */
  id: number;
  /** client is the client's address (`127.0.0.1:50312`). */
  client: string;
  /** target is the target as given. */
  target: string;
  /** up is the bytes relayed client → target; down is target → client. */
  up: number;
  /** down is the bytes relayed target → client. */
  down: number;
  /** datagramsUp counts datagrams relayed client → target. */
  datagramsUp: number;
  /** datagramsDown counts datagrams relayed target → client. */
  datagramsDown: number;
  /** refused counts ICMP port-unreachables from the target (ECONNREFUSED), which did not end the client. */
  refused: number;
  /** ms is how long the client was in the table. */
  ms: number;
  /** reason says why the client was forgotten: idle timeout, the relay closed, or an error. */
  reason: 'idle' | 'closed' | 'error';
  /** error is the failure's text when reason is `error`. */
  error?: string;
}

/** UdpRelayEvents are what a UdpRelay emits. */
export interface UdpRelayEvents {
  open: [{ id: number; client: string }];
  close: [UdpClientSummary];
  drop: [{ client: string; reason: 'table full' | 'too large' }];
}

/** UDP_RELAY_DEFAULTS are the defaults of relayUdp()'s options. */
export const UDP_RELAY_DEFAULTS = Object.freeze({
  /** A client silent for a minute either way is forgotten. */
  idleTimeout: 60_000,
  /** Each client holds a socket, so the table is bounded. */
  maxClients: 1024,
  /** Both families, as Go's "udp". */
  network: 'udp' as const,
});

/**
 * PENDING_BYTES bounds, relay-wide, the datagrams held while new clients'
 * sockets connect. It is shared rather than per client because a flood of
 * new (spoofed) clients is exactly when many of them are connecting at once.
 */
const PENDING_BYTES = 4 * 1024 * 1024;

interface Client {
  readonly id: number;
  readonly key: string;
  /** from is the endpoint the listen socket reported, so replies take its no-resolve send path. */
  readonly from: IpEndpoint;
  readonly opened: number;
  last: number;
  conn: DatagramSocket | undefined;
  pending: Buffer[] | undefined;
  ready: Promise<void>;
  closed: boolean;
  up: number;
  down: number;
  datagramsUp: number;
  datagramsDown: number;
  refused: number;
}

interface Settings {
  target: string;
  dialAddress: string;
  targetFamily: 4 | 6;
  idleTimeout: number;
  maxClients: number;
  network: 'udp' | 'udp4' | 'udp6';
  signal: AbortSignal | undefined;
  onDatagram: ((d: UdpDatagram) => void) | undefined;
}

/**
 * UdpRelay is a running UDP relay from relayUdp(). It emits `open` when a
 * new client address appears, `close` with its summary when the client is
 * forgotten (idle, relay closed, socket error) and `drop` for a datagram it
 * refused. Its methods do not block; close() resolves once every socket is
 * closed.
 */
export class UdpRelay extends EventEmitter<UdpRelayEvents> implements AsyncDisposable {
  readonly #listen: DatagramSocket;
  readonly #s: Settings;
  readonly #clients = new Map<string, Client>();
  /** granularity is the shortest gap between idle sweeps, so spread deadlines cannot make the timer spin. */
  readonly #granularity: number;
  #nextId = 0;
  #dropped = 0;
  #refused = 0;
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  readonly #onAbort = () => void this.close();

  /** @internal Use relayUdp(). */
  constructor(listen: DatagramSocket, settings: Settings) {
    super();
    this.#listen = listen;
    this.#s = settings;
    this.#granularity = Math.min(1000, Math.max(1, Math.floor(settings.idleTimeout / 10)));
    settings.signal?.addEventListener('abort', this.#onAbort, { once: true });
    void this.#serve();
  }

  /** address is the bound listen address (the real port when listening on port 0). */
  get address(): string {
    return this.#listen.localAddr.address;
  }

  /** clients is how many clients are in the table now. */
  get clients(): number {
    return this.#clients.size;
  }

  /** dropped counts datagrams the relay did not pass on: table full, too large, or arriving faster than it could take them. */
  get dropped(): number {
    let n = this.#dropped + this.#listen.dropped;
    for (const c of this.#clients.values()) n += c.conn?.dropped ?? 0;
    return n;
  }

  /** refused counts ICMP port-unreachables from the target over all clients, closed ones included. */
  get refused(): number {
    return this.#refused;
  }

  /** close stops listening and closes every client's socket; idempotent. */
  close(): Promise<void> {
    if (!this.#closing) {
      clearTimeout(this.#timer);
      this.#s.signal?.removeEventListener('abort', this.#onAbort);
      const all = [this.#listen.close()];
      for (const c of this.#clients.values()) all.push(this.#forget(c, 'closed'));
      this.#closing = Promise.all(all).then(() => undefined);
    }
    return this.#closing;
  }

  /** [Symbol.asyncDispose] closes the relay, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #serve(): Promise<void> {
    for (;;) {
      let d: { data: Buffer; from: IpEndpoint };
      try {
        d = await this.#listen.receive();
      } catch (err) {
        if (this.#closing) return;
        if (isNetkitError(err, 'NETKIT_SOCKET_CLOSED')) return void this.close();
        // A reply the kernel refused to send to one client surfaces here; it
        // concerns that client only, and UDP gives it no one to tell.
        continue;
      }
      this.#upstream(d.data, d.from);
    }
  }

  #upstream(data: Buffer, from: IpEndpoint): void {
    const key = from.address;
    let c = this.#clients.get(key);
    if (c === undefined) {
      // A full table refuses newcomers instead of evicting the longest-idle
      // client: source addresses are free to forge, so with eviction every
      // spoofed datagram would push out a real client, turning a flood that
      // cannot touch existing clients into one that breaks all of them.
      if (this.#clients.size >= this.#s.maxClients) {
        this.#drop(key, 'table full');
        return;
      }
      c = this.#open(key, from);
    }
    c.last = performance.now();
    if (data.length > maxPayload(this.#s.targetFamily)) {
      this.#drop(key, 'too large');
      return;
    }
    if (c.pending !== undefined) {
      if (this.#pendingBytes + data.length > PENDING_BYTES) {
        // Counted without a 'drop' event: a burst outran a connect, which
        // says nothing about the client that the event's reasons could.
        this.#dropped++;
        return;
      }
      this.#pendingBytes += data.length;
      c.pending.push(data);
      return;
    }
    this.#send(c, data);
  }

  #send(c: Client, data: Buffer): void {
    const conn = c.conn;
    if (conn === undefined || c.closed) return;
    if (this.#s.onDatagram) {
      this.#s.onDatagram({ id: c.id, stream: 'upstream', offset: c.up, time: Date.now(), bytes: data });
    }
    c.up += data.length;
    c.datagramsUp++;
    conn.send(data).catch((err: unknown) => this.#failed(c, err));
  }

  #downstream(c: Client, data: Buffer): void {
    c.last = performance.now();
    if (data.length > maxPayload(c.from.family)) {
      this.#drop(c.key, 'too large');
      return;
    }
    if (this.#s.onDatagram) {
      this.#s.onDatagram({ id: c.id, stream: 'downstream', offset: c.down, time: Date.now(), bytes: data });
    }
    c.down += data.length;
    c.datagramsDown++;
    // Fails only once the relay is closing, or when the kernel refuses the
    // client's address, which #serve hears of; either way nobody waits on it.
    this.#listen.send(data, c.from).catch(() => {});
  }

  #open(key: string, from: IpEndpoint): Client {
    const c: Client = {
      id: ++this.#nextId,
      key,
      from,
      opened: performance.now(),
      last: 0,
      conn: undefined,
      pending: [],
      ready: Promise.resolve(),
      closed: false,
      up: 0,
      down: 0,
      datagramsUp: 0,
      datagramsDown: 0,
      refused: 0,
    };
    this.#clients.set(key, c);
    this.#arm(this.#s.idleTimeout);
    c.ready = dial(this.#s.dialAddress, { network: this.#s.network }).then(
      (conn) => {
        c.conn = conn;
        const pending = this.#release(c);
        if (c.closed) return;
        for (const data of pending) this.#send(c, data);
        void this.#pump(c, conn);
      },
      (err: unknown) => void this.#forget(c, 'error', err),
    );
    this.emit('open', { id: c.id, client: key });
    return c;
  }

  async #pump(c: Client, conn: DatagramSocket): Promise<void> {
    for (;;) {
      let data: Buffer;
      try {
        data = (await conn.receive()).data;
      } catch (err) {
        if (c.closed) return;
        if (isNetkitError(err, 'NETKIT_CONNECTION_RESET')) {
          this.#countRefused(c);
          continue;
        }
        return void this.#forget(c, 'error', err);
      }
      this.#downstream(c, data);
    }
  }

  /** failed handles a rejected send to the target: ECONNREFUSED there reports an earlier datagram's ICMP error. */
  #failed(c: Client, err: unknown): void {
    if (c.closed) return;
    if (isNetkitError(err, 'NETKIT_CONNECTION_RESET')) this.#countRefused(c);
    else void this.#forget(c, 'error', err);
  }

  /**
   * countRefused counts an ICMP port-unreachable and keeps the client: the
   * target may be restarting, and UDP clients retry, so closing would only
   * lose the mapping their next try needs.
   */
  #countRefused(c: Client): void {
    c.refused++;
    this.#refused++;
  }

  #drop(client: string, reason: 'table full' | 'too large'): void {
    this.#dropped++;
    this.emit('drop', { client, reason });
  }

  #release(c: Client): Buffer[] {
    const pending = c.pending ?? [];
    c.pending = undefined;
    for (const data of pending) this.#pendingBytes -= data.length;
    return pending;
  }

  /** forget removes a client and closes its socket, once a connect in progress has settled. */
  #forget(c: Client, reason: UdpClientSummary['reason'], err?: unknown): Promise<void> {
    if (c.closed) return c.ready;
    c.closed = true;
    this.#clients.delete(c.key);
    this.#release(c);
    const done = c.ready.then(() => c.conn?.close());
    const summary: UdpClientSummary = {
      id: c.id,
      client: c.key,
      target: this.#s.target,
      up: c.up,
      down: c.down,
      datagramsUp: c.datagramsUp,
      datagramsDown: c.datagramsDown,
      refused: c.refused,
      ms: Math.round(performance.now() - c.opened),
      reason,
    };
    if (err !== undefined) summary.error = err instanceof Error ? err.message : String(err);
    if (c.conn) this.#dropped += c.conn.dropped;
    this.emit('close', summary);
    return done;
  }

  /**
   * arm schedules the one idle sweep for all clients (a timer per client
   * would be a thousand timers re-armed on every datagram). A sweep runs at
   * the earliest deadline, but never sooner than granularity after the last.
   */
  #arm(delay: number): void {
    if (this.#timer !== undefined || this.#closing) return;
    this.#timer = setTimeout(this.#sweep, Math.max(delay, this.#granularity));
    // The listen socket keeps the process alive; the sweep is only housekeeping.
    this.#timer.unref();
  }

  readonly #sweep = (): void => {
    this.#timer = undefined;
    // Timers run on the event loop's clock, which can trail performance.now()
    // by a millisecond; without the slack a due client would wait a whole
    // granularity more.
    const now = performance.now() + 1;
    let next = Number.POSITIVE_INFINITY;
    for (const c of this.#clients.values()) {
      const due = c.last + this.#s.idleTimeout;
      if (due <= now) void this.#forget(c, 'idle');
      else if (due < next) next = due;
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next - now);
  };
}

function checkAddress(option: string, value: unknown): string {
  const address = checkString(option, value, true);
  try {
    splitHostPort(address);
  } catch (err) {
    throw new InvalidArgumentError(option, (err as Error).message);
  }
  return address;
}

/**
 * relayUdp binds `options.listen` and relays datagrams between each client
 * and `options.target` until close() or `options.signal`. It resolves once
 * the listen socket is bound.
 *
 * @throws {InvalidArgumentError} for a bad option, naming it; {AddrError}
 * when an address cannot be resolved; {ListenError} when the bind fails;
 * {AbortError} when `options.signal` aborts first.
 */
export async function relayUdp(options: UdpRelayOptions): Promise<UdpRelay> {
  const o = checkObject('options', options, true);
  const listen = checkAddress('listen', o.listen);
  const target = checkAddress('target', o.target);
  const idleTimeout = checkMs('idleTimeout', o.idleTimeout ?? UDP_RELAY_DEFAULTS.idleTimeout);
  if (idleTimeout === 0) {
    // UDP has no close: only expiry frees a client's slot and socket.
    throw new InvalidArgumentError(
      'idleTimeout',
      'must be above 0; a UDP client is only ever forgotten by idling',
    );
  }
  const maxClients = checkInt('maxClients', o.maxClients ?? UDP_RELAY_DEFAULTS.maxClients, 1, 1_048_576);
  const network = checkOneOf('network', o.network ?? UDP_RELAY_DEFAULTS.network, ['udp', 'udp4', 'udp6']);
  const signal = checkSignal(o.signal);
  const onDatagram = checkFunction<(d: UdpDatagram) => void>('onDatagram', o.onDatagram);
  if (signal?.aborted) throw new AbortError('relay', signal.reason);

  const r = await resolveUDPAddr(network, target, { signal });
  if (r.port === 0) throw new InvalidArgumentError('target', `port 0 is not a valid destination: ${target}`);
  // Go dials the local system for an empty host.
  const ip = r.ip !== '' ? r.ip : network === 'udp6' ? '::1' : '127.0.0.1';
  const targetFamily: 4 | 6 = (r.ip !== '' ? r.family === 6 : network === 'udp6') ? 6 : 4;
  const dialAddress = joinHostPort(r.zone === '' ? ip : `${ip}%${r.zone}`, r.port);

  const socket = await bind(listen, { network, signal });
  return new UdpRelay(socket, {
    target,
    dialAddress,
    targetFamily,
    idleTimeout,
    maxClients,
    network,
    signal,
    onDatagram,
  });
}
