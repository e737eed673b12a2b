/** RELIABILITY.md items 8-11 (WebSocket), each against a real server on loopback. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { CLOSE, serveWs } from '../../src/ws/index.js';
import { openFds, sleep, until } from '../helpers/net.js';
import { client, closeOf, next, rawWs, startWs } from './fixtures.js';
import { clientFrame, rawRequest, rawUpgrade, readCloseCode, upgradeRequest } from './raw.js';

test('8: thousands of headers or a 100 kB Sec-WebSocket-Protocol are refused fast; the server stays up', async (t) => {
  const server = await startWs(t, { protocols: ['chat'] });
  const started = Date.now();
  const many = Array.from({ length: 5000 }, (_, i) => `X-H${i}: v`);
  const a = await rawRequest(server.address, upgradeRequest(server.address, '/echo', many));
  assert.match(a, /^HTTP\/1\.1 431 /);
  const huge = `Sec-WebSocket-Protocol: ${Array.from({ length: 20_000 }, (_, i) => `p${i}`).join(', ')}`;
  const b = await rawRequest(server.address, upgradeRequest(server.address, '/echo', [huge]));
  assert.match(b, /^HTTP\/1\.1 431 /);
  assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
  // Under the header limit: 1,500 offered subprotocols are parsed and the server's own is chosen.
  const offered = Array.from({ length: 1500 }, (_, i) => `p${i}`);
  const ws = await rawWs(server.url, {}, [...offered, 'chat']);
  assert.equal(ws.protocol, 'chat');
  ws.close();
  // 2,000 tiny headers (Node's header count limit) with the key missing: 400, not a crash (CVE-2024-37890).
  const noKey = [
    'GET /echo HTTP/1.1',
    `Host: ${server.address}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Version: 13',
    ...Array.from({ length: 2000 }, (_, i) => `a${i}: b`),
    '',
    '',
  ].join('\r\n');
  assert.match(await rawRequest(server.address, noKey), /^HTTP\/1\.1 4\d\d /);
  const c = await client(t, server.url, { protocols: ['chat'] });
  await c.send('still up');
  assert.equal((await next(c)).text(), 'still up');
});

test('9: a frame announcing more than maxPayload closes with 1009 before its payload arrives', async (t) => {
  const server = await startWs(t, { maxPayload: 1024 });
  const s = await rawUpgrade(server.address, '/echo');
  t.after(() => s.destroy());
  // Announce 1 GiB and send none of it: the server must not wait to buffer it.
  s.write(clientFrame(2, Buffer.alloc(0), { length: 2 ** 30 }));
  assert.equal(await readCloseCode(s), CLOSE.TOO_BIG);
});

test('9: exactly maxPayload passes; one byte more closes with 1009', async (t) => {
  const server = await startWs(t, { maxPayload: 1024 });
  const c = await client(t, server.url);
  await c.send(Buffer.alloc(1024, 1));
  assert.equal((await next(c)).data.length, 1024);
  const ws = await rawWs(server.url);
  ws.on('error', () => {});
  ws.send(Buffer.alloc(1025));
  assert.equal((await closeOf(ws)).code, CLOSE.TOO_BIG);
});

test('9: a fragmented message whose fragments add up past maxPayload closes with 1009', async (t) => {
  const server = await startWs(t, { maxPayload: 1024 });
  const s = await rawUpgrade(server.address, '/echo');
  t.after(() => s.destroy());
  s.write(clientFrame(2, Buffer.alloc(600), { fin: false }));
  s.write(clientFrame(0, Buffer.alloc(600), { fin: false }));
  assert.equal(await readCloseCode(s), CLOSE.TOO_BIG);
});

test('9: with permessage-deflate, maxPayload applies after decompression (a zip bomb closes with 1009)', async (t) => {
  const server = await startWs(t, { maxPayload: 64 * 1024, perMessageDeflate: true });
  const ws = await rawWs(server.url, { perMessageDeflate: true });
  ws.on('error', () => {});
  assert.match(String(ws.extensions), /permessage-deflate/);
  const closed = closeOf(ws);
  // 8 MiB of zeros compress to a few kB on the wire.
  ws.send(Buffer.alloc(8 * 1024 * 1024), { compress: true });
  assert.equal((await closed).code, CLOSE.TOO_BIG);
  const small = await client(t, server.url, { perMessageDeflate: true });
  await small.send('x'.repeat(10_000));
  assert.equal((await next(small)).data.length, 10_000);
});

test('10: refused upgrades, silent clients and clients gone after 101 leave no socket behind', async (t) => {
  const server = await serveWs('127.0.0.1:0', {
    origins: ['https://ok.example'],
    headersTimeout: 300,
    heartbeat: 0,
  });
  t.after(() => server.close());
  // Warm up lazily opened descriptors before taking the baseline.
  await rawRequest(server.address, upgradeRequest(server.address, '/echo', ['Origin: https://evil.example']));
  await sleep(50);
  const baseline = openFds();
  for (let i = 0; i < 20; i++) {
    const r = await rawRequest(
      server.address,
      upgradeRequest(server.address, '/echo', ['Origin: https://evil.example']),
    );
    assert.match(r, /^HTTP\/1\.1 403 /);
  }
  // Silent: connects and never sends a byte; the header timeout closes it.
  const silent = await rawRequest(server.address, '', 3000);
  assert.ok(silent === '' || /^HTTP\/1\.1 408/.test(silent), silent);
  // Gone after 101.
  for (let i = 0; i < 20; i++) {
    const s = await rawUpgrade(server.address, '/echo').catch(() => undefined);
    if (s) s.destroy();
    else {
      const s2 = await (await import('node:net')).connect(Number(server.address.split(':')[1]), '127.0.0.1');
      s2.destroy();
    }
  }
  await until(() => server.connections === 0, 3000, 'no connections');
  await until(() => openFds() <= baseline, 3000, `fds back to ${baseline} (now ${openFds()})`);
});

test('10: clients gone after 101 with an allowed origin also return fds to baseline', async (t) => {
  const server = await serveWs('127.0.0.1:0', { heartbeat: 0 });
  t.after(() => server.close());
  (await rawUpgrade(server.address, '/echo')).destroy();
  await until(() => server.connections === 0);
  const baseline = openFds();
  const sockets = await Promise.all(Array.from({ length: 50 }, () => rawUpgrade(server.address, '/echo')));
  await until(() => server.connections === 50);
  for (const s of sockets) s.destroy();
  await until(() => server.connections === 0, 3000, 'no connections');
  await until(() => openFds() <= baseline, 3000, `fds back to ${baseline} (now ${openFds()})`);
});

test('11: a peer that stops answering pings is dropped within two heartbeat intervals', async (t) => {
  const interval = 300;
  const server = await startWs(t, { heartbeat: interval });
  const deaf = await rawUpgrade(server.address, '/echo');
  t.after(() => deaf.destroy());
  // A well-behaved peer (ws answers pings) in the same server stays.
  const healthy = await client(t, server.url);
  const started = Date.now();
  deaf.resume(); // read (and ignore) the pings, never answer
  await once(deaf, 'close');
  const took = Date.now() - started;
  assert.ok(took <= 2 * interval + 150, `dropped after ${took} ms`);
  await sleep(interval * 2);
  await healthy.send('alive');
  assert.equal((await next(healthy)).text(), 'alive');
});

test('a peer that does not read is closed with 1008 once its send queue passes maxQueueBytes', async (t) => {
  const server = await startWs(t, { mode: 'broadcast', maxQueueBytes: 256 * 1024, heartbeat: 0 });
  const slow = await rawUpgrade(server.address, '/chat/r');
  t.after(() => slow.destroy());
  const fast = await client(t, `${server.url}/r`);
  await until(() => server.connections === 2);
  const chunk = Buffer.alloc(64 * 1024, 7);
  let delivered = 0;
  for (let i = 0; i < 200 && server.connections === 2; i++) {
    delivered = server.broadcast('r', chunk);
    await next(fast);
    await sleep(1);
  }
  await until(() => server.connections === 1, 5000, 'slow peer dropped');
  assert.ok(delivered >= 1);
  // The fast peer kept getting everything.
  server.broadcast('r', 'after');
  assert.equal((await next(fast)).text(), 'after');
});
