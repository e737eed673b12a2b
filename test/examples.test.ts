/** The programs in examples/ run as documented, against the built package. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { spawnProc } from './helpers/cli.js';
import { ROOT } from './helpers/tools.js';

const run = promisify(execFile);
const TSX = ['--import', 'tsx'];

test('examples/line-server.ts and examples/line-client.ts talk to each other', async (t) => {
  const server = spawnProc(process.execPath, [...TSX, 'examples/line-server.ts', '127.0.0.1:0']);
  t.after(() => server.kill('SIGINT'));
  const [, address] = await server.waitFor(/listening (\S+)/);
  const { stdout } = await run(
    process.execPath,
    [...TSX, 'examples/line-client.ts', address!, 'hi', 'there'],
    { cwd: ROOT },
  );
  assert.equal(stdout, 'reply: Hello, Client!\nreply: Hello, Client!\neof (fin)\n');
  await server.waitFor(/close 127\.0\.0\.1:\d+ fin/);
  server.child.kill('SIGINT');
  assert.equal((await server.exited).code, 0);
});

test('examples/sticky-packets.ts shows merged reads and 20 framed messages', async () => {
  const { stdout } = await run(process.execPath, [...TSX, 'examples/sticky-packets.ts'], { cwd: ROOT });
  const m = /raw: 20 writes arrived in (\d+) read\(s\)/.exec(stdout);
  assert.ok(m && Number(m[1]) < 20, stdout);
  assert.match(stdout, /framed: 20 messages, first "message 1"/);
});

test('examples/resolve.ts prints Go results and error codes', async () => {
  const ok = await run(process.execPath, [...TSX, 'examples/resolve.ts', 'tcp', 'localhost:http'], {
    cwd: ROOT,
  });
  assert.equal(ok.stdout, 'tcp localhost:http -> ip=127.0.0.1 port=80 zone=-\n');
  await assert.rejects(
    run(process.execPath, [...TSX, 'examples/resolve.ts', 'tcp4', '[::1]:80'], { cwd: ROOT }),
    (e: { stdout: string }) => e.stdout.includes('NETKIT_NO_SUITABLE_ADDRESS'),
  );
});

test('examples/rpc-arith.ts: the classic Arith calls, in one process and as server + client', async (t) => {
  const expected = 'Arith: 7*8=56\nArith: 17/5=3 remainder 2\nArith: 1/0 -> server error: divide by zero\n';
  const solo = await run(process.execPath, [...TSX, 'examples/rpc-arith.ts'], { cwd: ROOT });
  assert.equal(solo.stdout, expected);
  const server = spawnProc(process.execPath, [...TSX, 'examples/rpc-arith.ts', 'serve', '127.0.0.1:0']);
  t.after(() => server.kill('SIGINT'));
  const [, address] = await server.waitFor(/listening (\S+)/);
  const pair = await run(process.execPath, [...TSX, 'examples/rpc-arith.ts', 'call', address!], {
    cwd: ROOT,
  });
  assert.equal(pair.stdout, expected);
});

test('examples/ws-echo.ts echoes and logs each message, like the classic gorilla server', async (t) => {
  const server = spawnProc(process.execPath, [...TSX, 'examples/ws-echo.ts', '127.0.0.1:0']);
  t.after(() => server.kill('SIGINT'));
  const [, url] = await server.waitFor(/listening (ws:\S+)/);
  const { stdout } = await run(
    process.execPath,
    ['dist/cli/main.js', 'ws', 'connect', url!, '--send', 'hello', '-q'],
    {
      cwd: ROOT,
    },
  );
  assert.equal(stdout, 'hello\n');
  await server.waitFor(/recv: hello/);
  server.child.kill('SIGINT');
  assert.equal((await server.exited).code, 0);
});

test('examples/pool-line-client.ts sends 200 requests over 4 pooled connections', async (t) => {
  const server = spawnProc(process.execPath, [...TSX, 'examples/line-server.ts', '127.0.0.1:0']);
  t.after(() => server.kill('SIGINT'));
  const [, address] = await server.waitFor(/listening (\S+)/);
  const { stdout } = await run(process.execPath, [...TSX, 'examples/pool-line-client.ts', address!, '200'], {
    cwd: ROOT,
    timeout: 8000,
  });
  assert.match(stdout, /^200 requests over 4 connections in \d+ ms: every reply "Hello, Client!"$/m);
  assert.match(stdout, /^pool: created 4, acquires 200, acquireWaitMs \d+\.\d \(summed over acquires\)$/m);
  // The pool closed its connections: the server saw four clients hang up.
  await server.waitFor(/(close 127\.0\.0\.1:\d+ fin[\s\S]*){4}/);
});

test('examples/file-transfer.ts sends a directory to itself in receive mode', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-example-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'src', 'sub'), { recursive: true });
  await writeFile(path.join(dir, 'src', 'sub', 'a.txt'), 'hello\n');
  const recv = spawnProc(process.execPath, [
    ...TSX,
    'examples/file-transfer.ts',
    'recv',
    path.join(dir, 'out'),
    '127.0.0.1:0',
  ]);
  t.after(() => recv.kill('SIGINT'));
  const [, address, code] = await recv.waitFor(/^listening (\S+) -> .* \(code (\S+)\)$/m);
  const { stdout } = await run(
    process.execPath,
    [...TSX, 'examples/file-transfer.ts', 'send', address!, code!, path.join(dir, 'src')],
    { cwd: ROOT },
  );
  assert.match(stdout, /^sent src\/sub\/a\.txt \(6 bytes\)\nsent 1 files, 6 bytes in [\d.]+ s\n$/);
  await recv.waitFor(/received 1 files, 6 bytes from 127\.0\.0\.1:\d+/);
  assert.equal(await readFile(path.join(dir, 'out', 'src', 'sub', 'a.txt'), 'utf8'), 'hello\n');
});

test('examples/tls-pinned.ts: a pinned client gets its echo over TLS, a wrong pin is refused', async () => {
  const { stdout } = await run(process.execPath, [...TSX, 'examples/tls-pinned.ts'], { cwd: ROOT });
  assert.match(stdout, /^listening 127\.0\.0\.1:\d+ tls sha256:[0-9a-f]{64}$/m);
  assert.match(stdout, /^reply: hello over TLS$/m);
  assert.match(stdout, /^wrong pin: NETKIT_TLS_FAILED$/m);
});

test('examples/http-mount-express.ts: the inspector answers under /debug in an Express app', async (t) => {
  const server = spawnProc(process.execPath, [...TSX, 'examples/http-mount-express.ts', '127.0.0.1:0']);
  t.after(() => server.kill('SIGINT'));
  const [, address] = await server.waitFor(/listening (\S+)/);
  const root = await fetch(`http://${address}/`);
  assert.equal(await root.text(), 'the app itself; try /debug/\n');
  const res = await fetch(`http://${address}/debug/x?y=1`, { headers: { accept: 'application/json' } });
  assert.equal(res.status, 200);
  const info = (await res.json()) as { url: string; base: string; remote: { ip: string; port: number } };
  assert.equal(info.url, '/debug/x?y=1');
  assert.equal(info.base, '/debug');
  assert.equal(info.remote.ip, '127.0.0.1');
  assert.ok(info.remote.port > 0);
  await server.waitFor(/inspected GET \/debug\/x\?y=1 from 127\.0\.0\.1/);
  const shaped = await fetch(`http://${address}/debug/?status=418`);
  assert.equal(shaped.status, 418);
  server.child.kill('SIGINT');
  assert.equal((await server.exited).code, 0);
});

// Loaded here rather than at the top: the mount examples are the only ones with a raw `ws` client.
async function wsClient(t: import('node:test').TestContext, url: string) {
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(url);
  t.after(() => ws.terminate());
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const message = () => new Promise<string>((resolve) => ws.once('message', (d) => resolve(String(d))));
  return { ws, message };
}

test('examples/ws-mount-express.ts: Express answers its route, netkit echoes at /echo, Ctrl-C closes both', async (t) => {
  const server = spawnProc(process.execPath, [...TSX, 'examples/ws-mount-express.ts', '127.0.0.1:0']);
  t.after(() => server.kill('SIGKILL'));
  const [, url, hello] = await server.waitFor(/listening (ws:\S+) \(HTTP at (\S+)\)/);
  const res = await fetch(hello!);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'hello from express\n');
  const c = await wsClient(t, url!);
  const reply = c.message();
  c.ws.send('hello');
  assert.equal(await reply, 'hello');
  await server.waitFor(/recv: hello/);
  const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
  server.child.kill('SIGINT');
  assert.equal(await closed, 1001);
  assert.equal((await server.exited).code, 0);
});

test('examples/ws-mount-fastify.ts: a room message reaches every member, and the Fastify route counts them', async (t) => {
  const server = spawnProc(process.execPath, [...TSX, 'examples/ws-mount-fastify.ts', '127.0.0.1:0']);
  t.after(() => server.kill('SIGKILL'));
  const [, url, address] = await server.waitFor(/listening (ws:\S+)\/<room> \(HTTP at http:\/\/(\S+)\/rooms/);
  const a = await wsClient(t, `${url}/lobby`);
  const b = await wsClient(t, `${url}/lobby`);
  const elsewhere = await wsClient(t, `${url}/kitchen`);
  const res = await fetch(`http://${address}/rooms/lobby`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { room: 'lobby', members: 2 });
  const onA = a.message();
  const onB = b.message();
  let leaked = false;
  elsewhere.ws.once('message', () => {
    leaked = true;
  });
  a.ws.send('hi lobby');
  assert.deepEqual(await Promise.all([onA, onB]), ['hi lobby', 'hi lobby']);
  server.child.kill('SIGINT');
  assert.equal((await server.exited).code, 0);
  assert.equal(leaked, false);
});
