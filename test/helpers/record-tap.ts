/**
 * A TCP tap for the encrypted transfer tests: a proxy on loopback that
 * records every byte each way and can change the sender's stream one
 * length-prefixed unit at a time (the handshake's frames and, after them,
 * the records share the 4-byte length + body shape), so a test can flip,
 * drop, replay or reorder exactly one record, as an attacker on the path
 * or a malicious relay would.
 */
import net from 'node:net';
import type { TestContext } from 'node:test';

export type Direction = 'toTarget' | 'toClient';

/** UnitHook sees each unit of a direction, numbered from 0, and returns what to pass on instead (none: drop it). */
export type UnitHook = (dir: Direction, index: number, unit: Buffer) => Buffer[];

export interface Tap {
  address: string;
  /** captured is every byte each way, as received from its sender (before the hook). */
  captured: Record<Direction, Buffer[]>;
  all(dir: Direction): Buffer;
  /** connections counts the clients the tap took. */
  connections: number;
}

/**
 * startTap forwards 127.0.0.1:0 to `target`. `magic` is the number of raw
 * bytes before the first unit toward the target (6 for the transfer magic).
 */
export async function startTap(
  t: TestContext,
  target: { host: string; port: number },
  hook: UnitHook = (_d, _i, u) => [u],
  magic = 6,
): Promise<Tap> {
  const captured: Record<Direction, Buffer[]> = { toTarget: [], toClient: [] };
  const sockets = new Set<net.Socket>();
  const tap: Tap = {
    address: '',
    captured,
    all: (dir) => Buffer.concat(captured[dir]),
    connections: 0,
  };
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    tap.connections++;
    const upstream = net.connect({ ...target, allowHalfOpen: true });
    sockets.add(client).add(upstream);
    pump(client, upstream, 'toTarget', magic);
    pump(upstream, client, 'toClient', 0);
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', kill).on('close', () => sockets.delete(client));
    upstream.on('error', kill).on('close', () => sockets.delete(upstream));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tap.address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return tap;

  function pump(from: net.Socket, to: net.Socket, dir: Direction, raw: number): void {
    let pending = Buffer.alloc(0);
    let rawLeft = raw;
    let index = 0;
    from.on('data', (chunk: Buffer) => {
      captured[dir].push(chunk);
      pending = Buffer.concat([pending, chunk]);
      if (rawLeft > 0) {
        const take = Math.min(rawLeft, pending.length);
        to.write(pending.subarray(0, take));
        pending = pending.subarray(take);
        rawLeft -= take;
      }
      while (rawLeft === 0 && pending.length >= 4) {
        const len = pending.readUInt32BE(0);
        if (pending.length < 4 + len) break;
        const unit = pending.subarray(0, 4 + len);
        pending = pending.subarray(4 + len);
        for (const out of hook(dir, index++, Buffer.from(unit))) to.write(out);
      }
    });
    from.on('end', () => {
      if (pending.length > 0) to.write(pending);
      to.end();
    });
  }
}
