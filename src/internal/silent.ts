/**
 * SilentConnections keeps, oldest first, the connections of a capped server
 * that had sent nothing when last looked at, so that a full server can close
 * the oldest one to admit a newcomer: clients that connect and say nothing
 * (slowloris-style squatters) can then never hold every slot against clients
 * that talk (RELIABILITY 37). Members that have spoken are dropped when met,
 * so finding the oldest silent one costs O(1) amortised.
 */
export class SilentConnections<T extends { readonly bytesRead: number }> {
  readonly #members = new Set<T>();

  /** add records a newly accepted connection (it has said nothing yet). */
  add(conn: T): void {
    this.#members.add(conn);
  }

  /** delete forgets a connection that closed. */
  delete(conn: T): void {
    this.#members.delete(conn);
  }

  /**
   * takeOldest removes and returns the oldest connection that still has
   * read no byte and is `open`, or undefined when there is none.
   */
  takeOldest(open: (conn: T) => boolean): T | undefined {
    for (const conn of this.#members) {
      this.#members.delete(conn);
      if (conn.bytesRead === 0 && open(conn)) return conn;
    }
    return undefined;
  }
}
