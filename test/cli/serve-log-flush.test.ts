/**
 * `http serve`'s request log is written in batches (src/cli/line-writer.ts):
 * these tests run the built CLI as users do, with stdout on a file or a pipe,
 * and check that no line is lost, reordered or changed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { MAX_HELD_BYTES, WRITE_INTERVAL_MS } from '../../src/cli/line-writer.js';
import { Output } from '../../src/cli/output.js';
import { jsonLine } from '../../src/internal/text.js';
import { memoryIo, NETKIT_BIN } from '../helpers/cli.js';
import { until } from '../helpers/net.js';

/** serveToFile starts `netkit http serve` with stdout opened on a file, as `> file` does. */
async function serveToFile(
  t: import('node:test').TestContext,
  extra: string[] = [],
): Promise<{ child: ChildProcess; file: string; address: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'netkit-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'log');
  const fd = openSync(file, 'w');
  const child = spawn(process.execPath, [NETKIT_BIN, 'http', 'serve', '127.0.0.1:0', ...extra], {
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let address = '';
  await until(
    () => {
      const m = /(?:listening http:\/\/|"address":")([^/"\s]+)/.exec(readFileSync(file, 'utf8'));
      address = m?.[1] ?? '';
      return address !== '';
    },
    10_000,
    'the listening line',
  );
  return { child, file, address };
}

/** get sends GET `target` over `agent` and resolves with the status once the body is in. */
function get(address: string, target: string, agent: http.Agent, headers: http.OutgoingHttpHeaders = {}) {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    address.slice(address.lastIndexOf(':') + 1),
  ];
  return new Promise<number>((resolve, reject) => {
    const req = http.get({ host, port: Number(port), path: target, agent, headers }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
  });
}

test('SIGINT right after a burst of requests: every request is in the log, in order', async (t) => {
  const { child, file, address } = await serveToFile(t);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const n = 300;
  for (let i = 0; i < n; i++) assert.equal(await get(address, `/burst/${i}`, agent), 200);
  // No pause: the last requests' lines may still be in this turn's batch when the signal lands.
  child.kill('SIGINT');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  const seen = [...(await readFile(file, 'utf8')).matchAll(/^GET \/burst\/(\d+) HTTP\/1\.1$/gm)].map((m) =>
    Number(m[1]),
  );
  assert.deepEqual(
    seen,
    Array.from({ length: n }, (_, i) => i),
  );
});

test('SIGTERM with --json: every request event is in the log, in order, then stopped', async (t) => {
  const { child, file, address } = await serveToFile(t, ['--json']);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  for (let i = 0; i < 100; i++) assert.equal(await get(address, `/j/${i}`, agent), 200);
  child.kill('SIGTERM');
  await once(child, 'exit');
  const events = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; url?: string });
  assert.deepEqual(
    events.map((e) => (e.event === 'request' ? e.url : e.event)),
    ['listening', ...Array.from({ length: 100 }, (_, i) => `/j/${i}`), 'stopped'],
  );
});

test('the text and --json request lines keep their format', async (t) => {
  const request = 'GET /fmt?x=1&x=2 HTTP/1.1\r\nHost: h\r\nX-A: b\x9bc\r\n\r\n';
  const post =
    'POST /p HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{"a":1}';
  for (const json of [false, true]) {
    const { child, file, address } = await serveToFile(t, json ? ['--json'] : []);
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    const sock = net.connect(port, '127.0.0.1');
    t.after(() => sock.destroy());
    await once(sock, 'connect');
    const local = sock.localPort;
    let got = '';
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    // latin1: the header's byte 0x9b (a C1 control) arrives as it is, for the log to escape.
    sock.write(Buffer.from(request + post, 'latin1'));
    await until(() => (got.match(/HTTP\/1\.1 200/g) ?? []).length === 2, 5000, 'two answers');
    child.kill('SIGINT');
    await once(child, 'exit');
    const log = await readFile(file, 'utf8');
    if (!json) {
      assert.equal(
        log.slice(log.indexOf('\n') + 1),
        `GET /fmt?x=1&x=2 HTTP/1.1\nfrom 127.0.0.1:${local}\nHost: h\nX-A: b\\x9bc\n\n(no body)\n(0 bytes, empty)\n\n\n` +
          `POST /p HTTP/1.1\nfrom 127.0.0.1:${local}\nHost: h\nContent-Type: application/json\nContent-Length: 7\n\n` +
          `{\n  "a": 1\n}\n(7 bytes, json)\n\n\n`,
      );
      continue;
    }
    const lines = log.trim().split('\n');
    const remote = { ip: '127.0.0.1', port: local };
    const client = { ip: '127.0.0.1', port: local, via: 'socket' };
    assert.equal(lines.length, 4);
    assert.equal(
      lines[1],
      jsonLine({
        event: 'request',
        method: 'GET',
        url: '/fmt?x=1&x=2',
        path: '/fmt',
        query: { x: ['1', '2'] },
        httpVersion: '1.1',
        headers: [
          ['Host', 'h'],
          ['X-A', 'b\x9bc'],
        ],
        remote,
        client,
        body: { bytes: 0, kind: 'empty' },
      }),
    );
    assert.equal(
      lines[2],
      jsonLine({
        event: 'request',
        method: 'POST',
        url: '/p',
        path: '/p',
        query: {},
        httpVersion: '1.1',
        headers: [
          ['Host', 'h'],
          ['Content-Type', 'application/json'],
          ['Content-Length', '7'],
        ],
        remote,
        client,
        body: { bytes: 7, kind: 'json', text: '{"a":1}', json: { a: 1 } },
      }),
    );
  }
});

test('a stdout pipe that is not read: the server holds a bounded log, then stalls; read later, every line arrives', async (t) => {
  const child = spawn(process.execPath, [NETKIT_BIN, 'http', 'serve', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const stdout = child.stdout!;
  // Read only the listening line, then leave the pipe unread.
  let text = '';
  const onData = (d: Buffer) => {
    text += d.toString();
  };
  stdout.on('data', onData);
  await until(() => text.includes('\n'), 10_000, 'the listening line');
  stdout.off('data', onData);
  stdout.pause();
  const address = /listening http:\/\/(\S+)\//.exec(text)![1]!;

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  // Each request logs its 2 KiB header: about 2.2 KiB of log per request.
  const headers = { 'X-Pad': 'p'.repeat(2048) };
  const total = 1500;
  let answered = 0;
  let stalled = false;
  const sending = (async () => {
    for (let i = 0; i < total; i++) {
      await get(address, `/slow/${i}`, agent, headers);
      answered++;
    }
  })();
  // While nobody reads, answers stop once the held log passes its bound. A
  // stall is no answer for three 300 ms windows in a row, so a loaded machine
  // pausing the server once is not taken for the bound.
  let last = -1;
  let quiet = 0;
  while (!stalled && answered < total) {
    last = answered;
    await new Promise((r) => setTimeout(r, 300));
    quiet = answered === last ? quiet + 1 : 0;
    stalled = quiet >= 3;
  }
  assert.ok(stalled, `the server answered all ${total} requests with nobody reading its log`);
  const perRequest = 2048 + 100;
  assert.ok(
    answered * perRequest > MAX_HELD_BYTES,
    `stalled after ${answered} requests, before holding MAX_HELD_BYTES`,
  );
  assert.ok(
    answered * perRequest < MAX_HELD_BYTES + 1024 * 1024 + 4 * perRequest,
    `${answered} requests answered: more log held than MAX_HELD_BYTES and a pipe's capacity`,
  );

  // Now read: the server goes on, and every line arrives in order.
  let rest = '';
  stdout.on('data', (d: Buffer) => {
    rest += d.toString();
  });
  stdout.resume();
  await sending;
  child.kill('SIGINT');
  await once(child, 'close');
  const seen = [...rest.matchAll(/^GET \/slow\/(\d+) HTTP\/1\.1$/gm)].map((m) => Number(m[1]));
  assert.deepEqual(
    seen,
    Array.from({ length: total }, (_, i) => i),
  );
});

/** countedOutput is an Output (with --json) over in-memory stdio that records each write to stdout. */
function countedOutput() {
  const io = memoryIo();
  const writes: string[] = [];
  const write = io.value.stdout.write.bind(io.value.stdout);
  io.value.stdout.write = ((chunk: string) => {
    writes.push(chunk);
    return write(chunk);
  }) as typeof io.value.stdout.write;
  return { io, writes, out: new Output(io.value, true) };
}

test('Output.buffer on a stream without a descriptor: one write per turn, order kept across events and notes, all out at close', async () => {
  const { io, writes, out } = countedOutput();
  const unbuffer = out.buffer();
  for (let i = 0; i < 5; i++) out.event('request', { i });
  assert.equal(writes.length, 0, 'lines wait for the end of the turn');
  await new Promise((r) => setImmediate(r));
  assert.equal(writes.length, 1, 'the turn is one write');
  out.event('request', { i: 5 });
  out.note('stopped', {}, 'stopped');
  out.event('request', { i: 6 });
  unbuffer();
  out.event('request', { i: 7 });
  assert.deepEqual(
    io
      .out()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i?: number; event: string }).i ?? 'stopped'),
    [0, 1, 2, 3, 4, 5, 'stopped', 6, 7],
  );
});

test('Output.buffer while lines keep coming: writes are spaced WRITE_INTERVAL_MS apart; a line after a quiet spell goes out at the end of its turn', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setImmediate', 'Date'] });
  const { io, writes, out } = countedOutput();
  const unbuffer = out.buffer();
  const turn = () => {
    // Mocked setImmediate runs on tick(0).
    t.mock.timers.tick(0);
  };
  out.event('request', { i: 0 });
  turn();
  assert.equal(writes.length, 1, 'the first line goes out at the end of its turn');
  out.event('request', { i: 1 });
  out.event('request', { i: 2 });
  turn();
  assert.equal(writes.length, 1, 'lines right after a write wait for the interval');
  t.mock.timers.tick(WRITE_INTERVAL_MS - 1);
  out.event('request', { i: 3 });
  assert.equal(writes.length, 1, 'still within the interval');
  t.mock.timers.tick(1);
  assert.equal(writes.length, 2, 'one write for the three lines, at the interval');
  // A quiet spell as long as the interval: the next line is not held back.
  t.mock.timers.tick(WRITE_INTERVAL_MS);
  out.event('request', { i: 4 });
  turn();
  assert.equal(writes.length, 3, 'after a quiet spell the line goes out at the end of its turn');
  unbuffer();
  assert.deepEqual(
    io
      .out()
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { i: number }).i),
    [0, 1, 2, 3, 4],
  );
});

test('tcp serve, through the shared server helper: SIGTERM right after a burst of connections, every open and close is in the log, in order', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'netkit-log-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'log');
  const fd = openSync(file, 'w');
  const child = spawn(process.execPath, [NETKIT_BIN, 'tcp', 'serve', '127.0.0.1:0', '--echo', '--json'], {
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let address = '';
  await until(
    () => {
      address = /"address":"([^"]+)"/.exec(readFileSync(file, 'utf8'))?.[1] ?? '';
      return address !== '';
    },
    10_000,
    'the listening line',
  );
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  const n = 50;
  const locals: number[] = [];
  for (let i = 0; i < n; i++) {
    // One at a time, each echoed and closed by the client: the server logs its open and then its close.
    const sock = net.connect(port, '127.0.0.1');
    await once(sock, 'connect');
    locals.push(sock.localPort!);
    sock.resume();
    sock.end('x\n');
    await once(sock, 'close');
  }
  // The last closes may still be in this turn's batch when the signal lands.
  await until(() => readFileSync(file, 'utf8').split('"event":"close"').length > n / 2, 10_000, 'closes');
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0);
  const events = (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; remote?: string });
  assert.equal(events[0]?.event, 'listening');
  assert.equal(events.at(-1)?.event, 'stopped');
  const conns = events.filter((e) => e.event === 'open' || e.event === 'close');
  assert.deepEqual(
    conns.map((e) => `${e.event} ${e.remote}`),
    locals.flatMap((p) => [`open 127.0.0.1:${p}`, `close 127.0.0.1:${p}`]),
  );
});

test('Output.buffer called again while buffering: only the first call ends the batch', async () => {
  const { writes, out } = countedOutput();
  const outer = out.buffer();
  const inner = out.buffer();
  out.event('request', { i: 0 });
  inner();
  out.event('request', { i: 1 });
  assert.equal(writes.length, 0, 'still batching after the nested call ended');
  outer();
  assert.equal(writes.length, 1, 'the batch went out in one write when the first call ended');
  out.event('request', { i: 2 });
  assert.equal(writes.length, 2, 'and later lines go out at once');
});
