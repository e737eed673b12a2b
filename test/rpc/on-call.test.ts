/** onCall: every RPC server reports each call it answers, unknown ones too; a throwing hook changes nothing. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { arith } from '../../src/rpc/arith.js';
import type { CallEvent } from '../../src/rpc/call-event.js';
import { dialRpc } from '../../src/rpc/client/dial.js';
import { dialJsonRpc2, serveJsonRpc2Http, serveJsonRpc2Tcp } from '../../src/rpc/jsonrpc2/index.js';
import { Registry } from '../../src/rpc/registry.js';
import { serveRpc } from '../../src/rpc/server/serve.js';

type Hook = (e: CallEvent) => void;

interface Case {
  name: string;
  /** start serves Arith with `onCall` and returns a function making one call (resolving with the reply or the error). */
  start(t: TestContext, onCall: Hook): Promise<(method: string, args: unknown) => Promise<unknown>>;
}

const registry = () => new Registry().register('Arith', arith);
const settle = (p: Promise<unknown>) => p.catch((err: unknown) => err);

const CASES: Case[] = [
  ...(['gob', 'json'] as const).map(
    (codec): Case => ({
      name: `net/rpc ${codec}`,
      async start(t, onCall) {
        const s = await serveRpc('127.0.0.1:0', registry(), { codec, onCall });
        const c = await dialRpc(s.address, { codec });
        t.after(async () => {
          await c.close();
          await s.close();
        });
        return (method, args) => settle(c.call(method, args));
      },
    }),
  ),
  {
    name: 'JSON-RPC 2.0 over TCP',
    async start(t, onCall) {
      const s = await serveJsonRpc2Tcp('127.0.0.1:0', registry(), { onCall });
      const c = await dialJsonRpc2(s.address);
      t.after(async () => {
        await c.close();
        await s.close();
      });
      return (method, args) => settle(c.call(method, args));
    },
  },
  {
    name: 'JSON-RPC 2.0 over HTTP',
    async start(t, onCall) {
      const s = await serveJsonRpc2Http('127.0.0.1:0', registry(), { onCall });
      const c = await dialJsonRpc2(`http://${s.address}/`);
      t.after(async () => {
        await c.close();
        await s.close();
      });
      return (method, args) => settle(c.call(method, args));
    },
  },
];

describe('onCall', () => {
  for (const c of CASES) {
    it(`${c.name}: one event per call, with method, duration and error`, async (t) => {
      const events: CallEvent[] = [];
      const call = await c.start(t, (e) => events.push(e));
      assert.equal(await call('Arith.Multiply', { A: 7, B: 8 }), 56);
      await call('Arith.Divide', { A: 1, B: 0 });
      await call('Nope.X', { A: 1, B: 0 });
      assert.deepEqual(
        events.map((e) => [e.method, e.error]),
        [
          ['Arith.Multiply', undefined],
          ['Arith.Divide', 'divide by zero'],
          ['Nope.X', "rpc: can't find service Nope.X"],
        ],
      );
      for (const e of events) {
        assert.match(String(e.remote), /^127\.0\.0\.1:\d+$/);
        assert.ok(e.durationMs >= 0 && e.durationMs < 1000);
      }
    });

    it(`${c.name}: a hook that throws changes no answer`, async (t) => {
      const call = await c.start(t, () => {
        throw new Error('logger down');
      });
      assert.equal(await call('Arith.Multiply', { A: 6, B: 7 }), 42);
      assert.equal(await call('Arith.Multiply', { A: 2, B: 3 }), 6);
    });
  }
});

describe('onCall over a Unix socket', () => {
  // [name, serve on an address, dial a server listening on that path]
  const servers: [
    string,
    (address: string, onCall: Hook) => Promise<{ close(): Promise<void> }>,
    (sock: string) => string,
  ][] = [
    ['net/rpc', (a, onCall) => serveRpc(a, registry(), { onCall }), (sock) => `unix:${sock}`],
    [
      'JSON-RPC 2.0 over TCP',
      (a, onCall) => serveJsonRpc2Tcp(a, registry(), { onCall }),
      (sock) => `unix:${sock}`,
    ],
    [
      'JSON-RPC 2.0 over HTTP',
      (a, onCall) => serveJsonRpc2Http(a, registry(), { onCall }),
      (sock) => `http://unix:${sock}:/`,
    ],
  ];
  for (const [name, serve, target] of servers) {
    it(`${name}: the caller is unix:@, as every server logs a Unix peer`, async (t) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'netkit-oncall-'));
      const sock = path.join(dir, 's.sock');
      const events: CallEvent[] = [];
      const s = await serve(`unix:${sock}`, (e) => events.push(e));
      const c = name === 'net/rpc' ? await dialRpc(target(sock)) : await dialJsonRpc2(target(sock));
      t.after(async () => {
        await c.close();
        await s.close();
        rmSync(dir, { recursive: true, force: true });
      });
      assert.equal(await c.call('Arith.Multiply', { A: 2, B: 3 }), 6);
      assert.deepEqual(
        events.map((e) => e.remote),
        ['unix:@'],
      );
    });
  }
});
