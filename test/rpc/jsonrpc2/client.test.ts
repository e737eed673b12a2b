import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isNetkitError, TimeoutError } from '../../../src/errors.js';
import { dialJsonRpc2, JsonRpcError } from '../../../src/rpc/jsonrpc2/index.js';
import { Registry } from '../../../src/rpc/registry.js';
import { sleep, startServer } from '../../helpers/net.js';
import { arithRegistry, deferred, startHttp, startTcp } from './helpers.js';

const DEAD = ['NETKIT_CONNECTION_CLOSED', 'NETKIT_CONNECTION_RESET'];

/** startChild runs fixtures/slow-server.ts in its own process and returns its addresses and `called` lines. */
async function startChild(t: TestContext) {
  const script = fileURLToPath(new URL('./fixtures/slow-server.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.after(() => child.kill('SIGKILL'));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const { tcp, http } = JSON.parse(first.value as string) as { tcp: string; http: string };
  const called = async (n: number) => {
    for (let i = 0; i < n; i++) assert.equal((await lines.next()).value, 'called');
  };
  return { child, tcp, http, called };
}

for (const transport of ['tcp', 'http'] as const) {
  test(`${transport}: a server killed mid-call fails every pending call at once`, async (t) => {
    const server = await startChild(t);
    const client = await dialJsonRpc2(server[transport], { timeout: 0 });
    t.after(() => client.destroy());
    const calls = [1, 2, 3].map((i) =>
      client.call('Slow.Wait', [i]).then(
        () => 'resolved',
        (err) => err,
      ),
    );
    await server.called(3);
    const killedAt = Date.now();
    server.child.kill('SIGKILL');
    const errors = await Promise.all(calls);
    assert.ok(Date.now() - killedAt < 1000, 'rejected promptly');
    for (const err of errors) assert.ok(DEAD.includes(err.code), `got ${err.code ?? err}`);
  });
}

test('tcp: after the connection dies, new calls fail with NETKIT_CONNECTION_CLOSED', async (t) => {
  const server = await startTcp(t, new Registry().register('Slow', { Wait: () => new Promise(() => {}) }));
  const client = await dialJsonRpc2(server.address);
  const pending = client.call('Slow.Wait', null);
  await sleep(50);
  server.destroy();
  await assert.rejects(pending, (err) => isNetkitError(err) && DEAD.includes(err.code));
  await assert.rejects(client.call('Slow.Wait', null), { code: 'NETKIT_CONNECTION_CLOSED' });
});

for (const transport of ['tcp', 'http'] as const) {
  test(`${transport}: a call past its timeout rejects with NETKIT_TIMEOUT and its late answer is dropped`, async (t) => {
    const registry = new Registry().register('Delay', {
      Echo: async (args) => {
        const { ms, v } = args as { ms: number; v: unknown };
        await sleep(ms);
        return v;
      },
    });
    const server = transport === 'tcp' ? await startTcp(t, registry) : await startHttp(t, registry);
    const client = await dialJsonRpc2(transport === 'tcp' ? server.address : (server as { url: string }).url);
    t.after(() => client.close());
    const started = Date.now();
    await assert.rejects(client.call('Delay.Echo', { ms: 300, v: 1 }, { timeout: 100 }), (err) => {
      assert.ok(err instanceof TimeoutError);
      assert.equal(err.code, 'NETKIT_TIMEOUT');
      return true;
    });
    const took = Date.now() - started;
    assert.ok(took >= 90 && took < 1000, `took ${took} ms`);
    // The late answer arrives while this call waits: it must not be taken for this call, nor close the connection.
    assert.equal(await client.call('Delay.Echo', { ms: 400, v: 2 }), 2);
    assert.equal(await client.call('Delay.Echo', { ms: 0, v: 3 }, { timeout: 1000 }), 3);
  });
}

test('a call aborted through its signal rejects with NETKIT_ABORTED; an aborted signal fails at once', async (t) => {
  const server = await startTcp(t, new Registry().register('Slow', { Wait: () => new Promise(() => {}) }));
  const client = await dialJsonRpc2(server.address);
  t.after(() => client.destroy());
  const ac = new AbortController();
  const pending = client.call('Slow.Wait', null, { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('user cancelled')), 30);
  await assert.rejects(pending, (err) => {
    assert.ok(isNetkitError(err, 'NETKIT_ABORTED'));
    assert.equal((err.cause as Error).message, 'user cancelled');
    return true;
  });
  await assert.rejects(client.call('Slow.Wait', null, { signal: AbortSignal.abort() }), {
    code: 'NETKIT_ABORTED',
  });
  await assert.rejects(client.batch([{ method: 'Slow.Wait' }], { signal: AbortSignal.abort() }), {
    code: 'NETKIT_ABORTED',
  });
});

test('tcp: concurrent calls answered out of order on one connection each get their own result', async (t) => {
  const finished: number[] = [];
  const registry = new Registry().register('Rand', {
    Echo: async (n) => {
      await sleep(Math.random() * 30);
      finished.push(n as number);
      return { n, square: (n as number) ** 2 };
    },
  });
  const server = await startTcp(t, registry);
  let connections = 0;
  server.server.on('open', () => connections++);
  const client = await dialJsonRpc2(server.address);
  t.after(() => client.close());
  const N = 200;
  const results = await Promise.all(Array.from({ length: N }, (_, i) => client.call('Rand.Echo', i)));
  assert.deepEqual(
    results,
    Array.from({ length: N }, (_, i) => ({ n: i, square: i * i })),
  );
  assert.notDeepEqual(
    finished,
    [...finished].sort((a, b) => a - b),
    'the server answered out of order',
  );
  assert.equal(connections, 1);
});

test('tcp: an answer to no call is NETKIT_RPC_PROTOCOL and closes the connection', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.readLine();
    await conn.write('{"jsonrpc":"2.0","result":1,"id":999}\n');
    await sleep(1000);
  });
  const client = await dialJsonRpc2(address);
  await assert.rejects(client.call('X.Y', null), { code: 'NETKIT_RPC_PROTOCOL' });
  await assert.rejects(client.call('X.Y', null), { code: 'NETKIT_CONNECTION_CLOSED' });
});

test('tcp: an error answered with id null fails every pending call with that error', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.readLine();
    await conn.readLine();
    await conn.write('{"jsonrpc":"2.0","error":{"code":-32700,"message":"Parse error"},"id":null}\n');
    await sleep(1000);
  });
  const client = await dialJsonRpc2(address);
  const calls = [client.call('X.Y', 1), client.call('X.Y', 2)];
  for (const c of calls) await assert.rejects(c, { code: 'NETKIT_RPC_SERVER_ERROR', rpcCode: -32700 });
});

test('http: a status without a JSON-RPC body is NETKIT_RPC_PROTOCOL carrying the status', async (t) => {
  const http = await import('node:http');
  const server = http.createServer((_req, res) => {
    res.writeHead(502, { 'Content-Type': 'text/plain' });
    res.end('bad gateway');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => server.close(r)));
  const { port } = server.address() as { port: number };
  const client = await dialJsonRpc2(`http://127.0.0.1:${port}/`);
  t.after(() => client.close());
  await assert.rejects(client.call('X.Y', null), { code: 'NETKIT_RPC_PROTOCOL', status: 502 });
});

test('nobody listening: NETKIT_DIAL_FAILED over TCP (at connect) and HTTP (at the call)', async (t) => {
  const server = await startTcp(t, arithRegistry());
  const address = server.address;
  await server.close();
  await assert.rejects(dialJsonRpc2(address), { code: 'NETKIT_DIAL_FAILED' });
  const client = await dialJsonRpc2(`http://${address}/`);
  await assert.rejects(client.call('Arith.Multiply', { A: 1, B: 2 }), { code: 'NETKIT_DIAL_FAILED' });
  await client.close();
});

test('close() lets calls in progress finish, then refuses new ones', async (t) => {
  const gate = deferred();
  const registry = new Registry().register('Gate', { Wait: () => gate.promise.then(() => 'opened') });
  const server = await startTcp(t, registry);
  const client = await dialJsonRpc2(server.address);
  const pending = client.call('Gate.Wait', null);
  await sleep(20);
  const closing = client.close();
  await assert.rejects(client.call('Gate.Wait', null), { code: 'NETKIT_CONNECTION_CLOSED' });
  gate.resolve();
  assert.equal(await pending, 'opened');
  await closing;
});

test('error data, null results and scalar params round-trip through netkit on both ends', async (t) => {
  const registry = new Registry().register('Misc', {
    Fail: () => {
      throw Object.assign(new Error('quota exceeded'), { data: { retryAfter: 30 } });
    },
    Nothing: () => undefined,
    Double: (n) => (n as number) * 2,
    Args: (a) => ({ got: a === undefined ? 'undefined' : a }),
  });
  for (const server of [await startTcp(t, registry), await startHttp(t, registry)]) {
    const client = await dialJsonRpc2('url' in server ? server.url : server.address);
    await assert.rejects(client.call('Misc.Fail'), (err) => {
      assert.ok(err instanceof JsonRpcError);
      assert.equal(err.rpcCode, -32000);
      assert.deepEqual(err.data, { retryAfter: 30 });
      return true;
    });
    assert.equal(await client.call('Misc.Nothing'), null);
    assert.equal(await client.call('Misc.Double', 21), 42, 'a scalar is sent as [21] and unwrapped');
    assert.deepEqual(await client.call('Misc.Args'), { got: 'undefined' });
    assert.deepEqual(await client.call('Misc.Args', [1, 2]), { got: [1, 2] });
    await client.close();
  }
});

test('arguments are validated, naming what is wrong', async (t) => {
  await assert.rejects(dialJsonRpc2(''), { code: 'NETKIT_INVALID_ARGUMENT', option: 'target' });
  await assert.rejects(dialJsonRpc2('ftp://x/'), { option: 'target' });
  await assert.rejects(dialJsonRpc2('http://127.0.0.1:1/', { timeout: -1 }), { option: 'timeout' });
  const server = await startHttp(t, arithRegistry());
  const client = await dialJsonRpc2(server.url);
  t.after(() => client.close());
  await assert.rejects(client.call(''), { option: 'method' });
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await assert.rejects(client.call('Arith.Multiply', cyclic), { option: 'params' });
  await assert.rejects(client.batch([]), { option: 'items' });
});
