import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentTypeOf } from '../../src/http/server/content-type.js';
import { parseRange } from '../../src/http/server/file-response.js';

describe('parseRange', () => {
  const cases: [string, number, ReturnType<typeof parseRange>][] = [
    ['bytes=0-9', 100, { start: 0, end: 9 }],
    ['bytes=5-', 100, { start: 5, end: 99 }],
    ['bytes=-10', 100, { start: 90, end: 99 }],
    ['bytes=-1000', 100, { start: 0, end: 99 }],
    ['bytes=90-1000', 100, { start: 90, end: 99 }],
    ['Bytes = 0-0', 100, { start: 0, end: 0 }],
    ['bytes=0-4, 5-9', 100, { start: 0, end: 9 }],
    ['bytes=5-9,0-6', 100, { start: 0, end: 9 }],
    ['bytes=0-4,200-300', 100, { start: 0, end: 4 }],
    ['bytes=0-4,10-14', 100, 'ignore'],
    ['bytes=100-', 100, 'unsatisfiable'],
    ['bytes=100-200,300-', 100, 'unsatisfiable'],
    ['bytes=-0', 100, 'unsatisfiable'],
    ['bytes=0-', 0, 'unsatisfiable'],
    ['bytes=-5', 0, 'unsatisfiable'],
    ['bytes=9-5', 100, 'ignore'],
    ['bytes=-', 100, 'ignore'],
    ['bytes=a-b', 100, 'ignore'],
    ['bytes=0-9,x', 100, 'ignore'],
    ['items=0-9', 100, 'ignore'],
    ['0-9', 100, 'ignore'],
  ];
  for (const [i, [header, size, want]] of cases.entries()) {
    it(`#${i}: ${header} of ${size} bytes`, () => {
      assert.deepEqual(
        parseRange(size, header),
        want,
        `#${i}: parseRange(${size}, ${JSON.stringify(header)})`,
      );
    });
  }
});

describe('contentTypeOf', () => {
  it('maps extensions case-insensitively, and unknown ones to octet-stream', () => {
    for (const [name, want] of [
      ['a.HTML', 'text/html; charset=utf-8'],
      ['x.tar.gz', 'application/gzip'],
      ['a.wasm', 'application/wasm'],
      ['a.svg', 'image/svg+xml'],
      ['a.7z', 'application/x-7z-compressed'],
      ['Makefile', 'application/octet-stream'],
      ['a.constructor', 'application/octet-stream'],
      ['a.__proto__', 'application/octet-stream'],
    ] as const) {
      assert.equal(contentTypeOf(name), want, name);
    }
  });
});
