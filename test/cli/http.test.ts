import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { request } from '../../src/http/index.js';
import { cli, spawnNetkit, startCli } from '../helpers/cli.js';
import { until } from '../helpers/net.js';

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

test('http serve --workers 2: two processes share the port, both answer, Ctrl-C stops all', async () => {
  const p = spawnNetkit(['http', 'serve', '127.0.0.1:0', '--workers', '2', '--json']);
  try {
    const [, address] = await p.waitFor(/"event":"listening","address":"([^"]+)".*"workers":2/);
    const requests = () =>
      p
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"event":"request"'));
    const workers = () => new Set(requests().map((l) => (JSON.parse(l) as { worker: number }).worker));
    // A new connection per request. The workers accept from the shared socket, so the kernel,
    // not a strict rotation, decides who takes each one: ask until both have answered (bounded).
    let sent = 0;
    while (sent < 16 || (workers().size < 2 && sent < 400)) {
      const res = await request(`http://${address}/n/${sent}`, { headers: { Connection: 'close' } });
      assert.equal(res.body.toString(), `Hello, you've requested: /n/${sent}\n`);
      sent++;
      await until(() => requests().length === sent, 5000, `${sent} request events`);
    }
    assert.deepEqual([...workers()].sort(), [1, 2], `both workers answered (${sent} requests)`);
  } finally {
    const start = Date.now();
    p.child.kill('SIGTERM');
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    assert.ok(Date.now() - start < 3000, `took ${Date.now() - start} ms to stop`);
  }
});

test('http serve --workers on a port in use exits 3 without restarting workers', async (t) => {
  const first = startCli(['http', 'serve', '127.0.0.1:0']);
  t.after(() => first.abort());
  const [, address] = await first.waitFor(/listening http:\/\/(\S+)\//);
  const p = spawnNetkit(['http', 'serve', address!, '--workers', '2']);
  assert.deepEqual(await p.exited, { code: 3, signal: null });
  assert.match(p.stderr(), /NETKIT_LISTEN_FAILED/);
  assert.doesNotMatch(p.stderr(), /restarting/);
});

test('http serve --dir serves files and logs each request; a missing dir exits 2', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'netkit-dir-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'a.json'), '{"a":1}');
  const run = startCli(['http', 'serve', '127.0.0.1:0', '--dir', dir]);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/listening http:\/\/(\S+)\/ \(files from /);
  const res = await cli(['http', 'get', `http://${address}/a.json`, '-i']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(res.stdout, /Content-Type: application\/json; charset=utf-8\r\n/i);
  assert.match(res.stdout, /\r\n\r\n\{"a":1\}$/);
  await run.waitFor(/GET \/a\.json HTTP\/1\.1/);
  const missing = await cli(['http', 'serve', '127.0.0.1:0', '--dir', path.join(dir, 'nope')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /does not exist/);
});

test('http post --data-file or --cacert naming a missing file: NETKIT_FILE_ACCESS with a sentence, exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['--data-file', '/nonexistent/body.json'],
      /cannot read --data-file "\/nonexistent\/body\.json": no such file/,
    ],
    [['--data-file', '/'], /cannot read --data-file "\/": it is a directory/],
    [['--cacert', '/nonexistent/ca.pem'], /cannot read --cacert "\/nonexistent\/ca\.pem": no such file/],
  ];
  for (const [flags, message] of cases) {
    const r = await cli(['http', 'post', 'http://127.0.0.1:1/', ...flags, '--json']);
    assert.equal(r.code, 2, r.stdout);
    const e = JSON.parse(r.stdout) as { code: string; message: string };
    assert.equal(e.code, 'NETKIT_FILE_ACCESS');
    assert.match(e.message, message);
    const human = await cli(['http', 'post', 'http://127.0.0.1:1/', ...flags]);
    assert.doesNotMatch(human.stderr, /ENOENT: no such file|EISDIR: illegal/);
  }
});

test('RELIABILITY 35: http serve --max-conns refuses one connection more with RST and logs it; --idle-timeout reaps a silent request', async (t) => {
  const run = startCli([
    'http',
    'serve',
    '127.0.0.1:0',
    '--max-conns',
    '1',
    '--idle-timeout',
    '300ms',
    '--json',
  ]);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const [host, port] = [address!.slice(0, address!.lastIndexOf(':')), Number(address!.split(':').pop())];
  const holder = net.connect(port, host);
  holder.on('error', () => {});
  t.after(() => holder.destroy());
  await new Promise<void>((resolve) => holder.once('connect', () => resolve()));
  // It talks (a connection that never did would be closed to make room instead).
  const answered = new Promise<void>((resolve) => holder.once('data', () => resolve()));
  holder.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
  await answered;
  const refused = await cli(['http', 'get', `http://${address}/`, '--timeout', '5s']);
  // Reset before or after the client saw its connect complete: a failed dial (3) or a reset (5).
  assert.ok([3, 5].includes(refused.code), `exit ${refused.code}: ${refused.stderr}`);
  assert.match(refused.stderr, /ECONNRESET/);
  await run.waitFor(/"event":"refuse","remote":"127\.0\.0\.1:\d+","reason":"max-connections"/);

  // The one connection allowed asks for an answer 10 s away: silent both ways, it is closed at --idle-timeout.
  const closed = new Promise<number>((resolve) => {
    const t0 = performance.now();
    holder.once('close', () => resolve(performance.now() - t0));
  });
  holder.write('GET /?delay=10s HTTP/1.1\r\nHost: x\r\n\r\n');
  const ms = await closed;
  assert.ok(ms < 3000, `closed after ${ms.toFixed(0)} ms`);
});

test('http get -i shows the status reason and header values escaped, as the peer sent them', async (t) => {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () =>
      s.end(
        Buffer.concat([
          Buffer.from(
            'HTTP/1.1 200 O\xc2\x9bK\xe2\x80\xae\r\nContent-Length: 2\r\nX-Evil: a\xe2\x80\xaer\xc2\x9b[31m',
            'latin1',
          ),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('\r\nX-Name: caf\xc3\xa9\r\n\r\nok', 'latin1'),
        ]),
      ),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const { port } = server.address() as net.AddressInfo;
  const r = await cli(['http', 'get', '-i', `http://127.0.0.1:${port}/`]);
  assert.equal(r.code, 0, r.stderr);
  const head = Buffer.from(r.stdout, 'latin1').toString('utf8');
  assert.match(head, /^HTTP\/1\.1 200 O\\x9bK\\u202e\r\n/);
  assert.match(head, /X-Evil: a\\u202er\\x9b\[31m\\xff\\xfe\r\n/i);
  assert.match(head, /X-Name: café\r\n/i);
  assert.doesNotMatch(head, /[\x1b\u009b\u202e]/);
});

test("curl's habits: --fail exits 22 on a 4xx without the body; --head, --location and -d @file", async (t) => {
  const run = startCli(['http', 'serve', '127.0.0.1:0', '--json', '-q']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const missing = `http://${address}/nope?status=404`;
  const plain = await cli(['http', 'get', missing]);
  assert.equal(plain.code, 0);
  assert.notEqual(plain.stdout, '');
  const failed = await cli(['http', 'get', missing, '--fail']);
  assert.equal(failed.code, 22);
  assert.equal(failed.stdout, '');
  assert.match(failed.stderr, /HTTP 404/);
  const ok = await cli(['http', 'get', `http://${address}/`, '-f']);
  assert.equal(ok.code, 0, ok.stderr);
  const head = await cli(['http', 'get', `http://${address}/`, '--head']);
  assert.match(head.stdout, /^HTTP\/1\.1 200 OK\r\n/);
  assert.doesNotMatch(head.stdout, /"method"/);
  const moved = `http://${address}/from?status=302&header=Location:/to`;
  const followed = await cli(['http', 'get', moved, '--location', '--json']);
  assert.equal(followed.code, 0, followed.stderr);
  const res = JSON.parse(followed.stdout) as { status: number; url: string; redirects: unknown[] };
  assert.equal(res.status, 200);
  assert.match(res.url, /\/to$/);
  const dir = await mkdtemp(path.join(tmpdir(), 'netkit-http-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'body.json'), '{"from":"file"}');
  const posted = await cli([
    'http',
    'post',
    `http://${address}/`,
    '-d',
    `@${path.join(dir, 'body.json')}`,
    '-H',
    'Content-Type: application/json',
    '-H',
    'Accept: application/json',
    '--json',
  ]);
  assert.equal(posted.code, 0, posted.stderr);
  const seen = JSON.parse((JSON.parse(posted.stdout) as { body: string }).body) as {
    body: { json: unknown };
  };
  assert.deepEqual(seen.body.json, { from: 'file' });
});
