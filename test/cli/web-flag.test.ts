import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWebAddress, WEB_DEFAULT, webAddress, webToken } from '../../src/cli/web-flag.js';

test('--web: loopback unless an address says otherwise; a bare port is a loopback port', () => {
  assert.equal(webAddress(undefined), undefined);
  assert.equal(webAddress(true), WEB_DEFAULT);
  assert.equal(WEB_DEFAULT, '127.0.0.1:0');
  assert.equal(parseWebAddress('8090'), '127.0.0.1:8090');
  assert.equal(parseWebAddress('0.0.0.0:8090'), '0.0.0.0:8090');
  assert.equal(parseWebAddress(':8090'), ':8090');
  assert.throws(() => parseWebAddress('70000'), /out of range/);
});

test('--web: a token for every address beyond loopback, none on loopback', () => {
  for (const a of ['127.0.0.1:0', '127.8.9.1:80', 'localhost:8090', '[::1]:8090']) {
    assert.equal(webToken(a), undefined, a);
  }
  for (const a of ['0.0.0.0:8090', ':8090', '[::]:8090', '192.0.2.1:80', 'example.test:80']) {
    const t = webToken(a);
    assert.ok(t !== undefined && t.length >= 16, a);
  }
  assert.notEqual(webToken(':1'), webToken(':1'), 'fresh each time');
});
