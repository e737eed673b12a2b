/**
 * RELIABILITY.md items 27 and 28 for `serveHttp`: request-smuggling shapes
 * get 400 and a closed connection; slowloris is cut at the header timeout,
 * also on a keep-alive connection's second request. Raw bytes over real
 * sockets, because a well-behaved client cannot send these.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { serveHttp } from '../../src/http/index.js';

async function rawExchange(
  address: string,
  bytes: string,
  waitMs = 2000,
): Promise<{ text: string; closed: boolean }> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    Number(address.slice(address.lastIndexOf(':') + 1)),
  ];
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.write(bytes);
  });
}

const SMUGGLING: [string, string][] = [
  [
    'Content-Length with Transfer-Encoding: chunked',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n',
  ],
  [
    'two different Content-Length values',
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde',
  ],
  [
    'Transfer-Encoding not ending in chunked',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
  ],
  [
    'an obfuscated Transfer-Encoding',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n',
  ],
  [
    'a bad chunk size',
    'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
  ],
  ['a space inside the request line', 'GET /a b HTTP/1.1\r\nHost: x\r\n\r\n'],
];

for (const [name, bytes] of SMUGGLING) {
  test(`#27 ${name}: 400 and the connection is closed, nothing smuggled through`, async (t) => {
    const seen: string[] = [];
    const server = await serveHttp('127.0.0.1:0', { onRequest: (info) => seen.push(info.url) });
    t.after(() => server.close());
    const { text, closed } = await rawExchange(server.address, bytes);
    assert.match(text, /^HTTP\/1\.1 400 /, text);
    assert.equal(closed, true);
    assert.ok(!seen.includes('/smuggled'), 'the smuggled request was served');
  });
}

test('#27 slowloris: a request whose headers never finish is closed at the header timeout', async (t) => {
  const server = await serveHttp('127.0.0.1:0', { headersTimeout: 300, requestTimeout: 1000 });
  t.after(() => server.close());
  const start = Date.now();
  const { closed } = await rawExchange(server.address, 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ', 3000);
  assert.equal(closed, true);
  const took = Date.now() - start;
  assert.ok(took < 1500, `closed after ${took} ms`);
});

test("#27 slowloris on a keep-alive connection's second request is closed too", async (t) => {
  const server = await serveHttp('127.0.0.1:0', {
    headersTimeout: 300,
    requestTimeout: 1000,
    keepAliveTimeout: 5000,
  });
  t.after(() => server.close());
  const start = Date.now();
  // The first request completes; the second never finishes its headers.
  const { text, closed } = await rawExchange(
    server.address,
    'GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\nX-Slow: ',
    4000,
  );
  assert.match(text, /Hello, you've requested: \/first/);
  assert.equal(closed, true);
  assert.ok(Date.now() - start < 2500, `closed after ${Date.now() - start} ms`);
});

test('#28 everything the HTML inspector shows is escaped', async (t) => {
  const server = await serveHttp('127.0.0.1:0');
  t.after(() => server.close());
  const evil = '<script>alert(1)</script>';
  const { text } = await rawExchange(
    server.address,
    `POST /${encodeURIComponent(evil)}?q=${encodeURIComponent(evil)} HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nX-Evil: ${evil}\r\nContent-Length: ${evil.length}\r\nConnection: close\r\n\r\n${evil}`,
  );
  assert.match(text, /^HTTP\/1\.1 200 /);
  assert.doesNotMatch(text, /<script>/);
  assert.match(text, /&lt;script&gt;/);
});
