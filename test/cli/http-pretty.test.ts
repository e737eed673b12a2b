import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { Io } from '../../src/cli/io.js';
import { JSON_VIEW_LIMIT } from '../../src/cli/json-view.js';
import { runCli } from '../../src/cli/program.js';

const ANSI = /\x1b\[[0-9;]*m/;
// Odd spacing and a number JSON.parse would round: the raw bytes are recognisable.
const BODY = '{"id":12345678901234567890,  "tags":["a","b"],"ok":true}';
const PRETTY = '{\n  "id": 12345678901234567890,\n  "tags": [\n    "a",\n    "b"\n  ],\n  "ok": true\n}\n';

/** serveBodies answers /<name> with the body and content type registered under that name. */
async function serveBodies(
  t: { after: (fn: () => unknown) => void },
  routes: Record<string, { type: string; body: string | Buffer }>,
): Promise<string> {
  const server = http.createServer((req, res) => {
    const route = routes[(req.url ?? '/').slice(1)];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route.type }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** get runs `netkit http get` in-process with stdout a terminal or a pipe, and returns stdout's bytes. */
async function get(
  argv: string[],
  options: { tty: boolean; env?: Record<string, string> },
): Promise<{ code: number; out: Buffer; err: string }> {
  const stdout: PassThrough & { isTTY?: boolean } = new PassThrough();
  const stderr = new PassThrough();
  stdout.isTTY = options.tty;
  const chunks: Buffer[] = [];
  let err = '';
  stdout.on('data', (d: Buffer) => chunks.push(d));
  stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const io: Io = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    env: options.env ?? {},
    signal: new AbortController().signal,
  };
  const code = await runCli(['http', 'get', ...argv], io);
  await new Promise((r) => setImmediate(r));
  return { code, out: Buffer.concat(chunks), err };
}

test('http get on a terminal indents and colours a JSON body; piped, it prints the bytes unchanged', async (t) => {
  const base = await serveBodies(t, {
    json: { type: 'application/json; charset=utf-8', body: BODY },
    problem: { type: 'application/problem+json', body: BODY },
  });
  const tty = await get([`${base}/json`], { tty: true });
  assert.equal(tty.code, 0, tty.err);
  assert.match(tty.out.toString(), ANSI);
  assert.equal(tty.out.toString().replace(new RegExp(ANSI, 'g'), ''), PRETTY);

  const piped = await get([`${base}/json`], { tty: false });
  assert.equal(piped.code, 0, piped.err);
  assert.deepEqual(piped.out, Buffer.from(BODY));

  const plus = await get([`${base}/problem`], { tty: true, env: { NO_COLOR: '1' } });
  assert.equal(plus.out.toString(), PRETTY, '+json, and NO_COLOR: indented, no colour');
});

test('FORCE_COLOR takes the terminal path when piped (FORCE_COLOR=0 turns colour off)', async (t) => {
  const base = await serveBodies(t, { json: { type: 'application/json', body: BODY } });
  const forced = await get([`${base}/json`], { tty: false, env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
  assert.match(forced.out.toString(), ANSI);
  assert.equal(forced.out.toString().replace(new RegExp(ANSI, 'g'), ''), PRETTY);
  const off = await get([`${base}/json`], { tty: true, env: { FORCE_COLOR: '0' } });
  assert.equal(off.out.toString(), PRETTY);
  const offPiped = await get([`${base}/json`], { tty: false, env: { FORCE_COLOR: '0' } });
  assert.deepEqual(offPiped.out, Buffer.from(BODY));
});

test('on a terminal, invalid JSON, other types and bodies over the limit are printed raw', async (t) => {
  const big = Buffer.alloc(JSON_VIEW_LIMIT + 1, 0x20);
  big.write('{"big":true}');
  const base = await serveBodies(t, {
    broken: { type: 'application/json', body: '{"a": 1,' },
    text: { type: 'text/plain', body: BODY },
    big: { type: 'application/json', body: big },
  });
  for (const name of ['broken', 'text', 'big']) {
    const r = await get([`${base}/${name}`], { tty: true });
    assert.equal(r.code, 0, `#${name}: ${r.err}`);
    const want = name === 'broken' ? Buffer.from('{"a": 1,') : name === 'text' ? Buffer.from(BODY) : big;
    assert.ok(r.out.equals(want), `#${name}: got ${r.out.byteLength} bytes, not the raw body`);
  }
});

test('http get -i on a terminal: the head as before, then the indented body', async (t) => {
  const base = await serveBodies(t, { json: { type: 'application/json', body: BODY } });
  const r = await get([`${base}/json`, '-i'], { tty: true, env: { NO_COLOR: '1' } });
  const text = r.out.toString();
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.ok(text.endsWith(`\r\n\r\n${PRETTY}`), JSON.stringify(text));
  const json = await get([`${base}/json`, '--json'], { tty: true });
  assert.equal(
    (JSON.parse(json.out.toString()) as { body: string }).body,
    BODY,
    '--json keeps the body as sent',
  );
});
