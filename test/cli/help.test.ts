import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { ROOT } from '../helpers/tools.js';

const COMMANDS = [
  ['tcp', 'serve'],
  ['tcp', 'connect'],
  ['udp', 'serve'],
  ['udp', 'send'],
  ['http', 'serve'],
  ['http', 'get'],
  ['ws', 'serve'],
  ['ws', 'connect'],
  ['rpc', 'serve'],
  ['rpc', 'call'],
  ['send'],
  ['recv'],
  ['states'],
  ['resolve'],
  ['tour'],
  ['relay'],
  ['completion'],
];

test('every command has --help, and docs/cli.md documents every flag it lists', async () => {
  const doc = readFileSync(path.join(ROOT, 'docs', 'cli.md'), 'utf8');
  for (const cmd of COMMANDS) {
    const r = await cli([...cmd, '--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, new RegExp(`Usage: netkit ${cmd.join(' ')}`));
    assert.ok(doc.includes(`netkit ${cmd.join(' ')}`), `docs/cli.md lacks "netkit ${cmd.join(' ')}"`);
    for (const flag of r.stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)) {
      if (flag[1] === '--help') continue;
      assert.ok(doc.includes(flag[1]!), `docs/cli.md lacks ${cmd.join(' ')} ${flag[1]}`);
    }
  }
});

test('--version prints the package version; an unknown command exits 2', async () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = await cli(['--version']);
  assert.equal(v.stdout.trim(), pkg.version);
  const bad = await cli(['frobnicate']);
  assert.equal(bad.code, 2);
});

test('one name per kind of timeout across commands; a renamed flag is refused with its new name', async () => {
  // The vocabulary of docs/cli.md: reaching the peer, silence, the whole operation, and named phases.
  const allowed = new Set([
    '--connect-timeout',
    '--idle-timeout',
    '--timeout',
    '--header-timeout',
    '--request-timeout',
    '--first-byte-timeout',
    '--handshake-timeout',
    '--shutdown-timeout',
    '--user-timeout',
    '--room-timeout',
  ]);
  for (const cmd of COMMANDS) {
    const r = await cli([...cmd, '--help']);
    for (const flag of r.stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]*(?:timeout|idle)[\w-]*)/gm)) {
      assert.ok(allowed.has(flag[1]!), `#${cmd.join(' ')}: ${flag[1]} is not one of the timeout names`);
    }
    // --timeout means the whole operation; where it would mean connecting, the flag is --connect-timeout.
    assert.doesNotMatch(r.stdout, /--timeout <duration>\s+give up connecting/, cmd.join(' '));
  }
  for (const [argv, now] of [
    [['tcp', 'connect', '127.0.0.1:1', '--idle', '1s'], '--idle-timeout'],
    [['tcp', 'serve', '127.0.0.1:0', '--idle', '1s'], '--idle-timeout'],
    [['ws', 'connect', 'ws://127.0.0.1:1/', '--timeout', '1s'], '--connect-timeout'],
    [['relay', '127.0.0.1:0', '127.0.0.1:1', '--timeout', '1s'], '--connect-timeout'],
  ] as const) {
    const r = await cli([...argv]);
    assert.equal(r.code, 2, `#${argv.join(' ')}: got ${r.code}`);
    assert.ok(r.stderr.includes(`it is now ${now}`), `#${argv.join(' ')}: ${r.stderr}`);
  }
});
