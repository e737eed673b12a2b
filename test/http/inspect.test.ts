import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BODY_HEX_LIMIT,
  describeBody,
  formatRequest,
  type RequestInfo,
  renderRequestHtml,
  splitTarget,
} from '../../src/http/inspect.js';
import { negotiate } from '../../src/http/server/index.js';
import { safeText } from '../../src/internal/text.js';

const info = (over: Partial<RequestInfo> = {}): RequestInfo => ({
  method: 'GET',
  url: '/',
  path: '/',
  query: {},
  httpVersion: '1.1',
  headers: [],
  remote: { ip: '127.0.0.1', port: 5000 },
  client: { ip: '127.0.0.1', port: 5000, via: 'socket' },
  body: { bytes: 0, kind: 'empty' },
  ...over,
});

describe('splitTarget', () => {
  it('decodes the path and collects repeated parameters', () => {
    const { path, query } = splitTarget('/a%20b?x=1&x=2&y=z&e=');
    assert.equal(path, '/a b');
    assert.deepEqual({ ...query }, { x: ['1', '2'], y: 'z', e: '' });
  });
  it('keeps a path that is not valid percent-encoding', () => {
    assert.equal(splitTarget('/%zz').path, '/%zz');
  });
});

describe('describeBody', () => {
  it('classifies empty, text, JSON and binary bodies', () => {
    assert.deepEqual(describeBody(Buffer.alloc(0), undefined), { bytes: 0, kind: 'empty' });
    assert.deepEqual(describeBody(Buffer.from('hi\n'), 'text/plain'), {
      bytes: 3,
      kind: 'text',
      text: 'hi\n',
    });
    assert.deepEqual(describeBody(Buffer.from('{"a":[1]}'), 'application/json; charset=utf-8'), {
      bytes: 9,
      kind: 'json',
      text: '{"a":[1]}',
      json: { a: [1] },
    });
    assert.equal(describeBody(Buffer.from('{"a":1}'), 'application/problem+json').kind, 'json');
    assert.deepEqual(describeBody(Buffer.from([0, 1, 0xff]), undefined), {
      bytes: 3,
      kind: 'binary',
      hex: '0001ff',
    });
  });
  it('shows JSON that does not parse, or is not declared, as text', () => {
    assert.equal(describeBody(Buffer.from('{nope'), 'application/json').kind, 'text');
    assert.equal(describeBody(Buffer.from('{"a":1}'), 'text/plain').kind, 'text');
  });
  it('treats control characters as binary and keeps only the first 4 KiB as hex', () => {
    assert.equal(describeBody(Buffer.from('a\x1b[2Jb'), undefined).kind, 'binary');
    const big = describeBody(Buffer.alloc(10_000, 0xfe), undefined);
    assert.equal(big.bytes, 10_000);
    assert.equal(big.hex?.length, BODY_HEX_LIMIT * 2);
  });
});

describe('formatRequest', () => {
  it('prints the request line, headers and pretty JSON', () => {
    const out = formatRequest(
      info({
        method: 'POST',
        url: '/x?y=1',
        headers: [['Content-Type', 'application/json']],
        body: { bytes: 7, kind: 'json', text: '{"a":1}', json: { a: 1 } },
      }),
    );
    assert.match(out, /^POST \/x\?y=1 HTTP\/1\.1\nfrom 127\.0\.0\.1:5000\nContent-Type: application\/json\n/);
    assert.match(out, /\{\n {2}"a": 1\n\}/);
    assert.match(out, /\(7 bytes, json\)/);
  });
  it('neutralises terminal escapes in headers and bodies', () => {
    const out = formatRequest(
      info({ headers: [['X-Evil', '\x1b[31mred']], body: { bytes: 4, kind: 'text', text: 'a\x1bb\n' } }),
    );
    assert.ok(!out.includes('\x1b'));
    assert.match(out, /X-Evil: \\x1b\[31mred/);
  });
  it('renders every head as its values escaped one by one, however many lines', () => {
    // Reference: each value through safeText, as formatRequest printed it before checking heads whole.
    const expected = (i: RequestInfo): string => {
      let head = `${safeText(i.method)} ${safeText(i.url)} HTTP/${safeText(i.httpVersion)}\nfrom 127.0.0.1:5000`;
      if (i.client.via !== 'socket') head += ` for ${safeText(i.client.ip)} (${i.client.via})`;
      if (i.tls) head += `\ntls ${safeText([i.tls.protocol, i.tls.cipher, i.tls.subject].join(' '))}`;
      for (const [name, value] of i.headers) head += `\n${safeText(name)}: ${safeText(value)}`;
      return `${head}\n\n(no body)\n(0 bytes, empty)\n`;
    };
    const many = (n: number): [string, string][] => Array.from({ length: n }, (_, k) => [`X-${k}`, `v${k}`]);
    const cases: [string, Partial<RequestInfo>][] = [
      ['plain', { headers: [['Host', 'example.com']] }],
      ['no headers', { headers: [] }],
      [
        'line break in a value',
        {
          headers: [
            ['X-A', 'a\nb'],
            ['X-B', 'c'],
          ],
        },
      ],
      ['CR LF in the target', { url: '/a\r\nX-Injected: 1' }],
      ['tab in a value', { headers: [['X-T', 'a\tb']] }],
      ['non-ASCII in a value', { headers: [['X-U', 'caf\u00e9 \u202e']] }],
      [
        'empty values',
        {
          headers: [
            ['X-E', ''],
            ['', ''],
          ],
        },
      ],
      ['70 plain headers', { headers: many(70) }],
      ['70 headers, the last with an escape', { headers: [...many(69), ['X-Evil', '\x1b[2J']] }],
      ['a forwarded client', { client: { ip: '192.0.2.1', via: 'x-forwarded-for' } }],
      ['an obfuscated forwarded client', { client: { ip: '_x\x1b[2J', via: 'forwarded' } }],
      ['TLS', { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', subject: 'CN=alice' } }],
      [
        'TLS with an escape',
        { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', subject: 'CN=\x1b]0;x' } },
      ],
    ];
    for (const [i, [name, over]] of cases.entries()) {
      const req = info(over);
      assert.equal(formatRequest(req), expected(req), `#${i} ${name}`);
    }
  });
  it('hex-dumps a binary body', () => {
    const out = formatRequest(info({ body: { bytes: 2, kind: 'binary', hex: '00ff' } }));
    assert.match(out, /00000000: 00ff/);
  });
});

describe('formatRequest and renderRequestHtml: TLS and Unix peers', () => {
  const tls = {
    protocol: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    alpn: 'http/1.1',
    subject: 'CN=alice',
  };
  it('prints the TLS line after the peer, and a Unix peer as unix:@', () => {
    const out = formatRequest(info({ remote: { ip: '', port: 0, unix: true }, tls }));
    assert.match(
      out,
      /^GET \/ HTTP\/1\.1\nfrom unix:@\ntls TLSv1\.3 TLS_AES_128_GCM_SHA256 http\/1\.1 CN=alice\n/,
    );
    assert.doesNotMatch(formatRequest(info()), /^tls /m);
    assert.match(formatRequest(info({ remote: { ip: '::1', port: 5000 } })), /^from \[::1\]:5000$/m);
  });
  it('brackets a forwarded IPv6 client with a port', () => {
    const client = { ip: '2001:db8::1', port: 4711, via: 'forwarded' as const };
    assert.match(
      formatRequest(info({ client })),
      /^from 127\.0\.0\.1:5000 for \[2001:db8::1\]:4711 \(forwarded\)$/m,
    );
    assert.match(renderRequestHtml(info({ client })), /<td>\[2001:db8::1\]:4711 \(forwarded\)<\/td>/);
    const portless = formatRequest(info({ client: { ip: '2001:db8::1', via: 'x-forwarded-for' } }));
    assert.match(portless, /for 2001:db8::1 \(x-forwarded-for\)$/m);
  });
  it('adds a TLS table to the page, the subject escaped', () => {
    const html = renderRequestHtml(info({ tls: { ...tls, subject: 'CN=<b>x</b>' } }));
    assert.match(html, /<h2>TLS<\/h2>/);
    assert.match(html, /<th>Cipher<\/th><td>TLS_AES_128_GCM_SHA256<\/td>/);
    assert.match(html, /<th>Client certificate<\/th><td>CN=&lt;b&gt;x&lt;\/b&gt;<\/td>/);
    assert.doesNotMatch(renderRequestHtml(info()), /<h2>TLS<\/h2>/);
  });
});

describe('renderRequestHtml', () => {
  it('escapes every value', () => {
    const html = renderRequestHtml(
      info({
        method: 'POST',
        url: '/<script>p</script>?q=<script>',
        path: '/<script>p</script>',
        query: { '<script>k': '<script>v' },
        headers: [['X-<script>', '<script>h</script>']],
        body: { bytes: 17, kind: 'text', text: '<script>b</script>' },
      }),
    );
    assert.ok(!html.includes('<script'), 'no raw <script> in the page');
    assert.match(html, /&lt;script&gt;h&lt;\/script&gt;/);
    assert.match(html, /&lt;script&gt;b&lt;\/script&gt;/);
    assert.match(html, /&lt;script&gt;v/);
  });
});

describe('negotiate', () => {
  it('picks JSON or HTML only when asked for explicitly', () => {
    assert.equal(negotiate(undefined), 'text');
    assert.equal(negotiate('*/*'), 'text');
    assert.equal(negotiate('application/json'), 'json');
    assert.equal(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8'), 'html');
    assert.equal(negotiate('text/html;q=0.5, application/json'), 'json');
    assert.equal(negotiate('application/json;q=0.2, text/html'), 'html');
    assert.equal(negotiate('application/json;q=0'), 'text');
  });
});
