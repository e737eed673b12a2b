/**
 * The relay's other endpoints over real sockets: TCP clients into a
 * WebSocket server (one binary message per chunk) and WebSocket clients
 * into a TCP server, TLS terminated on the listen side and originated to
 * a target (pin checked), a `-` stream, and exec: programs (bytes both
 * ways, half-close, the child reaped when the connection closes, the
 * concurrency limit, never for a non-loopback client).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Duplex, PassThrough } from 'node:stream';
import { type TestContext, test } from 'node:test';
import tls from 'node:tls';
import WebSocket from 'ws';
import { echoHandler, listen, serve } from '../../src/tcp/index.js';
import { serveWs } from '../../src/ws/index.js';
import { until } from '../helpers/net.js';
import { roundTrip, startRelay } from '../helpers/relay.js';

async function tcpEcho(t: TestContext, options: Parameters<typeof listen>[1] = {}) {
  const listener = await listen('127.0.0.1:0', options);
  const server = serve(listener, echoHandler());
  t.after(() => server.destroy());
  return { address: server.address, listener };
}

test('TCP clients into a WebSocket server: bytes go as binary messages and come back', async (t) => {
  const ws = await serveWs('127.0.0.1:0', { path: '/echo' });
  t.after(() => ws.destroy());
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [`ws://${ws.address}/echo`] });
  const payload = Buffer.from('over a websocket\n');
  const c = net.connect({ host: '127.0.0.1', port: Number(r.address.split(':')[1]) });
  c.write(payload);
  const [got] = await once(c, 'data');
  assert.deepEqual(got, payload);
  c.destroy();
});

test('WebSocket clients into a TCP server: each message reaches it, replies come back as binary messages', async (t) => {
  const echo = await tcpEcho(t);
  const r = await startRelay(t, { listen: 'ws://127.0.0.1:0/tunnel', targets: [echo.address] });
  assert.match(r.address, /^ws:\/\/127\.0\.0\.1:\d+\/tunnel$/);
  const client = new WebSocket(r.address);
  await once(client, 'open');
  client.send(Buffer.from('line one\n'));
  const [data, binary] = await once(client, 'message');
  assert.equal(binary, true);
  assert.equal(String(data), 'line one\n');
  const closed = once(r, 'close');
  client.close();
  const [s] = await closed;
  assert.equal(s.first, 'client');
  // Anything but an upgrade on the path is told what this address is.
  const res = await fetch(r.address.replace('ws:', 'http:'));
  assert.equal(res.status, 426);
  assert.equal((await fetch(r.address.replace('ws:', 'http:').replace('/tunnel', '/other'))).status, 404);
});

test('tls: terminated on the listen side, originated to a target with its pin checked', async (t) => {
  const backend = await tcpEcho(t, { tls: true });
  const pin = backend.listener.tls?.fingerprint as string;
  const r = await startRelay(t, {
    listen: 'tls:127.0.0.1:0',
    targets: [`tls:${backend.address}`],
    targetTls: { pin, insecure: true },
  });
  const got = await roundTrip(r.address, 'secret\n', (o) =>
    tls.connect({ ...(o as tls.ConnectionOptions), rejectUnauthorized: false }),
  );
  assert.equal(got.toString(), 'secret\n');
  // A wrong pin: the relay refuses the target and says why.
  const wrong = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [`tls:${backend.address}`],
    targetTls: { pin: `sha256:${'0'.repeat(64)}`, insecure: true },
  });
  const failed = once(wrong, 'fail');
  const c = net.connect({ host: '127.0.0.1', port: Number(wrong.address.split(':')[1]) });
  c.on('error', () => {});
  const [f] = await failed;
  assert.equal(f.code, 'NETKIT_TLS_FAILED');
  c.destroy();
});

test('- relays one stream to the target and ends with it', async (t) => {
  const echo = await tcpEcho(t);
  const input = new PassThrough();
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  const r = await startRelay(t, {
    listen: '-',
    targets: [echo.address],
    stdio: Duplex.from({ readable: input, writable: output }),
  });
  input.end('through stdio\n');
  await r.done;
  assert.equal(Buffer.concat(chunks).toString(), 'through stdio\n');
});

test('exec: a program per connection, half-close passed on, the child reaped on close', async (t) => {
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: ["exec:/bin/sh -c 'echo $$; tr a-z A-Z'"],
  });
  const got = (await roundTrip(r.address, 'shout\n')).toString();
  const [pid, answer] = got.split('\n');
  assert.equal(answer, 'SHOUT');
  await until(
    () => {
      try {
        process.kill(Number(pid), 0);
        return false;
      } catch (err) {
        return (err as NodeJS.ErrnoException).code === 'ESRCH';
      }
    },
    5000,
    'the child to be reaped',
  );
});

test('exec: a connection reset early kills its child; maxChildren bounds them', async (t) => {
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: ["exec:/bin/sh -c 'echo $$; exec sleep 30'"],
    maxChildren: 1,
  });
  const port = Number(r.address.split(':')[1]);
  const first = net.connect({ host: '127.0.0.1', port });
  const [line] = await once(first, 'data');
  const pid = Number(String(line).trim());
  // A second client while the first child runs: refused with the limit's code.
  const failed = once(r, 'fail');
  const second = net.connect({ host: '127.0.0.1', port });
  second.on('error', () => {});
  const [f] = await failed;
  assert.equal(f.code, 'NETKIT_EXEC_LIMIT');
  second.destroy();
  // A reset client (a FIN alone would leave the child's output direction open, as TCP allows).
  first.resetAndDestroy();
  await until(
    () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    },
    8000,
    'the sleeping child to be killed',
  );
});

test('exec: refused for a client that is not on loopback, unless allowed', async (t) => {
  // The relay listens on every address; a client from a non-loopback address of this host is refused.
  const outside = Object.values((await import('node:os')).networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
  if (outside === undefined) {
    t.skip('no non-loopback IPv4 address on this machine');
    return;
  }
  const r = await startRelay(t, {
    listen: '0.0.0.0:0',
    targets: ['exec:/bin/cat'],
    allowRemoteExec: false,
  }).catch((e) => e);
  assert.equal((r as { option?: string }).option, 'allowRemoteExec');
  const allowed = await startRelay(t, {
    listen: '0.0.0.0:0',
    targets: ['exec:/bin/cat'],
    allowRemoteExec: true,
  });
  const got = await roundTrip(`${outside}:${allowed.address.split(':').pop()}`, 'cat');
  assert.equal(got.toString(), 'cat');
});

test('exec: a client named by a trusted PROXY header is refused when it is not on loopback', async (t) => {
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: ['exec:/bin/cat'],
    proxy: { trust: ['127.0.0.1/32'] },
  });
  const failed = once(r, 'fail');
  const c = net.connect({ host: '127.0.0.1', port: Number(r.address.split(':')[1]) });
  c.on('error', () => {});
  c.write('PROXY TCP4 203.0.113.9 127.0.0.1 5555 80\r\nhello');
  const [f] = await failed;
  assert.equal(f.client, '203.0.113.9:5555');
  assert.match(f.reason, /not a loopback client/);
  c.destroy();
});

test('wss:// on the listen side: TLS with an ephemeral certificate, then the WebSocket upgrade', async (t) => {
  const echo = await tcpEcho(t);
  const r = await startRelay(t, { listen: 'wss://127.0.0.1:0/secure', targets: [echo.address] });
  assert.match(r.address, /^wss:\/\/127\.0\.0\.1:\d+\/secure$/);
  const client = new WebSocket(r.address, { rejectUnauthorized: false });
  await once(client, 'open');
  client.send(Buffer.from('over wss\n'));
  const [data] = await once(client, 'message');
  assert.equal(String(data), 'over wss\n');
  client.close();
});
