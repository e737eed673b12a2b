/**
 * A client dialled with the wrong codec or transport fails at once with
 * NETKIT_RPC_PROTOCOL, naming in `detected` what the server speaks, instead
 * of waiting out its timeout: against netkit's servers and Go's.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { arith } from '../../src/rpc/arith.js';
import { dialRpc } from '../../src/rpc/client/dial.js';
import { RpcProtocolError } from '../../src/rpc/errors.js';
import { dialJsonRpc2, serveJsonRpc2Http, serveJsonRpc2Tcp } from '../../src/rpc/jsonrpc2/index.js';
import { Registry } from '../../src/rpc/registry.js';
import { serveRpc } from '../../src/rpc/server/serve.js';
import { spawnProc } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

/** TIMEOUT is what every call is given; a mismatch must be reported long before it. */
const TIMEOUT = 30_000;
/** FAST is how long a mismatch may take to be reported (a probe included). */
const FAST = 3000;

type ServerKind = 'gob' | 'json' | 'gob-http' | 'json-http' | 'jsonrpc2' | 'jsonrpc2-http';
type ClientKind = 'gob' | 'json' | 'gob-http' | 'json-http' | 'jsonrpc2' | 'jsonrpc2-http';

async function startServer(t: TestContext, kind: ServerKind): Promise<string> {
  const registry = new Registry().register('Arith', arith);
  if (kind === 'jsonrpc2' || kind === 'jsonrpc2-http') {
    const s =
      kind === 'jsonrpc2'
        ? await serveJsonRpc2Tcp('127.0.0.1:0', registry)
        : await serveJsonRpc2Http('127.0.0.1:0', registry);
    t.after(() => s.close());
    return s.address;
  }
  const [codec, http] = kind.split('-') as ['gob' | 'json', string | undefined];
  const s = await serveRpc('127.0.0.1:0', registry, { codec, http: http === 'http' });
  t.after(() => s.close());
  return s.address;
}

/** callAs makes one Arith.Multiply call as a client of `kind` and resolves with the reply or the error. */
async function callAs(kind: ClientKind, address: string): Promise<unknown> {
  try {
    if (kind === 'jsonrpc2' || kind === 'jsonrpc2-http') {
      const c = await dialJsonRpc2(kind === 'jsonrpc2' ? address : `http://${address}/`, {
        timeout: TIMEOUT,
      });
      try {
        return await c.call('Arith.Multiply', { A: 7, B: 8 });
      } finally {
        c.destroy();
      }
    }
    const [codec, http] = kind.split('-') as ['gob' | 'json', string | undefined];
    const c = await dialRpc(address, { codec, http: http === 'http', timeout: TIMEOUT });
    try {
      return await c.call('Arith.Multiply', { A: 7, B: 8 }, { timeout: TIMEOUT });
    } finally {
      await c.close();
    }
  } catch (err) {
    return err;
  }
}

async function expectMismatch(address: string, client: ClientKind, detected: string): Promise<void> {
  const started = performance.now();
  const err = await callAs(client, address);
  const ms = performance.now() - started;
  assert.ok(err instanceof RpcProtocolError, `got ${String(err)}`);
  assert.equal(err.code, 'NETKIT_RPC_PROTOCOL');
  assert.equal(err.detected, detected, err.message);
  assert.ok(ms < FAST, `took ${ms} ms`);
}

// [client, server, what the client must say the server speaks]
const NETKIT_CASES: [ClientKind, ServerKind, string][] = [
  // The other net/rpc codec: the server closes without a word; a probe on a new connection tells.
  ['gob', 'json', 'json'],
  ['json', 'gob', 'gob'],
  ['gob-http', 'json-http', 'json'],
  ['json-http', 'gob-http', 'gob'],
  // Plain client, HTTP CONNECT server: it answers 400 to bytes that cannot be HTTP.
  ['gob', 'gob-http', 'http'],
  ['json', 'json-http', 'http'],
  // HTTP CONNECT client, plain server: it closes on the CONNECT; a probe without HTTP tells.
  ['gob-http', 'gob', 'gob'],
  ['json-http', 'json', 'json'],
  ['gob-http', 'json', 'json'],
  // JSON-RPC 2.0 against Go's JSON-RPC 1.0 codec, both ways, and against gob.
  ['jsonrpc2', 'json', 'json'],
  ['json', 'jsonrpc2', 'jsonrpc2'],
  ['gob', 'jsonrpc2', 'jsonrpc2'],
  ['jsonrpc2', 'gob', 'gob'],
  // JSON-RPC 2.0 over TCP and over HTTP POST.
  ['jsonrpc2', 'jsonrpc2-http', 'http'],
  ['jsonrpc2-http', 'jsonrpc2', 'jsonrpc2'],
];

describe('a client of the wrong codec or transport fails fast with NETKIT_RPC_PROTOCOL (netkit servers)', () => {
  for (const [client, server, detected] of NETKIT_CASES) {
    it(`${client} client -> ${server} server: detected ${detected}`, async (t) => {
      const address = await startServer(t, server);
      await expectMismatch(address, client, detected);
    });
  }

  it('after a client of the wrong codec, the server still answers the right one', async (t) => {
    for (const kind of ['gob', 'json', 'gob-http', 'json-http', 'jsonrpc2', 'jsonrpc2-http'] as const) {
      const address = await startServer(t, kind);
      assert.ok((await callAs(kind === 'gob' ? 'json' : 'gob', address)) instanceof RpcProtocolError, kind);
      assert.equal(await callAs(kind, address), 56, kind);
    }
  });

  it('a server that closes every connection without a word is not taken for the other codec', async (t) => {
    // It reads what comes, then closes: as a server that dies mid-call does, and as it does to the probe.
    const server = net.createServer((s) => {
      s.on('error', () => {});
      s.once('data', () => setTimeout(() => s.end(), 20));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    for (const kind of ['gob', 'json', 'jsonrpc2'] as const) {
      const err = (await callAs(kind, address)) as { code?: string };
      assert.equal(err.code, 'NETKIT_CONNECTION_CLOSED', kind);
    }
  });
});

describe("a client of the wrong codec or transport fails fast against Go's net/rpc servers", () => {
  // [client, flags of test/interop/rpcserver, detected]
  const GO_CASES: [ClientKind, string[], string][] = [
    ['json', ['-codec', 'gob'], 'gob'],
    ['gob', ['-codec', 'json'], 'json'],
    ['jsonrpc2', ['-codec', 'gob'], 'gob'],
    ['gob-http', ['-codec', 'gob'], 'gob'],
    ['json-http', ['-codec', 'json'], 'json'],
    // Go's HTTP server answers 400 to the JSON request line.
    ['json', ['-http'], 'http'],
  ];
  for (const [client, flags, detected] of GO_CASES) {
    it(`${client} client -> Go ${flags.join(' ')}: detected ${detected}`, async (t) => {
      const bin = await goProgram(t, 'test/interop/rpcserver');
      if (!bin) return;
      const p = spawnProc(bin, flags);
      t.after(() => p.kill());
      const [, address] = await p.waitFor(/listening (\S+)/);
      await expectMismatch(address!, client, detected);
    });
  }
});
