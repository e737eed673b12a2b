/**
 * The live page server under attack, over real sockets on loopback: a
 * client that pipelines streams and vanishes, HEAD on the stream, a page
 * on another site that opens the stream, a reader that stops under a small
 * backlog limit, requests that arrive while the server closes, a source
 * that throws, a start that fails. Each test here failed before its fix.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { type LiveOptions, type LiveServer, renderLivePage, serveLive } from '../../src/live/index.js';
import { launchChromium } from '../helpers/browser.js';

const page = renderLivePage({ title: 'attack', style: 'b {}', script: "'use strict';", body: '' });

/** counted is a source that counts subscribe and unsubscribe calls and lets the test push events. */
function counted(snapshot: () => unknown = () => ({ n: 0 })) {
  const pushes = new Set<(event: string, data: unknown) => void>();
  const c = {
    subscribed: 0,
    unsubscribed: 0,
    src: {
      snapshot: () => snapshot(),
      subscribe(push: (event: string, data: unknown) => void) {
        c.subscribed++;
        pushes.add(push);
        return () => {
          c.unsubscribed++;
          pushes.delete(push);
        };
      },
    },
    emit(event: string, data: unknown) {
      for (const p of pushes) p(event, data);
    },
  };
  return c;
}

async function start(t: TestContext, options: Partial<LiveOptions> = {}) {
  const c = counted();
  const server = await serveLive('127.0.0.1:0', { page, source: c.src, ...options });
  t.after(() => server.close());
  return { server, c };
}

function portOf(server: LiveServer): number {
  return Number(server.address.split(':').pop());
}

/** raw opens a socket, writes `text` and collects what comes back. */
async function raw(t: TestContext, server: LiveServer, text: string) {
  const sock = net.connect({ host: '127.0.0.1', port: portOf(server) });
  t.after(() => sock.destroy());
  sock.on('error', () => {});
  let got = '';
  sock.setEncoding('utf8');
  sock.on('data', (c: string) => {
    got += c;
  });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.write(text);
  return {
    sock,
    get text() {
      return got;
    },
  };
}

/** until waits for `cond`, failing after `ms`. */
async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** request makes one request with `headers` (a browser's, as Chromium sends them) and returns its status. */
function request(server: LiveServer, path: string, headers: Record<string, string>, method = 'GET') {
  return new Promise<number>((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: portOf(server), path, method, headers, agent: false },
      (res) => {
        resolve(res.statusCode!);
        res.destroy();
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const HEAD = (path: string, method = 'GET') => `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;

/** status sends one raw request head and resolves with the status code (0 if the connection closed without one). */
function status(server: LiveServer, head: string): Promise<number> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port: portOf(server) });
    let got = '';
    const done = () => {
      sock.destroy();
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(got)?.[1] ?? 0));
    };
    sock.setEncoding('utf8');
    sock.on('data', (c: string) => {
      got += c;
      if (got.includes('\r\n')) done();
    });
    sock.on('error', () => {});
    sock.on('close', done);
    sock.write(head);
  });
}

describe('serveLive under attack', () => {
  it('asks for the token before anything else, whatever the path, method or query', async (t) => {
    const called: string[] = [];
    const token = 'a-token-of-22-chars-xx';
    const { server, c } = await start(t, {
      token,
      api: (req, res, path) => {
        called.push(`${req.method} ${path}`);
        req.resume();
        res.end();
      },
    });
    const cases: [method: string, target: string, headers: string][] = [
      ['GET', '/events', ''],
      ['GET', '//events', ''],
      ['GET', '/events/', ''],
      ['GET', '/%65vents', ''],
      ['GET', '/api/../events', ''],
      ['GET', '/api/x', ''],
      ['POST', '/api/../api/x', ''],
      ['GET', 'http://127.0.0.1/events', ''],
      ['OPTIONS', '*', ''],
      ['HEAD', '/events', ''],
      ['DELETE', '/api/x', 'Origin: http://127.0.0.1\r\nSec-Fetch-Site: same-origin\r\n'],
      ['GET', `/?token=${token.slice(0, -1)}`, ''],
      ['GET', `/?token=${token}x`, ''],
      ['GET', `/?token=${token}%00`, ''],
      ['GET', `/?TOKEN=${token}`, ''],
      ['GET', `/?token=${encodeURIComponent(` ${token}`)}`, ''],
      ['GET', '/', `X-Netkit-Token: ${token.toUpperCase()}\r\n`],
      ['GET', `/?token=${token}`, 'X-Netkit-Token: wrong\r\n'],
    ];
    for (const [i, [method, target, headers]] of cases.entries()) {
      const got = await status(server, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`);
      assert.equal(got, 401, `#${i}: ${method} ${target}: got ${got} want 401`);
    }
    assert.deepEqual(called, []);
    assert.equal(c.subscribed, 0);
    assert.equal(await status(server, `GET /?x&token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`), 200);
  });

  it('will not serve beyond loopback without a token', async (t) => {
    // The Host check keeps out browsers, not programs: on 0.0.0.0 anyone on the network could send
    // Host: 127.0.0.1 and read the page and its events or, on the relay page, change faults.
    const c = counted();
    for (const address of ['0.0.0.0:0', '[::]:0']) {
      await assert.rejects(
        serveLive(address, { page, source: c.src }),
        (e) => e instanceof InvalidArgumentError && e.option === 'token',
        address,
      );
    }
    const server = await serveLive('0.0.0.0:0', { page, source: c.src, token: 'a-token-of-22-chars-xx' });
    t.after(() => server.close());
    assert.equal(await status(server, 'GET /?token=a-token-of-22-chars-xx HTTP/1.1\r\nHost: x\r\n\r\n'), 200);
  });

  it('refuses every Host that is not a loopback name without a token (DNS rebinding)', async (t) => {
    const { server } = await start(t);
    const hosts = [
      '127.0.0.1.evil.example',
      'localhost.evil.example',
      'localhost.',
      '[::ffff:127.0.0.1]',
      'user@127.0.0.1',
      '127.0.0.1@evil.example',
      'evil.example#127.0.0.1',
      '127.0.0.1:80:80',
      '127.1',
      '0x7f000001',
      '2130706433',
      '[::1]evil',
      '',
      `${'a'.repeat(4000)}.example`,
    ];
    for (const [i, host] of hosts.entries()) {
      const got = await status(server, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      assert.equal(got, 403, `#${i}: Host ${JSON.stringify(host.slice(0, 40))}: got ${got} want 403`);
    }
    assert.equal(await status(server, 'GET / HTTP/1.0\r\n\r\n'), 403, 'no Host at all');
    for (const host of ['127.0.0.1', 'LOCALHOST:1', '[::1]:80', '127.255.0.9:65535']) {
      assert.equal(await status(server, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 200, host);
    }
  });

  it('frees the slot and the source when a client that pipelined streams goes away', async (t) => {
    // node:http queues a response pipelined behind one that is still going, and drops it without
    // 'close' when the socket goes: a stream opened on it would hold its slot and the source forever.
    const { server, c } = await start(t, { maxStreams: 4 });
    const client = await raw(t, server, HEAD('/events').repeat(4));
    await until(() => c.subscribed === 1 && client.text.includes('event: snapshot'), 'the first stream');
    await new Promise((r) => setTimeout(r, 50));
    client.sock.destroy();
    await until(() => server.streams === 0, `every slot free (${server.streams} held)`);
    assert.equal(c.unsubscribed, c.subscribed);
    // The slots are really free: a page opens the most streams there may be.
    const pages = await Promise.all([1, 2, 3, 4].map(() => raw(t, server, HEAD('/events'))));
    await until(() => pages.every((p) => p.text.includes('event: snapshot')), 'four new pages');
  });

  it('answers HEAD /events with the headers alone, opening no stream', async (t) => {
    const { server, c } = await start(t, { maxStreams: 1 });
    const client = await raw(t, server, HEAD('/events', 'HEAD'));
    await until(() => client.text.includes('\r\n\r\n'), 'the answer to HEAD');
    assert.match(client.text, /^HTTP\/1\.1 200 /);
    assert.match(client.text, /content-type: text\/event-stream/i);
    assert.equal(server.streams, 0);
    assert.equal(c.subscribed, 0);
    // The answer ended: the same connection takes the next request, and the one slot is free.
    client.sock.write(HEAD('/events'));
    await until(() => client.text.includes('event: snapshot'), 'a stream on the same connection');
    // With the slot taken, HEAD says what GET would.
    assert.equal(await status(server, HEAD('/events', 'HEAD')), 503);
  });

  it('refuses /events to a page on another site, which could otherwise hold every slot', async (t) => {
    // What Chromium sends for <img src=…/events>, fetch(…, {mode: 'no-cors'}) and new EventSource(…)
    // from http://localhost:PORT while the page is at 127.0.0.1: the first two keep reading a stream
    // the page can never see, so each held a slot (and kept the source sampling) until the tab closed.
    const { server, c } = await start(t, { maxStreams: 2 });
    const hostile: Record<string, string>[] = [
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image' },
      { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'empty' },
      {
        origin: 'http://localhost:8000',
        'sec-fetch-site': 'cross-site',
        'sec-fetch-mode': 'cors',
        'sec-fetch-dest': 'empty',
      },
      { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'cors' },
      { origin: 'null' },
    ];
    for (const [i, headers] of hostile.entries()) {
      assert.equal(await request(server, '/events', headers), 403, `#${i}: ${JSON.stringify(headers)}`);
    }
    assert.equal(c.subscribed, 0);
    // The page's own EventSource (no Origin on a same-origin GET), and programs that send neither header.
    const own = { 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty' };
    assert.equal(await request(server, '/events', own), 200);
    assert.equal(await request(server, '/events', {}), 200);
  });

  it('holds no stream for a page on another site in Chromium, and one for the page itself', async (t) => {
    const browser = await launchChromium(t);
    if (!browser) return;
    const own = renderLivePage({
      title: 'own',
      style: 'b {}',
      script:
        "'use strict'; new EventSource('/events').addEventListener('snapshot', function () { document.title = 'live'; });",
      body: '',
    });
    const c = counted();
    const server = await serveLive('127.0.0.1:0', { page: own, source: c.src, maxStreams: 4 });
    t.after(() => server.close());
    let asked = 0;
    server.http.server.prependListener('request', (req: http.IncomingMessage) => {
      if (req.url === '/events') asked++;
    });
    // The hostile page is at localhost, another site than 127.0.0.1 for the browser.
    const target = `http://${server.address}/events`;
    const hostile = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><img src="${target}"><script>
for (let i = 0; i < 4; i++) fetch('${target}', { mode: 'no-cors' });
new EventSource('${target}');
</script>`);
    });
    await new Promise<void>((r) => hostile.listen(0, 'localhost', r));
    t.after(() => hostile.close());
    const evil = await browser.newPage();
    await evil.goto(`http://localhost:${(hostile.address() as net.AddressInfo).port}/`);
    await until(() => asked >= 6, `the hostile page's requests (${asked})`, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(server.streams, 0, 'streams held for the hostile page');
    assert.equal(c.subscribed, 0);
    const mine = await browser.newPage();
    await mine.goto(server.url);
    await mine.waitForFunction("document.title === 'live'", undefined, { timeout: 10_000 });
    assert.equal(server.streams, 1);
  });

  it('lets a page that fell behind catch up under a limit below the socket high-water mark', async (t) => {
    // Behind a 2 KiB limit, the socket had not asked to wait (16 KiB), so no 'drain' ever came:
    // the page got neither the fresh snapshot nor another event, nor even a ping.
    const { server, c } = await start(t, { maxBufferedBytes: 2048 });
    const client = await raw(t, server, HEAD('/events'));
    client.sock.pause();
    await until(() => c.subscribed === 1, 'the stream');
    const chunk = 'x'.repeat(1000);
    for (let i = 0; i < 2000; i++) {
      c.emit('change', { i, chunk });
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    client.sock.resume();
    await until(() => client.text.split('event: snapshot').length > 2, 'a fresh snapshot');
    c.emit('change', { after: true });
    await until(() => client.text.includes('"after":true'), 'events after catching up');
  });

  it('cuts a stream whose socket stays full across two pings, and keeps one that reads', async (t) => {
    // A peer that vanished without a FIN is retried by TCP for about 15 minutes, and one that stays
    // connected but never reads (a zero window) forever: either held its slot and up to
    // maxBufferedBytes plus the kernel's buffers for that long.
    const { server, c } = await start(t, { maxStreams: 2, pingInterval: 100 });
    const stalled = await raw(t, server, HEAD('/events'));
    stalled.sock.pause();
    const reader = await raw(t, server, HEAD('/events'));
    await until(() => server.streams === 2 && reader.text.includes('event: snapshot'), 'two streams');
    const chunk = 'z'.repeat(16 * 1024);
    const started = Date.now();
    for (let i = 0; server.streams === 2; i++) {
      if (Date.now() - started > 10_000) assert.fail('the stalled stream was never cut');
      c.emit('change', { i, chunk });
      if (i % 16 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(reader.sock.destroyed, false, 'the reading page keeps its stream');
    const cut = new Promise((r) => stalled.sock.once('close', r));
    stalled.sock.resume();
    await cut;
    const next = await raw(t, server, HEAD('/events'));
    await until(() => next.text.includes('event: snapshot'), 'the slot free for a new page');
    const before = reader.text.length;
    c.emit('change', { still: true });
    await until(() => reader.text.length > before, 'events still reaching the reader');
  });

  it('opens no stream while closing, and closes at once', async (t) => {
    const { server, c } = await start(t);
    // A keep-alive client that has made one request, and asks for the stream while the server closes.
    const client = await raw(t, server, HEAD('/'));
    await until(() => client.text.includes('</html>'), 'the page');
    const started = Date.now();
    const closed = server.close();
    client.sock.write(HEAD('/events'));
    await closed;
    assert.equal(c.subscribed, 0, 'the source was not subscribed after close()');
    assert.ok(Date.now() - started < 500, `close took ${Date.now() - started} ms`);
  });

  it('survives a source whose snapshot throws, and does not stay subscribed for it', async (t) => {
    let fail = true;
    const c = counted(() => {
      if (fail) throw new Error('no state');
      return { ok: true };
    });
    const server = await serveLive('127.0.0.1:0', { page, source: c.src });
    t.after(() => server.close());
    const errors: Error[] = [];
    server.http.on('handlerError', (err) => errors.push(err));
    const client = await raw(t, server, HEAD('/events'));
    await until(() => client.sock.destroyed || client.sock.readableEnded, 'the stream cut');
    await until(() => c.unsubscribed === c.subscribed, 'the source released');
    assert.equal(errors[0]?.message, 'no state');
    fail = false;
    const again = await raw(t, server, HEAD('/events'));
    await until(() => again.text.includes('data: {"ok":true}'), 'a stream once the source recovers');
  });

  it('answers 500 for an api that throws, and keeps serving', async (t) => {
    const errors: Error[] = [];
    const { server } = await start(t, {
      api: (req) => {
        throw new Error(`cannot ${req.method}`);
      },
    });
    server.http.on('handlerError', (err) => errors.push(err));
    assert.equal(await request(server, '/api/x', {}, 'POST'), 500);
    assert.deepEqual(
      errors.map((e) => e.message),
      ['cannot POST'],
    );
    assert.equal(await request(server, '/', {}), 200);
  });

  it('answers 500 when the source cannot subscribe, and keeps serving', async (t) => {
    const errors: Error[] = [];
    const source = {
      snapshot: () => ({}),
      subscribe(): () => void {
        throw new Error('cannot sample');
      },
    };
    const server = await serveLive('127.0.0.1:0', { page, source });
    t.after(() => server.close());
    server.http.on('handlerError', (err) => errors.push(err));
    assert.equal(await request(server, '/events', {}), 500);
    assert.equal(errors[0]?.message, 'cannot sample');
    assert.equal(server.streams, 0);
    assert.equal(await request(server, '/', {}), 200);
  });

  it('leaves no ping timer behind when it cannot start, nor once closed', async (t) => {
    const set = t.mock.method(globalThis, 'setInterval');
    const cleared = t.mock.method(globalThis, 'clearInterval');
    const busy = net.createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    t.after(() => busy.close());
    const port = (busy.address() as net.AddressInfo).port;
    const c = counted();
    await assert.rejects(serveLive(`127.0.0.1:${port}`, { page, source: c.src }));
    await assert.rejects(serveLive('127.0.0.1:0', { page, source: c.src, signal: AbortSignal.abort() }));
    const ac = new AbortController();
    await (await serveLive('127.0.0.1:0', { page, source: c.src })).close();
    await serveLive('127.0.0.1:0', { page, source: c.src, signal: ac.signal });
    ac.abort();
    await new Promise((r) => setImmediate(r));
    const timers = set.mock.calls.map((call) => call.result);
    const gone = new Set(cleared.mock.calls.map((call) => call.arguments[0]));
    assert.equal(timers.filter((timer) => !gone.has(timer)).length, 0, 'every interval started was cleared');
  });

  it('balances subscribe and unsubscribe through a crowd that opens, refuses and drops streams', async (t) => {
    const { server, c } = await start(t, { maxStreams: 8 });
    const base = server.http.connections;
    const heads = [
      HEAD('/events'),
      HEAD('/events').repeat(3),
      HEAD('/events', 'HEAD'),
      `GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\n\r\n`,
      `${HEAD('/')}${HEAD('/events')}`,
      'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nab',
      'GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n',
      '\x16\x03\x01\x00\xa5garbage\r\n\r\n',
      '',
    ];
    const clients: net.Socket[] = [];
    for (let i = 0; i < 200; i++) {
      const sock = net.connect({ host: '127.0.0.1', port: portOf(server) });
      sock.on('error', () => {});
      sock.write(heads[i % heads.length]!);
      clients.push(sock);
      // Gone at once, after a while, by RST, or left open until the end.
      if (i % 4 === 0) sock.destroy();
      else if (i % 4 === 1) setTimeout(() => sock.destroy(), (i * 7) % 50);
      else if (i % 4 === 2) setTimeout(() => sock.resetAndDestroy(), (i * 3) % 50);
      c.emit('change', { i });
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 100));
    for (const sock of clients) sock.destroy();
    await until(
      () => server.streams === 0 && server.http.connections === base,
      'every stream and socket gone',
    );
    assert.ok(c.subscribed > 0);
    assert.equal(c.unsubscribed, c.subscribed, 'subscribed as often as unsubscribed');
  });

  it('keeps opening the page with 1,000 idle sockets and every stream slot taken', async (t) => {
    const { server } = await start(t, { maxStreams: 32 });
    const pages = await Promise.all(Array.from({ length: 32 }, () => raw(t, server, HEAD('/events'))));
    await until(() => server.streams === 32, 'every slot taken');
    const idle: net.Socket[] = [];
    t.after(() => {
      for (const s of idle) s.destroy();
    });
    for (let i = 0; i < 1000; i++) {
      const s = net.connect({ host: '127.0.0.1', port: portOf(server) });
      s.on('error', () => {});
      idle.push(s);
    }
    await Promise.all(
      idle.map((s) => new Promise((r) => (s.connecting ? s.once('connect', r).once('close', r) : r(0)))),
    );
    assert.equal(await status(server, HEAD('/')), 200);
    assert.equal(await status(server, HEAD('/events')), 503);
    assert.ok(
      pages.every((p) => !p.sock.destroyed),
      'the open pages keep their streams',
    );
  });
});
