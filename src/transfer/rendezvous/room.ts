import type { Duplex } from 'node:stream';
import type { RendezvousCode } from '../../errors.js';
import { formatDuration } from '../../internal/duration.js';
import { Pipe, type PipeHooks } from '../../relay/pipe.js';
import type { ConnSummary } from '../../relay/types.js';
import type { RendezvousEvent, Resolved, RoomBytes } from './options.js';
import { encodeFrame, type Role } from './protocol.js';
import { refuse } from './refuse.js';

/** RoomHost is what a room needs from its rendezvous. */
export interface RoomHost {
  readonly options: Resolved;
  emit(e: RendezvousEvent): void;
  /** ended is told once the room is over, so its name is free again. */
  ended(room: Room): void;
}

/** Slot is a client holding one role of a room until the pair starts. */
interface Slot {
  socket: Duplex;
  peer: string;
  /** early are the bytes the client sent after its join; they go to the peer first once paired. */
  early: Buffer[];
  earlyBytes: number;
  /** detach removes the waiting listeners. */
  detach: () => void;
}

/** RoomInfo is a room as Rendezvous.rooms() shows it. */
export interface RoomInfo {
  /** room is the room's name, the first component of the code. */
  room: string;
  /** state is 'waiting' until both roles joined, then 'paired'. */
  state: 'waiting' | 'paired';
  /** sender and receiver are the clients' addresses, for the roles taken. */
  sender?: string;
  /** receiver is the receiving client's address, once it joined. */
  receiver?: string;
  /** seconds since the room was made (its first client joined). */
  seconds: number;
  /** bytes carried so far each way (0 while waiting). */
  bytes: RoomBytes;
}

const WHO = { client: 'the sender', target: 'the receiver', relay: 'the rendezvous' } as const;
const ROLE_NAME = { send: 'sender', recv: 'receiver' } as const;

/**
 * Room is one room of a rendezvous: a `send` slot and a `recv` slot, either
 * taken first. While it waits, a client's socket is still read, so a
 * client that leaves frees its slot at once, but a client that sends
 * bytes before it is paired (the protocol says it must not) has that first
 * chunk kept and is then no longer read: the kernel's buffers and TCP's
 * window hold the rest, and the memory held per waiting client stays one
 * read chunk. Once both slots are taken, both get `paired`, each one's
 * early bytes are written to the other, and a Pipe carries the rest.
 */
export class Room {
  readonly name: string;
  readonly created = Date.now();
  #host: RoomHost;
  #slots: { send?: Slot | undefined; recv?: Slot | undefined } = {};
  #expiry: NodeJS.Timeout | undefined;
  #pipe: Pipe | undefined;
  #paired = 0;
  #limit: NodeJS.Timeout | undefined;
  /** #carried counts bytes written to each side, the early bytes included. */
  #carried: RoomBytes = { toReceiver: 0, toSender: 0 };
  /** #cut is why the rendezvous ended a paired room itself (a limit, idle, shutdown). */
  #cut: { reason: string; code?: RendezvousCode | 'NETKIT_TIMEOUT' } | undefined;
  #over = false;

  constructor(name: string, host: RoomHost) {
    this.name = name;
    this.#host = host;
    const wait = host.options.roomTimeout;
    if (wait > 0) this.#expiry = setTimeout(() => this.#expire(wait), wait);
  }

  get state(): 'waiting' | 'paired' {
    return this.#pipe === undefined ? 'waiting' : 'paired';
  }

  /** idleBytes changes whenever a paired room moves bytes (for the idle sweep). */
  get idleBytes(): number {
    return this.#pipe?.idleBytes ?? 0;
  }

  /** has says whether `role` is taken. */
  has(role: Role): boolean {
    return this.#slots[role] !== undefined;
  }

  info(): RoomInfo {
    const s = this.#slots;
    return {
      room: this.name,
      state: this.state,
      ...(s.send ? { sender: s.send.peer } : {}),
      ...(s.recv ? { receiver: s.recv.peer } : {}),
      seconds: (Date.now() - this.created) / 1000,
      bytes: this.#bytes(),
    };
  }

  /**
   * take gives `role` to the client on `socket` (its greeting read, the
   * socket paused); `rest` is what it sent after its join. With both roles
   * taken the pair starts; else the client is told to wait.
   */
  take(role: Role, socket: Duplex, peer: string, rest: Buffer): void {
    const slot: Slot = { socket, peer, early: [], earlyBytes: 0, detach: () => {} };
    const keep = (chunk: Buffer) => {
      slot.early.push(chunk);
      slot.earlyBytes += chunk.length;
      socket.pause();
    };
    const leave = () => this.#leave(role, slot);
    socket.on('data', keep);
    socket.on('end', leave);
    socket.on('close', leave);
    socket.on('error', leave);
    slot.detach = () => {
      socket.off('data', keep);
      socket.off('end', leave);
      socket.off('close', leave);
      socket.off('error', leave);
    };
    this.#slots[role] = slot;
    if (rest.length > 0) keep(rest);
    if (this.#slots.send && this.#slots.recv) {
      this.#pair(this.#slots.send, this.#slots.recv);
      return;
    }
    socket.write(encodeFrame({ type: 'waiting' }));
    this.#host.emit({ type: 'waiting', room: this.name, role, peer });
    if (rest.length === 0) socket.resume();
  }

  /** cut resets both sides of a paired room now; `reason` and `code` go in its closed event. */
  cut(reason: string, code?: RendezvousCode | 'NETKIT_TIMEOUT'): void {
    if (this.#pipe === undefined || this.#cut !== undefined) return;
    this.#cut = { reason, ...(code !== undefined ? { code } : {}) };
    this.#pipe.reset(reason);
  }

  /** shut ends a waiting room now, its client dropped (the rendezvous is closing). */
  shut(reason: string): void {
    if (this.#pipe !== undefined) return;
    for (const slot of [this.#slots.send, this.#slots.recv]) {
      slot?.detach();
      slot?.socket.destroy();
    }
    this.#end(reason);
  }

  #leave(role: Role, slot: Slot): void {
    slot.detach();
    slot.socket.destroy();
    this.#slots[role] = undefined;
    if (this.#slots.send === undefined && this.#slots.recv === undefined) {
      const other = role === 'send' ? 'a receiver' : 'a sender';
      this.#end(`the ${ROLE_NAME[role]} left before ${other} joined`);
    }
  }

  #expire(wait: number): void {
    this.#expiry = undefined;
    if (this.#pipe !== undefined) return;
    const reason = `no peer joined within ${formatDuration(wait)} (roomTimeout)`;
    for (const slot of [this.#slots.send, this.#slots.recv]) {
      if (slot === undefined) continue;
      slot.detach();
      refuse(slot.socket, 'NETKIT_RENDEZVOUS_EXPIRED', `room ${this.name}: ${reason}; try again`);
    }
    this.#end(reason, 'NETKIT_RENDEZVOUS_EXPIRED');
  }

  #pair(send: Slot, recv: Slot): void {
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
    this.#paired = Date.now();
    const paired = encodeFrame({ type: 'paired' });
    for (const slot of [send, recv]) {
      slot.detach();
      slot.socket.pause();
      // node:tls ends its writing side when the peer's close_notify comes; a pipe must keep
      // the other direction open, as the relay does.
      (slot.socket as Duplex & { allowHalfOpen: boolean }).allowHalfOpen = true;
      slot.socket.write(paired);
    }
    const o = this.#host.options;
    // Early bytes count against the limit too; past it they are not delivered at all.
    const early = send.earlyBytes + recv.earlyBytes;
    const over = o.maxRoomBytes > 0 && early > o.maxRoomBytes;
    if (!over) {
      // Early bytes first, in order, before the pipe writes anything: what a client sent stays one stream.
      if (send.earlyBytes > 0) recv.socket.write(Buffer.concat(send.early));
      if (recv.earlyBytes > 0) send.socket.write(Buffer.concat(recv.early));
      this.#carried = { toReceiver: send.earlyBytes, toSender: recv.earlyBytes };
    }
    const hooks: PipeHooks = {};
    if (o.maxRoomBytes > 0) {
      const max = o.maxRoomBytes;
      // Counted before the chunk is written: the chunk that would pass the limit is not.
      hooks.tap = (stream, _offset, chunk) => {
        const c = this.#carried;
        if (c.toReceiver + c.toSender + chunk.length > max) {
          this.#cutAtLimit(max);
          return;
        }
        if (stream === 'upstream') c.toReceiver += chunk.length;
        else c.toSender += chunk.length;
      };
    }
    this.#pipe = new Pipe(
      {
        id: 0,
        proxy: 'rendezvous',
        client: send.socket,
        clientText: send.peer,
        target: recv.socket,
        targetText: recv.peer,
        started: this.#paired,
      },
      hooks,
      (summary) => this.#finished(summary),
    );
    if (o.maxRoomTime > 0) {
      const t = o.maxRoomTime;
      this.#limit = setTimeout(
        () => this.cut(`lasted its limit of ${formatDuration(t)} (maxRoomTime)`, 'NETKIT_RENDEZVOUS_LIMIT'),
        t,
      );
    }
    this.#host.emit({ type: 'paired', room: this.name, sender: send.peer, receiver: recv.peer });
    if (over) this.#cutAtLimit(o.maxRoomBytes);
  }

  #cutAtLimit(max: number): void {
    this.cut(`carried its limit of ${max} bytes (maxRoomBytes)`, 'NETKIT_RENDEZVOUS_LIMIT');
  }

  /** #bytes is what the room carried each way: counted by the tap with a byte limit, else the pipe's counts. */
  #bytes(): RoomBytes {
    const p = this.#pipe;
    if (p === undefined || this.#host.options.maxRoomBytes > 0) return { ...this.#carried };
    return { toReceiver: this.#carried.toReceiver + p.up, toSender: this.#carried.toSender + p.down };
  }

  #finished(s: ConnSummary): void {
    clearTimeout(this.#limit);
    const cut = this.#cut;
    let reason: string;
    if (cut !== undefined) reason = cut.reason;
    else if (s.how === 'error') reason = `${WHO[s.first]} failed${s.reason ? `: ${s.reason}` : ''}`;
    else reason = `${WHO[s.first]} closed first (${s.how === 'fin' ? 'FIN' : 'RST'})`;
    this.#end(reason, cut?.code, (Date.now() - this.#paired) / 1000);
  }

  #end(reason: string, code?: string, seconds?: number): void {
    if (this.#over) return;
    this.#over = true;
    clearTimeout(this.#expiry);
    this.#host.ended(this);
    this.#host.emit({
      type: 'closed',
      room: this.name,
      bytes: this.#bytes(),
      seconds: seconds ?? (Date.now() - this.created) / 1000,
      reason,
      ...(code !== undefined ? { code } : {}),
    });
  }
}
