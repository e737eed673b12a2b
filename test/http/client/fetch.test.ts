/** fetch(): parity with Node's global fetch on the same requests, streaming both ways, aborts, limits, TLS and timings. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import v8 from 'node:v8';
import vm from 'node:vm';
import zlib from 'node:zlib';
import { ConnectionError, InvalidArgumentError, NetkitError, TimeoutError } from '../../../src/errors.js';
import { BodyTooLargeError, fetch, RedirectError } from '../../../src/http/index.js';
import { fingerprintOfPem } from '../../../src/tls/fingerprint.js';
import { tlsWorld } from '../../helpers/tls-certs.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** listenOn starts `server` on 127.0.0.1:0, closes it after the test, and returns its base URL. */
async function listenOn(t: TestContext, server: http.Server, scheme: 'http' | 'https'): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** deferred is a promise with its resolve function (Promise.withResolvers is Node 22). */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const serve = (t: TestContext, handler: Handler) => listenOn(t, http.createServer(handler), 'http');

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of req) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** routes answers the parity cases; /echo describes the request it got. */
const routes: Handler = async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const body = await readBody(req);
  const m = /^\/status\/(\d+)$/.exec(url.pathname);
  if (m) {
    res.writeHead(Number(m[1]), { 'X-Status': m[1]! });
    res.end(Number(m[1]) === 204 || Number(m[1]) === 304 ? undefined : `status ${m[1]}`);
    return;
  }
  const r = /^\/redirect\/(\d+)$/.exec(url.pathname);
  if (r) {
    res.writeHead(Number(r[1]), { Location: url.searchParams.get('to') ?? '/echo' });
    res.end('moved');
    return;
  }
  switch (url.pathname) {
    case '/text':
      res.writeHead(200, 'Fine', { 'Content-Type': 'text/plain; charset=utf-8', 'X-Test': 'yes' });
      res.end('hello, world');
      return;
    case '/json':
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ a: 1, b: [true, null] }));
      return;
    case '/cookies':
      res.setHeader('Set-Cookie', ['a=1; Path=/', 'b=2; HttpOnly']);
      res.end('two cookies');
      return;
    case '/chunked':
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('one ');
      res.write('two ');
      res.end('three');
      return;
    case '/gzip':
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Type': 'text/plain' });
      res.end(zlib.gzipSync('squeezed '.repeat(100)));
      return;
    case '/br':
      res.writeHead(200, { 'Content-Encoding': 'br' });
      res.end(zlib.brotliCompressSync('broken? no, brotli'));
      return;
    case '/deflate':
      res.writeHead(200, { 'Content-Encoding': 'deflate' });
      res.end(zlib.deflateSync('deflated'));
      return;
    case '/bytes':
      res.setHeader('Content-Type', 'application/octet-stream');
      res.end(Buffer.from([0, 1, 2, 253, 254, 255]));
      return;
    case '/loop':
      res.writeHead(302, { Location: '/loop' });
      res.end();
      return;
    default:
      res.setHeader('Content-Type', 'application/json');
      res.end(
        JSON.stringify({
          method: req.method,
          path: req.url,
          body: body.toString(),
          contentType: req.headers['content-type'] ?? null,
          contentLength: req.headers['content-length'] ?? null,
          chunked: req.headers['transfer-encoding'] === 'chunked',
          auth: req.headers.authorization ?? null,
        }),
      );
  }
};

/** Headers that differ by connection handling, not by what fetch does: netkit uses a fresh connection per request. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'date']);

/** seen is what a caller can observe of a fetch Response. */
async function seen(res: Response) {
  return {
    status: res.status,
    statusText: res.statusText,
    ok: res.ok,
    url: res.url,
    redirected: res.redirected,
    type: res.type,
    headers: [...res.headers].filter(([n]) => !HOP_HEADERS.has(n)),
    cookies: res.headers.getSetCookie(),
    bodyNull: res.body === null,
    body: Buffer.from(await res.arrayBuffer()).toString('base64'),
  };
}

const PARITY: { name: string; path: string; init?: () => RequestInit }[] = [
  { name: 'text with a reason phrase', path: '/text' },
  { name: 'json', path: '/json' },
  { name: 'repeated Set-Cookie', path: '/cookies' },
  { name: 'chunked', path: '/chunked' },
  { name: 'gzip decoded', path: '/gzip' },
  { name: 'br decoded', path: '/br' },
  { name: 'deflate decoded', path: '/deflate' },
  { name: 'bytes', path: '/bytes' },
  { name: '404', path: '/status/404' },
  { name: '500', path: '/status/500' },
  { name: '204 has no body', path: '/status/204' },
  { name: '304 has no body', path: '/status/304' },
  { name: 'HEAD has no body', path: '/text', init: () => ({ method: 'HEAD' }) },
  { name: 'query string', path: '/echo?a=1&b=%20' },
  { name: 'POST string', path: '/echo', init: () => ({ method: 'POST', body: 'plain text' }) },
  {
    name: 'POST bytes',
    path: '/echo',
    init: () => ({ method: 'POST', body: new Uint8Array([104, 105]) }),
  },
  {
    name: 'POST URLSearchParams',
    path: '/echo',
    init: () => ({ method: 'POST', body: new URLSearchParams({ q: 'a b', r: 'é' }) }),
  },
  {
    name: 'POST Blob',
    path: '/echo',
    init: () => ({ method: 'POST', body: new Blob(['blob'], { type: 'text/x-blob' }) }),
  },
  { name: 'POST without a body', path: '/echo', init: () => ({ method: 'POST' }) },
  {
    name: 'PUT json',
    path: '/echo',
    init: () => ({ method: 'put', body: '{}', headers: { 'Content-Type': 'application/json' } }),
  },
  { name: 'DELETE', path: '/echo', init: () => ({ method: 'DELETE' }) },
  ...[301, 302, 303, 307, 308].flatMap((code) => [
    { name: `${code} GET followed`, path: `/redirect/${code}` },
    {
      name: `${code} POST followed`,
      path: `/redirect/${code}`,
      init: () => ({
        method: 'POST',
        body: 'form=1',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      }),
    },
    { name: `${code} PUT followed`, path: `/redirect/${code}`, init: () => ({ method: 'PUT', body: 'put' }) },
    { name: `${code} HEAD followed`, path: `/redirect/${code}`, init: () => ({ method: 'HEAD' }) },
    { name: `${code} manual`, path: `/redirect/${code}`, init: (): RequestInit => ({ redirect: 'manual' }) },
  ]),
  { name: 'relative Location with a query', path: '/redirect/302?to=echo%3Fx%3D1' },
  { name: 'Location with a fragment', path: '/redirect/302?to=%2Fecho%23frag' },
];

test('fetch: the same requests give what the global fetch gives', async (t) => {
  const base = await serve(t, routes);
  for (const c of PARITY) {
    const mine = await seen(await fetch(`${base}${c.path}`, c.init?.()));
    const theirs = await seen(await globalThis.fetch(`${base}${c.path}`, c.init?.()));
    assert.deepEqual(mine, theirs, `${c.name}: got ${JSON.stringify(mine)} want ${JSON.stringify(theirs)}`);
  }
});

test('fetch: a Request as input, and FormData as multipart', async (t) => {
  const base = await serve(t, routes);
  const request = () =>
    new Request(`${base}/echo`, { method: 'POST', body: 'from a Request', headers: { 'X-A': '1' } });
  const res = await fetch(request());
  assert.ok(res instanceof Response);
  assert.deepEqual(await res.json(), await (await globalThis.fetch(request())).json());

  const form = new FormData();
  form.append('name', 'netkit');
  form.append('file', new Blob(['content']), 'a.txt');
  const echoed = (await (await fetch(`${base}/echo`, { method: 'POST', body: form })).json()) as {
    contentType: string;
    body: string;
  };
  const boundary = /boundary=(.+)$/.exec(echoed.contentType)?.[1];
  assert.ok(boundary, echoed.contentType);
  const parsed = await new Response(echoed.body, {
    headers: { 'Content-Type': echoed.contentType },
  }).formData();
  assert.equal(parsed.get('name'), 'netkit');
  assert.equal(await (parsed.get('file') as File).text(), 'content');
});

test('fetch: the body streams: the first chunk arrives before the server has finished', {
  timeout: 5000,
}, async (t) => {
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const base = await serve(t, async (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('first');
    await finished;
    res.end(' last');
  });
  t.after(finish);
  const res = await fetch(base);
  assert.equal(res.timing.downloadMs, undefined);
  const reader = res.body!.getReader();
  const first = await reader.read();
  assert.equal(Buffer.from(first.value!).toString(), 'first');
  finish();
  let rest = '';
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += Buffer.from(r.value).toString();
  assert.equal(rest, ' last');
  assert.equal(typeof res.timing.downloadMs, 'number');
});

test('fetch: a ReadableStream body is uploaded as it is produced, chunked', { timeout: 5000 }, async (t) => {
  const firstArrived = deferred<void>();
  const base = await serve(t, async (req, res) => {
    const parts: string[] = [];
    req.on('data', (c: Buffer) => {
      parts.push(c.toString());
      firstArrived.resolve();
    });
    await once(req, 'end');
    res.end(
      JSON.stringify({ body: parts.join(''), chunked: req.headers['transfer-encoding'] === 'chunked' }),
    );
  });
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const pending = fetch(base, { method: 'POST', body, duplex: 'half' } as RequestInit);
  controller.enqueue(new TextEncoder().encode('early '));
  // The server has the first part while the stream is still open.
  await firstArrived.promise;
  controller.enqueue(new TextEncoder().encode('late'));
  controller.close();
  assert.deepEqual(await (await pending).json(), { body: 'early late', chunked: true });

  // An async iterable streams the same way, as Node's fetch takes it.
  async function* parts() {
    yield new TextEncoder().encode('from ');
    yield new TextEncoder().encode('a generator');
  }
  const res = await fetch(base, { method: 'POST', body: parts(), duplex: 'half' } as RequestInit);
  assert.deepEqual(await res.json(), { body: 'from a generator', chunked: true });
});

test('fetch: without duplex a stream body is a TypeError, as fetch', async () => {
  await assert.rejects(
    fetch('http://127.0.0.1:1/', { method: 'POST', body: new ReadableStream() }),
    TypeError,
  );
});

test('fetch: a streamed body cannot follow a 307, but a 303 drops it', async (t) => {
  const base = await serve(t, routes);
  const stream = () => ({
    method: 'POST',
    body: new Blob(['streamed']).stream(),
    duplex: 'half',
  });
  await assert.rejects(fetch(`${base}/redirect/307`, stream() as RequestInit), (err: unknown) => {
    assert.ok(err instanceof RedirectError);
    assert.equal(err.code, 'NETKIT_REDIRECT_FAILED');
    assert.deepEqual(err.redirects, [`${base}/redirect/307`]);
    return true;
  });
  const res = await fetch(`${base}/redirect/303`, stream() as RequestInit);
  assert.equal(((await res.json()) as { method: string }).method, 'GET');
});

test("fetch: redirect 'error', too many redirects and credentials across origins", async (t) => {
  const base = await serve(t, routes);
  const other = await serve(t, routes);
  await assert.rejects(fetch(`${base}/redirect/301`, { redirect: 'error' }), {
    code: 'NETKIT_REDIRECT_FAILED',
  });
  await assert.rejects(fetch(`${base}/loop`, { maxRedirects: 3 }), (err: unknown) => {
    assert.ok(err instanceof RedirectError);
    assert.equal(err.redirects.length, 4);
    return true;
  });
  await assert.rejects(fetch(`${base}/loop`), (err: unknown) => {
    assert.ok(err instanceof RedirectError);
    assert.equal(err.redirects.length, 21, 'fetch follows 20');
    return true;
  });
  for (const [to, auth] of [
    [`${other}/echo`, null],
    ['/echo', 'Bearer x'],
  ] as const) {
    const url = `${base}/redirect/302?to=${encodeURIComponent(to)}`;
    const init = { headers: { Authorization: 'Bearer x' } };
    const mine = (await (await fetch(url, init)).json()) as { auth: string | null };
    const theirs = (await (await globalThis.fetch(url, init)).json()) as { auth: string | null };
    assert.equal(mine.auth, auth, to);
    assert.equal(theirs.auth, auth, to);
  }
});

/** stalled is a server that answers with `head` (a status and some body, or nothing) and never finishes. */
async function stalled(t: TestContext, head: 'none' | 'partial') {
  const requests: http.IncomingMessage[] = [];
  const arrived = deferred<http.IncomingMessage>();
  const base = await serve(t, (req, res) => {
    requests.push(req);
    if (head === 'partial') {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('partial');
    }
    arrived.resolve(req);
  });
  return { base, requests, arrived: arrived.promise };
}

function isAbortError(err: unknown): boolean {
  assert.ok(err instanceof DOMException, String(err));
  assert.equal(err.name, 'AbortError');
  return true;
}

test('fetch: abort before connecting rejects with AbortError and sends nothing', async (t) => {
  const s = await stalled(t, 'none');
  await assert.rejects(fetch(s.base, { signal: AbortSignal.abort() }), isAbortError);
  await assert.rejects(fetch(new Request(s.base, { signal: AbortSignal.abort() })), isAbortError);
  const ac = new AbortController();
  const pending = fetch(s.base, { signal: ac.signal });
  ac.abort();
  await assert.rejects(pending, isAbortError);
  assert.equal(s.requests.length, 0);
});

test('fetch: abort while waiting for the headers rejects with AbortError and closes the connection', async (t) => {
  const s = await stalled(t, 'none');
  const ac = new AbortController();
  const pending = fetch(s.base, { signal: ac.signal });
  const req = await s.arrived;
  const closed = once(req.socket, 'close');
  ac.abort();
  await assert.rejects(pending, isAbortError);
  await closed;
});

test('fetch: abort mid-body errors the body with AbortError; a reason given is the rejection', async (t) => {
  const s = await stalled(t, 'partial');
  const ac = new AbortController();
  const res = await fetch(s.base, { signal: ac.signal });
  const reader = res.body!.getReader();
  assert.equal(Buffer.from((await reader.read()).value!).toString(), 'partial');
  const req = await s.arrived;
  const closed = once(req.socket, 'close');
  ac.abort();
  await assert.rejects(reader.read(), isAbortError);
  await closed;

  const reason = new Error('changed my mind');
  const ac2 = new AbortController();
  const res2 = await fetch(s.base, { signal: ac2.signal });
  ac2.abort(reason);
  await assert.rejects(res2.text(), (err) => err === reason);
});

test('fetch: AbortSignal.timeout() rejects with its TimeoutError, as the global fetch', async (t) => {
  const s = await stalled(t, 'none');
  for (const f of [fetch, globalThis.fetch]) {
    await assert.rejects(f(s.base, { signal: AbortSignal.timeout(50) }), (err: unknown) => {
      assert.ok(err instanceof DOMException, String(err));
      assert.equal(err.name, 'TimeoutError');
      return true;
    });
  }
});

test('fetch: a body cut short by the server errors with NETKIT_CONNECTION_RESET', async (t) => {
  const base = await serve(t, (_req, res) => {
    res.writeHead(200, { 'Content-Length': '100' });
    res.write('only ten b');
    setImmediate(() => res.socket?.destroy());
  });
  const res = await fetch(base);
  await assert.rejects(res.text(), (err: unknown) => {
    assert.ok(err instanceof ConnectionError, String(err));
    assert.equal(err.code, 'NETKIT_CONNECTION_RESET');
    return true;
  });
});

test('fetch: a body that does not decode, or a status no Response can carry, is NETKIT_HTTP_PROTOCOL', async (t) => {
  const base = await serve(t, (req, res) => {
    if (req.url === '/garbage') {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end('this is not gzip');
    } else {
      res.writeHead(999);
      res.end('beyond');
    }
  });
  const res = await fetch(`${base}/garbage`);
  await assert.rejects(res.text(), { code: 'NETKIT_HTTP_PROTOCOL' });
  await assert.rejects(fetch(`${base}/999`), { code: 'NETKIT_HTTP_PROTOCOL' });
});

test('fetch: cancelling the body closes the connection', async (t) => {
  const s = await stalled(t, 'partial');
  const res = await fetch(s.base);
  const req = await s.arrived;
  const closed = once(req.socket, 'close');
  await res.body!.cancel();
  await closed;
});

test('fetch: timeout covers the head and the body, with NETKIT_TIMEOUT', async (t) => {
  const silent = await stalled(t, 'none');
  await assert.rejects(fetch(silent.base, { timeout: 100 }), (err: unknown) => {
    assert.ok(err instanceof TimeoutError);
    assert.equal(err.code, 'NETKIT_TIMEOUT');
    assert.equal(err.timeoutMs, 100);
    return true;
  });
  const slow = await stalled(t, 'partial');
  const res = await fetch(slow.base, { timeout: 200 });
  assert.equal(res.status, 200);
  await assert.rejects(res.text(), { code: 'NETKIT_TIMEOUT' });
});

test('fetch: maxBodyBytes errors the body with NETKIT_BODY_TOO_LARGE, declared, chunked or decoded', async (t) => {
  const base = await serve(t, (req, res) => {
    if (req.url === '/declared') {
      res.setHeader('Content-Length', '1000');
      res.end('x'.repeat(1000));
    } else if (req.url === '/chunked') {
      res.write('x'.repeat(600));
      res.end('y'.repeat(600));
    } else {
      // 1 MB of zeros is about 1 kB gzipped: the limit holds for what the body inflates to.
      res.setHeader('Content-Encoding', 'gzip');
      res.end(zlib.gzipSync(Buffer.alloc(1 << 20)));
    }
  });
  for (const path of ['/declared', '/chunked', '/bomb']) {
    const res = await fetch(`${base}${path}`, { maxBodyBytes: 999 });
    assert.equal(res.status, 200, path);
    await assert.rejects(res.arrayBuffer(), (err: unknown) => {
      assert.ok(err instanceof BodyTooLargeError, `${path}: ${String(err)}`);
      assert.equal(err.code, 'NETKIT_BODY_TOO_LARGE');
      assert.equal(err.limit, 999);
      return true;
    });
  }
  assert.equal((await (await fetch(`${base}/declared`, { maxBodyBytes: 1000 })).text()).length, 1000);
});

test('fetch: netkit options are validated up front, naming the option', async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ timeout: -1 }, 'timeout'],
    [{ maxBodyBytes: 'big' }, 'maxBodyBytes'],
    [{ maxRedirects: 1.5 }, 'maxRedirects'],
    [{ tls: { pin: 'nope' } }, 'tls.pin'],
    [{ ca: 'not a pem' }, 'ca'],
    [{ insecure: 'yes' }, 'insecure'],
    [{ follow: true }, 'follow'],
  ];
  for (const [init, option] of cases) {
    await assert.rejects(fetch('http://127.0.0.1:1/', init as RequestInit), (err: unknown) => {
      assert.ok(err instanceof InvalidArgumentError, `${option}: ${String(err)}`);
      assert.equal(err.option, option);
      return true;
    });
  }
  await assert.rejects(fetch('ftp://127.0.0.1/'), { code: 'NETKIT_INVALID_ARGUMENT', option: 'url' });
  // The standard part fails as the standard says.
  await assert.rejects(fetch('http://127.0.0.1:1/', { redirect: 'sideways' as 'follow' }), TypeError);
  await assert.rejects(fetch('http://127.0.0.1:1/', { method: 'GET', body: 'x' }), TypeError);
});

test('fetch: a refused connection is NETKIT_DIAL_FAILED', async () => {
  // A port just freed: nothing listens there.
  const server = http.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const free = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  await assert.rejects(fetch(`http://127.0.0.1:${free}/`), (err: unknown) => {
    assert.ok(err instanceof ConnectionError);
    assert.equal(err.code, 'NETKIT_DIAL_FAILED');
    return true;
  });
});

test('fetch: https with a test CA, a pin, and a pin mismatch that sends nothing', async (t) => {
  const world = await tlsWorld();
  const requests: string[] = [];
  const server = https.createServer({ cert: world.server.cert, key: world.server.key }, (req, res) => {
    requests.push(req.url ?? '');
    res.end('secure');
  });
  const base = await listenOn(t, server, 'https');
  const ca = world.ca.cert;

  const res = await fetch(`${base}/ca`, { ca });
  assert.equal(await res.text(), 'secure');
  assert.ok(res.timing.tlsMs > 0, `tlsMs ${res.timing.tlsMs}`);
  assert.equal(
    await (await fetch(`${base}/pin`, { tls: { pin: fingerprintOfPem(world.server.cert) } })).text(),
    'secure',
  );

  await assert.rejects(fetch(`${base}/untrusted`), { code: 'NETKIT_TLS_FAILED' });
  await assert.rejects(
    fetch(`${base}/mismatch`, { ca, tls: { pin: fingerprintOfPem(world.ca.cert) } }),
    (err: unknown) => {
      assert.ok(err instanceof NetkitError);
      assert.equal(err.code, 'NETKIT_TLS_FAILED');
      assert.match(err.message, /pin/);
      return true;
    },
  );
  assert.deepEqual(requests, ['/ca', '/pin']);
});

test('fetch: timing is on the response, ordered, completed when the body ends', async (t) => {
  const world = await tlsWorld();
  const server = https.createServer({ cert: world.server.cert, key: world.server.key }, (_req, res) => {
    res.write('a');
    setImmediate(() => res.end('b'));
  });
  const base = await listenOn(t, server, 'https');
  const res = await fetch(base, { ca: world.ca.cert });
  const { timing } = res;
  assert.equal(timing.dnsMs, 0, 'an IP literal needs no lookup');
  assert.ok(timing.connectMs > 0);
  assert.ok(timing.tlsMs > 0);
  assert.ok(timing.firstByteMs >= timing.connectMs + timing.tlsMs, JSON.stringify(timing));
  assert.equal(timing.totalMs, undefined);
  assert.equal(res.clone().timing, timing);
  assert.equal(await res.text(), 'ab');
  assert.ok(timing.downloadMs! >= 0);
  assert.ok(timing.totalMs! >= timing.firstByteMs + timing.downloadMs! - 0.001, JSON.stringify(timing));
});

test('fetch: clone keeps url and redirected', async (t) => {
  const base = await serve(t, routes);
  const res = await fetch(`${base}/redirect/302?to=/text`);
  const copy = res.clone();
  assert.ok(copy instanceof Response);
  assert.equal(copy.url, `${base}/text`);
  assert.equal(copy.redirected, true);
  assert.equal(await copy.text(), await res.text());
});

test('fetch: a Unix socket in the URL, as request() takes it; a relative redirect stays on it', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-fetch-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const socket = path.join(dir, 'app.sock');
  const server = http.createServer((req, res) => {
    if (req.url === '/old') {
      res.writeHead(301, { Location: '/new?q=1' });
      res.end();
      return;
    }
    res.end(`${req.headers.host} ${req.url}`);
  });
  server.listen(socket);
  await once(server, 'listening');
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const res = await fetch(`http://unix:${socket}:/old`);
  assert.equal(res.url, `http://unix:${socket}:/new?q=1`);
  assert.equal(res.redirected, true);
  assert.equal(await res.text(), 'localhost /new?q=1');
});

test('fetch: a server cannot redirect the client onto a Unix socket; the socket it is on may name itself', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-fetch-'));
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
  local.listen(socket);
  await once(local, 'listening');
  t.after(() => new Promise((resolve) => local.close(resolve)));
  const remote = await serve(t, (_req, res) => {
    res.writeHead(302, { Location: `http://unix:${socket}:/containers/json` });
    res.end();
  });
  await assert.rejects(fetch(`${remote}/`), (err) => {
    assert.ok(err instanceof RedirectError);
    assert.equal(err.code, 'NETKIT_REDIRECT_FAILED');
    assert.deepEqual(err.redirects, [`${remote}/`]);
    return true;
  });
  assert.deepEqual(reached, []);
  const self = await fetch(`http://unix:${socket}:/self`);
  assert.equal(self.url, `http://unix:${socket}:/inside`);
  assert.equal(await self.text(), 'local secret');
});

test('fetch: 100 and 103 before the answer are skipped; a 101 nobody asked for is NETKIT_HTTP_PROTOCOL', async (t) => {
  const answer = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
  const preludes: Record<string, string> = {
    '/continue': 'HTTP/1.1 100 Continue\r\n\r\n',
    '/hints':
      'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\n',
    '/switch': 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: other\r\nConnection: Upgrade\r\n\r\n',
  };
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', (d) => {
      const target = d.toString('latin1').split(' ')[1] ?? '';
      s.end(`${preludes[target] ?? ''}${answer}`);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const target of ['/continue', '/hints']) {
    const res = await fetch(`${base}${target}`, { timeout: 2000 });
    assert.equal(res.status, 200, target);
    assert.equal(await res.text(), 'ok', target);
  }
  // node:http gives such a socket to 'upgrade' listeners only, and destroyed it without an error.
  await assert.rejects(fetch(`${base}/switch`, { timeout: 2000 }), (err) => {
    assert.ok(err instanceof NetkitError);
    assert.equal(err.code, 'NETKIT_HTTP_PROTOCOL');
    return true;
  });
});

test('fetch: a Response dropped with its body unread closes its connection, even with timeout 0', async (t) => {
  // More than the kernel's buffers take on loopback, so the server cannot finish (and close) until the
  // client reads or goes; one buffer for every response.
  const big = Buffer.alloc(32 * 1024 * 1024, 1);
  const server = http.createServer((_req, res) => res.end(big));
  const base = await listenOn(t, server, 'http');
  const open = () => new Promise<number>((resolve) => server.getConnections((_e, n) => resolve(n)));
  // In a function of its own, so no suspended frame of this test keeps the last Response.
  const dropSome = async () => {
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${base}/${i}`, { timeout: 0 })).status, 200);
  };
  await dropSome();
  assert.equal(await open(), 10);
  // A Response still held keeps its connection: only what can no longer be read is closed.
  const kept = await fetch(`${base}/kept`, { timeout: 0 });
  const deadline = Date.now() + 5000;
  while ((await open()) > 1 && Date.now() < deadline) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(await open(), 1);
  assert.equal((await kept.arrayBuffer()).byteLength, big.length);
});

/** collect runs a full garbage collection: with --expose-gc its own, else V8's, exposed for this. */
const collect: () => void =
  globalThis.gc ??
  (() => {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  })();

test('fetch: five stacked codings decode, six or more are NETKIT_HTTP_PROTOCOL before any decoder is made', async (t) => {
  const layered = (n: number) => {
    let body = Buffer.from('deep');
    for (let i = 0; i < n; i++) body = zlib.gzipSync(body);
    return body;
  };
  const base = await serve(t, (req, res) => {
    const n = Number(req.url?.slice(1));
    res.writeHead(200, { 'Content-Encoding': Array(n).fill('gzip').join(', ') });
    res.end(layered(Math.min(n, 20)));
  });
  assert.equal(await (await fetch(`${base}/2`)).text(), 'deep');
  assert.equal(await (await fetch(`${base}/5`)).text(), 'deep');
  // A 12 KiB header naming gzip 2,000 times cost some 40 MB of zlib state for one response.
  for (const n of [6, 2000]) {
    await assert.rejects(fetch(`${base}/${n}`), (err) => {
      assert.ok(err instanceof NetkitError, `${n}`);
      assert.equal(err.code, 'NETKIT_HTTP_PROTOCOL', `${n}`);
      return true;
    });
  }
});

test('fetch: a reason phrase no Response can carry is NETKIT_HTTP_PROTOCOL, and its connection is closed', async (t) => {
  const closed: Promise<unknown>[] = [];
  const server = net.createServer((s) => {
    closed.push(new Promise((resolve) => s.on('close', resolve)));
    s.on('error', () => {});
    s.once('data', (d) => {
      const reason = d.toString('latin1').startsWith('GET /del') ? 'OK\x7f' : 'O\x01K';
      // The body never completes: only the client closing ends this connection.
      s.write(Buffer.from(`HTTP/1.1 200 ${reason}\r\nContent-Length: 100\r\n\r\npartial`, 'latin1'));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const target of ['/del', '/ctl']) {
    await assert.rejects(fetch(`${base}${target}`, { timeout: 0 }), (err) => {
      assert.ok(err instanceof NetkitError, target);
      assert.equal(err.code, 'NETKIT_HTTP_PROTOCOL', target);
      return true;
    });
  }
  await Promise.all(closed);
});

test('fetch: deflate decodes in the zlib format and raw, as the global fetch does; a raw bomb stops at maxBodyBytes', async (t) => {
  const text = Buffer.from('deflated '.repeat(5000));
  const bomb = zlib.deflateRawSync(Buffer.alloc(64 * 1024 * 1024));
  const bodies: Record<string, [string, Buffer]> = {
    '/zlib': ['deflate', zlib.deflateSync(text)],
    '/raw': ['deflate', zlib.deflateRawSync(text)],
    '/nested': ['deflate, gzip', zlib.gzipSync(zlib.deflateRawSync(text))],
    '/empty': ['deflate', Buffer.alloc(0)],
    '/bomb': ['deflate', bomb],
  };
  const base = await serve(t, (req, res) => {
    const [coding, body] = bodies[req.url ?? ''] ?? ['deflate', Buffer.alloc(0)];
    res.writeHead(200, { 'Content-Encoding': coding, 'Content-Length': body.length });
    res.end(body);
  });
  for (const target of ['/zlib', '/raw', '/nested']) {
    const mine = await (await fetch(`${base}${target}`)).text();
    assert.equal(mine, text.toString(), target);
    assert.equal(mine, await (await globalThis.fetch(`${base}${target}`)).text(), target);
  }
  assert.equal(await (await fetch(`${base}/empty`)).text(), '');
  const res = await fetch(`${base}/bomb`, { maxBodyBytes: 1024 * 1024 });
  await assert.rejects(res.arrayBuffer(), (err) => err instanceof BodyTooLargeError);
});
