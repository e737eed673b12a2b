// test: alone
/**
 * --keepalive and --user-timeout from the command line: a `tcp serve` in
 * host B frees a client that vanished behind a black hole within idle +
 * interval × count, and `tcp connect` to a black-holed server ends within
 * the same bound instead of waiting for ever; the flags' grammar.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { parseKeepAlive } from '../../src/cli/options.js';
import { dial } from '../../src/tcp/index.js';
import { cli, NETKIT_BIN } from '../helpers/cli.js';
import { figure } from '../helpers/figures.js';
import { requireLab } from '../helpers/netns.js';

const SLACK = 2500;

test('tcp serve --keepalive 1s,1s,3 frees a black-holed client within 4 s', async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const server = await lab.netkit([
    'tcp',
    'serve',
    `${lab.b}:0`,
    '--echo',
    '--idle-timeout',
    '0',
    '--keepalive',
    '1s,1s,3',
  ]);
  const c = await dial(server.address, { timeout: 2000, keepAlive: false });
  await c.write('hi\n');
  assert.equal(await c.readLine(), 'hi');
  await lab.blackhole();
  const started = performance.now();
  const deadline = started + 4000 + SLACK;
  while (!/"event":"close"/.test(server.output())) {
    assert.ok(
      performance.now() < deadline,
      `no close after ${Math.round(performance.now() - started)} ms:\n${server.output()}`,
    );
    await new Promise((r) => setTimeout(r, 50));
  }
  const ms = performance.now() - started;
  figure(t, 'cli: tcp serve --keepalive 1s,1s,3, client black-holed', {
    detectedMs: Math.round(ms),
    boundMs: 4000,
  });
  c.destroy();
});

test('tcp connect --keepalive 1s,1s,3 to a black-holed server ends within 4 s with a failure', async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const server = await lab.netkit(['tcp', 'serve', `${lab.b}:0`, '--echo']);
  const child = spawn(
    process.execPath,
    [NETKIT_BIN, 'tcp', 'connect', server.address, '--keepalive', '1s,1s,3', '-q'],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  t.after(() => child.kill('SIGKILL'));
  child.stdin.write('hi\n');
  await once(child.stdout, 'data');
  await lab.blackhole();
  const started = performance.now();
  const timer = setTimeout(() => child.kill('SIGKILL'), 4000 + SLACK);
  const [code] = await once(child, 'exit');
  clearTimeout(timer);
  const ms = performance.now() - started;
  assert.ok(ms < 4000 + SLACK, `tcp connect took ${Math.round(ms)} ms`);
  assert.notEqual(code, 0);
  assert.notEqual(code, null, 'killed at the deadline: tcp connect did not notice the dead server');
  figure(t, 'cli: tcp connect --keepalive 1s,1s,3, server black-holed', {
    detectedMs: Math.round(ms),
    boundMs: 4000,
    exit: code,
  });
});

test('--keepalive grammar, and bad values are exit 2 naming the flag', async () => {
  assert.deepEqual(parseKeepAlive('15s'), { idle: 15_000 });
  assert.deepEqual(parseKeepAlive('15s,5s,3'), { idle: 15_000, interval: 5000, count: 3 });
  assert.equal(parseKeepAlive('off'), false);
  for (const bad of ['15s,5s', 'soon', '15s,5s,0', '500ms']) {
    assert.throws(() => parseKeepAlive(bad), Error, bad);
  }
  const r = await cli(['tcp', 'connect', '127.0.0.1:9', '--keepalive', '1s,1s']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--keepalive/);
  const both = await cli(['tcp', 'connect', '127.0.0.1:9', '--keepalive', 'off', '--user-timeout', '5s']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--user-timeout/);
});
