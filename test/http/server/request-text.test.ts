import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { InvalidArgumentError } from '../../../src/errors.js';
import {
  formatBodilessRequest,
  formatRequest,
  type RequestInfo,
  requestInfo,
  targetOf,
} from '../../../src/http/inspect.js';
import { type HttpServerOptions, inspector, serveHttp } from '../../../src/http/server/index.js';
import { TrustList } from '../../../src/proxy/trust.js';

/**
 * onRequestText: the text log. A request without a body has its text built straight
 * from the parsed request (formatBodilessRequest); everything else goes through the
 * record. Both must print exactly what formatRequest prints for the record.
 */

/** rawExchange sends `head` as it is on a fresh connection to `port` at `host` and resolves with the response. */
function rawExchange(host: string, port: number, head: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port }, () => sock.end(head));
    const chunks: Buffer[] = [];
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    sock.on('error', reject);
  });
}

/** REQUESTS are bodiless requests as a peer may send them, each with Connection: close. */
const REQUESTS: [name: string, head: string | Buffer, fast: boolean][] = [
  ['plain GET', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', true],
  ['lower-case host', 'GET /x HTTP/1.1\r\nhost: b\r\nConnection: close\r\n\r\n', true],
  ['HTTP/1.0', 'GET /old HTTP/1.0\r\nHost: a\r\n\r\n', true],
  [
    'repeated headers, odd case',
    'GET / HTTP/1.1\r\nHost: a\r\nx-A: 1\r\nX-a: 2\r\nCONNECTION: close\r\n\r\n',
    true,
  ],
  ['percent-encoded path', 'GET /a%20b/%3Cscript%3E HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', true],
  ['query', 'GET /q?x=1&x=2 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', true],
  ['another method', 'DELETE /thing HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', true],
  ['tab in a value', 'GET / HTTP/1.1\r\nHost: a\r\nX-T: a\tb\r\nConnection: close\r\n\r\n', false],
  [
    'a Latin-1 byte in a value',
    Buffer.concat([
      Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX-N: caf'),
      Buffer.from([0xe9]),
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]),
    false,
  ],
  [
    'UTF-8 in a value',
    Buffer.concat([
      Buffer.from('GET / HTTP/1.1\r\nHost: a\r\nX-U: '),
      Buffer.from('é→', 'utf8'),
      Buffer.from('\r\nConnection: close\r\n\r\n'),
    ]),
    false,
  ],
];

type Seen = { fast: string | undefined; reference: string };

/** recorder is a node:http server that renders every request both ways. */
async function recorder(
  t: TestContext,
  host: string,
  trust?: TrustList,
): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const fast = formatBodilessRequest(req, targetOf(req), trust);
    const reference = formatRequest(requestInfo(req, Buffer.alloc(0), trust));
    seen.push({ fast, reference });
    res.end('ok');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as net.AddressInfo).port, seen };
}

describe('formatBodilessRequest', () => {
  it('prints what formatRequest prints for the record, and defers whenever a value needs escaping', async (t) => {
    const { port, seen } = await recorder(t, '127.0.0.1');
    for (const [name, head, fast] of REQUESTS) {
      const before = seen.length;
      await rawExchange('127.0.0.1', port, head);
      assert.equal(seen.length, before + 1, `${name}: answered`);
      const got = seen.at(-1)!;
      if (fast) assert.equal(got.fast, got.reference, name);
      else assert.equal(got.fast, undefined, `${name}: left to the record`);
    }
  });

  it('shows IPv6 peers in brackets and IPv4-mapped peers as IPv4, as the record does', async (t) => {
    for (const [listen, connect] of [
      ['::1', '::1'],
      ['::', '127.0.0.1'],
    ] as const) {
      let rec: Awaited<ReturnType<typeof recorder>>;
      try {
        rec = await recorder(t, listen);
      } catch {
        t.diagnostic(`no IPv6 here (${listen}); skipped`);
        continue;
      }
      await rawExchange(connect, rec.port, REQUESTS[0]![1]);
      const got = rec.seen.at(-1)!;
      assert.ok(got.fast !== undefined, listen);
      assert.equal(got.fast, got.reference, listen);
      assert.match(got.fast!, connect === '::1' ? /^from \[::1\]:\d+$/m : /^from 127\.0\.0\.1:\d+$/m);
    }
  });

  it('leaves a peer that trust believes to the record: forwarding headers may name the client', async (t) => {
    const trusted = await recorder(t, '127.0.0.1', new TrustList(['127.0.0.0/8']));
    await rawExchange(
      '127.0.0.1',
      trusted.port,
      'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n',
    );
    assert.equal(trusted.seen.at(-1)!.fast, undefined);
    assert.match(
      trusted.seen.at(-1)!.reference,
      /^from 127\.0\.0\.1:\d+ for 203\.0\.113\.7 \(x-forwarded-for\)$/m,
    );
    // A trust list that does not cover the peer changes nothing: the socket is the client.
    const other = await recorder(t, '127.0.0.1', new TrustList(['10.0.0.0/8']));
    await rawExchange(
      '127.0.0.1',
      other.port,
      'GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.7\r\nConnection: close\r\n\r\n',
    );
    const got = other.seen.at(-1)!;
    assert.ok(got.fast !== undefined);
    assert.equal(got.fast, got.reference);
  });
});

/** serve starts serveHttp with `options` and returns its base URL. */
async function serve(t: TestContext, options: HttpServerOptions): Promise<string> {
  const server = await serveHttp('127.0.0.1:0', options);
  t.after(() => server.close());
  return `http://${server.address}`;
}

describe('serveHttp onRequestText', () => {
  it('hands over every request as formatRequest prints it: greeting, query, body', async (t) => {
    const texts: string[] = [];
    const base = await serve(t, { onRequestText: (s) => texts.push(s) });
    assert.equal(await (await fetch(`${base}/hi`)).text(), "Hello, you've requested: /hi\n");
    await (await fetch(`${base}/shaped?status=201`)).text();
    await (
      await fetch(`${base}/post`, {
        method: 'POST',
        body: 'a body',
        headers: { 'content-type': 'text/plain' },
      })
    ).text();
    assert.equal(texts.length, 3);
    assert.match(texts[0]!, /^GET \/hi HTTP\/1\.1\nfrom 127\.0\.0\.1:\d+\n/);
    assert.match(texts[0]!, /\n\n\(no body\)\n\(0 bytes, empty\)\n$/);
    assert.match(texts[1]!, /^GET \/shaped\?status=201 HTTP\/1\.1\n/);
    assert.match(texts[2]!, /^POST \/post HTTP\/1\.1\n[\s\S]*\n\na body\n\(6 bytes, text\)\n$/);
  });

  it('gives the same text as onRequest plus formatRequest, and calls both when both are set', async (t) => {
    const texts: string[] = [];
    const infos: RequestInfo[] = [];
    const base = await serve(t, { onRequestText: (s) => texts.push(s), onRequest: (i) => infos.push(i) });
    await (await fetch(`${base}/both`, { headers: { 'x-n': 'café' } })).text();
    assert.equal(infos.length, 1);
    assert.deepEqual(texts, [formatRequest(infos[0]!)]);
    assert.match(texts[0]!, /^x-n: café$/m);
  });

  it('a throwing onRequestText does not break the response', async (t) => {
    const base = await serve(t, {
      onRequestText: () => {
        throw new Error('log failed');
      },
    });
    const res = await fetch(`${base}/still`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "Hello, you've requested: /still\n");
    const posted = await fetch(`${base}/x`, {
      method: 'POST',
      body: 'b',
      headers: { accept: 'application/json' },
    });
    assert.equal(posted.status, 200);
  });

  it('is validated at once, naming the option, by serveHttp and inspector', async () => {
    await assert.rejects(
      serveHttp('127.0.0.1:0', { onRequestText: 'log' as unknown as () => void }),
      (err) => err instanceof InvalidArgumentError && err.option === 'onRequestText',
    );
    assert.throws(
      () => inspector({ onRequestText: 1 as unknown as () => void }),
      (err) => err instanceof InvalidArgumentError && err.option === 'onRequestText',
    );
  });

  it('is told of the mounted inspector’s requests', async (t) => {
    const texts: string[] = [];
    const server = http.createServer(inspector({ onRequestText: (s) => texts.push(s) }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => new Promise<void>((r) => server.close(() => r())));
    const { port } = server.address() as net.AddressInfo;
    await rawExchange('127.0.0.1', port, 'GET /m HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.equal(texts.length, 1);
    assert.match(
      texts[0]!,
      /^GET \/m HTTP\/1\.1\nfrom 127\.0\.0\.1:\d+\nHost: a\nConnection: close\n\n\(no body\)/,
    );
  });
});
