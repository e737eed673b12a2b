import type { Socket } from 'node:net';

const kOverhead = Symbol('netkit.overheadBytes');

/**
 * countAsOverhead records bytes a layer under the protocol consumed on
 * `socket` (a PROXY protocol header, sent by the proxy for every connection
 * it accepts): they do not count as the client speaking.
 */
export function countAsOverhead(socket: Socket, bytes: number): void {
  const s = socket as Socket & { [kOverhead]?: number };
  s[kOverhead] = (s[kOverhead] ?? 0) + bytes;
}

/** spokenBytes is how many bytes the client itself has sent on `socket`, overhead left out. */
export function spokenBytes(socket: Socket): number {
  return socket.bytesRead - ((socket as Socket & { [kOverhead]?: number })[kOverhead] ?? 0);
}

/**
 * SilentConnections keeps, oldest first, the connections of a capped server
 * that had sent nothing when last looked at, so that a full server can close
 * the oldest one to admit a newcomer: clients that connect and say nothing
 * (slowloris-style squatters) can then never hold every slot against clients
 * that talk (RELIABILITY 37). Members that have spoken are dropped when met,
 * so finding the oldest silent one costs O(1) amortised.
 */
export class SilentConnections<T> {
  readonly #members = new Set<T>();
  readonly #socketOf: (conn: T) => Socket;

  /** socketOf gives the socket a member reads from. */
  constructor(socketOf: (conn: T) => Socket) {
    this.#socketOf = socketOf;
  }

  /** add records a newly accepted connection (it has said nothing yet). */
  add(conn: T): void {
    this.#members.add(conn);
  }

  /** delete forgets a connection that closed. */
  delete(conn: T): void {
    this.#members.delete(conn);
  }

  /**
   * takeOldest removes and returns the oldest connection whose client has
   * still sent nothing (see spokenBytes) and is `open`, or undefined.
   */
  takeOldest(open: (conn: T) => boolean): T | undefined {
    for (const conn of this.#members) {
      this.#members.delete(conn);
      if (spokenBytes(this.#socketOf(conn)) === 0 && open(conn)) return conn;
    }
    return undefined;
  }
}
