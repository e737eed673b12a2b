/** serveHttp({ handler, routes }): the user's handlers in front of netkit's routes, their failures, and the limits. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import tls from 'node:tls';
import express from 'express';
import { InvalidArgumentError } from '../../../src/errors.js';
import type { RequestInfo } from '../../../src/http/inspect.js';
import { type HttpServerOptions, serveHttp } from '../../../src/http/server/index.js';

async function start(t: TestContext, options: HttpServerOptions) {
  const server = await serveHttp('127.0.0.1:0', options);
  t.after(() => server.close());
  const errors: Error[] = [];
  server.on('handlerError', (err) => errors.push(err));
  return { server, base: `http://${server.address}`, errors };
}

interface Raw {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** send makes one request with node:http on a connection of its own; `path` is sent as is. */
function send(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    // host, port and path apart: a URL would resolve the dot segments before they are sent
    const { hostname, port } = new URL(base);
    const req = http.request({ ...options, hostname, port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('serveHttp with a handler of the user', () => {
  it("answers the user's paths and hands the rest to netkit's inspector through next()", async (t) => {
    const { base, errors } = await start(t, {
      handler: (req, res, next) => {
        if (req.url === '/mine') {
          res.setHeader('content-type', 'text/plain');
          res.end('mine\n');
          return;
        }
        next();
      },
    });
    const mine = await fetch(`${base}/mine`);
    assert.equal(mine.status, 200);
    assert.equal(await mine.text(), 'mine\n');
    const greeting = await fetch(`${base}/other`);
    assert.equal(await greeting.text(), "Hello, you've requested: /other\n");
    const inspected = await fetch(`${base}/echo?a=1`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: '{"n":1}',
    });
    const info = (await inspected.json()) as RequestInfo;
    assert.equal(info.url, '/echo?a=1');
    assert.deepEqual(info.body.json, { n: 1 });
    assert.equal(info.remote.ip, '127.0.0.1');
    assert.deepEqual(errors, []);
  });

  it('runs routes first, most specific pattern first, then the handler, then netkit', async (t) => {
    const seen: string[] = [];
    const tag =
      (name: string, pass = false) =>
      (_req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => {
        seen.push(name);
        if (pass) next();
        else res.end(name);
      };
    const { base } = await start(t, {
      routes: {
        '/api/': tag('api subtree'),
        '/api/items': tag('items'),
        'POST /api/items': tag('post items'),
        'GET /pass/': tag('pass', true),
      },
      handler: tag('handler', true),
    });
    const table: [method: string, path: string, status: number, body: string, trail: string[]][] = [
      ['GET', '/api/items', 200, 'items', ['items']],
      ['POST', '/api/items', 200, 'post items', ['post items']],
      ['GET', '/api/items/1', 200, 'api subtree', ['api subtree']],
      ['GET', '/api', 200, "Hello, you've requested: /api\n", ['handler']],
      ['GET', '/pass/x', 200, "Hello, you've requested: /pass/x\n", ['pass', 'handler']],
      ['HEAD', '/pass/x', 200, '', ['pass', 'handler']],
    ];
    for (const [i, [method, path, status, body, trail]] of table.entries()) {
      seen.length = 0;
      const res = await send(base, path, { method });
      assert.equal(res.status, status, `#${i}: ${method} ${path}`);
      assert.equal(res.body, body, `#${i}: ${method} ${path}`);
      assert.deepEqual(seen, trail, `#${i}: ${method} ${path}`);
    }
  });

  it('answers 405 with Allow when a pattern has the path for other methods only, as Go does', async (t) => {
    const { base } = await start(t, {
      routes: { 'POST /hook': (_q, r) => void r.end('ok'), 'GET /hook': (_q, r) => void r.end('get') },
    });
    const res = await send(base, '/hook', { method: 'DELETE' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.allow, 'GET, HEAD, POST');
  });

  it('redirects a path with dot segments to the clean path of its route, never running the route on it', async (t) => {
    let ran = 0;
    const admin = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      ran++;
      res.end('admin');
    };
    const { base } = await start(t, { routes: { '/admin/': admin } });
    const res = await send(base, '/public/../admin/x?q=1');
    assert.equal(res.status, 301);
    assert.equal(res.headers.location, '/admin/x?q=1');
    assert.equal(ran, 0);
    // A dotted path no route cleans to is the inspector's to show as it came.
    const other = await send(base, '/a/../b', { headers: { accept: 'application/json' } });
    assert.equal((JSON.parse(other.body) as RequestInfo).url, '/a/../b');
  });

  for (const [name, handler] of [
    [
      'throwing',
      () => {
        throw new Error('thrown');
      },
    ],
    ['rejecting', async () => Promise.reject(new Error('rejected'))],
    ['next(err)', (_q: unknown, _r: unknown, next: (e?: unknown) => void) => next(new Error('passed'))],
  ] as const) {
    it(`answers 500 for a ${name} handler, emits handlerError, and keeps serving`, async (t) => {
      const { base, errors } = await start(t, {
        routes: { '/bad': handler, '/good': (_q, r) => void r.end('good') },
      });
      const bad = await fetch(`${base}/bad`, { headers: { accept: 'application/json' } });
      assert.equal(bad.status, 500);
      assert.deepEqual(await bad.json(), { status: 500, error: 'internal error' });
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof Error);
      const again = await fetch(`${base}/bad`);
      assert.equal(again.status, 500);
      assert.equal(errors.length, 2);
      const good = await fetch(`${base}/good`);
      assert.equal(await good.text(), 'good');
    });
  }

  it('drops the headers a failed handler set, and wraps a thrown non-Error', async (t) => {
    const { base, errors } = await start(t, {
      handler: (_req, res) => {
        res.setHeader('content-length', '999');
        res.setHeader('x-partial', 'yes');
        throw 'a string';
      },
    });
    const res = await send(base, '/');
    assert.equal(res.status, 500);
    assert.equal(res.headers['x-partial'], undefined);
    assert.equal(res.body, '500 internal error\n');
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error & { cause?: unknown }).cause, 'a string');
  });

  it('cuts the connection when a handler fails after its answer began', async (t) => {
    const { base, errors } = await start(t, {
      handler: async (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('half');
        await new Promise((r) => setImmediate(r));
        throw new Error('late');
      },
    });
    await assert.rejects(send(base, '/'), (err: NodeJS.ErrnoException) => {
      assert.ok(['ECONNRESET', 'ERR_STREAM_PREMATURE_CLOSE'].includes(err.code ?? err.message), String(err));
      return true;
    });
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.message, 'late');
  });

  it("takes an Express app: its routes answer, unmatched paths reach netkit's, its errors become 500", async (t) => {
    const app = express();
    app.get('/express', (_req, res) => {
      res.send('from express');
    });
    app.get('/express/fail', () => {
      throw new Error('express route');
    });
    const { base, errors } = await start(t, { handler: app });
    assert.equal(await (await fetch(`${base}/express`)).text(), 'from express');
    assert.equal(await (await fetch(`${base}/elsewhere`)).text(), "Hello, you've requested: /elsewhere\n");
    const fail = await fetch(`${base}/express/fail`);
    assert.equal(fail.status, 500);
    assert.equal(errors[0]?.message, 'express route');
  });

  it('falls through to static files with dir', async (t) => {
    const { base } = await start(t, {
      dir: 'docs',
      routes: { '/live': (_q, r) => void r.end('live') },
    });
    assert.equal(await (await fetch(`${base}/live`)).text(), 'live');
    const doc = await fetch(`${base}/http.md`);
    assert.equal(doc.status, 200);
    assert.match(await doc.text(), /^# HTTP/);
  });

  it('shows a body the handler read before falling through as consumed', async (t) => {
    const { base } = await start(t, {
      handler: async (req, _res, next) => {
        for await (const _ of req);
        next();
      },
    });
    const res = await send(base, '/', {
      method: 'POST',
      headers: { accept: 'application/json' },
      body: Buffer.from('read already'),
    });
    assert.deepEqual((JSON.parse(res.body) as RequestInfo).body, { bytes: 0, kind: 'consumed' });
  });
});

describe("serveHttp's limits hold with a handler of the user", () => {
  it('answers 413 to a declared oversize body before the handler runs', async (t) => {
    let ran = 0;
    const { base } = await start(t, {
      maxBodyBytes: 1024,
      handler: (_req, res) => {
        ran++;
        res.end('ok');
      },
    });
    const ok = await send(base, '/', { method: 'POST', body: Buffer.alloc(1024, 'a') });
    assert.equal(ok.status, 200);
    const big = await send(base, '/', { method: 'POST', body: Buffer.alloc(4096, 'a') });
    assert.equal(big.status, 413);
    assert.equal(big.headers.connection, 'close');
    assert.equal(ran, 1);
  });

  it('answers 413 to a chunked body once it passes the limit; the reader never gets a truncated body', async (t) => {
    let completed = 0;
    let readFailed: (bytes: number) => void = () => {};
    const failedAt = new Promise<number>((r) => {
      readFailed = r;
    });
    const { base, errors } = await start(t, {
      maxBodyBytes: 1024,
      handler: async (req, res) => {
        let bytes = 0;
        try {
          for await (const chunk of req) bytes += (chunk as Buffer).length;
        } catch {
          readFailed(bytes);
          throw new Error('body read failed');
        }
        completed++;
        res.end(`read ${bytes}`);
      },
    });
    const res = await send(base, '/', {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(8192, 'a'),
    });
    assert.equal(res.status, 413);
    assert.match(res.body, /exceeds the limit of 1024 bytes/);
    assert.ok((await failedAt) <= 1024);
    assert.equal(completed, 0);
    // The failed read after the 413 is the limit at work, not a handler bug.
    assert.deepEqual(errors, []);
  });

  it('destroys a slowloris connection at the headers timeout', async (t) => {
    const { server } = await start(t, {
      headersTimeout: 300,
      requestTimeout: 2000,
      handler: (_req, res) => void res.end('never'),
    });
    const [host, port] = server.address.split(':') as [string, string];
    const socket = net.connect(Number(port), host);
    t.after(() => socket.destroy());
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\n');
    const drip = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 50);
    t.after(() => clearInterval(drip));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const began = Date.now();
    await once(socket, 'close');
    assert.ok(Date.now() - began < 1500);
    assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 408 /);
  });

  it('runs behind a PROXY header and TLS: the handler and the inspector see the client the proxy named', async (t) => {
    const { server } = await start(t, {
      tls: true,
      proxy: { trust: ['127.0.0.1/32'] },
      handler: (req, res, next) => {
        if (req.url !== '/mine') return next();
        const socket = req.socket as tls.TLSSocket;
        res.end(`${socket.encrypted === true} ${socket.remoteAddress}`);
      },
    });
    const port = Number(server.address.split(':').pop());
    /** get sends one request through a PROXY v1 header and then TLS, and returns the raw answer. */
    const get = async (path: string, accept = '*/*') => {
      const raw = net.connect(port, '127.0.0.1');
      t.after(() => raw.destroy());
      await once(raw, 'connect');
      raw.write('PROXY TCP4 203.0.113.7 127.0.0.1 5555 443\r\n');
      const secure = tls.connect({ socket: raw, rejectUnauthorized: false, servername: 'localhost' });
      await once(secure, 'secureConnect');
      secure.end(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: ${accept}\r\nConnection: close\r\n\r\n`);
      const chunks: Buffer[] = [];
      for await (const c of secure) chunks.push(c as Buffer);
      return Buffer.concat(chunks).toString();
    };
    assert.match(await get('/mine'), /\r\n\r\ntrue 203\.0\.113\.7$/);
    const inspected = await get('/other', 'application/json');
    const info = JSON.parse(inspected.slice(inspected.indexOf('\r\n\r\n') + 4)) as RequestInfo;
    assert.deepEqual(info.remote, { ip: '203.0.113.7', port: 5555 });
    assert.match(info.tls?.protocol ?? '', /^TLSv1\.[23]$/);
  });

  it('resets connections past maxConnections', async (t) => {
    const { server, base } = await start(t, {
      maxConnections: 1,
      handler: (_req, res) => void res.end('ok'),
    });
    const [host, port] = server.address.split(':') as [string, string];
    const first = net.connect(Number(port), host);
    t.after(() => first.destroy());
    first.on('error', () => {});
    first.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(first, 'data'); // it has spoken: it is not evicted for the newcomer
    await assert.rejects(send(base, '/'), { code: 'ECONNRESET' });
  });
});

describe('serveHttp handler and routes options', () => {
  it('rejects bad ones with NETKIT_INVALID_ARGUMENT naming them', async () => {
    const table: [options: unknown, option: string][] = [
      [{ handler: 'app' }, 'handler'],
      [{ routes: [] }, 'routes'],
      [{ routes: { '/x': 1 } }, 'routes["/x"]'],
      [{ routes: { x: () => {} } }, 'routes["x"]'],
      [{ routes: { 'GET /items/{id}': () => {} } }, 'routes["GET /items/{id}"]'],
      [{ routes: { 'G(T /x': () => {} } }, 'routes["G(T /x"]'],
      [{ routes: { '/a/../b': () => {} } }, 'routes["/a/../b"]'],
    ];
    for (const [i, [options, option]] of table.entries()) {
      await assert.rejects(serveHttp('127.0.0.1:0', options as HttpServerOptions), (err) => {
        assert.ok(err instanceof InvalidArgumentError, `#${i}`);
        assert.equal(err.code, 'NETKIT_INVALID_ARGUMENT', `#${i}`);
        assert.equal(err.option, option, `#${i}`);
        return true;
      });
    }
  });
});

describe('serveHttp routes against hostile request targets', () => {
  it('redirects a dotted absolute-form target as it does an origin-form one, never running the route on it', async (t) => {
    let ran = 0;
    const admin = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      ran++;
      res.end('admin');
    };
    const { base } = await start(t, { routes: { '/admin/': admin } });
    // As a client talking to a proxy sends it; node:http hands it to the server as sent.
    for (const target of [
      'http://example.test/public/../admin/x?q=1',
      'HTTP://example.test/public/%2e%2e/admin/x?q=1',
    ]) {
      const res = await send(base, target);
      assert.equal(res.status, 301, target);
      assert.equal(res.headers.location, '/admin/x?q=1', target);
    }
    assert.equal(ran, 0);
    // A clean absolute-form target reaches its route, and an authority alone is the root.
    assert.equal((await send(base, 'http://example.test/admin/x')).body, 'admin');
    assert.equal(ran, 1);
    assert.equal((await send(base, 'http://example.test?x=1')).status, 200);
  });

  it('never redirects off the server: doubled slashes and backslashes stay on its paths', async (t) => {
    const { base } = await start(t, {
      routes: { '/evil.example/': (_req, res) => res.end('local') },
    });
    let redirected = 0;
    for (const target of [
      '/a/..//evil.example/',
      '/a/..%2F%2Fevil.example/',
      '//evil.example/x/..',
      '/a/../\\evil.example/',
    ]) {
      const res = await send(base, target);
      const location = res.headers.location;
      if (location === undefined) continue;
      redirected++;
      // `//host` or `/\host` would be read by browsers as another host.
      assert.match(location, /^\/(?![/\\])/, `${target} -> ${location}`);
    }
    assert.ok(redirected >= 2, `${redirected} redirects`);
  });
});

describe('serveHttp with careless handlers', () => {
  it('runs what comes next once when next() is called twice, and ignores next(err) after it', async (t) => {
    let handled = 0;
    const { base, errors } = await start(t, {
      routes: {
        '/twice': (_req, _res, next) => {
          next();
          next();
          setImmediate(() => next(new Error('too late')));
        },
      },
      handler: (_req, res) => {
        handled++;
        res.end('handled\n');
      },
    });
    const res = await send(base, '/twice');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'handled\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(handled, 1);
    assert.deepEqual(errors, []);
  });
});
