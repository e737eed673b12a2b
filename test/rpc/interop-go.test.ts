/** netkit's net/rpc server and client against Go's net/rpc (programs under test/interop/). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { dialRpc } from '../../src/rpc/client/dial.js';
import { ServerError } from '../../src/rpc/errors.js';
import { serveRpc } from '../../src/rpc/server/serve.js';
import { spawnProc } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';
import { GO_TRANSCRIPT, Shape, testRegistry } from './services.js';

const run = promisify(execFile);

const MODES = [
  { name: 'gob (rpc.Dial)', codec: 'gob', http: false, flags: ['-codec', 'gob'] },
  { name: 'json (jsonrpc.Dial)', codec: 'json', http: false, flags: ['-codec', 'json'] },
  { name: 'gob over HTTP (rpc.DialHTTP)', codec: 'gob', http: true, flags: ['-http'] },
] as const;

describe("Go's net/rpc client -> netkit serveRpc", () => {
  for (const mode of MODES) {
    it(`${mode.name}: the whole script prints what Go's own server gives`, async (t) => {
      const client = await goProgram(t, 'test/interop/rpcclient');
      if (!client) return;
      const server = await serveRpc('127.0.0.1:0', testRegistry(), { codec: mode.codec, http: mode.http });
      t.after(() => server.close());
      const { stdout } = await run(client, ['-addr', server.address, ...mode.flags], { timeout: 20_000 });
      assert.equal(stdout, GO_TRANSCRIPT);
    });
  }
});

describe("netkit dialRpc -> Go's net/rpc server", () => {
  for (const mode of MODES) {
    it(`${mode.name}: values, errors and out-of-order replies`, async (t) => {
      const bin = await goProgram(t, 'test/interop/rpcserver');
      if (!bin) return;
      const p = spawnProc(bin, [...mode.flags]);
      t.after(() => p.kill());
      const [, address] = await p.waitFor(/listening (\S+)/);
      const client = await dialRpc(address!, { codec: mode.codec, http: mode.http });
      t.after(() => client.close());
      assert.equal(await client.call('Arith.Multiply', { A: 7, B: 8 }), 56);
      assert.deepEqual(await client.call('Arith.Divide', { A: 17, B: 5 }), { Quo: 3, Rem: 2 });
      await assert.rejects(client.call('Arith.Divide', { A: 1, B: 0 }), (err: unknown) => {
        assert.ok(err instanceof ServerError);
        assert.equal(err.code, 'NETKIT_RPC_SERVER_ERROR');
        assert.equal(err.message, 'divide by zero');
        return true;
      });
      await assert.rejects(client.call('Nope.X', { A: 1, B: 2 }), {
        message: "rpc: can't find service Nope.X",
      });
      // The connection survives server errors.
      assert.equal(await client.call('Arith.Multiply', { A: -3, B: 4 }), -12);
      const shape = {
        Name: 'tri',
        Points: [
          { X: 1, Y: 2 },
          { X: 3, Y: 4 },
        ],
        Tags: new Map([['a', 1]]),
        Center: { X: 7, Y: 8 },
        Scale: 2, // a float field holding an integer: only the schema can say so
        Big: 2n ** 63n + 5n,
        Neg: -(2 ** 40),
        Ok: true,
        Raw: Buffer.from([0, 1, 255]),
        Inner: { X: 9, Y: 0 },
      };
      const echoed = (await client.call('Shapes.Echo', shape, { schema: Shape })) as Record<string, unknown>;
      assert.equal(echoed.Name, 'tri');
      assert.equal(echoed.Scale, 2);
      assert.equal(echoed.Neg, -(2 ** 40));
      assert.deepEqual(echoed.Center, { X: 7, Y: 8 });
      if (mode.codec === 'gob') {
        assert.equal(echoed.Big, 2n ** 63n + 5n);
        assert.deepEqual(echoed.Raw, Buffer.from([0, 1, 255]));
      } else {
        assert.equal(echoed.Big, 2n ** 63n + 5n); // exact through JSON too
        assert.equal(echoed.Raw, Buffer.from([0, 1, 255]).toString('base64')); // Go's JSON for []byte
      }
      assert.equal(await client.call('Shapes.Sum', [1, 2, 3, 400]), 406);
      const tags = new Map([
        ['b', 2],
        ['a', 1],
        ['c', 3],
      ]);
      assert.deepEqual(await client.call('Shapes.Keys', tags), ['a', 'b', 'c']);
      // Replies come back in the order the calls finish, not the order they were sent.
      const order: number[] = [];
      await Promise.all(
        [40, 0, 20, 10].map((ms) => client.call('Arith.Sleep', ms).then((r) => order.push(Number(r)))),
      );
      assert.deepEqual(order, [0, 10, 20, 40]);
    });
  }

  it('every pending call rejects at once when the server dies', async (t) => {
    const bin = await goProgram(t, 'test/interop/rpcserver');
    if (!bin) return;
    const p = spawnProc(bin, []);
    const [, address] = await p.waitFor(/listening (\S+)/);
    const client = await dialRpc(address!);
    const calls = [1, 2, 3].map(() =>
      client.call('Arith.Sleep', 5000).then(
        () => null,
        (err: unknown) => err,
      ),
    );
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(client.pending, 3);
    const start = Date.now();
    await p.kill('SIGKILL');
    for (const err of await Promise.all(calls)) {
      assert.match(String((err as { code?: string } | null)?.code), /^NETKIT_CONNECTION_(CLOSED|RESET)$/);
    }
    assert.ok(Date.now() - start < 1000);
    assert.equal(client.pending, 0);
    await assert.rejects(client.call('Arith.Multiply', { A: 1, B: 1 }), {
      code: /NETKIT_CONNECTION_(CLOSED|RESET)/,
    });
  });
});
