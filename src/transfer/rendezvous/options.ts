import { InvalidArgumentError } from '../../errors.js';
import { checkFunction, checkInt, checkMs, checkObject, checkSignal } from '../../internal/validate.js';
import type { BindOptions, KeepAliveOptions } from '../../tcp/index.js';
import type { Role } from './protocol.js';

/** RendezvousOptions configure serveRendezvous(). Durations are milliseconds; 0 means none where said. */
export interface RendezvousOptions extends BindOptions {
  /** maxRooms is how many rooms (waiting or paired) exist at once; past it a join is refused with NETKIT_RENDEZVOUS_LIMIT. Default 1000. */
  maxRooms?: number;
  /** roomTimeout is how long a client may wait alone in its room before NETKIT_RENDEZVOUS_EXPIRED (0 = for ever). Default 10 min. */
  roomTimeout?: number;
  /** joinTimeout is how long a new connection has to send its magic and join frame. Default 5 s; at least 1 ms. */
  joinTimeout?: number;
  /** idleTimeout resets a paired room that moved no byte either way this long (0 = never). Default 10 min. */
  idleTimeout?: number;
  /** maxRoomBytes is what a paired room may carry, both ways together; past it both sides are reset (0 = no limit). Default 0. */
  maxRoomBytes?: number;
  /** maxRoomTime is how long a paired room may last; then both sides are reset (0 = no limit). Default 0. */
  maxRoomTime?: number;
  /** shutdownTimeout is how long close() lets paired rooms finish before resetting them. Default 5 s. */
  shutdownTimeout?: number;
  /** keepAlive for accepted TCP connections, so long waits survive NATs and dead peers are noticed. Default Go's (15 s idle). */
  keepAlive?: KeepAliveOptions;
  /** signal closes the rendezvous (as close()) when aborted. */
  signal?: AbortSignal;
  /** onEvent sees every room's story: waiting, paired, refused, closed. */
  onEvent?: (e: RendezvousEvent) => void;
}

/** RoomBytes counts what a paired room carried each way. */
export interface RoomBytes {
  /** toReceiver counts bytes carried from the sender to the receiver. */
  toReceiver: number;
  /** toSender counts bytes carried from the receiver to the sender. */
  toSender: number;
}

/**
 * RendezvousEvent is one step of a room's story. `peer`, `sender` and
 * `receiver` are client addresses (`203.0.113.7:50312`, or `unix:@` on a Unix
 * socket); behind a trusted PROXY header, the real client's. `closed` ends
 * every room that held a slot, paired or not; `refused` is a client that
 * never held one.
 */
export type RendezvousEvent =
  | {
      /** A client holds its room's slot and waits for the other side. */
      type: 'waiting';
      /** room is the room's name. */
      room: string;
      /** role is the slot the client took. */
      role: Role;
      /** peer is the client's address. */
      peer: string;
    }
  | {
      /** Both sides are in the room; bytes flow. */
      type: 'paired';
      /** room is the room's name. */
      room: string;
      /** sender is the sending client's address. */
      sender: string;
      /** receiver is the receiving client's address. */
      receiver: string;
    }
  | {
      /** A client was turned away without holding a slot. */
      type: 'refused';
      /** room is the room asked for, when the join frame got that far. */
      room?: string;
      /** peer is the client's address. */
      peer: string;
      /** code is the NETKIT_RENDEZVOUS_* code the client was told. */
      code: string;
      /** reason says why, in words. */
      reason: string;
    }
  | {
      /** A room ended, paired or not. */
      type: 'closed';
      /** room is the room's name. */
      room: string;
      /** bytes is what the room carried each way. */
      bytes: RoomBytes;
      /** seconds is how long the room existed. */
      seconds: number;
      /** reason says how it ended, in words. */
      reason: string;
      /** code is the error code when it ended in a failure (expired, a limit). */
      code?: string;
    };

/** RENDEZVOUS_DEFAULTS are serveRendezvous()'s defaults. */
export const RENDEZVOUS_DEFAULTS = Object.freeze({
  /** Two sockets a room, so 2,000 file descriptors at most. */
  maxRooms: 1000,
  /** A receiver may wait 10 minutes for its sender. */
  roomTimeout: 10 * 60_000,
  /** A client sends its magic and join frame at once; 5 s is generous. */
  joinTimeout: 5_000,
  /** A paired room idle 10 minutes is reset. */
  idleTimeout: 10 * 60_000,
  /** 0: no byte limit per room. */
  maxRoomBytes: 0,
  /** 0: no time limit per room. */
  maxRoomTime: 0,
  /** close() lets paired rooms finish for 5 s. */
  shutdownTimeout: 5_000,
});

/** MAX_ROOMS is the largest maxRooms accepted: two sockets a room, so already far past a process's fds. */
export const MAX_ROOMS = 1_000_000;

/** Resolved are the options with their defaults, checked. */
export interface Resolved {
  maxRooms: number;
  roomTimeout: number;
  joinTimeout: number;
  idleTimeout: number;
  maxRoomBytes: number;
  maxRoomTime: number;
  shutdownTimeout: number;
  signal: AbortSignal | undefined;
  onEvent: (e: RendezvousEvent) => void;
}

/** resolveOptions applies the defaults and checks every option, naming the bad one and its limits. */
export function resolveOptions(options: RendezvousOptions | undefined): Resolved {
  const o = checkObject('options', options);
  const d = RENDEZVOUS_DEFAULTS;
  const joinTimeout = checkMs('joinTimeout', o.joinTimeout ?? d.joinTimeout);
  // A client that says nothing must never hold a connection for ever (the slowloris family).
  if (joinTimeout === 0) throw new InvalidArgumentError('joinTimeout', 'must be at least 1 ms, got 0');
  const maxRoomBytes = o.maxRoomBytes ?? d.maxRoomBytes;
  if (typeof maxRoomBytes !== 'number' || !Number.isSafeInteger(maxRoomBytes) || maxRoomBytes < 0) {
    throw new InvalidArgumentError(
      'maxRoomBytes',
      `must be a whole number of bytes from 0 (no limit) to ${Number.MAX_SAFE_INTEGER}, got ${String(maxRoomBytes)}`,
    );
  }
  return {
    maxRooms: checkInt('maxRooms', o.maxRooms ?? d.maxRooms, 1, MAX_ROOMS),
    roomTimeout: checkMs('roomTimeout', o.roomTimeout ?? d.roomTimeout),
    joinTimeout,
    idleTimeout: checkMs('idleTimeout', o.idleTimeout ?? d.idleTimeout),
    maxRoomBytes,
    maxRoomTime: checkMs('maxRoomTime', o.maxRoomTime ?? d.maxRoomTime),
    shutdownTimeout: checkMs('shutdownTimeout', o.shutdownTimeout ?? d.shutdownTimeout),
    signal: checkSignal(o.signal),
    onEvent: checkFunction<(e: RendezvousEvent) => void>('onEvent', o.onEvent) ?? (() => {}),
  };
}
