/**
 * One table of client TLS cases, run against every netkit client (library
 * and command line): a pin accepted, a wrong pin refused before any
 * application byte, a CA file trusting a self-signed certificate, an
 * expired certificate, a wrong host name, an unknown CA, a client
 * certificate required and then given, a plain-text server, and a round
 * trip over a Unix socket. Each client brings a kit: how to run its
 * protocol on a Listener, and how to make one round trip.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { type Listener, listen } from '../../src/tcp/index.js';
import type { TlsClientOptions } from '../../src/tls/client.js';
import type { TlsServerOptions } from '../../src/tls/server.js';
import { tlsWorld } from './tls-certs.js';

/** Outcome is how one round trip ended: the error code and message, and for the CLI the exit code. */
export type Outcome = { ok: true } | { ok: false; code: string | undefined; message: string; exit?: number };

/** ClientKit is what the suite needs to know about one client. */
export interface ClientKit {
  /** serve runs the client's protocol on `listener` until the test ends. */
  serve(t: TestContext, listener: Listener): Promise<void>;
  /**
   * call makes one round trip to `address` (`host:port` or `unix:/path`),
   * speaking TLS as `tls` says (undefined: plain; `{}`: TLS with the
   * defaults), and reports how it ended.
   */
  call(t: TestContext, address: string, tls: TlsClientOptions | undefined): Promise<Outcome>;
  /** skip lists cases this client cannot run, with the reason. */
  skip?: Partial<Record<CaseName, string>>;
}

/** CaseName names the cases of the suite. */
export type CaseName =
  | 'pin'
  | 'wrong pin'
  | 'cacert'
  | 'expired'
  | 'wrong host'
  | 'unknown ca'
  | 'client cert'
  | 'plain server'
  | 'unix';

/** outcomeOf runs `fn` and turns its rejection into an Outcome. */
export async function outcomeOf(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    await fn();
    return { ok: true };
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    return {
      ok: false,
      code: typeof e?.code === 'string' ? e.code : undefined,
      message: String(e?.message ?? err),
    };
  }
}

/** tlsListener listens on loopback (or `address`) with `tls` and closes after the test. */
export async function tlsListener(
  t: TestContext,
  tls: TlsServerOptions | boolean | undefined,
  address = '127.0.0.1:0',
): Promise<Listener> {
  const listener = await listen(address, { tls });
  t.after(() => listener.close());
  return listener;
}

/**
 * countingServer is a TLS server that reads and counts what clients send
 * after the handshake, and says nothing: what a client that failed its pin
 * check must never have written to.
 */
export async function countingServer(t: TestContext): Promise<{
  listener: Listener;
  received: () => number;
  settled: () => Promise<void>;
}> {
  const listener = await tlsListener(t, true);
  let received = 0;
  const conns: Promise<unknown>[] = [];
  void (async () => {
    for await (const conn of listener) {
      t.after(() => conn.destroy());
      conns.push(
        (async () => {
          try {
            for await (const chunk of conn) received += chunk.length;
          } catch {
            // A client that gives up resets or closes; only the count matters.
          }
        })(),
      );
    }
  })();
  return {
    listener,
    received: () => received,
    // Every accepted connection has been read to its end.
    settled: async () => {
      const deadline = Date.now() + 5000;
      while (conns.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await Promise.all(conns);
    },
  };
}

/** expectTls asserts a TLS failure whose reason matches `reason` (exit 3 on the command line). */
export function expectTls(outcome: Outcome, reason: RegExp): void {
  assert.equal(outcome.ok, false, 'the round trip should have failed');
  if (outcome.ok) return;
  assert.equal(outcome.code, 'NETKIT_TLS_FAILED', outcome.message);
  assert.match(outcome.message, reason);
  if (outcome.exit !== undefined) assert.equal(outcome.exit, 3, outcome.message);
}

/** expectOk asserts a round trip that worked. */
export function expectOk(outcome: Outcome): void {
  assert.deepEqual(outcome, { ok: true });
}

const OTHER_PIN = `sha256:${'ab'.repeat(32)}`;

/** clientTlsSuite registers the cases for one client, named `<name>: <case>`. */
export function clientTlsSuite(name: string, kit: ClientKit): void {
  const run = (c: CaseName, fn: (t: TestContext) => Promise<void>) => {
    const skip = kit.skip?.[c];
    test(`${name}: ${c}`, skip ? { skip } : {}, fn);
  };

  run('pin', async (t) => {
    const l = await tlsListener(t, true);
    await kit.serve(t, l);
    expectOk(await kit.call(t, l.addr.address, { pin: l.tls!.fingerprint }));
  });

  run('wrong pin', async (t) => {
    const server = await countingServer(t);
    const outcome = await kit.call(t, server.listener.addr.address, { pin: OTHER_PIN });
    expectTls(outcome, /pin mismatch/);
    await server.settled();
    assert.equal(server.received(), 0, 'the server got application bytes from a client whose pin failed');
  });

  run('cacert', async (t) => {
    const l = await tlsListener(t, true);
    await kit.serve(t, l);
    expectOk(await kit.call(t, l.addr.address, { ca: l.tls!.certificate }));
  });

  run('expired', async (t) => {
    const w = await tlsWorld();
    const l = await tlsListener(t, { cert: w.expired.cert, key: w.expired.key });
    await kit.serve(t, l);
    expectTls(await kit.call(t, l.addr.address, { ca: w.ca.cert }), /expired/);
  });

  run('wrong host', async (t) => {
    const w = await tlsWorld();
    const l = await tlsListener(t, { cert: w.server.cert, key: w.server.key });
    await kit.serve(t, l);
    expectTls(
      await kit.call(t, l.addr.address, { ca: w.ca.cert, servername: 'wrong.example' }),
      /wrong host/,
    );
  });

  run('unknown ca', async (t) => {
    const w = await tlsWorld();
    const l = await tlsListener(t, { cert: w.server.cert, key: w.server.key });
    await kit.serve(t, l);
    expectTls(await kit.call(t, l.addr.address, {}), /unknown CA/);
  });

  run('client cert', async (t) => {
    const w = await tlsWorld();
    const l = await tlsListener(t, { cert: w.server.cert, key: w.server.key, clientCA: w.clientCa.cert });
    await kit.serve(t, l);
    expectTls(await kit.call(t, l.addr.address, { ca: w.ca.cert }), /client certificate required/);
    expectOk(await kit.call(t, l.addr.address, { ca: w.ca.cert, cert: w.client.cert, key: w.client.key }));
  });

  run('plain server', async (t) => {
    const w = await tlsWorld();
    const l = await tlsListener(t, undefined);
    await kit.serve(t, l);
    expectTls(await kit.call(t, l.addr.address, { ca: w.ca.cert }), /does not speak TLS/);
  });

  run('unix', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-unix-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const plain = await tlsListener(t, undefined, `unix:${path.join(dir, 'plain.sock')}`);
    await kit.serve(t, plain);
    expectOk(await kit.call(t, `unix:${path.join(dir, 'plain.sock')}`, undefined));
    const secure = await tlsListener(t, true, `unix:${path.join(dir, 'tls.sock')}`);
    await kit.serve(t, secure);
    expectOk(await kit.call(t, `unix:${path.join(dir, 'tls.sock')}`, { pin: secure.tls!.fingerprint }));
  });
}
