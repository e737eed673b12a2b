/** netkit's HTTP server and client against Go's net/http (programs under test/interop/). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { request, serveHttp } from '../../src/http/index.js';
import { spawnProc } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

const run = promisify(execFile);

test("Go's net/http client -> netkit serveHttp: hello route and the JSON inspector", async (t) => {
  const client = await goProgram(t, 'test/interop/httpclient');
  if (!client) return;
  const server = await serveHttp('127.0.0.1:0');
  t.after(() => server.close());
  const hello = await run(client, ['-url', `http://${server.address}/from/go`]);
  assert.equal(
    hello.stdout,
    "status 200\ncontent-type text/plain; charset=utf-8\n\nHello, you've requested: /from/go\n",
  );
  const json = await run(client, [
    '-url',
    `http://${server.address}/hook?x=1`,
    '-data',
    '{"go":true}',
    '-accept',
    'application/json',
  ]);
  const [head, body] = json.stdout.split('\n\n');
  assert.match(head!, /^status 200\ncontent-type application\/json/);
  const info = JSON.parse(body!) as {
    method: string;
    query: Record<string, string>;
    body: { text?: string };
  };
  assert.equal(info.method, 'POST');
  assert.deepEqual(info.query, { x: '1' });
  // Go sends no Content-Type here, so the inspector shows the body as text.
  assert.equal(info.body.text, '{"go":true}');
});

test("netkit request() -> Go's net/http server: GET, POST body, and a followed redirect", async (t) => {
  const bin = await goProgram(t, 'test/interop/httpserver');
  if (!bin) return;
  const p = spawnProc(bin, []);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  const get = await request(`http://${address}/path`);
  assert.equal(get.status, 200);
  assert.equal(get.body.toString(), "Hello, you've requested: /path\n");
  const post = await request(`http://${address}/echo`, { method: 'POST', body: 'payload' });
  assert.equal(post.body.toString(), "Hello, you've requested: /echo\n\npayload");
  assert.ok(post.headers.some(([k, v]) => k.toLowerCase() === 'x-method' && v === 'POST'));
  const redirected = await request(`http://${address}/redirect`, { follow: true });
  assert.equal(redirected.url, `http://${address}/after`);
  assert.deepEqual(redirected.redirects, [`http://${address}/redirect`]);
});
