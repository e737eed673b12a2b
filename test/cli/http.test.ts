import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, startCli } from '../helpers/cli.js';

test('http serve prints each request; http get prints the body, -i the head, --timing phases', async (t) => {
  const run = startCli(['http', 'serve', '127.0.0.1:0']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/listening http:\/\/(\S+)\//);
  const body = await cli(['http', 'get', `http://${address}/hello?x=1`]);
  assert.equal(body.code, 0, body.stderr);
  assert.equal(body.stdout, "Hello, you've requested: /hello\n");
  await run.waitFor(/GET \/hello\?x=1 HTTP\/1\.1/);
  const head = await cli(['http', 'get', `http://${address}/`, '-I', '--timing']);
  assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.doesNotMatch(head.stdout, /Hello/);
  assert.match(head.stderr, /first byte\s+[\d.]+ ms/);
  run.abort();
  assert.equal(await run.done, 0);
});

test('http post sends the body; the JSON inspector and --json output round-trip it', async (t) => {
  const run = startCli(['http', 'serve', '127.0.0.1:0', '--json', '-q']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const r = await cli([
    'http',
    'post',
    `http://${address}/hook?status=201`,
    '-d',
    '{"a":1}',
    '-H',
    'Content-Type: application/json',
    '-H',
    'Accept: application/json',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(r.stdout) as { status: number; body: string };
  assert.equal(res.status, 201);
  const seen = JSON.parse(res.body) as { method: string; body: { json: unknown } };
  assert.equal(seen.method, 'POST');
  assert.deepEqual(seen.body.json, { a: 1 });
});

test('http get: a refused port exits 3, a silent server exits 4', async (t) => {
  const refused = await cli(['http', 'get', 'http://127.0.0.1:1/']);
  assert.equal(refused.code, 3);
  const run = startCli(['http', 'serve', '127.0.0.1:0']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/listening http:\/\/(\S+)\//);
  const slow = await cli(['http', 'get', `http://${address}/?delay=2s`, '--timeout', '200ms']);
  assert.equal(slow.code, 4, slow.stderr);
});
