/**
 * RpcClient: calls made in the continuations of replies that arrived in one
 * chunk leave together (the socket is corked until those continuations ran),
 * and none of them is held back. The peer is a raw node:net server speaking
 * the gob codec, which answers a batch of requests in one write. The
 * client's writes are counted at its socket's stream methods: the server,
 * in the same process, would read eight writes made in one turn as one
 * chunk either way.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { dialRpc } from '../../src/rpc/client/dial.js';
import { GobServerCodec } from '../../src/rpc/codec/gob.js';

const CALLERS = 8;

test('calls made as a chunk of replies resolves leave in one write, and all are answered', async (t) => {
  const server = net.createServer((socket) => {
    const codec = new GobServerCodec({ maxMessageBytes: 1 << 20 });
    let batch: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => {
      const reqs = codec.push(chunk);
      for (const r of reqs) {
        const { A, B } = r.args as { A: number | bigint; B: number | bigint };
        batch.push(
          codec.encodeResponse(
            { serviceMethod: r.serviceMethod, seq: r.seq, error: '' },
            BigInt(A) * BigInt(B),
          ),
        );
      }
      // Answer a whole round of callers in one write, so their replies arrive in one chunk.
      if (batch.length === CALLERS) {
        socket.write(Buffer.concat(batch));
        batch = [];
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;

  const client = await dialRpc(`127.0.0.1:${port}`);
  t.after(() => client.close());
  // writes lists the requests each write of the socket's stream carried.
  const writes: number[] = [];
  const socket = client.conn.socket as net.Socket & {
    _write: (...a: unknown[]) => void;
    _writev: (chunks: unknown[], cb: unknown) => void;
  };
  const write = socket._write.bind(socket);
  const writev = socket._writev.bind(socket);
  socket._write = (...a: unknown[]) => {
    writes.push(1);
    write(...a);
  };
  socket._writev = (chunks: unknown[], cb: unknown) => {
    writes.push(chunks.length);
    writev(chunks, cb);
  };

  const results = await Promise.all(
    Array.from({ length: CALLERS }, async (_, i) => {
      const first = await client.call('Arith.Multiply', { A: i, B: 2 });
      // Called in the continuation of a reply that came with seven others.
      const second = await client.call('Arith.Multiply', { A: i, B: 3 });
      return [first, second];
    }),
  );
  assert.deepEqual(
    results,
    Array.from({ length: CALLERS }, (_, i) => [i * 2, i * 3]),
  );
  // The first round goes out call by call; the second was sent while corked: one write of all eight.
  assert.deepEqual(writes.slice(CALLERS), [CALLERS], `requests per write: ${writes.join(', ')}`);
});
