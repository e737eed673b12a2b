import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';

test('resolve prints the address Go would choose', async () => {
  const r = await cli(['resolve', 'tcp', 'localhost:http']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '127.0.0.1:80\n');
  const v6 = await cli(['resolve', 'tcp6', '[::1%lo]:8080']);
  assert.equal(v6.stdout, '[::1%lo]:8080\n');
  const udp = await cli(['resolve', 'udp', ':53']);
  assert.equal(udp.stdout, ':53\n');
});

test('resolve --all --json lists candidates and marks the chosen one', async () => {
  const r = await cli(['resolve', 'tcp', 'localhost:22', '--all', '--json']);
  assert.equal(r.code, 0);
  const out = JSON.parse(r.stdout) as {
    address: string;
    candidates: { ip: string; chosen: boolean; reason: string }[];
  };
  assert.equal(out.address, '127.0.0.1:22');
  assert.ok(out.candidates.length >= 1);
  assert.equal(out.candidates.filter((c) => c.chosen).length, 1);
  assert.ok(out.candidates.every((c) => c.reason.length > 0));
});

test('resolve errors name the problem with a code and exit 6', async () => {
  for (const [args, code] of [
    [['tcp5', '127.0.0.1:80'], 'NETKIT_UNKNOWN_NETWORK'],
    [['tcp', '127.0.0.1'], 'NETKIT_MISSING_PORT'],
    [['tcp', '127.0.0.1:99999'], 'NETKIT_INVALID_PORT'],
    [['tcp', '127.0.0.1:nosuchservice'], 'NETKIT_UNKNOWN_PORT'],
    [['tcp4', '[::1]:80'], 'NETKIT_NO_SUITABLE_ADDRESS'],
  ] as const) {
    const r = await cli(['resolve', ...args, '--json']);
    assert.equal(r.code, 6, `${args.join(' ')}`);
    assert.equal((JSON.parse(r.stdout) as { code: string }).code, code, `${args.join(' ')}`);
  }
});
