/**
 * The live page server (src/live): the page under its policy, the event
 * stream (snapshot first, then changes), backpressure for a page that stops
 * reading, and who may connect: loopback Host, the token, same-origin API.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import {
  EventStream,
  eventFrame,
  type LiveOptions,
  type LiveServer,
  newToken,
  renderLivePage,
  serveLive,
} from '../../src/live/index.js';

const page = renderLivePage({
  title: 'test <page>',
  style: 'body { margin: 0; }',
  script: "'use strict'; document.body.dataset.ran = 'yes';",
  body: '<main id="m"></main>',
  data: { port: '"><script>x</script>' },
});

/** Source is a LiveSource the test drives: `push` reaches every open page. */
function source() {
  let state = { n: 0 };
  let push: ((event: string, data: unknown) => void) | undefined;
  let subscriptions = 0;
  return {
    src: {
      snapshot: () => state,
      subscribe(p: (event: string, data: unknown) => void) {
        subscriptions++;
        push = p;
        return () => {
          push = undefined;
        };
      },
    },
    set(n: number) {
      state = { n };
    },
    emit(event: string, data: unknown) {
      push?.(event, data);
    },
    get subscribed() {
      return push !== undefined;
    },
    get subscriptions() {
      return subscriptions;
    },
  };
}

async function start(t: TestContext, options: Partial<LiveOptions> = {}, address = '127.0.0.1:0') {
  const s = source();
  const server = await serveLive(address, { page, source: s.src, ...options });
  t.after(() => server.close());
  return { server, s };
}

/** get makes one request and returns status, headers and body. */
function get(
  server: LiveServer,
  path: string,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  const [host, port] = [
    server.address.slice(0, server.address.lastIndexOf(':')),
    server.address.split(':').pop(),
  ];
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** events opens /events and resolves each parsed event in order through next(). */
function openEvents(server: LiveServer, query = '') {
  const queue: { event: string; data: unknown }[] = [];
  const waiters: ((e: { event: string; data: unknown }) => void)[] = [];
  let buf = '';
  const url = new URL(`/events${query}`, server.url);
  const req = http.get(url, { agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      buf += c;
      let end = buf.indexOf('\n\n');
      while (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        end = buf.indexOf('\n\n');
        if (block.startsWith(':')) continue;
        const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
        const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as unknown;
        const w = waiters.shift();
        if (w) w({ event, data });
        else queue.push({ event, data });
      }
    });
  });
  req.on('error', () => {});
  return {
    next: () =>
      new Promise<{ event: string; data: unknown }>((resolve) => {
        const e = queue.shift();
        if (e) resolve(e);
        else waiters.push(resolve);
      }),
    close: () => req.destroy(),
  };
}

describe('serveLive', () => {
  it('serves the page under a policy that allows only its own script and style', async (t) => {
    const { server } = await start(t);
    const res = await get(server, '/');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    const csp = String(res.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.match(csp, /connect-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    assert.ok(res.body.includes('<title>test &lt;page&gt;</title>'));
    assert.ok(res.body.includes('data-port="&quot;&gt;&lt;script&gt;x&lt;/script&gt;"'), 'data escaped');
    assert.equal((await get(server, '/nope')).status, 404);
    assert.equal((await get(server, '/', {}, 'POST')).status, 405);
  });

  it('streams a snapshot first, then changes, and subscribes only while a page is open', async (t) => {
    const { server, s } = await start(t);
    assert.equal(s.subscribed, false);
    s.set(7);
    const ev = openEvents(server);
    assert.deepEqual(await ev.next(), { event: 'snapshot', data: { n: 7 } });
    assert.equal(s.subscribed, true);
    s.emit('change', { a: '<b>\n' });
    assert.deepEqual(await ev.next(), { event: 'change', data: { a: '<b>\n' } });
    ev.close();
    const deadline = Date.now() + 2000;
    while (server.streams > 0 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(server.streams, 0);
    assert.equal(s.subscribed, false, 'unsubscribed when the last page closed');
  });

  it('keeps a page that never reads to a bounded backlog, then sends it a fresh snapshot', async (t) => {
    const { server, s } = await start(t, { maxBufferedBytes: 64 * 1024 });
    // A raw client that sends the request and does not read at all.
    const [host, port] = ['127.0.0.1', Number(server.address.split(':').pop())];
    const sock = net.connect({ host, port });
    t.after(() => sock.destroy());
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write(`GET /events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    sock.pause();
    while (!s.subscribed) await new Promise((r) => setImmediate(r));
    const chunk = 'x'.repeat(4096);
    // 40 MiB offered to a reader that takes nothing.
    for (let i = 0; i < 10_000; i++) {
      s.emit('change', { i, chunk });
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    // Read everything now: the stream ends with a snapshot that replaces what was dropped.
    s.set(42);
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => {
      text += c;
    });
    sock.resume();
    const until = Date.now() + 5000;
    while (!text.includes('data: {"n":42}') && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    assert.ok(text.includes('event: snapshot\ndata: {"n":42}'), 'a fresh snapshot after catching up');
    const delivered = (text.match(/event: change/g) ?? []).length;
    assert.ok(delivered < 10_000, `events were dropped for the slow page (${delivered} delivered)`);
    assert.ok(delivered * 4096 < 64 * 1024 + 8 * 1024 * 1024, 'no more than the limit plus socket buffers');
  });

  it('EventStream never holds more than its limit plus one event for a reader that takes nothing', async (t) => {
    const limit = 32 * 1024;
    let worst = 0;
    let dropped = 0;
    const server = http.createServer((_req, res) => {
      const stream = new EventStream(res, limit, () => ({ fresh: true }));
      const event = { pad: 'y'.repeat(1000) };
      for (let i = 0; i < 20_000; i++) {
        stream.send('change', event);
        worst = Math.max(worst, res.writableLength);
      }
      dropped = stream.dropped;
      assert.equal(stream.behind, true);
      stream.close();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const { port } = server.address() as net.AddressInfo;
    const sock = net.connect({ host: '127.0.0.1', port });
    t.after(() => sock.destroy());
    sock.pause();
    sock.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    while (dropped === 0) await new Promise((r) => setTimeout(r, 5));
    assert.ok(worst <= limit + 1100, `held ${worst} bytes, limit ${limit}`);
    assert.ok(dropped > 19_000, `dropped ${dropped}`);
  });

  it('needs the token beyond loopback, and takes it as ?token= or X-Netkit-Token', async (t) => {
    const token = newToken();
    const { server } = await start(t, { token });
    assert.ok(server.url.endsWith(`/?token=${token}`));
    assert.equal((await get(server, '/')).status, 401);
    assert.equal((await get(server, '/?token=wrong-wrong-wrong-wrong')).status, 401);
    assert.equal((await get(server, `/?token=${token}`)).status, 200);
    assert.equal((await get(server, '/', { 'x-netkit-token': token })).status, 200);
    // With a token, a Host that is not loopback is allowed (the server was bound beyond loopback on purpose).
    assert.equal((await get(server, `/?token=${token}`, { host: 'example.test' })).status, 200);
  });

  it('refuses a Host that is not loopback without a token (DNS rebinding)', async (t) => {
    const { server } = await start(t);
    assert.equal((await get(server, '/', { host: 'evil.example:80' })).status, 403);
    for (const host of ['127.0.0.1:1', 'localhost:8080', '[::1]:9']) {
      assert.equal((await get(server, '/', { host })).status, 200, host);
    }
  });

  it('passes only same-origin requests to the API', async (t) => {
    const seen: string[] = [];
    const { server } = await start(t, {
      api: (req, res, path) => {
        seen.push(`${req.method} ${path}`);
        req.resume();
        res.end('ok');
      },
    });
    const host = server.address;
    assert.equal((await get(server, '/api/x', { origin: 'http://evil.example' }, 'POST')).status, 403);
    assert.equal((await get(server, '/api/x', { 'sec-fetch-site': 'cross-site' }, 'POST')).status, 403);
    assert.equal((await get(server, '/api/x', { origin: `http://${host}` }, 'POST')).status, 200);
    assert.equal((await get(server, '/api/y', {}, 'DELETE')).status, 200);
    assert.deepEqual(seen, ['POST /x', 'DELETE /y']);
  });

  it('caps open pages, and close() ends every stream', async (t) => {
    const { server } = await start(t, { maxStreams: 1 });
    const first = openEvents(server);
    assert.equal((await first.next()).event, 'snapshot');
    assert.equal((await get(server, '/events')).status, 503);
    await server.close();
    assert.equal(server.streams, 0);
  });

  it('validates its options at once, naming the option', async () => {
    const s = source();
    await assert.rejects(
      serveLive('127.0.0.1:0', { page, source: s.src, token: 'short' }),
      (e) => e instanceof InvalidArgumentError && e.option === 'token',
    );
    await assert.rejects(
      serveLive('127.0.0.1:0', { page, source: s.src, maxBufferedBytes: 1 }),
      (e) => e instanceof InvalidArgumentError && e.option === 'maxBufferedBytes',
    );
    await assert.rejects(
      serveLive('127.0.0.1:0', {} as LiveOptions),
      (e) => e instanceof InvalidArgumentError && e.option === 'page',
    );
  });
});

describe('eventFrame', () => {
  it('frames an event as one data line of JSON, and refuses a name that could break the framing', () => {
    assert.equal(eventFrame('sample', { a: 'x\ny\r' }), 'event: sample\ndata: {"a":"x\\ny\\r"}\n\n');
    for (const bad of ['', 'a\nb', 'a b', 'x'.repeat(65), 'data: x']) {
      assert.throws(
        () => eventFrame(bad, 1),
        (e) => e instanceof InvalidArgumentError && e.option === 'event',
        JSON.stringify(bad),
      );
    }
  });
});
