import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError } from '../../src/errors.js';
import { connectRequest } from '../../src/tunnel/http-connect.js';
import { parseProxyUrl } from '../../src/tunnel/index.js';

test('parseProxyUrl reads proxy URLs as curl does', () => {
  const table: [string, Record<string, unknown>][] = [
    [
      'http://proxy.example:3128',
      { scheme: 'http', host: 'proxy.example', port: 3128, href: 'http://proxy.example:3128' },
    ],
    ['proxy.example:3128', { scheme: 'http', host: 'proxy.example', port: 3128 }],
    ['http://proxy.example', { port: 1080 }],
    ['http://proxy.example:80', { port: 80 }],
    ['HTTP://Proxy.Example:8080/', { scheme: 'http', host: 'proxy.example', port: 8080 }],
    ['socks5://127.0.0.1', { scheme: 'socks5', host: '127.0.0.1', port: 1080 }],
    ['socks5h://[::1]:9050', { scheme: 'socks5h', host: '::1', port: 9050, href: 'socks5h://[::1]:9050' }],
    ['http://us%40er:p%3Ass@p:1', { username: 'us@er', password: 'p:ss', href: 'http://us%40er@p:1' }],
    ['http://user@p:1', { username: 'user', password: '' }],
  ];
  for (const [i, [input, want]] of table.entries()) {
    const got = parseProxyUrl(input) as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(want)) assert.equal(got[k], v, `#${i} ${input}: ${k}`);
  }
});

test('parseProxyUrl refuses what is not a proxy URL, naming the option and the schemes', () => {
  for (const bad of [
    '',
    'https://p:443',
    'socks4://p:1080',
    'ftp://p',
    'http://p:0',
    'http://p:99999',
    'http://p:1/path',
    'http://p:1?q',
    'http://:1',
    'socks5://user@p:1',
    `socks5://${'u'.repeat(256)}:pw@p:1`,
  ]) {
    assert.throws(
      () => parseProxyUrl(bad, '--proxy'),
      (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError, bad);
        assert.equal(e.option, '--proxy');
        return true;
      },
      bad,
    );
  }
  assert.throws(() => parseProxyUrl('gopher://x'), /http:\/\/, socks5:\/\/, socks5h:\/\//);
});

test('a password never shows in href or in an error message', () => {
  assert.equal(parseProxyUrl('http://u:secret@p:1').href, 'http://u@p:1');
  assert.throws(
    () => parseProxyUrl('http://u:secret@p:1/x'),
    (e: unknown) => !(e as Error).message.includes('secret'),
  );
});

test('a password never shows in the message for a proxy URL that does not parse', () => {
  // Each password holds a character that ends a URL's authority early, or the URL is bad after it.
  for (const bad of [
    'http://u:s3cr3t@p:99999',
    'http://u:s3cr3t@p:port',
    'http://u:s3c@r3t@p:1/x',
    'http://u:s3c/r3t@p:1',
    'http://u:s3c#r3t@p:1',
    'http://u:s3c?r3t@p:1',
    'u:s3cr3t@p:1/x',
    'socks5://u:s3cr3t@:1',
  ]) {
    assert.throws(
      () => parseProxyUrl(bad, '--proxy'),
      (e: unknown) => {
        assert.ok(e instanceof InvalidArgumentError, bad);
        assert.doesNotMatch(e.message, /s3c|r3t/, `${bad}: ${e.message}`);
        return true;
      },
      bad,
    );
  }
});

test('a numeric password is not taken for the port, and a password with no user name is kept', () => {
  const table: [string, number, string | undefined, string | undefined][] = [
    ['http://u:1234@proxy', 1080, 'u', '1234'],
    ['socks5h://bob:4242@proxy', 1080, 'bob', '4242'],
    ['http://u:1234@proxy:3128', 3128, 'u', '1234'],
    ['http://u:p@ss:99@proxy:8080', 8080, 'u', 'p@ss:99'],
    ['http://:pw@proxy:3128', 3128, '', 'pw'],
  ];
  for (const [i, [url, port, username, password]] of table.entries()) {
    const spec = parseProxyUrl(url);
    assert.deepEqual([spec.port, spec.username, spec.password], [port, username, password], `#${i}: ${url}`);
    assert.doesNotMatch(spec.href, /@.*@|:\/\/@/, `#${i}: href ${spec.href}`);
  }
  // curl sends `:pw` as the Basic credentials; RFC 1929 needs a user name of at least one byte.
  const request = connectRequest(parseProxyUrl('http://:pw@proxy:3128'), 'target:443').toString('latin1');
  assert.ok(request.includes(`Proxy-Authorization: Basic ${Buffer.from(':pw').toString('base64')}\r\n`));
  assert.throws(() => parseProxyUrl('socks5://:pw@proxy', '--proxy'), { option: '--proxy' });
  assert.throws(() => parseProxyUrl('http://p:65536', '--proxy'), /port 65536 is not 1-65535/);
});
