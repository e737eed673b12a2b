import type net from 'node:net';
import type { RendezvousCode } from '../../errors.js';
import { formatDuration } from '../../internal/duration.js';
import { peerEndpoint } from '../../tcp/endpoint.js';
import { type Endpoint, endpointText, type Listener, type ListenerTls, listen } from '../../tcp/index.js';
import { type RendezvousEvent, type RendezvousOptions, type Resolved, resolveOptions } from './options.js';
import { type Join, JoinParser } from './protocol.js';
import { refuse } from './refuse.js';
import { Room, type RoomInfo } from './room.js';

export {
  RENDEZVOUS_DEFAULTS,
  type RendezvousEvent,
  type RendezvousOptions,
  type RoomBytes,
} from './options.js';
export type { RoomInfo } from './room.js';

/**
 * Rendezvous pairs a sender and a receiver that both dialled out to it,
 * by room, and then pipes the bytes between them (see serveRendezvous).
 * It never reads what it carries: the transfer encrypts end to end.
 */
export class Rendezvous implements AsyncDisposable {
  /** addr is the bound address (the real port when listening on port 0). */
  readonly addr: Endpoint;
  readonly #o: Resolved;
  readonly #listener: Listener;
  readonly #rooms = new Map<string, Room>();
  /** #loose are connections in no room: still greeting, or being refused. */
  readonly #loose = new Set<net.Socket>();
  /** #open is every accepted connection not yet closed, in a room or not. */
  readonly #open = new Set<net.Socket>();
  #sweep: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  readonly #onDrained = new Set<() => boolean>();

  /**
   * Rendezvous is made by serveRendezvous(); its options are already checked and its listener bound.
   *
   * @internal
   */
  constructor(listener: Listener, o: Resolved) {
    this.#listener = listener;
    this.#o = o;
    this.addr = listener.addr;
    if (o.idleTimeout > 0) this.#startSweep(o.idleTimeout);
    void this.#acceptLoop();
  }

  /** tls describes the certificate served when listening with TLS (its fingerprint is what clients pin). */
  get tls(): ListenerTls | undefined {
    return this.#listener.tls;
  }

  /** rooms lists the rooms now, waiting or paired. */
  rooms(): RoomInfo[] {
    return [...this.#rooms.values()].map((r) => r.info());
  }

  /**
   * close stops accepting, drops clients still greeting or waiting, lets
   * paired rooms finish within shutdownTimeout, then resets the rest.
   * Resolves once every connection is gone; safe to call more than once.
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  /** [Symbol.asyncDispose] runs close(), so `await using` stops the rendezvous at scope exit. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(): Promise<void> {
    clearInterval(this.#sweep);
    await this.#listener.close();
    for (const s of this.#loose) s.destroy();
    for (const r of this.#rooms.values()) r.shut('the rendezvous closed');
    // What is left is paired: let those rooms finish, then cut them.
    if (this.#rooms.size > 0 && this.#o.shutdownTimeout > 0) {
      await Promise.race([this.#drained(), sleep(this.#o.shutdownTimeout)]);
    }
    for (const r of this.#rooms.values()) r.cut('the rendezvous closed');
    await this.#drained();
  }

  /** drained resolves once no room is left and every connection has closed. */
  #drained(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.#rooms.size > 0 || this.#open.size > 0) return false;
        this.#onDrained.delete(check);
        resolve();
        return true;
      };
      if (!check()) this.#onDrained.add(check);
    });
  }

  #changed(): void {
    for (const check of [...this.#onDrained]) check();
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let socket: net.Socket;
      try {
        socket = await this.#listener.acceptSocket();
      } catch {
        return; // closed
      }
      this.#greet(socket);
    }
  }

  /**
   * greet reads a new client's magic and join frame, within joinTimeout.
   * Wrong magic is closed without a word (it is not a rendezvous client);
   * a bad or late join gets NETKIT_RENDEZVOUS_PROTOCOL.
   */
  #greet(socket: net.Socket): void {
    const peer = endpointText(peerEndpoint(socket, this.addr.network === 'unix')) || 'unknown';
    this.#loose.add(socket);
    this.#open.add(socket);
    socket.once('close', () => {
      this.#loose.delete(socket);
      this.#open.delete(socket);
      this.#changed();
    });
    const parser = new JoinParser();
    const detach = () => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.off('error', onGone);
    };
    const onData = (chunk: Buffer) => {
      const r = parser.push(chunk);
      if (r.kind === 'more') return;
      detach();
      socket.pause();
      if (r.kind === 'join') this.#join(socket, peer, r.join, r.rest);
      else if (r.kind === 'bad-magic') {
        this.#refused(peer, 'NETKIT_RENDEZVOUS_PROTOCOL', 'not a rendezvous client (wrong magic)');
        socket.destroy();
      } else this.#refuse(socket, peer, 'NETKIT_RENDEZVOUS_PROTOCOL', r.error.message);
    };
    const onGone = () => {
      detach();
      socket.destroy();
      this.#refused(peer, 'NETKIT_RENDEZVOUS_PROTOCOL', 'left before joining a room');
    };
    const timer = setTimeout(() => {
      detach();
      const wait = formatDuration(this.#o.joinTimeout);
      this.#refuse(socket, peer, 'NETKIT_RENDEZVOUS_PROTOCOL', `no join within ${wait} (joinTimeout)`);
    }, this.#o.joinTimeout);
    socket.on('data', onData);
    socket.on('end', onGone);
    socket.on('close', onGone);
    socket.on('error', onGone);
    socket.resume();
  }

  /** join seats a client that sent a valid join, or refuses it (room full, too many rooms). */
  #join(socket: net.Socket, peer: string, join: Join, rest: Buffer): void {
    const name = join.room;
    if (this.#closing !== undefined) {
      socket.destroy();
      return;
    }
    let room = this.#rooms.get(name);
    if (room?.state === 'paired') {
      this.#refuse(socket, peer, 'NETKIT_RENDEZVOUS_FULL', `room ${name} is paired already`, name);
      return;
    }
    if (room?.has(join.role)) {
      const who = join.role === 'send' ? 'a sender' : 'a receiver';
      this.#refuse(socket, peer, 'NETKIT_RENDEZVOUS_FULL', `room ${name} has ${who} already`, name);
      return;
    }
    if (room === undefined) {
      const max = this.#o.maxRooms;
      if (this.#rooms.size >= max) {
        const why = `the rendezvous holds its limit of ${max} rooms (maxRooms); try again later`;
        this.#refuse(socket, peer, 'NETKIT_RENDEZVOUS_LIMIT', why, name);
        return;
      }
      room = new Room(name, {
        options: this.#o,
        emit: (e) => this.#emit(e),
        ended: (r) => {
          if (this.#rooms.get(r.name) === r) this.#rooms.delete(r.name);
          this.#changed();
        },
      });
      this.#rooms.set(name, room);
    }
    this.#loose.delete(socket);
    room.take(join.role, socket, peer, rest);
  }

  #refuse(socket: net.Socket, peer: string, code: RendezvousCode, reason: string, room?: string): void {
    this.#refused(peer, code, reason, room);
    refuse(socket, code, reason);
  }

  #refused(peer: string, code: RendezvousCode, reason: string, room?: string): void {
    this.#emit({ type: 'refused', ...(room !== undefined ? { room } : {}), peer, code, reason });
  }

  #emit(e: RendezvousEvent): void {
    this.#o.onEvent(e);
  }

  /** One timer for every paired room, as in the relay: a thousand quiet rooms cost one sweep. */
  #startSweep(idle: number): void {
    const seen = new WeakMap<Room, { bytes: number; at: number }>();
    this.#sweep = setInterval(
      () => {
        const now = Date.now();
        for (const r of this.#rooms.values()) {
          if (r.state !== 'paired') continue;
          const last = seen.get(r);
          const bytes = r.idleBytes;
          if (last === undefined || last.bytes !== bytes) seen.set(r, { bytes, at: now });
          else if (now - last.at >= idle)
            r.cut(`moved nothing for ${formatDuration(idle)} (idleTimeout)`, 'NETKIT_TIMEOUT');
        }
      },
      Math.max(10, Math.min(1000, Math.floor(idle / 4))),
    );
    this.#sweep.unref();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * serveRendezvous binds `address` through netkit's listener pipeline
 * (network, PROXY header, TLS) and serves the rendezvous protocol (see
 * protocol.ts): a sender and a receiver that join the same room are paired
 * and their bytes piped between them, faithfully (half-close, RST and
 * backpressure as in the relay). Resolves once listening. Options are
 * checked before anything is bound; a bad one throws
 * NETKIT_INVALID_ARGUMENT naming it.
 */
export async function serveRendezvous(address: string, options: RendezvousOptions = {}): Promise<Rendezvous> {
  const o = resolveOptions(options);
  const listener = await listen(address, {
    ...(options.network !== undefined ? { network: options.network } : {}),
    ...(options.proxy !== undefined ? { proxy: options.proxy } : {}),
    ...(options.tls !== undefined ? { tls: options.tls } : {}),
    ...(options.socketMode !== undefined ? { socketMode: options.socketMode } : {}),
    // Waits last minutes: probes keep NAT mappings alive and find a peer that vanished.
    keepAlive: options.keepAlive ?? true,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const r = new Rendezvous(listener, o);
  o.signal?.addEventListener('abort', () => void r.close(), { once: true });
  return r;
}
