import type { Bus, BusMessage } from './types.js';

/** BUS_MESSAGE tags the IPC messages a ClusterBus exchanges through the cluster primary. */
export const BUS_MESSAGE = 'netkit:ws-bus';

interface Wire {
  type: typeof BUS_MESSAGE;
  room: string;
  data: string;
  binary: boolean;
}

/**
 * ClusterBus joins the broadcast rooms of node:cluster workers on one
 * machine: a worker sends each room message to the primary over IPC, and
 * the primary (see relayBus) hands it to every other worker. Without it,
 * `--workers 2` would split every room in two.
 */
export class ClusterBus implements Bus {
  #listener: ((msg: unknown) => void) | undefined;

  async start(deliver: (msg: BusMessage) => void): Promise<void> {
    this.#listener = (msg) => {
      const m = msg as Partial<Wire> | null;
      if (m?.type !== BUS_MESSAGE || typeof m.room !== 'string' || typeof m.data !== 'string') return;
      deliver({ room: m.room, data: Buffer.from(m.data, 'base64'), binary: m.binary === true });
    };
    process.on('message', this.#listener);
  }

  publish(msg: BusMessage): void {
    if (!process.connected) return;
    // IPC speaks JSON; base64 keeps binary messages exact.
    const wire: Wire = {
      type: BUS_MESSAGE,
      room: msg.room,
      data: msg.data.toString('base64'),
      binary: msg.binary,
    };
    process.send?.(wire);
  }

  async close(): Promise<void> {
    if (this.#listener) process.off('message', this.#listener);
    this.#listener = undefined;
  }
}

/** isBusMessage tells the primary which worker messages to relay. */
export function isBusMessage(msg: unknown): boolean {
  return (msg as { type?: unknown } | null)?.type === BUS_MESSAGE;
}
