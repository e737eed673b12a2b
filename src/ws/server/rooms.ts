import type { Bus, BusMessage } from '../bus/types.js';
import type { WsPeer } from './peer.js';

/**
 * Rooms is broadcast mode's membership: every peer is in one room, and a
 * message to a room goes to each of its peers here and, through the bus,
 * to the peers of every other instance sharing it.
 */
export class Rooms {
  readonly #rooms = new Map<string, Set<WsPeer>>();
  readonly #bus: Bus | undefined;

  constructor(bus: Bus | undefined) {
    this.#bus = bus;
  }

  /** start connects the bus, so other instances' messages reach local peers. */
  async start(): Promise<void> {
    await this.#bus?.start((msg: BusMessage) => this.deliver(msg.room, msg.data, msg.binary));
  }

  join(peer: WsPeer, room: string): void {
    let set = this.#rooms.get(room);
    if (!set) {
      set = new Set();
      this.#rooms.set(room, set);
    }
    set.add(peer);
  }

  leave(peer: WsPeer, room: string): void {
    const set = this.#rooms.get(room);
    if (!set) return;
    set.delete(peer);
    if (set.size === 0) this.#rooms.delete(room);
  }

  /** size is the number of peers in `room` on this instance. */
  size(room: string): number {
    return this.#rooms.get(room)?.size ?? 0;
  }

  /** publish sends a message to everyone in the room, here and on other instances. */
  publish(room: string, data: Buffer, binary: boolean): number {
    this.#bus?.publish({ room, data, binary });
    return this.deliver(room, data, binary);
  }

  /** deliver sends a message to this instance's peers in the room; it returns how many took it. */
  deliver(room: string, data: Buffer, binary: boolean): number {
    const set = this.#rooms.get(room);
    if (!set) return 0;
    let sent = 0;
    for (const peer of set) if (peer.send(data, { binary })) sent++;
    return sent;
  }

  async close(): Promise<void> {
    this.#rooms.clear();
    await this.#bus?.close();
  }
}
