import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ListingEntry } from '../../src/http/server/listing.js';
import { ESCAPEE, fixture, PNG, raw } from './static-fixture.js';

describe('serveHttp({ dir })', () => {
  it('serves files with their content types, nosniff and a charset on text', async (t) => {
    const { base } = await fixture(t);
    for (const [file, type] of [
      ['page.html', 'text/html; charset=utf-8'],
      ['style.css', 'text/css; charset=utf-8'],
      ['app.js', 'text/javascript; charset=utf-8'],
      ['data.json', 'application/json; charset=utf-8'],
      ['image.png', 'image/png'],
      ['hello.txt', 'text/plain; charset=utf-8'],
      ['blob.nkunknown', 'application/octet-stream'],
      ['README', 'application/octet-stream'],
    ] as const) {
      const res = await fetch(`${base}/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get('content-type'), type, file);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', file);
      assert.equal(res.headers.get('accept-ranges'), 'bytes', file);
      assert.ok(res.headers.get('etag'), file);
      assert.ok(res.headers.get('last-modified'), file);
      await res.arrayBuffer();
    }
    const png = await fetch(`${base}/image.png`);
    assert.deepEqual(Buffer.from(await png.arrayBuffer()), PNG);
    assert.equal(await (await fetch(`${base}/hello.txt?cache=bust`)).text(), 'hello, world\n');
  });

  it('serves a 1 MiB binary file byte for byte', async (t) => {
    const { root, base } = await fixture(t);
    const data = randomBytes(1024 * 1024 + 123);
    await fs.writeFile(path.join(root, 'big.bin'), data);
    const res = await fetch(`${base}/big.bin`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), String(data.length));
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(data));
  });

  it('answers single byte ranges, and 416 with Content-Range for an unsatisfiable one', async (t) => {
    const { root, base } = await fixture(t);
    const data = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
    await fs.writeFile(path.join(root, 'r.bin'), data);
    const n = data.length;
    for (const [range, start, end] of [
      ['bytes=0-9', 0, 9],
      ['bytes=-10', n - 10, n - 1],
      ['bytes=5-', 5, n - 1],
    ] as const) {
      const res = await fetch(`${base}/r.bin`, { headers: { range } });
      assert.equal(res.status, 206, range);
      assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${n}`, range);
      assert.equal(res.headers.get('content-length'), String(end - start + 1), range);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), data.subarray(start, end + 1), range);
    }
    const bad = await fetch(`${base}/r.bin`, { headers: { range: `bytes=${n + 10}-` } });
    assert.equal(bad.status, 416);
    assert.equal(bad.headers.get('content-range'), `bytes */${n}`);
    assert.equal(bad.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(bad.headers.get('etag'), null, 'file headers are cleared on errors');
    assert.equal(await bad.text(), '416 range not satisfiable\n');
  });

  it('honours validators: If-None-Match, If-Modified-Since, If-Range, If-Match', async (t) => {
    const { base, server } = await fixture(t);
    const first = await fetch(`${base}/hello.txt`);
    await first.text();
    const etag = first.headers.get('etag')!;
    const lastModified = first.headers.get('last-modified')!;
    assert.match(etag, /^(W\/)?"/);

    const byTag = await raw(server.address, '/hello.txt', 'GET', `If-None-Match: ${etag}\r\n`);
    assert.equal(byTag.status, 304);
    assert.equal(byTag.body.length, 0);
    assert.equal(byTag.headers.get('etag'), etag);

    // raw sockets: fetch adds `Cache-Control: no-cache` to conditional requests, which forces a 200
    const byDate = await raw(server.address, '/hello.txt', 'GET', `If-Modified-Since: ${lastModified}\r\n`);
    assert.equal(byDate.status, 304);
    assert.equal(byDate.body.length, 0);

    const changed = await fetch(`${base}/hello.txt`, { headers: { 'if-none-match': '"other"' } });
    assert.equal(changed.status, 200);
    assert.equal(await changed.text(), 'hello, world\n');

    const stale = await fetch(`${base}/hello.txt`, {
      headers: { range: 'bytes=0-4', 'if-range': '"stale"' },
    });
    assert.equal(stale.status, 200);
    assert.equal(await stale.text(), 'hello, world\n');
    const fresh = await fetch(`${base}/hello.txt`, { headers: { range: 'bytes=0-4', 'if-range': etag } });
    assert.equal(fresh.status, 206);
    assert.equal(await fresh.text(), 'hello');

    const mismatch = await fetch(`${base}/hello.txt`, {
      headers: { 'if-match': '"other"', accept: 'application/json' },
    });
    assert.equal(mismatch.status, 412);
    assert.deepEqual(await mismatch.json(), { status: 412, error: 'precondition failed' });
    const unmodified = await fetch(`${base}/hello.txt`, {
      headers: { 'if-unmodified-since': 'Thu, 01 Jan 1970 00:00:00 GMT' },
    });
    assert.equal(unmodified.status, 412);
    await unmodified.text();
  });

  it('answers HEAD with the headers of GET and no body', async (t) => {
    const { server } = await fixture(t);
    const res = await raw(server.address, '/hello.txt', 'HEAD');
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length'), '13');
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.ok(res.headers.get('etag'));
    assert.equal(res.body.length, 0);
    const missing = await raw(server.address, '/missing.txt', 'HEAD');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.length, 0);
  });

  it('refuses other methods with 405 and Allow', async (t) => {
    const { base } = await fixture(t);
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const res = await fetch(`${base}/hello.txt`, { method, body: method === 'POST' ? 'data' : null });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get('allow'), 'GET, HEAD', method);
      assert.equal(await res.text(), `405 method ${method} not allowed; use GET or HEAD\n`);
    }
    const json = await fetch(`${base}/`, { method: 'POST', headers: { accept: 'application/json' } });
    assert.equal(json.status, 405);
    assert.equal(((await json.json()) as { status: number }).status, 405);
  });

  it('redirects a directory to its slash form, keeping the query', async (t) => {
    const { base } = await fixture(t);
    const res = await fetch(`${base}/sub?x=1&y=2`, { redirect: 'manual' });
    assert.equal(res.status, 301);
    assert.equal(res.headers.get('location'), '/sub/?x=1&y=2');
    await res.text();
    const deeper = await fetch(`${base}/sub/deeper`, { redirect: 'manual' });
    assert.equal(deeper.status, 301);
    assert.equal(deeper.headers.get('location'), '/sub/deeper/');
    await deeper.text();
  });

  it('serves index.html for a directory that has one', async (t) => {
    const { base } = await fixture(t);
    const res = await fetch(`${base}/site/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(await res.text(), '<h1>index</h1>');
  });

  it('lists a directory as HTML, names escaped and links encoded', async (t) => {
    const { base } = await fixture(t);
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('content-security-policy'), "default-src 'none'; style-src 'unsafe-inline'");
    const html = await res.text();
    assert.ok(!html.includes('<b>'), 'no raw <b>');
    assert.ok(html.includes('&lt;b&gt;x&amp;y&quot;&#39;.txt'), 'escaped name');
    const href = encodeURIComponent(ESCAPEE).replace(/'/g, '&#39;');
    assert.ok(html.includes(`href="${href}"`), 'encoded link');
    assert.ok(!html.includes('href="../"'), 'no parent link at the root');
    for (const hidden of ['.env', '.git', 'leak.txt', 'leakdir', 'env-alias.txt']) {
      assert.ok(!html.includes(hidden), `${hidden} is not listed`);
    }
    assert.ok(html.indexOf('sub/') < html.indexOf('hello.txt'), 'directories first');
    assert.ok(html.includes('13 B'), 'size column');
    assert.match(html, /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    // The link works.
    const linked = await fetch(`${base}/${encodeURIComponent(ESCAPEE)}`);
    assert.equal(await linked.text(), 'escaped\n');

    const sub = await (await fetch(`${base}/sub/`)).text();
    assert.ok(sub.includes('href="../"'), 'parent link below the root');
    assert.ok(sub.includes('href="inner.txt"'));
    assert.ok(!sub.includes('.hidden'));
  });

  it('lists a directory as JSON when asked', async (t) => {
    const { base } = await fixture(t);
    const res = await fetch(`${base}/sub/`, { headers: { accept: 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('vary'), 'Accept');
    const entries = (await res.json()) as ListingEntry[];
    assert.deepEqual(
      entries.map(({ name, type, size }) => ({ name, type, size })),
      [
        { name: 'deeper', type: 'dir', size: 0 },
        { name: 'inner.txt', type: 'file', size: 6 },
      ],
    );
    for (const e of entries) assert.ok(!Number.isNaN(Date.parse(e.mtime)) && e.mtime.endsWith('Z'));
    const top = await fetch(`${base}/`, { headers: { accept: 'application/json' } });
    const names = ((await top.json()) as ListingEntry[]).map((e) => e.name);
    assert.deepEqual(
      names.slice(0, 4),
      ['site', 'sub', ESCAPEE, 'README'],
      'dirs first, then code-unit order',
    );
    assert.ok(names.includes('alias.txt'), 'a symlink inside the root is listed');
    for (const hidden of ['.env', '.git', 'leak.txt', 'leakdir', 'env-alias.txt']) {
      assert.ok(!names.includes(hidden), `${hidden} is not listed`);
    }
  });
});
