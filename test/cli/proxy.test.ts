import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, startCli } from '../helpers/cli.js';

test('tcp connect --proxy-header v1|v2 --proxy-src: tcp serve --proxy-protocol sees the claimed client', async (t) => {
  const run = startCli([
    'tcp',
    'serve',
    '127.0.0.1:0',
    '--echo',
    '--proxy-protocol',
    '--trust',
    '127.0.0.1/32',
    '--json',
  ]);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"event":"listening","address":"([^"]+)"/);
  for (const [version, src] of [
    ['v1', '203.0.113.7:51000'],
    ['v2', '198.51.100.9:40000'],
  ] as const) {
    const r = await cli([
      'tcp',
      'connect',
      address!,
      '--proxy-header',
      version,
      '--proxy-src',
      src,
      '--send',
      'hi\n',
      '-q',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    await run.waitFor(new RegExp(`"event":"open","remote":"${src.replaceAll('.', '\\.')}"`));
  }
  // Without a header, a trusted peer is cut off.
  const plain = await cli(['tcp', 'connect', address!, '--send', 'hi\n', '-q']);
  assert.equal(plain.stdout, '');
});

test('--proxy-protocol needs --trust; a bad range or --proxy-src is a usage error', async () => {
  const noTrust = await cli(['tcp', 'serve', '127.0.0.1:0', '--proxy-protocol']);
  assert.equal(noTrust.code, 2);
  assert.match(noTrust.stderr, /--trust/);
  assert.equal(
    (await cli(['http', 'serve', '127.0.0.1:0', '--proxy-protocol', '--trust', '10.0.0.0/99'])).code,
    2,
  );
  const bad = await cli(['tcp', 'connect', '127.0.0.1:1', '--proxy-header', 'v1', '--proxy-src', 'nope']);
  assert.ok(bad.code === 2 || bad.code === 3, String(bad.code));
});

test('http serve --trust: X-Forwarded-For from a trusted peer names the client in the inspector', async (t) => {
  const run = startCli(['http', 'serve', '127.0.0.1:0', '--trust', '127.0.0.1/32', '-q']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/listening http:\/\/(\S+)\//);
  const r = await cli([
    'http',
    'get',
    `http://${address}/`,
    '-H',
    'Accept: application/json',
    '-H',
    'X-Forwarded-For: 198.51.100.23',
  ]);
  const info = JSON.parse(r.stdout) as { client: { ip: string; via: string } };
  assert.deepEqual(info.client, { ip: '198.51.100.23', via: 'x-forwarded-for' });
});

test('rpc serve --proxy-protocol: trusted peers without a header are cut off, untrusted ones are served', async (t) => {
  for (const codec of ['gob', 'jsonrpc2']) {
    for (const [trust, works] of [
      ['127.0.0.1/32', false],
      ['10.0.0.0/8', true],
    ] as const) {
      const run = startCli([
        'rpc',
        'serve',
        '127.0.0.1:0',
        '--codec',
        codec,
        '--proxy-protocol',
        '--trust',
        trust,
        '--json',
      ]);
      t.after(() => run.abort());
      const [, address] = await run.waitFor(/"address":"([^"]+)"/);
      const r = await cli([
        'rpc',
        'call',
        address!,
        'Arith.Multiply',
        '{"A":7,"B":8}',
        '--codec',
        codec,
        '--timeout',
        '2s',
      ]);
      assert.equal(r.code === 0, works, `${codec} trust ${trust}: exit ${r.code} ${r.stderr}`);
      if (works) assert.equal(r.stdout.trim(), '56');
      run.abort();
      await run.done;
    }
  }
});
