import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cli, startCli } from '../helpers/cli.js';

describe('netkit rpc serve / rpc call', () => {
  for (const [codec, http] of [
    ['gob', false],
    ['json', false],
    ['gob', true],
    ['jsonrpc2', false],
    ['jsonrpc2', true],
  ] as const) {
    it(`${codec}${http ? ' over HTTP' : ''}: Arith.Multiply, Divide and divide by zero`, async (t) => {
      const flags = ['--codec', codec, ...(http ? ['--http'] : [])];
      const run = startCli(['rpc', 'serve', '127.0.0.1:0', ...flags]);
      t.after(() => run.abort());
      const [, address] = await run.waitFor(/listening (\S+) /);
      const mul = await cli(['rpc', 'call', address!, 'Arith.Multiply', '{"A":7,"B":8}', ...flags]);
      assert.equal(mul.code, 0, mul.stderr);
      assert.equal(mul.stdout, '56\n');
      const div = await cli(['rpc', 'call', address!, 'Arith.Divide', '{"A":17,"B":5}', ...flags, '--json']);
      assert.equal(div.code, 0, div.stderr);
      const event = JSON.parse(div.stdout) as { event: string; reply: unknown };
      assert.equal(event.event, 'reply');
      assert.deepEqual(event.reply, { Quo: 3, Rem: 2 });
      const zero = await cli(['rpc', 'call', address!, 'Arith.Divide', '{"A":1,"B":0}', ...flags]);
      assert.equal(zero.code, 1);
      assert.match(zero.stderr, /divide by zero.*NETKIT_RPC_SERVER_ERROR/);
    });
  }

  it('--service loads a module; --schema types the args; bigints stay exact', async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'netkit-rpc-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const mod = path.join(dir, 'svc.mjs');
    await writeFile(mod, `export const services = { Echo: { Back: (x) => x, Kind: (x) => typeof x.F } };\n`);
    const run = startCli(['rpc', 'serve', '127.0.0.1:0', '--service', mod]);
    t.after(() => run.abort());
    const [, address] = await run.waitFor(/listening (\S+) .*services Arith, Echo/);
    const big = await cli(['rpc', 'call', address!, 'Echo.Back', '{"N":9223372036854775807}']);
    assert.equal(big.stdout, '{"N":9223372036854775807}\n', big.stderr);
    const typed = await cli(['rpc', 'call', address!, 'Echo.Back', '{"F":2}', '--schema', '{"F":"float"}']);
    assert.equal(typed.stdout, '{"F":2}\n', typed.stderr);
    const unknown = await cli(['rpc', 'call', address!, 'Nope.X', '{}']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /rpc: can't find service Nope\.X/);
  });

  it('bad input: args that are not JSON exit 2; a refused port exits 3; a bad schema exits 2', async () => {
    const notJson = await cli(['rpc', 'call', '127.0.0.1:1', 'Arith.Multiply', '{A:7}']);
    assert.equal(notJson.code, 2);
    const refused = await cli(['rpc', 'call', '127.0.0.1:1', 'Arith.Multiply', '{"A":7,"B":8}']);
    assert.equal(refused.code, 3);
    const schema = await cli([
      'rpc',
      'call',
      '127.0.0.1:1',
      'Arith.Multiply',
      '{}',
      '--schema',
      '{"A":"int7"}',
    ]);
    assert.equal(schema.code, 2);
    assert.match(schema.stderr, /unknown type "int7" at A/);
  });
});
