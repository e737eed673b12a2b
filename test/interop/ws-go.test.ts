/**
 * Go's gorilla/websocket clients (built from test/interop/ with Debian's
 * golang-github-gorilla-websocket-dev) against `netkit ws serve`: the echo
 * script gives exactly what it gives against gorilla's own echo server, and
 * broadcast rooms deliver to their members only.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { type CliRun, spawnProc, startCli } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

const execFileP = promisify(execFile);

/** SCRIPT is what test/interop/wsclient prints against a conforming echo server offering `chat`. */
const SCRIPT = [
  { step: 'text', type: 'text', data: 'hello, netkit', bytes: 13 },
  { step: 'unicode', type: 'text', data: 'ünïcödé ✓ 你好 🚀', bytes: 27 },
  { step: 'empty', type: 'text', data: '', bytes: 0 },
  { step: 'binary', type: 'binary', bytes: 256, equal: true },
  { step: 'large', type: 'binary', bytes: 1 << 20, equal: true },
  { step: 'pipelined', count: 100, inOrder: true },
  { step: 'ping', pong: true, payload: 'netkit-ping', next: 'after-ping' },
  { step: 'subprotocol', offered: ['superchat', 'chat'], negotiated: 'chat' },
  { step: 'close', code: 1000 },
];

const parseLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);

/** serveCli starts `netkit ws serve` in-process and returns its URL once it listens. */
async function serveCli(t: TestContext, args: string[]): Promise<CliRun & { url: string }> {
  const run = startCli(['ws', 'serve', '127.0.0.1:0', '--json', ...args]);
  t.after(async () => {
    run.abort();
    await run.done;
  });
  const [, url] = await run.waitFor(/"url":"([^"]+)"/);
  return Object.assign(run, { url: url! });
}

test('gorilla client -> netkit ws serve (echo): the whole script, identical to gorilla echo server', async (t) => {
  const client = await goProgram(t, 'test/interop/wsclient');
  const echo = await goProgram(t, 'test/interop/wsecho');
  if (!client || !echo) return;
  const args = ['-subprotocol', 'superchat,chat'];

  const server = await serveCli(t, ['--max-payload', '2MiB', '--subprotocol', 'chat']);
  const netkit = await execFileP(client, ['-url', server.url, ...args], { timeout: 30_000 });
  assert.deepEqual(parseLines(netkit.stdout), SCRIPT);
  // The server side agrees: chat was chosen, 106 messages came in (5 round trips, 100 pipelined, 1 after
  // the ping) and gorilla closed with 1000.
  await server.waitFor(/"event":"open".*"protocol":"chat"/);
  await server.waitFor(/"event":"close".*"code":1000,"reason":"bye","messages":106/);

  const p = spawnProc(echo, ['-subprotocols', 'chat']);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  const gorilla = await execFileP(client, ['-url', `ws://${address}/echo`, ...args], { timeout: 30_000 });
  assert.equal(netkit.stdout, gorilla.stdout);
});

test('gorilla client without a subprotocol -> netkit ws serve --subprotocol chat: none negotiated', async (t) => {
  const client = await goProgram(t, 'test/interop/wsclient');
  if (!client) return;
  const server = await serveCli(t, ['-q', '--max-payload', '2MiB', '--subprotocol', 'chat']);
  const { stdout } = await execFileP(client, ['-url', server.url], { timeout: 30_000 });
  const lines = parseLines(stdout);
  assert.deepEqual(lines.at(-2), { step: 'subprotocol', offered: null, negotiated: '' });
  assert.deepEqual(lines.at(-1), { step: 'close', code: 1000 });
});

test('gorilla client with compression -> netkit ws serve --deflate: negotiated, and the script still holds', async (t) => {
  const client = await goProgram(t, 'test/interop/wsclient');
  if (!client) return;
  const server = await serveCli(t, ['-q', '--deflate', '--max-payload', '2MiB', '--subprotocol', 'chat']);
  const { stdout } = await execFileP(
    client,
    ['-url', server.url, '-subprotocol', 'superchat,chat', '-compress'],
    {
      timeout: 30_000,
    },
  );
  const [compression, ...rest] = parseLines(stdout) as { step: string; extensions?: string }[];
  assert.equal(compression!.step, 'compression');
  assert.match(compression!.extensions!, /^permessage-deflate\b/);
  assert.deepEqual(rest, SCRIPT);
});

test('gorilla clients -> netkit ws serve --mode broadcast: rooms r1 and r2 stay apart', async (t) => {
  const rooms = await goProgram(t, 'test/interop/wsrooms');
  if (!rooms) return;
  const server = await serveCli(t, ['--mode', 'broadcast']);
  assert.match(server.url, /\/chat$/);
  const { stdout } = await execFileP(rooms, ['-r1', `${server.url}/r1`, '-r2', `${server.url}/r2`], {
    timeout: 30_000,
  });
  const r1 = ['text:hello r1', 'binary:000102ff', 'text:bye r1'];
  assert.deepEqual(parseLines(stdout), [
    { client: 'a', room: 'r1', received: r1 },
    { client: 'b', room: 'r1', received: r1 },
    { client: 'c', room: 'r2', received: ['text:hello r2'] },
  ]);
});

test('gorilla clients -> netkit ws serve --mode broadcast: ?room= selects the room too', async (t) => {
  const rooms = await goProgram(t, 'test/interop/wsrooms');
  if (!rooms) return;
  const server = await serveCli(t, ['--mode', 'broadcast', '-q']);
  const { stdout } = await execFileP(rooms, ['-r1', `${server.url}?room=r1`, '-r2', `${server.url}/r2`], {
    timeout: 30_000,
  });
  const received = parseLines(stdout).map((l) => (l as { received: string[] }).received);
  assert.deepEqual(received, [
    ['text:hello r1', 'binary:000102ff', 'text:bye r1'],
    ['text:hello r1', 'binary:000102ff', 'text:bye r1'],
    ['text:hello r2'],
  ]);
});
