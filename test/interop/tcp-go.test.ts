/**
 * netkit against real Go programs (built from test/interop/ with Debian's
 * golang-go): the classic line client and server both ways, and a Go client
 * that packs 1,000 length-prefixed frames into a single write.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { dial } from '../../src/tcp/index.js';
import { cli, spawnProc, startCli } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

const execFileP = promisify(execFile);

test('Go line client -> netkit tcp serve: three replies, half-close, clean EOF', async (t) => {
  const client = await goProgram(t, 'test/interop/lineclient');
  if (!client) return;
  const run = startCli(['tcp', 'serve', '127.0.0.1:0', '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const { stdout } = await execFileP(client, ['-addr', address!, '-n', '3']);
  assert.equal(stdout, 'reply: Hello, Client!\nreply: Hello, Client!\nreply: Hello, Client!\neof\n');
  await run.waitFor(/"event":"close".*"peerClose":"fin"/);
});

test('netkit (library and CLI) -> Go line server', async (t) => {
  const server = await goProgram(t, 'test/interop/lineserver');
  if (!server) return;
  const p = spawnProc(server, ['-addr', '127.0.0.1:0']);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  const c = await dial(address!);
  for (const msg of ['hello', 'with\r', 'third']) {
    await c.write(`${msg}\n`);
    assert.equal(await c.readLine(), 'Hello, Client!');
  }
  await c.closeWrite();
  assert.equal(await c.read(), null);
  assert.equal(c.peerClose, 'fin');
  c.destroy();
  const r = await cli(['tcp', 'connect', address!, '-q'], { stdin: 'a\nb\n' });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'Hello, Client!\nHello, Client!\n');
});

test('netkit tcp connect --frame line -> Go echo server over IPv6', async (t) => {
  const server = await goProgram(t, 'test/interop/lineserver');
  if (!server) return;
  const p = spawnProc(server, ['-addr', '[::1]:0', '-echo']);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  const r = await cli(['tcp', 'connect', address!, '--frame', 'line', '-q'], { stdin: 'ünïcödé\nplain\n' });
  assert.equal(r.code, 0);
  assert.equal(Buffer.from(r.stdout, 'latin1').toString('utf8'), 'ünïcödé\nplain\n');
});

test('Go client packing 1,000 len32 frames into one write -> netkit tcp serve --frame len32 --echo', async (t) => {
  const client = await goProgram(t, 'test/interop/lenclient');
  if (!client) return;
  const run = startCli(['tcp', 'serve', '127.0.0.1:0', '--frame', 'len32', '--echo', '--quiet']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/listening (\S+)/);
  for (const seed of ['1', '2', '3']) {
    const { stdout } = await execFileP(client, ['-addr', address!, '-frames', '1000', '-seed', seed]);
    const result = JSON.parse(stdout) as { frames: number; ok: boolean };
    assert.deepEqual({ frames: result.frames, ok: result.ok }, { frames: 1000, ok: true });
  }
});
