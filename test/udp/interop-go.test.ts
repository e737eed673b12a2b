/**
 * netkit UDP against real Go programs (test/interop/udpecho and udpclient,
 * standard library only): netkit dialing a Go echo server, and a Go client
 * talking to a netkit echo server, with small and maximum-size IPv4 datagrams.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { bind, dial } from '../../src/udp/index.js';
import { spawnProc } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

const execFileP = promisify(execFile);

async function goEcho(t: TestContext): Promise<string | undefined> {
  const server = await goProgram(t, 'test/interop/udpecho');
  if (!server) return undefined;
  const p = spawnProc(server, ['-addr', '127.0.0.1:0']);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  return address;
}

test('netkit dial -> Go udpecho: a small datagram comes back', async (t) => {
  const address = await goEcho(t);
  if (!address) return;
  await using c = await dial(address);
  await c.send('hello from netkit');
  const d = await c.receive({ timeout: 5000 });
  assert.equal(d.data.toString(), 'hello from netkit');
  assert.equal(d.from.address, address);
});

test('netkit dial -> Go udpecho: a 65,507-byte datagram comes back intact', async (t) => {
  const address = await goEcho(t);
  if (!address) return;
  await using c = await dial(address);
  const payload = Buffer.alloc(65_507);
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
  await c.send(payload);
  const d = await c.receive({ timeout: 5000 });
  assert.ok(d.data.equals(payload));
});

test('Go udpclient -> netkit echo (bind + for await + send back)', async (t) => {
  const client = await goProgram(t, 'test/interop/udpclient');
  if (!client) return;
  const s = await bind('127.0.0.1:0');
  const loop = (async () => {
    for await (const d of s) await s.send(d.data, d.from);
  })();
  t.after(async () => {
    await s.close();
    await loop;
  });
  const small = await execFileP(client, ['-addr', s.localAddr.address, '-msg', 'hi netkit']);
  assert.equal(small.stdout, 'reply 9 bytes: hi netkit\n');
  const big = await execFileP(client, ['-addr', s.localAddr.address, '-size', '65507']);
  assert.equal(big.stdout, `reply 65507 bytes: ${'x'.repeat(40)}\n`);
});

test('Go udpclient exits 1 when nothing answers', async (t) => {
  const client = await goProgram(t, 'test/interop/udpclient');
  if (!client) return;
  const s = await bind('127.0.0.1:0'); // bound but silent, so no ICMP error either
  t.after(() => s.close());
  await assert.rejects(execFileP(client, ['-addr', s.localAddr.address, '-timeout', '200ms']), { code: 1 });
});
