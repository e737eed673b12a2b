import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cli, events, startCli } from '../helpers/cli.js';

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
    // A reply holding a bidi override or a C1 control is printed escaped, still valid JSON.
    const steer = await cli(['rpc', 'call', address!, 'Echo.Back', '{"S":"a\\u202eb\\u009bc"}']);
    assert.equal(steer.stdout, '{"S":"a\\u202eb\\u009bc"}\n', steer.stderr);
    assert.deepEqual(JSON.parse(steer.stdout), { S: 'a\u202eb\u009bc' });
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

/** silentConnection opens a connection that sends nothing and resolves with how long the server kept it. */
function silentConnection(address: string): Promise<number> {
  const i = address.lastIndexOf(':');
  const sock = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
  sock.on('error', () => {});
  sock.resume();
  const opened = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('the server kept a silent connection open for 5 s'));
    }, 5000);
    sock.once('close', () => {
      clearTimeout(timer);
      resolve(performance.now() - opened);
    });
  });
}

describe('netkit rpc serve logs connections and calls', () => {
  for (const [codec, http] of [
    ['gob', false],
    ['json', false],
    ['gob', true],
    ['jsonrpc2', false],
    ['jsonrpc2', true],
  ] as const) {
    it(`${codec}${http ? ' over HTTP' : ''}: --json open, call (method, duration, error) and close events`, async (t) => {
      const flags = ['--codec', codec, ...(http ? ['--http'] : [])];
      const run = startCli(['rpc', 'serve', '127.0.0.1:0', '--json', ...flags]);
      t.after(() => run.abort());
      const [, address] = await run.waitFor(/"event":"listening","address":"([^"]+)"/);
      assert.equal(
        (await cli(['rpc', 'call', address!, 'Arith.Multiply', '{"A":7,"B":8}', ...flags])).code,
        0,
      );
      assert.equal((await cli(['rpc', 'call', address!, 'Arith.Divide', '{"A":1,"B":0}', ...flags])).code, 1);
      const connections = codec === 'jsonrpc2' && http ? 0 : 2;
      await run.waitFor(connections === 0 ? /Arith\.Divide/ : /"event":"close"[\s\S]*"event":"close"/);
      const got = events(run.stdout());
      const calls = got.filter((e) => e.event === 'call');
      assert.equal(calls.length, 2);
      assert.equal(calls[0]!.method, 'Arith.Multiply');
      assert.equal(calls[0]!.error, undefined);
      assert.equal(calls[1]!.method, 'Arith.Divide');
      assert.equal(calls[1]!.error, 'divide by zero');
      for (const c of calls) {
        assert.equal(typeof c.durationMs, 'number');
        assert.match(String(c.remote), /^127\.0\.0\.1:\d+$/);
      }
      const opens = got.filter((e) => e.event === 'open');
      const closes = got.filter((e) => e.event === 'close');
      assert.equal(opens.length, connections);
      assert.equal(closes.length, connections);
      if (connections > 0) {
        // Each call is logged with the peer of the connection it came on.
        assert.deepEqual(
          calls.map((c) => c.remote),
          opens.map((o) => o.remote),
        );
        for (const c of closes) {
          assert.equal(c.peerClose, 'fin');
          assert.equal(typeof c.bytesIn, 'number');
          assert.equal(typeof c.durationMs, 'number');
        }
      }
    });
  }

  it('-q logs neither connections nor calls', async (t) => {
    const run = startCli(['rpc', 'serve', '127.0.0.1:0', '--json', '-q']);
    t.after(() => run.abort());
    const [, address] = await run.waitFor(/"event":"listening","address":"([^"]+)"/);
    assert.equal((await cli(['rpc', 'call', address!, 'Arith.Multiply', '{"A":7,"B":8}'])).code, 0);
    run.abort();
    await run.done;
    assert.deepEqual(
      events(run.stdout()).map((e) => e.event),
      ['listening', 'stopped'],
    );
  });
});

describe('netkit rpc serve --idle-timeout', () => {
  for (const codec of ['gob', 'json', 'jsonrpc2'] as const) {
    it(`${codec}: a silent connection is closed at --idle-timeout; a call running longer keeps its connection`, async (t) => {
      const dir = await mkdtemp(path.join(tmpdir(), 'netkit-rpc-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const mod = path.join(dir, 'slow.mjs');
      await writeFile(
        mod,
        'export const services = { Slow: { Sleep: (ms) => new Promise((r) => setTimeout(() => r(ms), ms)) } };\n',
      );
      const run = startCli([
        'rpc',
        'serve',
        '127.0.0.1:0',
        '--codec',
        codec,
        '--idle-timeout',
        '300ms',
        '--service',
        mod,
        '--json',
      ]);
      t.after(() => run.abort());
      const [, address] = await run.waitFor(/"event":"listening","address":"([^"]+)"/);
      const kept = await silentConnection(address!);
      assert.ok(kept >= 280 && kept < 1500, `a silent connection was kept ${kept} ms`);
      await run.waitFor(/"event":"close"[^\n]*"error":"NETKIT_TIMEOUT"/);
      const slow = await cli(['rpc', 'call', address!, 'Slow.Sleep', '1200', '--codec', codec]);
      assert.equal(slow.code, 0, slow.stderr);
      assert.equal(slow.stdout, '1200\n');
    });
  }

  for (const codec of ['gob', 'jsonrpc2'] as const) {
    it(`${codec}: a connection that never speaks is closed at --first-byte-timeout, even with --idle-timeout 0`, async (t) => {
      const run = startCli([
        'rpc',
        'serve',
        '127.0.0.1:0',
        '--codec',
        codec,
        '--idle-timeout',
        '0',
        '--first-byte-timeout',
        '300ms',
        '--json',
      ]);
      t.after(() => run.abort());
      const [, address] = await run.waitFor(/"event":"listening","address":"([^"]+)"/);
      const kept = await silentConnection(address!);
      assert.ok(kept >= 250 && kept < 2000, `a silent connection was kept ${kept} ms`);
      await run.waitFor(/"event":"close"[^\n]*"error":"NETKIT_TIMEOUT"/);
      const call = await cli(['rpc', 'call', address!, 'Arith.Multiply', '{"A":2,"B":3}', '--codec', codec]);
      assert.equal(call.stdout, '6\n', call.stderr);
    });
  }

  it('--help shows --idle-timeout with its default, and -q', async () => {
    const help = await cli(['rpc', 'serve', '--help']);
    assert.match(help.stdout, /--idle-timeout <duration>[\s\S]*?\(default:\s+5m\)/);
    assert.match(help.stdout, /--first-byte-timeout <duration>[\s\S]*?\(default:\s+10s\)/);
    assert.match(help.stdout, /-q, --quiet/);
  });
});

describe('netkit rpc call with the wrong --codec or --http fails fast', () => {
  // [server flags, call flags]
  const CASES: [string[], string[]][] = [
    [
      ['--codec', 'json'],
      ['--codec', 'gob'],
    ],
    [
      ['--codec', 'gob'],
      ['--codec', 'json'],
    ],
    [['--http'], []],
    [[], ['--http']],
    [
      ['--codec', 'jsonrpc2'],
      ['--codec', 'json'],
    ],
    [
      ['--codec', 'json'],
      ['--codec', 'jsonrpc2'],
    ],
  ];
  for (const [serverFlags, callFlags] of CASES) {
    it(`serve ${serverFlags.join(' ') || '(gob)'} <- call ${callFlags.join(' ') || '(gob)'}: NETKIT_RPC_PROTOCOL well before --timeout`, async (t) => {
      const run = startCli(['rpc', 'serve', '127.0.0.1:0', '-q', ...serverFlags]);
      t.after(() => run.abort());
      const [, address] = await run.waitFor(/listening (\S+) /);
      const started = performance.now();
      const got = await cli([
        'rpc',
        'call',
        address!,
        'Arith.Multiply',
        '{"A":7,"B":8}',
        '--timeout',
        '30s',
        '--json',
        ...callFlags,
      ]);
      const ms = performance.now() - started;
      assert.equal(got.code, 1, got.stdout);
      const error = JSON.parse(got.stdout) as { event: string; code: string };
      assert.equal(error.event, 'error');
      assert.equal(error.code, 'NETKIT_RPC_PROTOCOL');
      assert.ok(ms < 5000, `took ${ms} ms`);
    });
  }
});
