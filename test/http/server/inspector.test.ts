/** inspector(): serveHttp's request inspector mounted in servers that are not netkit's. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import express from 'express';
import { InvalidArgumentError } from '../../../src/errors.js';
import type { RequestInfo } from '../../../src/http/inspect.js';
import { type InspectorOptions, inspector } from '../../../src/http/server/index.js';

/** listen runs `listener` in a plain node:http server on loopback port 0. */
async function listen(t: TestContext, listener: http.RequestListener, host = '127.0.0.1') {
  const server = http.createServer(listener);
  server.listen(0, host);
  await once(server, 'listening');
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { hostname: host, port: (server.address() as AddressInfo).port };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** localPort is the client's own port: what the server must show as the peer's. */
  localPort: number;
}

function ask(
  where: { hostname: string; port: number },
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ ...where, ...options, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          localPort: req.socket!.localPort!,
        }),
      );
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

const JSON_ACCEPT = { accept: 'application/json' };

describe('inspector() in a plain node:http server', () => {
  it('echoes method, target, headers, body and the client address', async (t) => {
    const where = await listen(t, inspector());
    const res = await ask(where, '/x/y?a=1&a=2', {
      method: 'PUT',
      headers: { ...JSON_ACCEPT, 'content-type': 'application/json', 'x-probe': 'p' },
      body: '{"k":[1]}',
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    const info = JSON.parse(res.body) as RequestInfo;
    assert.equal(info.method, 'PUT');
    assert.equal(info.url, '/x/y?a=1&a=2');
    assert.equal(info.path, '/x/y');
    assert.equal(info.base, undefined);
    assert.deepEqual(info.query, { a: ['1', '2'] });
    assert.ok(info.headers.some(([k, v]) => k === 'x-probe' && v === 'p'));
    assert.deepEqual(info.remote, { ip: '127.0.0.1', port: res.localPort });
    assert.deepEqual(info.client, { ip: '127.0.0.1', port: res.localPort, via: 'socket' });
    assert.deepEqual(info.body.json, { k: [1] });
  });

  it('answers the greeting, the HTML page and shaped responses as serveHttp does', async (t) => {
    const where = await listen(t, inspector());
    assert.equal((await ask(where, '/hello')).body, "Hello, you've requested: /hello\n");
    const page = await ask(where, '/p', { headers: { accept: 'text/html' } });
    assert.match(page.headers['content-security-policy'] as string, /^sandbox;/);
    const shaped = await ask(where, '/s?status=418&body=teapot');
    assert.equal(shaped.status, 418);
    assert.equal(shaped.body, 'teapot');
  });

  it('shows the client over IPv6 too', async (t) => {
    let where: { hostname: string; port: number };
    try {
      where = await listen(t, inspector(), '::1');
    } catch {
      t.skip('no IPv6 loopback');
      return;
    }
    const res = await ask(where, '/', { headers: JSON_ACCEPT });
    assert.deepEqual((JSON.parse(res.body) as RequestInfo).remote, { ip: '::1', port: res.localPort });
  });

  it('believes forwarding headers only from the proxies in trust', async (t) => {
    const seen: RequestInfo[] = [];
    const trusting = await listen(t, inspector({ trust: ['127.0.0.0/8'], onRequest: (i) => seen.push(i) }));
    const headers = { ...JSON_ACCEPT, 'x-forwarded-for': '203.0.113.7' };
    const via = JSON.parse((await ask(trusting, '/', { headers })).body) as RequestInfo;
    assert.equal(via.client.ip, '203.0.113.7');
    assert.equal(seen.length, 1);
    const plain = await listen(t, inspector());
    const direct = JSON.parse((await ask(plain, '/', { headers })).body) as RequestInfo;
    assert.equal(direct.client.ip, '127.0.0.1');
  });

  it('keeps its body limit: 413 and Connection: close past maxBodyBytes', async (t) => {
    const where = await listen(t, inspector({ maxBodyBytes: 16 }));
    const ok = await ask(where, '/', { method: 'POST', headers: JSON_ACCEPT, body: 'x'.repeat(16) });
    assert.equal((JSON.parse(ok.body) as RequestInfo).body.bytes, 16);
    const big = await ask(where, '/', { method: 'POST', headers: JSON_ACCEPT, body: 'x'.repeat(64) });
    assert.equal(big.status, 413);
    assert.equal(big.headers.connection, 'close');
    const chunked = await ask(where, '/', {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked' },
      body: 'x'.repeat(64),
    });
    assert.equal(chunked.status, 413);
  });

  it('validates its options at once, naming the option', () => {
    const table: [options: unknown, option: string][] = [
      [{ maxBodyBytes: -1 }, 'maxBodyBytes'],
      [{ maxBodyBytes: 1.5 }, 'maxBodyBytes'],
      [{ trust: ['not a range'] }, 'trust'],
      [{ trust: '127.0.0.1/8' }, 'trust'],
      [{ onRequest: 'log' }, 'onRequest'],
    ];
    for (const [i, [options, option]] of table.entries()) {
      assert.throws(
        () => inspector(options as InspectorOptions),
        (err) => err instanceof InvalidArgumentError && err.option === option,
        `#${i}`,
      );
    }
  });
});

describe('inspector() mounted in Express', () => {
  it('under /debug shows the target as sent, the mount, and the client address', async (t) => {
    const app = express();
    app.get('/', (_req, res) => {
      res.send('app root');
    });
    app.use('/debug', inspector());
    const where = await listen(t, app);
    assert.equal((await ask(where, '/')).body, 'app root');
    const res = await ask(where, '/debug/a%20b/c?z=1', { headers: JSON_ACCEPT });
    assert.equal(res.status, 200);
    const info = JSON.parse(res.body) as RequestInfo;
    assert.equal(info.url, '/debug/a%20b/c?z=1');
    assert.equal(info.base, '/debug');
    assert.equal(info.path, '/debug/a b/c');
    assert.deepEqual(info.query, { z: '1' });
    assert.deepEqual(info.remote, { ip: '127.0.0.1', port: res.localPort });
    assert.equal((await ask(where, '/debug/x')).body, "Hello, you've requested: /debug/x\n");
    // Shaping reads the query under the mount too.
    assert.equal((await ask(where, '/debug?status=202')).status, 202);
  });

  it('under nested routers shows the whole prefix', async (t) => {
    const app = express();
    const router = express.Router();
    router.use('/inner', inspector());
    app.use('/outer', router);
    const where = await listen(t, app);
    const info = JSON.parse(
      (await ask(where, '/outer/inner/x', { headers: JSON_ACCEPT })).body,
    ) as RequestInfo;
    assert.equal(info.base, '/outer/inner');
    assert.equal(info.url, '/outer/inner/x');
  });

  it('reads the body itself, or says a body parser before it took it', async (t) => {
    const app = express();
    app.use('/raw', inspector());
    app.use('/parsed', express.json(), inspector());
    const where = await listen(t, app);
    const post = {
      method: 'POST',
      headers: { ...JSON_ACCEPT, 'content-type': 'application/json' },
      body: '{"a":1}',
    };
    const raw = JSON.parse((await ask(where, '/raw', post)).body) as RequestInfo;
    assert.deepEqual(raw.body.json, { a: 1 });
    const parsed = JSON.parse((await ask(where, '/parsed', post)).body) as RequestInfo;
    assert.deepEqual(parsed.body, { bytes: 0, kind: 'consumed' });
  });
});
