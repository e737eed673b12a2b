/** Route patterns: Go ServeMux's literal patterns, matched most specific first. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { cleanPath, compileRoutes, type HttpHandler, matchRoute } from '../../../src/http/server/routes.js';

const named = (name: string): HttpHandler => Object.assign(() => {}, { displayName: name });
const nameOf = (h: HttpHandler) => (h as HttpHandler & { displayName: string }).displayName;

describe('cleanPath', () => {
  it('resolves dot segments and doubled slashes as Go path.Clean does, keeping a trailing slash', () => {
    const table: [string, string][] = [
      ['/', '/'],
      ['/a/b', '/a/b'],
      ['/a/b/', '/a/b/'],
      ['//a///b', '/a/b'],
      ['/a/./b', '/a/b'],
      ['/a/../b', '/b'],
      ['/../../x', '/x'],
      ['/a/..', '/'],
      ['/a/b/..', '/a/'],
      ['/a/.', '/a/'],
    ];
    for (const [i, [input, want]] of table.entries()) {
      assert.equal(cleanPath(input), want, `#${i}: cleanPath(${JSON.stringify(input)})`);
    }
  });
});

describe('matchRoute', () => {
  const routes = compileRoutes({
    '/': named('root'),
    '/a': named('a exact'),
    '/a/': named('a tree'),
    '/a/b/': named('ab tree'),
    'GET /a/b/c': named('GET abc'),
    '/a/b/c': named('abc'),
    'PUT /only': named('PUT only'),
    'GET /only': named('GET only'),
  })!;
  const request = (method: string, url: string) => ({ method, url }) as IncomingMessage;

  it('picks the most specific pattern, GET covering HEAD, 405 and redirects as Go does', () => {
    const table: [method: string, url: string, want: string][] = [
      ['GET', '/', 'root'],
      ['GET', '/zzz', 'root'],
      ['GET', '/a', 'a exact'],
      ['GET', '/a/', 'a tree'],
      ['GET', '/a/x', 'a tree'],
      ['GET', '/a/b', 'a tree'],
      ['GET', '/a/b/x?q=1', 'ab tree'],
      ['GET', '/a/b/c', 'GET abc'],
      ['HEAD', '/a/b/c', 'GET abc'],
      ['POST', '/a/b/c', 'abc'],
      ['GET', '/a%2Fb/c', 'GET abc'],
      ['GET', 'http://host/a/x', 'a tree'],
      ['PUT', '/only', 'PUT only'],
      ['HEAD', '/only', 'GET only'],
      ['DELETE', '/only', 'root'], // `/` matches it for every method, as in Go: no 405
      ['GET', '/a/../only', 'redirect /only'],
      ['GET', '/a//b/c?x=%20', 'redirect /a/b/c?x=%20'],
      ['GET', '/a/%2e%2e/a/x', 'redirect /a/x'],
      ['OPTIONS', '*', 'none'],
    ];
    for (const [i, [method, url, want]] of table.entries()) {
      const m = matchRoute(routes, request(method, url));
      const got =
        m === undefined
          ? 'none'
          : m.kind === 'handler'
            ? nameOf(m.handler)
            : m.kind === 'redirect'
              ? `redirect ${m.location}`
              : `405 ${m.allow.join(', ')}`;
      assert.equal(got, want, `#${i}: ${method} ${url}: got ${got} want ${want}`);
    }
  });

  it('finds nothing without a pattern for the path, and 405 when patterns have it for other methods only', () => {
    const few = compileRoutes({ '/health': named('health'), 'POST /hook/': named('hook') })!;
    assert.deepEqual(matchRoute(few, request('DELETE', '/hook/x')), { kind: 'method', allow: ['POST'] });
    assert.equal(matchRoute(few, request('GET', '/healthz')), undefined);
    assert.equal(matchRoute(few, request('GET', '/hook')), undefined);
    assert.equal(matchRoute(few, request('GET', '/a/../b')), undefined);
  });
});
