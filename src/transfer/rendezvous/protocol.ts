import { InvalidArgumentError, RendezvousError } from '../../errors.js';
import { encodeJsonFrame } from '../protocol.js';

/**
 * The rendezvous protocol, version 1. A client dials the rendezvous and
 * writes MAGIC, then one join frame; frames are a 4-byte big-endian length
 * and a JSON object with a `type`, as in the transfer protocol. The
 * rendezvous answers `waiting` (the client holds its slot, the peer is not
 * there yet), then `paired`, after which the connection is a raw pipe to
 * the peer: no more frames. A refusal is one `error` frame and a close.
 * docs/rendezvous.md walks through it.
 *
 * MAGIC starts with NUL, as the transfer protocol's does, so neither can be
 * taken for the other (or for text), and its last byte is the version.
 */
export const MAGIC = Buffer.from([0x00, 0x4e, 0x4b, 0x52, 0x56, 0x01]); // "\0NKRV" + version 1
/**
 * MAX_FRAME_BYTES bounds a frame's body; a join needs under 120 bytes. The
 * length is checked before the body is read, so a bogus prefix costs nothing.
 */
export const MAX_FRAME_BYTES = 4096;
/** ROOM_PATTERN is what a room name may be: 1–64 letters, digits, `_` or `-` (safe to print and log). */
export const ROOM_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** ERROR_CODE_PATTERN is what a client accepts as the code of an `error` frame. */
export const ERROR_CODE_PATTERN = /^NETKIT_RENDEZVOUS_[A-Z_]{1,40}$/;

/** Role is the side a client plays in its room. */
export type Role = 'send' | 'recv';
export const ROLES: readonly Role[] = ['send', 'recv'];

/** Join is the one frame a client sends. */
export interface Join {
  type: 'join';
  room: string;
  role: Role;
}

/** ServerFrame is what the rendezvous sends before the pipe starts. */
export type ServerFrame =
  | { type: 'waiting' }
  | { type: 'paired' }
  | { type: 'error'; code: string; message: string };

/** encodeFrame serialises one frame with its length prefix. */
export function encodeFrame(frame: Join | ServerFrame): Buffer {
  return encodeJsonFrame(frame);
}

/** joinBytes is what a client writes first: MAGIC and its join frame, in one write. */
export function joinBytes(room: string, role: Role): Buffer {
  return Buffer.concat([MAGIC, encodeFrame({ type: 'join', room, role })]);
}

/** checkRoom asserts a room name (the `room` option). */
export function checkRoom(value: unknown): string {
  if (typeof value !== 'string' || !ROOM_PATTERN.test(value)) {
    throw new InvalidArgumentError(
      'room',
      `must be 1 to 64 letters, digits, "_" or "-", got ${typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : String(value)}`,
    );
  }
  return value;
}

/** protocolError is the peer breaking the rendezvous protocol. */
export function protocolError(message: string, details: { room?: string; remote?: boolean } = {}) {
  return new RendezvousError('NETKIT_RENDEZVOUS_PROTOCOL', message, details);
}

/** parseObject reads a frame body as a JSON object, or says why it is not one. */
function parseObject(body: Buffer): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return 'a frame is not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'a frame is not a JSON object';
  return v as Record<string, unknown>;
}

/**
 * parseJoin checks a client's frame: a `join` with a valid room and role.
 * Unknown fields are ignored (a later version may add some). Throws
 * NETKIT_RENDEZVOUS_PROTOCOL saying what is wrong.
 */
export function parseJoin(body: Buffer): Join {
  const v = parseObject(body);
  if (typeof v === 'string') throw protocolError(v);
  if (v.type !== 'join') throw protocolError('the first frame must be a "join"');
  if (typeof v.room !== 'string' || !ROOM_PATTERN.test(v.room))
    throw protocolError('a "join" needs a room of 1 to 64 letters, digits, "_" or "-"');
  if (v.role !== 'send' && v.role !== 'recv') throw protocolError('a "join" needs a role, "send" or "recv"');
  return { type: 'join', room: v.room, role: v.role };
}

/**
 * parseServerFrame checks a frame from the rendezvous. An `error` frame's
 * code and message are returned as sent: the caller decides what to trust.
 */
export function parseServerFrame(body: Buffer, room: string): ServerFrame {
  const v = parseObject(body);
  if (typeof v === 'string') throw protocolError(`the rendezvous broke the protocol: ${v}`, { room });
  switch (v.type) {
    case 'waiting':
    case 'paired':
      return { type: v.type };
    case 'error':
      return {
        type: 'error',
        code: typeof v.code === 'string' ? v.code : '',
        message: typeof v.message === 'string' ? v.message : '',
      };
    default:
      throw protocolError('the rendezvous sent a frame of an unknown type', { room });
  }
}

/** JoinState is where a JoinParser is in a client's greeting. */
type JoinState = 'MAGIC' | 'LENGTH' | 'BODY' | 'DONE';

/** JoinResult is what JoinParser.push found: more needed, a join (with the bytes after it), or a failure. */
export type JoinResult =
  | { kind: 'more' }
  | { kind: 'join'; join: Join; rest: Buffer }
  | { kind: 'bad-magic' }
  | { kind: 'error'; error: RendezvousError };

/**
 * JoinParser reads a client's greeting (MAGIC, then the join frame) from
 * chunks as they arrive, split anywhere. The magic is compared byte by
 * byte, so a client speaking something else is dropped at its first wrong
 * byte; the length is checked before the body is buffered. It holds at
 * most MAGIC + 4 + MAX_FRAME_BYTES bytes, and hands back the bytes that
 * followed the join so none is lost.
 */
export class JoinParser {
  #state: JoinState = 'MAGIC';
  #seen = 0;
  #parts: Buffer[] = [];
  #have = 0;
  #need = 0;

  push(chunk: Buffer): JoinResult {
    let at = 0;
    if (this.#state === 'MAGIC') {
      while (at < chunk.length && this.#seen < MAGIC.length) {
        if (chunk[at] !== MAGIC[this.#seen]) {
          this.#state = 'DONE';
          return { kind: 'bad-magic' };
        }
        at++;
        this.#seen++;
      }
      if (this.#seen < MAGIC.length) return { kind: 'more' };
      this.#state = 'LENGTH';
      this.#need = 4;
    }
    if (this.#state === 'DONE') return { kind: 'more' };
    const taken = this.#take(chunk, at);
    if (taken < 0) return { kind: 'more' };
    if (this.#state === 'LENGTH') {
      const length = this.#joined().readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) {
        this.#state = 'DONE';
        const error = protocolError(
          `a frame of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit of a join`,
        );
        return { kind: 'error', error };
      }
      this.#state = 'BODY';
      this.#need = length;
      return this.push(chunk.subarray(taken));
    }
    return this.#finish(chunk.subarray(taken));
  }

  /** #take moves bytes of `chunk` from `at` into the current field; the offset after it, or -1 while incomplete. */
  #take(chunk: Buffer, at: number): number {
    const want = this.#need - this.#have;
    const n = Math.min(want, chunk.length - at);
    if (n > 0) {
      this.#parts.push(chunk.subarray(at, at + n));
      this.#have += n;
    }
    return this.#have === this.#need ? at + n : -1;
  }

  #joined(): Buffer {
    const all = this.#parts.length === 1 ? (this.#parts[0] as Buffer) : Buffer.concat(this.#parts);
    this.#parts = [];
    this.#have = 0;
    return all;
  }

  #finish(rest: Buffer): JoinResult {
    const body = this.#joined();
    this.#state = 'DONE';
    try {
      // The rest is copied: the chunk it came in may be a slice of a larger pooled buffer.
      return { kind: 'join', join: parseJoin(body), rest: Buffer.from(rest) };
    } catch (err) {
      return { kind: 'error', error: err as RendezvousError };
    }
  }
}
