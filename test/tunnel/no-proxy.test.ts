import assert from 'node:assert/strict';
import { test } from 'node:test';
import { chooseProxy, NoProxy, proxyFromEnv } from '../../src/tunnel/index.js';

test('NoProxy matches as curl reads NO_PROXY', () => {
  const table: [string, string, number, boolean][] = [
    ['*', 'anything.example', 80, true],
    ['example.com', 'example.com', 80, true],
    ['example.com', 'www.example.com', 443, true],
    ['example.com', 'badexample.com', 80, false],
    ['.example.com', 'example.com', 80, true],
    ['.example.com', 'a.b.example.com', 80, true],
    ['EXAMPLE.com', 'www.Example.COM.', 80, true],
    ['example.com:8080', 'example.com', 8080, true],
    ['example.com:8080', 'example.com', 80, false],
    ['localhost, 127.0.0.1', '127.0.0.1', 1, true],
    ['127.0.0.1', '127.0.0.2', 1, false],
    ['10.0.0.0/8', '10.1.2.3', 1, true],
    ['10.0.0.0/8', '11.0.0.1', 1, false],
    ['10.0.0.0/8', 'ten.example', 1, false],
    ['::1', '[::1]', 1, true],
    ['[::1]:8080', '::1', 8080, true],
    ['[::1]:8080', '::1', 80, false],
    ['fd00::/8', 'fd12::1', 1, true],
    ['', 'example.com', 80, false],
    [' a.example ,, b.example ', 'b.example', 80, true],
    ['bogus/99', 'bogus', 80, false],
  ];
  for (const [i, [list, host, port, want]] of table.entries()) {
    assert.equal(
      new NoProxy(list).matches(host, port),
      want,
      `#${i}: NO_PROXY=${JSON.stringify(list)} ${host}:${port}`,
    );
  }
});

test('proxyFromEnv: scheme variables, lower case first, ALL_PROXY last, NO_PROXY exempts', () => {
  const table: [Record<string, string>, string, string | undefined][] = [
    [{ http_proxy: 'http://p:1' }, 'http://t/', 'http://p:1'],
    [{ HTTP_PROXY: 'http://P:1' }, 'http://t/', 'http://P:1'],
    [{ http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:1' }, 'http://t/', 'http://lower:1'],
    [{ http_proxy: 'http://p:1' }, 'https://t/', undefined],
    [{ HTTPS_PROXY: 'http://s:1' }, 'https://t/', 'http://s:1'],
    [{ https_proxy: 'http://s:1' }, 'wss://t/', 'http://s:1'],
    [{ http_proxy: 'http://p:1' }, 'ws://t/', 'http://p:1'],
    [{ ALL_PROXY: 'socks5h://a:1' }, 'https://t/', 'socks5h://a:1'],
    [{ https_proxy: '', ALL_PROXY: 'socks5h://a:1' }, 'https://t/', 'socks5h://a:1'],
    [{ http_proxy: 'http://p:1', no_proxy: 't' }, 'http://t/', undefined],
    [{ http_proxy: 'http://p:1', NO_PROXY: '.t' }, 'http://a.t/', undefined],
    [{ http_proxy: 'http://p:1', no_proxy: 'other', NO_PROXY: 't' }, 'http://t/', 'http://p:1'],
    [{ http_proxy: 'http://p:1', no_proxy: 't:8080' }, 'http://t:8080/', undefined],
    [{ http_proxy: 'http://p:1', no_proxy: 't:8080' }, 'http://t/', 'http://p:1'],
    // httpoxy: in a CGI program HTTP_PROXY may come from a request's Proxy: header.
    [{ HTTP_PROXY: 'http://evil:1', REQUEST_METHOD: 'GET' }, 'http://t/', undefined],
    [{ http_proxy: 'http://p:1', REQUEST_METHOD: 'GET' }, 'http://t/', 'http://p:1'],
    [{}, 'http://t/', undefined],
  ];
  for (const [i, [env, url, want]] of table.entries()) {
    assert.equal(proxyFromEnv(url, env), want, `#${i}: ${JSON.stringify(env)} ${url}`);
  }
});

test('chooseProxy: none, a URL, a function per URL', () => {
  const url = new URL('https://t.example/');
  assert.equal(chooseProxy(undefined, url), undefined);
  assert.equal(chooseProxy('', url), undefined);
  assert.equal(chooseProxy('socks5h://p:9', url)?.href, 'socks5h://p:9');
  assert.equal(
    chooseProxy((u) => (u.hostname === 't.example' ? undefined : 'http://p:1'), url),
    undefined,
  );
  assert.equal(chooseProxy(() => 'http://p:1', url)?.port, 1);
});

test('NoProxy compares IP addresses, not their spelling', () => {
  const table: [string, string, boolean][] = [
    // WHATWG URL writes [::ffff:127.0.0.1] as [::ffff:7f00:1]; the entry is the other spelling.
    ['::ffff:127.0.0.1', '[::ffff:7f00:1]', true],
    ['0:0:0:0:0:0:0:1', '[::1]', true],
    ['[0::1]:80', '::1', true],
    ['[0::1]:81', '::1', false],
    ['::1', '::2', false],
    ['10.0.0.1', '10.0.0.2', false],
  ];
  for (const [i, [list, host, want]] of table.entries()) {
    assert.equal(new NoProxy(list).matches(host, 80), want, `#${i}: ${list} vs ${host}`);
  }
});
