/** netkit's net/rpc server and client together: limits, deadlines, bounds, HTTP handshake and golden bytes. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { arith } from '../../src/rpc/arith.js';
import { dialRpc } from '../../src/rpc/client/dial.js';
import { GobClientCodec, GobServerCodec } from '../../src/rpc/codec/gob.js';
import { gob } from '../../src/rpc/gob/index.js';
import { Registry } from '../../src/rpc/registry.js';
import { type RpcServeOptions, serveRpc } from '../../src/rpc/server/serve.js';
import { openFds, until } from '../helpers/net.js';

/**
 * fromNotation turns hex tokens and "quoted text" into bytes, so wire
 * fixtures read like the protocol notes they were captured for.
 */
function fromNotation(text: string): Buffer {
  const parts: Buffer[] = [];
  for (const m of text.matchAll(/"([^"]*)"|([0-9a-f]+)/g)) {
    parts.push(m[1] !== undefined ? Buffer.from(m[1], 'latin1') : Buffer.from(m[2]!, 'hex'));
  }
  return Buffer.concat(parts);
}

/** The first call of Go's rpc.Dial client, Arith.Multiply(&Args{7, 8}), as Go 1.19 writes it. */
const GO_FIRST_CALL = fromNotation(`
  2f ff81 03 01 01 07 "Request" 01 ff82 00 01 02 01 0d "ServiceMethod" 01 0c 00 01 03 "Seq" 01 06 00 00 00
  13 ff82 01 0e "Arith.Multiply" 00
  1e ff83 03 01 01 04 "Args" 01 ff84 00 01 02 01 01 "A" 01 04 00 01 01 "B" 01 04 00 00 00
  07 ff84 01 0e 01 10 00`);

const Args = gob.struct({ A: gob.int, B: gob.int }, 'Args');

async function start(t: TestContext, registry: Registry, options: RpcServeOptions = {}) {
  const server = await serveRpc('127.0.0.1:0', registry, options);
  t.after(() => server.close());
  return server;
}

/** raw opens a plain socket and collects everything until the peer closes (or ms pass). */
async function raw(
  address: string,
  send: Buffer | string,
  ms = 2000,
): Promise<{ data: Buffer; closed: boolean }> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  const sock = net.connect(port, host);
  sock.on('error', () => {});
  const chunks: Buffer[] = [];
  sock.on('data', (c: Buffer) => chunks.push(c));
  sock.write(send);
  const closed = await Promise.race([
    new Promise<boolean>((r) => sock.once('close', () => r(true))),
    sleep(ms).then(() => false),
  ]);
  sock.destroy();
  return { data: Buffer.concat(chunks), closed };
}

describe('gob on the wire', () => {
  it("the client's first call is byte for byte Go's", () => {
    const codec = new GobClientCodec({ maxMessageBytes: 1 << 20 });
    assert.equal(
      codec.encodeRequest('Arith.Multiply', 0, { A: 7, B: 8 }, Args).toString('hex'),
      GO_FIRST_CALL.toString('hex'),
    );
    // The next call on the stream sends no type definitions, as Go's does.
    assert.equal(
      codec.encodeRequest('Arith.Multiply', 1, { A: 7, B: 8 }, Args).toString('hex'),
      fromNotation('15 ff82 01 0e "Arith.Multiply" 01 01 00 07 ff84 01 0e 01 10 00').toString('hex'),
    );
  });

  it("the server reads Go's first call and answers it the way Go's client reads", () => {
    const codec = new GobServerCodec({ maxMessageBytes: 1 << 20 });
    // Fed one byte at a time: the request is complete only at its last byte.
    const got = [];
    for (const b of GO_FIRST_CALL) got.push(...codec.push(Buffer.from([b])));
    assert.deepEqual(got, [{ serviceMethod: 'Arith.Multiply', seq: 0, args: { A: 7, B: 8 } }]);
    const reply = codec.encodeResponse({ serviceMethod: 'Arith.Multiply', seq: 0, error: '' }, 56);
    // int 56 is a singleton value of type int (id 2): 03 04 00 70, as in Go's reply.
    assert.equal(reply.subarray(-4).toString('hex'), '03040070');
    const back = new GobClientCodec({ maxMessageBytes: 1 << 20 }).push(reply);
    assert.deepEqual(back, [{ seq: 0, error: '', reply: 56 }]);
    const err = codec.encodeResponse(
      { serviceMethod: 'Arith.Divide', seq: 2, error: 'divide by zero' },
      undefined,
    );
    assert.ok(err.includes(fromNotation('01 0c "Arith.Divide" 01 02 01 0e "divide by zero" 00')));
  });
});

describe('serveRpc limits and bounds', () => {
  it('a request over maxMessageBytes closes that connection; the server and other clients go on', async (t) => {
    const server = await start(t, new Registry().register('Arith', arith), { maxMessageBytes: 1024 });
    const client = await dialRpc(server.address);
    t.after(() => client.close());
    await assert.rejects(client.call('Arith.Multiply', { A: 1, B: 2, Pad: 'x'.repeat(4096) }), {
      code: /^NETKIT_(GOB_LIMIT|CONNECTION_CLOSED|CONNECTION_RESET)$/,
    });
    const other = await dialRpc(server.address);
    t.after(() => other.close());
    assert.equal(await other.call('Arith.Multiply', { A: 6, B: 7 }), 42);
  });

  it('garbage bytes close the connection without a reply; the process stays up', async (t) => {
    const server = await start(t, new Registry().register('Arith', arith));
    const r = await raw(server.address, Buffer.from('f7010203040506070809', 'hex'));
    assert.equal(r.closed, true);
    assert.equal(r.data.length, 0);
    const json = await start(t, new Registry().register('Arith', arith), { codec: 'json' });
    const j = await raw(json.address, '{"method": "Arith.Multiply", "params": [}\n');
    assert.equal(j.closed, true);
  });

  it('calls per connection are bounded by maxConcurrent, and all of them finish', async (t) => {
    let running = 0;
    let peak = 0;
    const registry = new Registry().register('Slow', {
      async Work(n) {
        running++;
        peak = Math.max(peak, running);
        await sleep(20);
        running--;
        return n;
      },
    });
    const server = await start(t, registry, { maxConcurrent: 3 });
    const client = await dialRpc(server.address);
    t.after(() => client.close());
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => client.call('Slow.Work', i)));
    assert.deepEqual(
      replies,
      Array.from({ length: 20 }, (_, i) => i),
    );
    assert.equal(peak, 3);
  });

  it('a method that throws is an error reply; the connection stays usable', async (t) => {
    const registry = new Registry().register('Bad', {
      Throw() {
        throw new Error('boom');
      },
      Reject: async () => Promise.reject('plain string'),
      Ok: () => 'fine',
      Unencodable: () => () => 1,
    });
    const server = await start(t, registry);
    const client = await dialRpc(server.address);
    t.after(() => client.close());
    await assert.rejects(client.call('Bad.Throw', 1), { code: 'NETKIT_RPC_SERVER_ERROR', message: 'boom' });
    await assert.rejects(client.call('Bad.Reject', 1), { message: 'plain string' });
    await assert.rejects(client.call('Bad.Unencodable', 1), { message: /^rpc: cannot encode reply/ });
    assert.equal(await client.call('Bad.Ok', 1), 'fine');
  });
});

describe('dialRpc deadlines', () => {
  it('timeout and abort reject that call only; a late reply is dropped', async (t) => {
    const registry = new Registry().register('Slow', {
      async Sleep(ms) {
        await sleep(Number(ms));
        return ms;
      },
    });
    const server = await start(t, registry);
    const client = await dialRpc(server.address);
    t.after(() => client.close());
    await assert.rejects(client.call('Slow.Sleep', 200, { timeout: 30 }), { code: 'NETKIT_TIMEOUT' });
    const ac = new AbortController();
    const aborted = client.call('Slow.Sleep', 200, { signal: ac.signal });
    ac.abort();
    await assert.rejects(aborted, { code: 'NETKIT_ABORTED' });
    assert.equal(client.pending, 0);
    await sleep(250); // the late replies arrive and are dropped
    assert.equal(await client.call('Slow.Sleep', 1), 1);
  });

  it('a closed client rejects new calls; dialing a closed port is NETKIT_DIAL_FAILED', async (t) => {
    const server = await start(t, new Registry().register('Arith', arith));
    const client = await dialRpc(server.address);
    await client.close();
    await assert.rejects(client.call('Arith.Multiply', { A: 1, B: 1 }), { code: 'NETKIT_CONNECTION_CLOSED' });
    await assert.rejects(dialRpc('127.0.0.1:1'), { code: 'NETKIT_DIAL_FAILED' });
  });

  it('no sockets leak across many clients', async (t) => {
    const server = await start(t, new Registry().register('Arith', arith));
    const before = openFds();
    for (let i = 0; i < 20; i++) {
      const c = await dialRpc(server.address);
      await c.call('Arith.Multiply', { A: i, B: 2 });
      await c.close();
    }
    await until(() => openFds() <= before + 2, 3000, 'fds back to baseline');
  });
});

describe('serveRpc over HTTP', () => {
  it("answers Go's handshake, 405 for GET on the RPC path, /debug/rpc with counts, 404 elsewhere", async (t) => {
    const server = await start(t, new Registry().register('Arith', arith), { http: true });
    const client = await dialRpc(server.address, { http: true });
    t.after(() => client.close());
    assert.equal(await client.call('Arith.Multiply', { A: 7, B: 8 }), 56);
    const get = await raw(server.address, 'GET /_goRPC_ HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(
      get.data.toString(),
      /^HTTP\/1\.1 405 Method Not Allowed\r\n[\s\S]*\r\n\r\n405 must CONNECT\n$/,
    );
    const debug = await raw(server.address, 'GET /debug/rpc HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(debug.data.toString(), /Service Arith[\s\S]*<td>Multiply<\/td><td class="n">1<\/td>/);
    const json = await raw(server.address, 'GET /debug/rpc HTTP/1.1\r\nAccept: application/json\r\n\r\n');
    const body = JSON.parse(json.data.toString().split('\r\n\r\n')[1]!) as {
      method: string;
      calls: number;
    }[];
    assert.deepEqual(
      body.find((m) => m.method === 'Multiply'),
      { service: 'Arith', method: 'Multiply', calls: 1 },
    );
    const missing = await raw(server.address, 'GET /x HTTP/1.1\r\n\r\n');
    assert.match(missing.data.toString(), /^HTTP\/1\.1 404 /);
  });

  it('bytes that cannot begin an HTTP request get 400 at once, not a wait for headersTimeout', async (t) => {
    const server = await start(t, new Registry().register('Arith', arith), { http: true });
    // A plain gob client's first call, and a JSON request: neither starts with a method token.
    for (const bytes of [GO_FIRST_CALL, Buffer.from(' {"method":"Arith.Multiply","params":[{}],"id":0}\n')]) {
      const started = performance.now();
      const r = await raw(server.address, bytes, 5000);
      assert.match(r.data.toString('latin1'), /^HTTP\/1\.1 400 Bad Request\r\n/);
      assert.equal(r.closed, true);
      assert.ok(performance.now() - started < 1000);
    }
  });

  it('empty lines before the request line are skipped (RFC 9112 section 2.2)', async (t) => {
    const server = await start(t, new Registry().register('Arith', arith), { http: true });
    const r = await raw(server.address, '\r\n\nGET /x HTTP/1.1\r\n\r\n');
    assert.match(r.data.toString(), /^HTTP\/1\.1 404 /);
  });

  it('a request head that never ends is cut off at headersTimeout', async (t) => {
    const server = await start(t, new Registry().register('Arith', arith), {
      http: true,
      headersTimeout: 100,
    });
    const r = await raw(server.address, 'CONNECT /_goRPC_ HTTP/1.0\n', 2000);
    assert.equal(r.closed, true);
  });

  it('a server that is not Go RPC fails the handshake with NETKIT_RPC_PROTOCOL', async (t) => {
    const other = net.createServer((s) => {
      s.on('error', () => {});
      s.end('HTTP/1.0 404 Not Found\n\n');
    });
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    t.after(() => other.close());
    const { port } = other.address() as net.AddressInfo;
    await assert.rejects(dialRpc(`127.0.0.1:${port}`, { http: true }), { code: 'NETKIT_RPC_PROTOCOL' });
  });
});
