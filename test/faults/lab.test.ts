// test: alone
/**
 * The fault lab itself: a netkit server in a namespace host answers over
 * the veth link; a cut link, a black hole and a bandwidth limit do what
 * they say, and heal; nothing is left behind.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { dial } from '../../src/tcp/index.js';
import { requireLab } from '../helpers/netns.js';

const run = promisify(execFile);

test('a server in host B answers; a black hole times the dial out; unblocked it answers again', async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const server = await lab.netkit(['tcp', 'serve', `${lab.b}:0`, '--reply', 'pong', '-q']);
  const c = await dial(server.address, { timeout: 2000 });
  await c.write('ping\n');
  assert.equal(await c.readLine(), 'pong');
  await c.close();
  await lab.blackhole();
  const started = performance.now();
  await assert.rejects(dial(server.address, { timeout: 500 }), { code: 'NETKIT_CONNECT_TIMEOUT' });
  assert.ok(performance.now() - started < 2000);
  await lab.unblock();
  const again = await dial(server.address, { timeout: 2000 });
  await again.write('ping\n');
  assert.equal(await again.readLine(), 'pong');
  await again.close();
});

test('a cut link: the dial fails or times out; healed, it works', async (t) => {
  const lab = await requireLab(t);
  if (!lab) return;
  const server = await lab.netkit(['tcp', 'serve', `${lab.b}:0`, '--reply', 'pong', '-q']);
  await lab.cut();
  await assert.rejects(dial(server.address, { timeout: 500 }));
  await lab.heal();
  const c = await dial(server.address, { timeout: 2000 });
  await c.write('ping\n');
  assert.equal(await c.readLine(), 'pong');
  await c.close();
});

test('the lab is removed after its test', async (t) => {
  let ns = '';
  await t.test('make one', async (tt) => {
    const lab = await requireLab(tt);
    if (!lab) return;
    ns = lab.ns;
  });
  if (ns === '') return;
  const { stdout } = await run('ip', ['netns', 'list']);
  assert.ok(!stdout.includes(ns), `${ns} is still there`);
});
