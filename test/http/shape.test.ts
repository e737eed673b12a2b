/**
 * Response shaping (`?status=`, `?delay=`, `?header=`, `?body=`) and
 * RELIABILITY 39: no link to the inspector can make a browser run script
 * from it. Table-driven over parseShaping, then the headers a real server
 * sends. shape.browser.test.ts drives the same URLs in Chromium.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, it, type TestContext } from 'node:test';
import { parseShaping, ShapeError, serveHttp } from '../../src/http/server/index.js';

const ACTIVE = [
  'text/html',
  'TEXT/HTML; charset=utf-8',
  ' text/html ;charset=utf-8',
  'application/xhtml+xml',
  'image/svg+xml',
  'text/xml',
  'application/xml',
  'application/rss+xml',
  'application/xslt+xml',
  'text/xsl',
  'text/javascript',
  'application/javascript',
  'application/x-javascript',
  'application/ecmascript',
  'text/vbscript',
  'application/pdf',
  'application/x-shockwave-flash',
  'text/x-component',
  'application/hta',
  'multipart/x-mixed-replace; boundary=x',
  'message/rfc822',
];
const NOT_A_TYPE = [
  '',
  'html',
  '*/*',
  'text/*',
  'text/ html',
  '/plain',
  'text/plain/x',
  // A browser splits on commas and takes the last type: each of these would be HTML to it.
  'text/plain;a=b, text/html',
  'text/plain;a=b,text/html',
  'text/plain;x=",text/html"',
  'text/plain;x="a"',
  'text/plain, text/html',
  'text/plain;charset',
];
const PASSIVE = [
  'text/plain',
  'text/plain; charset=utf-8',
  'text/plain;charset=UTF-8;format=flowed',
  'application/json',
  'application/problem+json',
  'application/octet-stream',
  'text/csv',
  'image/png',
  'application/vnd.netkit.test',
];

describe('parseShaping', () => {
  it('reads delay in Go syntax, a bare number as seconds, and refuses past 30 s', () => {
    assert.equal(parseShaping({ delay: '250ms' }).delayMs, 250);
    assert.equal(parseShaping({ delay: '2' }).delayMs, 2000);
    assert.equal(parseShaping({ delay: '0.5' }).delayMs, 500);
    assert.throws(
      () => parseShaping({ delay: '31' }),
      (e: unknown) => e instanceof ShapeError && e.param === 'delay',
    );
  });
  for (const type of ACTIVE) {
    it(`RELIABILITY 39: refuses Content-Type ${JSON.stringify(type)}`, () => {
      assert.throws(
        () => parseShaping({ header: `Content-Type:${type}` }),
        (err: unknown) => {
          assert.ok(err instanceof ShapeError);
          assert.equal(err.param, 'header');
          assert.match(err.message, /could run script/);
          return true;
        },
      );
    });
  }
  for (const type of NOT_A_TYPE) {
    it(`refuses Content-Type ${JSON.stringify(type)}, which is not a media type`, () => {
      assert.throws(() => parseShaping({ header: `Content-Type:${type}` }), ShapeError);
    });
  }
  for (const type of PASSIVE) {
    it(`accepts Content-Type ${JSON.stringify(type)} as the one Content-Type`, () => {
      const s = parseShaping({ header: [`Content-Type: ${type}`, 'X-A: 1'] });
      assert.equal(s.contentType, type);
      assert.deepEqual(s.headers, [['X-A', '1']]);
    });
  }

  it('refuses a second Content-Type', () => {
    assert.throws(
      () => parseShaping({ header: ['Content-Type:text/plain', 'content-type:text/csv'] }),
      /Content-Type given twice/,
    );
  });

  const REFUSED = [
    'Content-Length',
    'Transfer-Encoding',
    'Connection',
    'Keep-Alive',
    'Upgrade',
    'Content-Security-Policy',
    'content-security-policy-report-only',
    'X-Content-Type-Options',
    'Set-Cookie',
    'SET-COOKIE2',
    'Clear-Site-Data',
    'Strict-Transport-Security',
    'Access-Control-Allow-Credentials',
    'Content-Disposition',
  ];
  for (const name of REFUSED) {
    it(`RELIABILITY 39: refuses ?header=${name}`, () => {
      assert.throws(
        () => parseShaping({ header: `${name}: x` }),
        (err: unknown) => {
          assert.ok(err instanceof ShapeError);
          assert.match(err.message, new RegExp(`${name} cannot be set: `));
          return true;
        },
      );
    });
  }

  it('keeps headers that are safe to reflect, Location and CORS without credentials included', () => {
    const s = parseShaping({
      header: ['Location: /next', 'Access-Control-Allow-Origin: *', 'Cache-Control: no-store', 'X-Any: <b>'],
    });
    assert.equal(s.contentType, undefined);
    assert.equal(s.headers.length, 4);
  });
});

/** get sends one request with node:http and returns its raw header pairs and body. */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; raw: string[]; body: string }>((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode!, raw: res.rawHeaders, body }));
      })
      .on('error', reject);
  });
}

/** values returns every value of header `name` in raw header pairs. */
function values(raw: string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === name) out.push(raw[i + 1]!);
  return out;
}

async function start(t: TestContext) {
  const server = await serveHttp('127.0.0.1:0');
  t.after(() => server.close());
  return `http://${server.address}`;
}

describe('shaped responses from a server', () => {
  const script = encodeURIComponent('<script>document.title="pwned"</script>');

  it('RELIABILITY 39: ?header=Content-Type:text/html is 400 with the reason, sandboxed, one Content-Type', async (t) => {
    const base = await start(t);
    const res = await get(`${base}/?header=Content-Type:text/html&body=${script}`);
    assert.equal(res.status, 400);
    assert.match(res.body, /query parameter header: Content-Type text\/html is refused/);
    assert.deepEqual(values(res.raw, 'content-type'), ['text/plain; charset=utf-8']);
    assert.deepEqual(values(res.raw, 'content-security-policy'), ["sandbox; default-src 'none'"]);
    assert.deepEqual(values(res.raw, 'x-content-type-options'), ['nosniff']);
  });

  it('RELIABILITY 39: a passive Content-Type replaces the server one; the response is sandboxed', async (t) => {
    const base = await start(t);
    const res = await get(`${base}/?header=Content-Type:application/json&body=${script}&status=201`);
    assert.equal(res.status, 201);
    assert.deepEqual(values(res.raw, 'content-type'), ['application/json']);
    assert.deepEqual(values(res.raw, 'content-security-policy'), ["sandbox; default-src 'none'"]);
    assert.deepEqual(values(res.raw, 'x-content-type-options'), ['nosniff']);
    assert.equal(res.body, '<script>document.title="pwned"</script>');
  });

  for (const [what, query, accept] of [
    ['?body=', `body=${script}`, 'text/html'],
    ['?status=', 'status=418', '*/*'],
    ['?delay=', 'delay=1ms', 'application/json'],
    ['?header=', 'header=X-A:1', 'text/plain'],
  ] as const) {
    it(`RELIABILITY 39: a response shaped with ${what} carries the sandbox CSP and nosniff`, async (t) => {
      const base = await start(t);
      const res = await get(`${base}/x?${query}`, { accept });
      assert.deepEqual(values(res.raw, 'content-security-policy'), ["sandbox; default-src 'none'"]);
      assert.deepEqual(values(res.raw, 'x-content-type-options'), ['nosniff']);
      assert.equal(values(res.raw, 'content-type').length, 1);
    });
  }

  it('RELIABILITY 39: the HTML inspector is sandboxed and may load nothing', async (t) => {
    const base = await start(t);
    const res = await get(`${base}/p?q=${script}`, { accept: 'text/html' });
    assert.equal(res.status, 200);
    assert.deepEqual(values(res.raw, 'content-type'), ['text/html; charset=utf-8']);
    const [csp] = values(res.raw, 'content-security-policy');
    for (const directive of [
      'sandbox',
      "default-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ]) {
      assert.ok(csp?.split('; ').includes(directive), `${directive} in ${csp}`);
    }
    assert.ok(!res.body.includes('<script'));
  });
});
