/**
 * The RPC servers' idle timeout: a connection that says nothing is closed
 * once it passes; a connection whose call is still running is not, however
 * long the call stays silent (RELIABILITY 34, 37).
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { arith } from '../../src/rpc/arith.js';
import { dialRpc } from '../../src/rpc/client/dial.js';
import { dialJsonRpc2, serveJsonRpc2Tcp } from '../../src/rpc/jsonrpc2/index.js';
import { Registry } from '../../src/rpc/registry.js';
import { serveRpc } from '../../src/rpc/server/serve.js';

const IDLE = 300;

function registry(): Registry {
  return new Registry().register('Arith', {
    ...arith,
    async Sleep(ms) {
      await sleep(Number(ms));
      return ms;
    },
  });
}

/** silentFor connects, sends nothing, and resolves with how long the server took to close the connection. */
function silentFor(address: string, cap = 5000): Promise<number> {
  const i = address.lastIndexOf(':');
  const sock = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
  sock.on('error', () => {});
  sock.resume();
  return new Promise((resolve, reject) => {
    let opened = 0;
    sock.once('connect', () => (opened = performance.now()));
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the server kept a silent connection for ${cap} ms`));
    }, cap);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - opened);
    });
  });
}

interface Case {
  name: string;
  start(t: TestContext): Promise<string>;
  /** slowCall makes one call that runs silently for `ms` and resolves with its reply. */
  slowCall(address: string, ms: number): Promise<unknown>;
}

const CASES: Case[] = [
  ...(['gob', 'json'] as const).map(
    (codec): Case => ({
      name: `net/rpc ${codec}`,
      async start(t) {
        const s = await serveRpc('127.0.0.1:0', registry(), { codec, idleTimeout: IDLE });
        t.after(() => s.close());
        return s.address;
      },
      async slowCall(address, ms) {
        const c = await dialRpc(address, { codec });
        try {
          return await c.call('Arith.Sleep', ms, { timeout: 10_000 });
        } finally {
          await c.close();
        }
      },
    }),
  ),
  {
    name: 'JSON-RPC 2.0 over TCP',
    async start(t) {
      const s = await serveJsonRpc2Tcp('127.0.0.1:0', registry(), { idleTimeout: IDLE });
      t.after(() => s.close());
      return s.address;
    },
    async slowCall(address, ms) {
      const c = await dialJsonRpc2(address);
      try {
        return await c.call('Arith.Sleep', [ms], { timeout: 10_000 });
      } finally {
        await c.close();
      }
    },
  },
];

describe('RPC idle timeout', () => {
  for (const c of CASES) {
    it(`${c.name}: a silent connection is closed at idleTimeout`, async (t) => {
      const address = await c.start(t);
      const ms = await silentFor(address);
      assert.ok(ms >= IDLE - 20, `closed after ${ms} ms, before the timeout`);
      assert.ok(ms < IDLE * 3, `closed after ${ms} ms`);
    });

    it(`${c.name}: a call running silently for several timeouts keeps its connection`, async (t) => {
      const address = await c.start(t);
      const reply = await c.slowCall(address, IDLE * 4);
      assert.equal(reply, IDLE * 4);
    });
  }
});
