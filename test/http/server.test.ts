import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import type { RequestInfo } from '../../src/http/inspect.js';
import { type HttpServerOptions, serveHttp } from '../../src/http/server/index.js';

async function start(t: TestContext, options: HttpServerOptions = {}) {
  const server = await serveHttp('127.0.0.1:0', options);
  t.after(() => server.close());
  return { server, base: `http://${server.address}` };
}

/** post sends a request with node:http and collects the response (the connection is not reused). */
function post(
  base: string,
  path: string,
  body: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const closed = new Promise<void>((r) => res.socket.once('close', () => r()));
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          closed,
        }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('serveHttp', () => {
  it('answers with the classic Go greeting', async (t) => {
    const { server, base } = await start(t);
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    const res = await fetch(`${base}/some/path?x=1`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), "Hello, you've requested: /some/path\n");
  });

  it('reflects the request as JSON: method, query, headers, a parsed JSON body', async (t) => {
    const seen: RequestInfo[] = [];
    const { base } = await start(t, { onRequest: (i) => seen.push(i) });
    const res = await fetch(`${base}/echo?a=1&a=2&b=x`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json', 'x-test': 'yes' },
      body: JSON.stringify({ n: 1, s: ['t'] }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    const info = (await res.json()) as RequestInfo;
    assert.equal(info.method, 'POST');
    assert.equal(info.path, '/echo');
    assert.equal(info.url, '/echo?a=1&a=2&b=x');
    assert.deepEqual(info.query, { a: ['1', '2'], b: 'x' });
    assert.equal(info.httpVersion, '1.1');
    assert.ok(info.headers.some(([k, v]) => k.toLowerCase() === 'x-test' && v === 'yes'));
    assert.equal(info.remote.ip, '127.0.0.1');
    assert.ok(info.remote.port > 0);
    assert.equal(info.body.kind, 'json');
    assert.deepEqual(info.body.json, { n: 1, s: ['t'] });
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.method, 'POST');
  });

  it('shows a binary body as hex', async (t) => {
    const { base } = await start(t);
    const res = await fetch(`${base}/bin`, {
      method: 'PUT',
      headers: { accept: 'application/json', 'content-type': 'application/octet-stream' },
      body: Buffer.from([0, 1, 2, 0xff]),
    });
    const info = (await res.json()) as RequestInfo;
    assert.deepEqual(info.body, { bytes: 4, kind: 'binary', hex: '000102ff' });
  });

  it('sandboxes the plain greeting, which echoes the path, with and without a request log', async (t) => {
    for (const options of [{}, { onRequest: () => {} }]) {
      const { base } = await start(t, options);
      const res = await fetch(`${base}/%3Cb%3E`, { headers: { accept: 'text/plain' } });
      assert.equal(await res.text(), "Hello, you've requested: /<b>\n");
      assert.equal(res.headers.get('content-security-policy'), "sandbox; default-src 'none'");
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    }
  });

  it('serves an HTML inspector with every value escaped', async (t) => {
    const { base } = await start(t);
    const res = await fetch(`${base}/<script>p</script>?q=<script>q</script>`, {
      method: 'POST',
      headers: { accept: 'text/html', 'x-evil': '<script>h</script>', 'content-type': 'text/plain' },
      body: '<script>b</script>',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    const html = await res.text();
    assert.ok(!html.includes('<script'), 'no raw <script> anywhere');
    for (const part of ['p', 'q', 'h', 'b']) {
      assert.ok(html.includes(`&lt;script&gt;${part}&lt;/script&gt;`), `escaped ${part}`);
    }
  });

  it('shapes the response from query parameters', async (t) => {
    const { base } = await start(t);
    const res = await fetch(`${base}/x?status=418&header=X-A:1&header=X-B:%20two&body=teapot`);
    assert.equal(res.status, 418);
    assert.equal(res.headers.get('x-a'), '1');
    assert.equal(res.headers.get('x-b'), 'two');
    assert.equal(await res.text(), 'teapot');

    const began = Date.now();
    const slow = await fetch(`${base}/slow?delay=200ms`);
    assert.equal(slow.status, 200);
    await slow.text();
    assert.ok(Date.now() - began >= 190, `delayed ${Date.now() - began}ms`);
  });

  it('rejects bad shaping parameters with 400 naming the parameter', async (t) => {
    const { base } = await start(t);
    for (const [query, param] of [
      ['status=abc', 'status'],
      ['status=99', 'status'],
      ['delay=soon', 'delay'],
      ['delay=31s', 'delay'],
      ['header=NoColon', 'header'],
      ['header=Content-Length:1', 'header'],
    ] as const) {
      const res = await fetch(`${base}/?${query}`);
      assert.equal(res.status, 400, query);
      assert.match(await res.text(), new RegExp(`query parameter ${param}`), query);
    }
    const json = await fetch(`${base}/?status=abc`, { headers: { accept: 'application/json' } });
    assert.equal(json.status, 400);
    assert.match(((await json.json()) as { error: string }).error, /status/);
  });

  it('answers 413 to an oversize body and closes the connection', async (t) => {
    const { base } = await start(t, { maxBodyBytes: 1024 });
    const ok = await post(base, '/', Buffer.alloc(1024, 'a'));
    assert.equal(ok.status, 200);
    const big = await post(base, '/', Buffer.alloc(4096, 'a'), { accept: 'application/json' });
    assert.equal(big.status, 413);
    assert.equal(big.headers.connection, 'close');
    assert.match(big.body, /exceeds the limit of 1024 bytes/);
    await big.closed;
    // Without Content-Length (chunked), the limit is enforced while reading.
    const chunked = await post(base, '/', Buffer.alloc(4096, 'a'), { 'transfer-encoding': 'chunked' });
    assert.equal(chunked.status, 413);
    await chunked.closed;
  });

  it('destroys a slowloris connection at the headers timeout', async (t) => {
    const headersTimeout = 300;
    const { server } = await start(t, { headersTimeout, requestTimeout: 2000 });
    const [host, port] = [server.address.split(':')[0]!, Number(server.address.split(':')[1])];
    const socket = net.connect(port, host);
    t.after(() => socket.destroy());
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const began = Date.now();
    socket.write('GET / HTTP/1.1\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 50);
    t.after(() => clearInterval(drip));
    socket.on('error', () => {});
    socket.resume();
    await new Promise<void>((r) => socket.once('close', () => r()));
    clearInterval(drip);
    const took = Date.now() - began;
    assert.ok(took >= headersTimeout - 50, `closed too early: ${took}ms`);
    assert.ok(took < headersTimeout + 700, `closed too late: ${took}ms`);
  });

  it('close() lets an in-flight delayed request finish, then refuses new ones', async (t) => {
    const { server, base } = await start(t);
    const inflight = fetch(`${base}/late?delay=300ms`);
    await new Promise((r) => setTimeout(r, 100));
    const closing = server.close();
    assert.equal(server.closed, true);
    const res = await inflight;
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "Hello, you've requested: /late\n");
    await closing;
    await assert.rejects(fetch(`${base}/again`));
  });

  it('closes when its signal aborts', async (t) => {
    const ac = new AbortController();
    const { server } = await start(t, { signal: ac.signal });
    ac.abort();
    assert.equal(server.closed, true);
    await server.close();
    assert.equal(server.server.listening, false);
  });

  it('rejects bad options with InvalidArgumentError', async () => {
    await assert.rejects(serveHttp('127.0.0.1:0', { maxBodyBytes: -1 }), InvalidArgumentError);
    await assert.rejects(serveHttp('127.0.0.1:0', { headersTimeout: 5000, requestTimeout: 1000 }), {
      code: 'NETKIT_INVALID_ARGUMENT',
      option: 'headersTimeout',
    });
    await assert.rejects(serveHttp('127.0.0.1:0', { network: 'udp' }), { code: 'NETKIT_UNKNOWN_NETWORK' });
  });
});
