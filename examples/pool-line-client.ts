// Many concurrent requests to the classic line server over a few pooled
// connections: a LineClient shares a pool of 4 connections between all of
// them, so 200 requests open 4 sockets, not 200. Start the server with
// `netkit tcp serve` (or examples/line-server.ts), then:
//
//   node --import tsx examples/pool-line-client.ts [address] [requests]
import { LineClient } from 'netkit/pool';

const address = process.argv[2] ?? '127.0.0.1:8330';
const count = Number(process.argv[3] ?? 200);
if (!Number.isInteger(count) || count < 1) throw new Error('usage: pool-line-client [address] [requests]');

const client = new LineClient(address, { pool: { max: 4 } });
try {
  const started = performance.now();
  // All requests at once: the pool queues them and each connection serves one after another.
  const replies = await Promise.all(
    Array.from({ length: count }, (_, i) => client.request(`hello ${i}`, { timeout: 5000 })),
  );
  const ms = Math.round(performance.now() - started);
  const wrong = replies.filter((r) => r !== 'Hello, Client!').length;
  const { created, acquires, acquireWaitMs } = client.pool.stats();
  const verdict = wrong === 0 ? 'every reply "Hello, Client!"' : `${wrong} unexpected replies`;
  console.log(`${count} requests over ${created} connections in ${ms} ms: ${verdict}`);
  console.log(
    `pool: created ${created}, acquires ${acquires}, acquireWaitMs ${acquireWaitMs.toFixed(1)} (summed over acquires)`,
  );
  if (wrong > 0) process.exitCode = 1;
} finally {
  // Closes the pooled connections; the server sees each client close (FIN).
  await client.close();
}
