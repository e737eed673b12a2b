/**
 * The UDP relay between real Go programs (test/interop/udpclient and
 * udpecho, standard library only): Go clients reach a Go echo server only
 * through netkit's relay, with small and maximum-size IPv4 datagrams.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { relayUdp } from '../../src/relay/udp.js';
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

test('Go udpclient -> netkit relay -> Go udpecho, one client socket each', async (t) => {
  const client = await goProgram(t, 'test/interop/udpclient');
  const echo = await goEcho(t);
  if (!client || !echo) return;
  const r = await relayUdp({ listen: '127.0.0.1:0', target: echo });
  t.after(() => r.close());
  let opened = 0;
  r.on('open', () => opened++);

  const small = await execFileP(client, ['-addr', r.address, '-msg', 'via the relay']);
  assert.equal(small.stdout, 'reply 13 bytes: via the relay\n');
  const big = await execFileP(client, ['-addr', r.address, '-size', '65507']);
  assert.equal(big.stdout, `reply 65507 bytes: ${'x'.repeat(40)}\n`);
  const many = await Promise.all(
    Array.from({ length: 5 }, (_, i) => execFileP(client, ['-addr', r.address, '-msg', `go client ${i}`])),
  );
  for (const [i, out] of many.entries())
    assert.equal(out.stdout, `reply 11 bytes: go client ${i}\n`, `#${i}`);
  // Every Go process dials from its own port, so each is a client of its own.
  assert.equal(opened, 7);
  assert.equal(r.dropped, 0);
});
