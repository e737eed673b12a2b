import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitUnixUrl, unixUrlText } from '../../src/tcp/unix-url.js';

test("splitUnixUrl reads got's form and leaves every other URL alone", () => {
  const cases: [string, { socketPath: string; url: string } | undefined][] = [
    ['http://unix:/run/app.sock:/x?y=1', { socketPath: '/run/app.sock', url: 'http://localhost/x?y=1' }],
    ['https://unix:/run/app.sock:/', { socketPath: '/run/app.sock', url: 'https://localhost/' }],
    ['ws://unix:/tmp/a b.sock:/echo', { socketPath: '/tmp/a b.sock', url: 'ws://localhost/echo' }],
    ['http://unix:/tmp/odd%zz.sock:/', { socketPath: '/tmp/odd%zz.sock', url: 'http://localhost/' }],
    // Nothing after the socket's path: the request goes to /.
    ['http://unix:/run/app.sock:', { socketPath: '/run/app.sock', url: 'http://localhost/' }],
    ['http://unix/x', undefined],
    ['http://unix:81/a:b', undefined],
    ['http://user@unix:/run/app.sock:/', undefined],
    ['http://127.0.0.1:8080/a:b', undefined],
  ];
  for (const [i, [input, want]] of cases.entries()) {
    const got = splitUnixUrl(new URL(input));
    assert.deepEqual(
      got === undefined ? undefined : { socketPath: got.socketPath, url: got.url.href },
      want,
      `#${i}: ${input}`,
    );
  }
});

test("unixUrlText writes the split URL back in got's form", () => {
  const split = splitUnixUrl(new URL('http://unix:/run/app.sock:/x?y=1'))!;
  assert.equal(unixUrlText(split.url, split.socketPath), 'http://unix:/run/app.sock:/x?y=1');
});
