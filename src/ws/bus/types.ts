/** BusMessage is one broadcast-room message travelling between server instances. */
export interface BusMessage {
  /** room is the broadcast room's name. */
  room: string;
  /** data is the message's bytes. */
  data: Buffer;
  /** binary is true for a binary message, false for text. */
  binary: boolean;
}

/**
 * Bus carries broadcast-room messages between netkit instances (processes
 * or machines), so several servers behind a load balancer act as one. Each
 * instance delivers its own messages to its own clients, so a bus never
 * hands an instance back what it published.
 */
export interface Bus {
  /** start begins delivering messages published by *other* instances to `deliver`. */
  start(deliver: (msg: BusMessage) => void): Promise<void>;
  /** publish sends a room message to every other instance (never back to this one). */
  publish(msg: BusMessage): void;
  /** close stops delivery and releases the transport; it resolves once nothing more will be delivered. */
  close(): Promise<void>;
}
