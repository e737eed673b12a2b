/** RELIABILITY 19, 21, 22: the PROXY header in front of netkit's TCP and HTTP servers, over real sockets. */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { serveHttp } from '../../src/http/index.js';
import { buildProxyHeaderV1, buildProxyHeaderV2 } from '../../src/proxy/build.js';
import { listen } from '../../src/tcp/index.js';
import { sleep } from '../helpers/net.js';

const v1 = buildProxyHeaderV1({
  family: 'inet',
  source: { address: '203.0.113.7', port: 51000 },
  destination: { address: '198.51.100.1', port: 443 },
});
const v2 = buildProxyHeaderV2({
  command: 'PROXY',
  family: 'inet6',
  transport: 'stream',
  source: { address: '2001:db8::7', port: 51001 },
  destination: { address: '2001:db8::1', port: 443 },
});

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

async function proxiedListener(t: import('node:test').TestContext, trust: string[], timeout = 1000) {
  const l = await listen('127.0.0.1:0', { proxy: { trust, timeout } });
  t.after(() => l.close());
  return l;
}

test('19/21: a trusted peer header gives the client address; bytes sent with it reach the application', async (t) => {
  const l = await proxiedListener(t, ['127.0.0.1/32']);
  for (const [header, remote] of [
    [v1, '203.0.113.7:51000'],
    [v2, '[2001:db8::7]:51001'],
  ] as const) {
    const c = await connect(l.addr.port);
    c.write(Buffer.concat([header, Buffer.from('hello\n')]));
    const conn = await l.accept();
    assert.equal(conn.remoteAddr?.address, remote);
    assert.equal(await conn.readLine(), 'hello');
    conn.destroy();
    c.destroy();
  }
});

test('21: a header arriving one byte at a time still parses', async (t) => {
  const l = await proxiedListener(t, ['127.0.0.1/32']);
  for (const header of [v1, v2]) {
    const c = await connect(l.addr.port);
    c.setNoDelay(true);
    const accepted = l.accept();
    for (const b of Buffer.concat([header, Buffer.from('x\n')])) {
      c.write(Buffer.from([b]));
      await sleep(1);
    }
    const conn = await accepted;
    assert.match(conn.remoteAddr?.address ?? '', /^(203\.0\.113\.7|\[2001:db8::7\])/);
    assert.equal(await conn.readLine(), 'x');
    conn.destroy();
    c.destroy();
  }
});

test('19: a trusted peer that sends no header is closed — no guessing', async (t) => {
  const l = await proxiedListener(t, ['127.0.0.1/32']);
  const c = await connect(l.addr.port);
  c.write('GET / HTTP/1.1\r\n\r\n');
  const closed = await new Promise<boolean>((r) => {
    c.on('close', () => r(true));
    c.on('error', () => {});
    setTimeout(() => r(false), 2000);
  });
  assert.ok(closed);
});

test('19: a peer outside the trust list is served as is; its header is not honoured', async (t) => {
  const l = await proxiedListener(t, ['10.0.0.0/8']);
  const c = await connect(l.addr.port);
  c.write(Buffer.concat([v1, Buffer.from('after\n')]));
  const conn = await l.accept();
  assert.equal(conn.remoteAddr?.ip, '127.0.0.1');
  // The header is just bytes to the application now.
  assert.equal(await conn.readLine(), v1.toString('latin1').trimEnd());
  assert.equal(await conn.readLine(), 'after');
  conn.destroy();
  c.destroy();
});

test('22: a silent trusted connection is closed at the header timeout; a good header clears the timer', async (t) => {
  const l = await proxiedListener(t, ['127.0.0.1/32'], 200);
  const silent = await connect(l.addr.port);
  const started = Date.now();
  await new Promise((r) => silent.on('close', r));
  const took = Date.now() - started;
  assert.ok(took >= 150 && took < 1500, `closed after ${took} ms`);
  const good = await connect(l.addr.port);
  good.write(v1);
  const conn = await l.accept();
  await sleep(400); // well past the header timeout
  good.write('still here\n');
  assert.equal(await conn.readLine(), 'still here');
  conn.destroy();
  good.destroy();
});

test('a malformed header from a trusted peer closes the connection; the listener keeps serving', async (t) => {
  const l = await proxiedListener(t, ['127.0.0.1/32']);
  const bad = await connect(l.addr.port);
  bad.write(`PROXY TCP4 999.1.1.1 1.1.1.1 1 2\r\n`);
  await new Promise((r) => bad.on('close', r));
  const c = await connect(l.addr.port);
  c.write(Buffer.concat([v1, Buffer.from('ok\n')]));
  const conn = await l.accept();
  assert.equal(await conn.readLine(), 'ok');
  conn.destroy();
  c.destroy();
});

test('HTTP: the inspector shows the PROXY client as remote, and trusted X-Forwarded-For as client', async (t) => {
  const server = await serveHttp('127.0.0.1:0', { proxy: { trust: ['127.0.0.1/32', '203.0.113.0/24'] } });
  t.after(() => server.close());
  const port = Number(server.address.split(':')[1]);
  const c = await connect(port);
  // Header and request in one write: the request bytes must be put back for node:http.
  c.write(
    Buffer.concat([
      v1,
      Buffer.from(
        'GET /x HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\nX-Forwarded-For: 6.6.6.6, 198.51.100.77\r\nConnection: close\r\n\r\n',
      ),
    ]),
  );
  let text = '';
  c.on('data', (d) => {
    text += d.toString();
  });
  await new Promise((r) => c.on('end', r));
  const body = JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as {
    remote: { ip: string; port: number };
    client: { ip: string; via: string };
  };
  assert.deepEqual(body.remote, { ip: '203.0.113.7', port: 51000 });
  assert.deepEqual(body.client, { ip: '198.51.100.77', via: 'x-forwarded-for' });
});

test('bad proxy options are refused before binding', async () => {
  await assert.rejects(listen('127.0.0.1:0', { proxy: { trust: ['nope'] } }), (e) =>
    isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'),
  );
  await assert.rejects(listen('127.0.0.1:0', { proxy: {} as never }), (e) =>
    isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'),
  );
});

test('WebSocket: a peer behind a PROXY header reports the client address', async (t) => {
  const { serveWs } = await import('../../src/ws/server/serve.js');
  let seen = '';
  const server = await serveWs('127.0.0.1:0', {
    proxy: { trust: ['127.0.0.1/32'] },
    handler: async (peer) => {
      seen = peer.remoteAddress;
    },
  });
  t.after(() => server.close());
  const c = await connect(Number(server.address.split(':')[1]));
  c.write(
    Buffer.concat([
      v1,
      Buffer.from(
        'GET /echo HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      ),
    ]),
  );
  const head = await new Promise<string>((r) => c.once('data', (d) => r(d.toString('latin1'))));
  assert.match(head, /^HTTP\/1\.1 101 /);
  for (let i = 0; i < 100 && seen === ''; i++) await sleep(10);
  assert.equal(seen, '203.0.113.7:51000');
  c.destroy();
});
