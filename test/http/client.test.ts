import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { AbortError, ConnectionError, InvalidArgumentError, TimeoutError } from '../../src/errors.js';
import { BodyTooLargeError, RedirectError, request } from '../../src/http/client/index.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** serveHttp starts a node:http server on 127.0.0.1:0 and closes it after the test. */
async function serveHttp(t: TestContext, handler: Handler): Promise<string> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts).toString();
}

/** echo answers with the request's method, path, selected headers and body as JSON. */
const echo: Handler = async (req, res) => {
  const body = await readBody(req);
  res.setHeader('Content-Type', 'application/json');
  res.end(
    JSON.stringify({
      method: req.method,
      path: req.url,
      body,
      contentLength: req.headers['content-length'] ?? null,
      chunked: req.headers['transfer-encoding'] === 'chunked',
      auth: req.headers.authorization ?? null,
    }),
  );
};

test('GET returns status, status text, version, headers and body', async (t) => {
  const base = await serveHttp(t, (_req, res) => {
    res.writeHead(200, 'Fine', { 'X-Test': 'yes', 'Content-Type': 'text/plain' });
    res.end('hello');
  });
  const res = await request(`${base}/path`);
  assert.equal(res.status, 200);
  assert.equal(res.statusText, 'Fine');
  assert.equal(res.httpVersion, '1.1');
  assert.equal(res.url, `${base}/path`);
  assert.deepEqual(res.redirects, []);
  assert.ok(res.headers.some(([n, v]) => n === 'X-Test' && v === 'yes'));
  assert.equal(res.body.toString(), 'hello');
});

test('POST sends a string body with Content-Length', async (t) => {
  const base = await serveHttp(t, echo);
  const res = await request(new URL(`${base}/echo`), { method: 'post', body: 'héllo' });
  const got = JSON.parse(res.body.toString());
  assert.equal(got.method, 'POST');
  assert.equal(got.body, 'héllo');
  assert.equal(got.contentLength, String(Buffer.byteLength('héllo')));
});

test('POST streams an async iterable body with chunked encoding', async (t) => {
  const base = await serveHttp(t, echo);
  async function* chunks() {
    for (const s of ['one,', 'two,', 'three']) {
      await new Promise((r) => setTimeout(r, 5));
      yield new TextEncoder().encode(s);
    }
  }
  const res = await request(`${base}/echo`, { method: 'POST', body: chunks() });
  const got = JSON.parse(res.body.toString());
  assert.equal(got.body, 'one,two,three');
  assert.equal(got.chunked, true);
});

test('request headers are sent, from an object and from pairs', async (t) => {
  const base = await serveHttp(t, (req, res) => res.end(JSON.stringify(req.rawHeaders)));
  const a = JSON.parse((await request(base, { headers: { 'X-One': '1' } })).body.toString()) as string[];
  assert.ok(a.includes('X-One'));
  const b = await request(base, {
    headers: [
      ['X-Rep', 'a'],
      ['X-Rep', 'b'],
    ],
  });
  const raw = JSON.parse(b.body.toString()) as string[];
  const values = raw.filter((_, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === 'x-rep');
  assert.deepEqual(values, ['a', 'b']);
});

test('response headers keep raw names, raw order and repeats', async (t) => {
  const base = await serveHttp(t, (_req, res) => {
    res.writeHead(200, [
      ['Zeta', '1'],
      ['alpha', '2'],
      ['Set-Cookie', 'a=1'],
      ['MIDDLE', '3'],
      ['Set-Cookie', 'b=2'],
    ] as unknown as http.OutgoingHttpHeaders);
    res.end();
  });
  const res = await request(base);
  const names = res.headers
    .map(([n]) => n)
    .filter((n) => !['Date', 'Connection', 'Content-Length', 'Transfer-Encoding', 'Keep-Alive'].includes(n));
  assert.deepEqual(names, ['Zeta', 'alpha', 'Set-Cookie', 'MIDDLE', 'Set-Cookie']);
  assert.deepEqual(
    res.headers.filter(([n]) => n === 'Set-Cookie').map(([, v]) => v),
    ['a=1', 'b=2'],
  );
});

test('redirects are not followed by default', async (t) => {
  const base = await serveHttp(t, (_req, res) => {
    res.writeHead(302, { Location: '/elsewhere' });
    res.end();
  });
  const res = await request(base);
  assert.equal(res.status, 302);
  assert.deepEqual(res.redirects, []);
});

test('follow: 302 becomes GET without body; relative Location resolves', async (t) => {
  const base = await serveHttp(t, (req, res) => {
    if (req.url === '/start') {
      req.resume();
      res.writeHead(302, { Location: 'echo?x=1' });
      res.end();
    } else echo(req, res);
  });
  const res = await request(`${base}/start`, { method: 'POST', body: 'payload', follow: true });
  const got = JSON.parse(res.body.toString());
  assert.equal(res.status, 200);
  assert.equal(got.method, 'GET');
  assert.equal(got.body, '');
  assert.equal(got.contentLength, null);
  assert.equal(got.path, '/echo?x=1');
  assert.equal(res.url, `${base}/echo?x=1`);
  assert.deepEqual(res.redirects, [`${base}/start`]);
});

test('follow: 307 keeps method and body', async (t) => {
  const base = await serveHttp(t, (req, res) => {
    if (req.url === '/start') {
      req.resume();
      res.writeHead(307, { Location: `/echo` });
      res.end();
    } else echo(req, res);
  });
  const res = await request(`${base}/start`, { method: 'PUT', body: 'payload', follow: 5 });
  const got = JSON.parse(res.body.toString());
  assert.equal(got.method, 'PUT');
  assert.equal(got.body, 'payload');
});

test('follow: 307 with a streamed body rejects with RedirectError', async (t) => {
  const base = await serveHttp(t, (req, res) => {
    req.resume();
    res.writeHead(307, { Location: '/again' });
    res.end();
  });
  async function* body() {
    yield new Uint8Array([1, 2, 3]);
  }
  await assert.rejects(request(base, { method: 'POST', body: body(), follow: true }), RedirectError);
});

test('follow: too many redirects rejects with RedirectError', async (t) => {
  let hits = 0;
  const base = await serveHttp(t, (_req, res) => {
    hits++;
    res.writeHead(302, { Location: `/loop${hits}` });
    res.end();
  });
  await assert.rejects(request(base, { follow: 3 }), (err: unknown) => {
    assert.ok(err instanceof RedirectError);
    assert.equal((err as RedirectError).code, 'NETKIT_REDIRECT_FAILED');
    assert.match(err.message, /too many redirects/);
    assert.equal(err.redirects.length, 4);
    return true;
  });
  assert.equal(hits, 4);
});

test('timing fields are numbers >= 0 and totalMs >= firstByteMs', async (t) => {
  const base = await serveHttp(t, (_req, res) => {
    res.write('a');
    setTimeout(() => res.end('b'), 20);
  });
  const { timing, body } = await request(base);
  assert.equal(body.toString(), 'ab');
  for (const [k, v] of Object.entries(timing)) {
    assert.equal(typeof v, 'number', k);
    assert.ok(Number.isFinite(v) && v >= 0, `${k} = ${v}`);
  }
  assert.equal(timing.dnsMs, 0, 'IP literal: no DNS');
  assert.equal(timing.tlsMs, 0, 'http: no TLS');
  assert.ok(timing.totalMs >= timing.firstByteMs);
  assert.ok(timing.downloadMs >= 15, `downloadMs = ${timing.downloadMs}`);
});

test('a refused port rejects with ConnectionError NETKIT_DIAL_FAILED', async () => {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  await assert.rejects(request(`http://127.0.0.1:${port}/`), (err: unknown) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'NETKIT_DIAL_FAILED');
    assert.equal(err.address, `127.0.0.1:${port}`);
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    return true;
  });
});

test('a server that never answers rejects with NETKIT_TIMEOUT within the timeout', async (t) => {
  const base = await serveHttp(t, () => {});
  const start = Date.now();
  await assert.rejects(request(base, { timeout: 150 }), (err: unknown) => {
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.code, 'NETKIT_TIMEOUT');
    assert.equal(err.op, 'request');
    assert.equal(err.timeoutMs, 150);
    return true;
  });
  const elapsed = Date.now() - start;
  assert.ok(elapsed >= 140 && elapsed < 1500, `elapsed ${elapsed} ms`);
});

test('AbortSignal rejects with NETKIT_ABORTED, before and during the request', async (t) => {
  const base = await serveHttp(t, () => {});
  const reason = new Error('stop');
  await assert.rejects(request(base, { signal: AbortSignal.abort(reason) }), (err: unknown) => {
    assert.ok(err instanceof AbortError);
    assert.equal(err.code, 'NETKIT_ABORTED');
    assert.equal(err.cause, reason);
    return true;
  });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(request(base, { signal: ac.signal, timeout: 5000 }), { code: 'NETKIT_ABORTED' });
});

test('a body beyond maxBodyBytes rejects with BodyTooLargeError', async (t) => {
  const base = await serveHttp(t, (req, res) => {
    if (req.url === '/declared') res.setHeader('Content-Length', '100');
    res.end('x'.repeat(100));
  });
  await assert.rejects(request(`${base}/declared`, { maxBodyBytes: 10 }), BodyTooLargeError);
  await assert.rejects(request(`${base}/chunked`, { maxBodyBytes: 10 }), (err: unknown) => {
    assert.equal((err as BodyTooLargeError).code, 'NETKIT_BODY_TOO_LARGE');
    assert.equal((err as BodyTooLargeError).limit, 10);
    return true;
  });
  assert.equal((await request(`${base}/x`, { maxBodyBytes: 100 })).body.length, 100);
});

test('bad options reject with InvalidArgumentError naming the option', async () => {
  const cases: [unknown, object, string][] = [
    ['ftp://x/', {}, 'url'],
    ['not a url', {}, 'url'],
    ['http://127.0.0.1/', { method: 'BAD METHOD' }, 'method'],
    ['http://127.0.0.1/', { timeout: -1 }, 'timeout'],
    ['http://127.0.0.1/', { follow: 1.5 }, 'follow'],
    ['http://127.0.0.1/', { headers: { 'X-A': 'a\r\nb' } }, 'headers'],
    ['http://127.0.0.1/', { body: 42 }, 'body'],
    ['http://127.0.0.1/', { signal: {} }, 'signal'],
  ];
  for (const [url, options, option] of cases) {
    await assert.rejects(request(url as string, options), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, String(err));
      assert.equal(err.option, option);
      return true;
    });
  }
});

test('a response cut short rejects with NETKIT_CONNECTION_RESET', async (t) => {
  const base = await serveHttp(t, (_req, res) => {
    res.setHeader('Content-Length', '100');
    res.write('partial');
    setTimeout(() => res.socket?.destroy(), 10);
  });
  await assert.rejects(request(base), (err: unknown) => {
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.code, 'NETKIT_CONNECTION_RESET');
    return true;
  });
});

test('follow: a server cannot redirect request() onto a Unix socket; the socket it is on may name itself', async (t) => {
  const { mkdtemp, rm } = await import('node:fs/promises');
  const os = await import('node:os');
  const path = await import('node:path');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-request-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socket = path.join(dir, 'local.sock');
  const reached: string[] = [];
  const local = http.createServer((req, res) => {
    reached.push(req.url ?? '');
    if (req.url === '/self') {
      res.writeHead(302, { Location: `http://unix:${socket}:/inside` });
      res.end();
      return;
    }
    res.end('local secret');
  });
  await new Promise<void>((resolve) => local.listen(socket, resolve));
  t.after(() => new Promise((resolve) => local.close(resolve)));
  const remote = await serveHttp(t, (_req, res) => {
    res.writeHead(302, { Location: `http://unix:${socket}:/containers/json` });
    res.end();
  });
  await assert.rejects(request(remote, { follow: true }), (err) => {
    assert.ok(err instanceof RedirectError);
    assert.equal(err.code, 'NETKIT_REDIRECT_FAILED');
    return true;
  });
  assert.deepEqual(reached, []);
  const self = await request(`http://unix:${socket}:/self`, { follow: true });
  assert.equal(self.status, 200);
  assert.equal(self.body.toString(), 'local secret');
});

test('a response head past the header limit is NETKIT_HTTP_PROTOCOL naming the limit, not "not HTTP"', async (t) => {
  const net = await import('node:net');
  const server = net.createServer((sock) => {
    sock.once('data', () => {
      sock.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(http.maxHeaderSize + 1024)}\r\n\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  await assert.rejects(request(`http://127.0.0.1:${port}/`), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'NETKIT_HTTP_PROTOCOL');
    assert.ok(err.message.includes(String(http.maxHeaderSize)), err.message);
    return true;
  });
});
