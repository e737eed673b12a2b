import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindErrorText, errnoText, osErrorText } from '../../src/internal/os-errors.js';

const sys = (code: string, message = `connect ${code} 127.0.0.1:1`) =>
  Object.assign(new Error(message), { code });

test("errnoText gives Go's words for socket errno codes", () => {
  const cases: [unknown, string | undefined][] = [
    ['ECONNREFUSED', 'connection refused'],
    ['ECONNRESET', 'connection reset by peer'],
    ['EPIPE', 'broken pipe'],
    ['EHOSTUNREACH', 'no route to host'],
    ['ENETUNREACH', 'network is unreachable'],
    ['EADDRINUSE', 'address already in use'],
    ['EADDRNOTAVAIL', 'cannot assign requested address'],
    ['EACCES', 'permission denied'],
    ['ETIMEDOUT', 'connection timed out'],
    ['EWHATEVER', undefined],
    ['toString', undefined],
    [undefined, undefined],
    [42, undefined],
  ];
  for (const [i, [code, want]] of cases.entries())
    assert.equal(errnoText(code), want, `#${i}: ${String(code)}`);
});

test('osErrorText falls back to the message for an error it has no words for', () => {
  const cases: [unknown, string][] = [
    [sys('ECONNREFUSED'), 'connection refused'],
    [sys('EWHATEVER', 'something odd'), 'something odd'],
    [new Error('no code'), 'no code'],
    ['a string', 'a string'],
  ];
  for (const [i, [err, want]] of cases.entries()) assert.equal(osErrorText(err), want, `#${i}`);
});

test("bindErrorText speaks as Go's bind, with a hint for privileged ports", () => {
  const cases: [unknown, number | undefined, string][] = [
    [sys('EADDRINUSE'), 8080, 'bind: address already in use'],
    [sys('EACCES'), 80, 'bind: permission denied (ports below 1024 need privileges)'],
    [sys('EACCES'), 8080, 'bind: permission denied'],
    [sys('EACCES'), undefined, 'bind: permission denied'],
    [sys('EADDRNOTAVAIL'), 80, 'bind: cannot assign requested address'],
    [sys('EWHATEVER', 'listen EWHATEVER'), 80, 'listen EWHATEVER'],
  ];
  for (const [i, [err, port, want]] of cases.entries()) assert.equal(bindErrorText(err, port), want, `#${i}`);
});
