/**
 * What happens to connections before node:http sees them, and while they
 * idle: RELIABILITY 35 (at maxConnections new connections are refused
 * quickly) and 34 (a peer that goes quiet mid-request is reaped by the idle
 * timeout). Real sockets on port 0.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import {
  HTTP_SERVER_DEFAULTS,
  type HttpServerOptions,
  MAX_DELAY_MS,
  serveHttp,
} from '../../src/http/server/index.js';
import type { Endpoint } from '../../src/tcp/endpoint.js';

async function start(t: TestContext, options: HttpServerOptions) {
  const server = await serveHttp('127.0.0.1:0', { shutdownTimeout: 100, ...options });
  t.after(() => server.close());
  const accepted: net.Socket[] = [];
  server.server.prependListener('connection', (s: net.Socket) => accepted.push(s));
  return { server, accepted };
}

/** open connects a raw socket and resolves once it is connected. */
async function open(t: TestContext, address: string): Promise<net.Socket> {
  const colon = address.lastIndexOf(':');
  const socket = net.connect(Number(address.slice(colon + 1)), address.slice(0, colon));
  socket.on('error', () => {});
  t.after(() => socket.destroy());
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

/** exchange sends one keep-alive request and resolves with the response head's status line. */
function exchange(socket: net.Socket, path = '/'): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (d: Buffer) => {
      text += d.toString('latin1');
      if (text.includes('\n')) {
        socket.off('data', onData);
        resolve(text.slice(0, text.indexOf('\r')));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed before an answer; got ${JSON.stringify(text)}`)));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  });
}

/** ended resolves with how the socket ended (reset or closed) and after how many ms. */
function ended(socket: net.Socket): Promise<{ how: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    let how = 'closed';
    socket.on('error', (err: NodeJS.ErrnoException) => {
      how = err.code ?? 'error';
    });
    socket.once('close', () => resolve({ how, ms: performance.now() - t0 }));
  });
}

describe('connections (serveHttp)', () => {
  it('RELIABILITY 35: past maxConnections a new connection is reset at once; a freed slot is served again', {
    timeout: 10_000,
  }, async (t) => {
    const refused: (Endpoint | undefined)[] = [];
    const { server, accepted } = await start(t, { maxConnections: 2, onRefuse: (r) => refused.push(r) });
    const a = await open(t, server.address);
    const b = await open(t, server.address);
    assert.equal(await exchange(a), 'HTTP/1.1 200 OK');
    assert.equal(await exchange(b), 'HTTP/1.1 200 OK');

    // The reset can come before the client even sees its connect complete.
    const colon = server.address.lastIndexOf(':');
    const c = net.connect(Number(server.address.slice(colon + 1)), server.address.slice(0, colon));
    t.after(() => c.destroy());
    let port: number | undefined;
    c.once('connect', () => {
      port = c.localPort;
    });
    const end = ended(c);
    c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const { how, ms } = await end;
    assert.equal(how, 'ECONNRESET');
    assert.ok(ms < 1000, `refused after ${ms.toFixed(0)} ms`);
    assert.equal(refused.length, 1);
    if (port !== undefined) assert.equal(refused[0]?.port, port);
    assert.equal(refused[0]?.ip, '127.0.0.1');

    // Freeing a slot lets the next connection in.
    const gone = new Promise((resolve) => accepted[0]!.once('close', resolve));
    a.destroy();
    await gone;
    const d = await open(t, server.address);
    assert.equal(await exchange(d), 'HTTP/1.1 200 OK');
    assert.equal(refused.length, 1);
  });

  it('RELIABILITY 37: at maxConnections the oldest connection that said nothing makes room for one that talks', {
    timeout: 10_000,
  }, async (t) => {
    const refused: (Endpoint | undefined)[] = [];
    const { server, accepted } = await start(t, {
      maxConnections: 2,
      headersTimeout: 5000,
      onRefuse: (r) => refused.push(r),
    });
    const first = await open(t, server.address);
    const firstEnded = ended(first);
    const second = await open(t, server.address);
    await new Promise<void>((resolve) => {
      const check = () => (accepted.length === 2 ? resolve() : setTimeout(check, 5));
      check();
    });
    // Both slots are held by sockets that sent nothing; a talking client still gets in.
    const talker = await open(t, server.address);
    assert.equal(await exchange(talker), 'HTTP/1.1 200 OK');
    const { ms } = await firstEnded;
    assert.ok(ms < 2000, `the oldest silent connection was closed after ${ms.toFixed(0)} ms`);
    assert.equal(second.destroyed, false, 'the newer silent connection is kept');
    assert.deepEqual(refused, []);
  });

  it('RELIABILITY 34: a connection silent both ways mid-request is closed at idleTimeout', {
    timeout: 10_000,
  }, async (t) => {
    const { server } = await start(t, { idleTimeout: 300 });
    const quick = await open(t, server.address);
    // An answer that comes before the idle timeout is not affected.
    assert.equal(await exchange(quick, '/?delay=100ms'), 'HTTP/1.1 200 OK');

    const slow = await open(t, server.address);
    const end = ended(slow);
    slow.write('GET /?delay=10s HTTP/1.1\r\nHost: x\r\n\r\n');
    const { ms } = await end;
    assert.ok(ms >= 250 && ms < 3000, `closed after ${ms.toFixed(0)} ms`);
  });

  it('has defaults an internet-facing server can live with', () => {
    assert.equal(HTTP_SERVER_DEFAULTS.maxConnections, 1000);
    assert.ok(HTTP_SERVER_DEFAULTS.idleTimeout > MAX_DELAY_MS, 'a ?delay= answer outlives the idle timeout');
    assert.ok(HTTP_SERVER_DEFAULTS.headersTimeout <= 10_000);
    assert.ok(HTTP_SERVER_DEFAULTS.requestTimeout <= 30_000);
    assert.ok(HTTP_SERVER_DEFAULTS.keepAliveTimeout <= 5_000);
  });

  it('rejects a bad maxConnections, idleTimeout or onRefuse with NETKIT_INVALID_ARGUMENT', async () => {
    for (const [options, option] of [
      [{ maxConnections: 0 }, 'maxConnections'],
      [{ maxConnections: 1.5 }, 'maxConnections'],
      [{ idleTimeout: -1 }, 'idleTimeout'],
      [{ onRefuse: 'log' as unknown as () => void }, 'onRefuse'],
    ] as const) {
      await assert.rejects(serveHttp('127.0.0.1:0', options), { code: 'NETKIT_INVALID_ARGUMENT', option });
    }
  });
});
