/**
 * `netkit relay` from the command line, in-process: the listening event,
 * one line per connection opened and closed (--json events carry bytes
 * each way, who closed first and how), --dump text and hex (terminal-safe:
 * no raw control byte reaches the output), faults from --fault, the
 * Toxiproxy API next to a command-line relay, UDP, and bad input (exit 2
 * with the reason).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, events, startedCli } from '../helpers/cli.js';
import { echoBackend, roundTrip } from '../helpers/relay.js';

test('--json: listening, open, data (escaped) and close events with the summary', async (t) => {
  const target = await echoBackend(t);
  const run = startedCli(t, ['relay', '127.0.0.1:0', target, '--json', '--dump', 'text']);
  const [, address] = (await run.waitFor(/"event":"listening".*?"address":"([^"]+)"/)) as RegExpMatchArray;
  const payload = Buffer.from('hi\x1b[2J\x07\n');
  assert.deepEqual(await roundTrip(address as string, payload), payload);
  await run.waitFor(/"event":"close"/);
  const all = events(run.stdout());
  const close = all.find((e) => e.event === 'close') as Record<string, unknown>;
  assert.equal(close.up, payload.length);
  assert.equal(close.down, payload.length);
  assert.equal(close.first, 'client');
  assert.equal(close.how, 'fin');
  const data = all.filter((e) => e.event === 'data');
  assert.deepEqual(
    data.map((d) => d.stream),
    ['upstream', 'downstream'],
  );
  assert.equal(data[0]?.text, 'hi\\x1b[2J\\x07\\n');
  assert.ok(!run.stdout().includes('\x1b'), 'no raw ESC in the output');
});

test('--dump hex prints offsets, arrows and the bytes; no raw control bytes', async (t) => {
  const target = await echoBackend(t);
  const run = startedCli(t, ['relay', '127.0.0.1:0', target, '--dump', 'hex']);
  const [, address] = (await run.waitFor(/relaying (\S+) /)) as RegExpMatchArray;
  await roundTrip(address as string, Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0x41]));
  await run.waitFor(/^< /m);
  // The helper keeps stdout as latin1; the arrows are UTF-8.
  const out = Buffer.from(run.stdout(), 'latin1').toString();
  assert.match(out, /> \S+ #1 client → target {2}offset 0 {2}\(6 bytes\)/);
  assert.match(out, /< \S+ #1 client ← target {2}offset 0 {2}\(6 bytes\)/);
  assert.match(out, /00000000: 1b5b 324a 0041/);
  assert.ok(!/[\x00\x1b]/.test(run.stdout()), 'no raw control bytes in the dump');
  // The per-connection lines go to stderr, so stdout stays the dump.
  assert.match(run.stderr(), /#1 127\.0\.0\.1:\d+ → /);
});

test('--fault applies a fault from the start; a bad one is exit 2 naming it', async (t) => {
  const target = await echoBackend(t);
  const run = startedCli(t, ['relay', '127.0.0.1:0', target, '--fault', 'close-after=3', '--json']);
  const [, address] = (await run.waitFor(/"address":"([^"]+)"/)) as RegExpMatchArray;
  const got = await roundTrip(address as string, 'abcdef');
  assert.equal(got.toString(), 'abc', 'close-after=3 (downstream) lets exactly 3 bytes back');
  const bad = await cli(['relay', '127.0.0.1:0', target, '--fault', 'lag=1s']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /lag/);
});

test('--api next to a command-line relay: the API lists it and can add a fault to it', async (t) => {
  const target = await echoBackend(t);
  const run = startedCli(t, [
    'relay',
    '127.0.0.1:0',
    target,
    '--name',
    'cli',
    '--api',
    '127.0.0.1:0',
    '--json',
  ]);
  const [, api] = (await run.waitFor(/"event":"api".*?"address":"([^"]+)"/)) as RegExpMatchArray;
  const proxies = (await (await fetch(`http://${api}/proxies`)).json()) as Record<
    string,
    { upstream: string }
  >;
  assert.equal(proxies.cli?.upstream, target);
  const res = await fetch(`http://${api}/proxies/cli/toxics`, {
    method: 'POST',
    body: JSON.stringify({ type: 'limit_data', attributes: { bytes: 2 } }),
  });
  assert.equal(res.status, 200);
  const [, address] = (await run.waitFor(/"event":"listening".*?"address":"([^"]+)"/)) as RegExpMatchArray;
  const got = await roundTrip(address as string, 'abcdef');
  assert.equal(got.toString(), 'ab');
});

test('udp: datagrams relayed per client', async (t) => {
  const dgram = await import('node:dgram');
  const server = dgram.createSocket('udp4');
  server.on('message', (m, from) =>
    server.send(Buffer.concat([Buffer.from('re:'), m]), from.port, from.address),
  );
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', () => r()));
  t.after(() => server.close());
  const run = startedCli(t, ['relay', 'udp:127.0.0.1:0', `udp:127.0.0.1:${server.address().port}`, '--json']);
  const [, address] = (await run.waitFor(/"address":"udp:([^"]+)"/)) as RegExpMatchArray;
  const client = dgram.createSocket('udp4');
  t.after(() => client.close());
  const reply = new Promise<Buffer>((r) => client.once('message', (m) => r(m)));
  const at = (address as string).lastIndexOf(':');
  client.send('ping', Number((address as string).slice(at + 1)), '127.0.0.1');
  assert.equal((await reply).toString(), 're:ping');
});

test('bad input: exit 2 with the reason', async () => {
  const cases: [string[], RegExp][] = [
    [['relay'], /listen/],
    [['relay', '127.0.0.1:0'], /target/],
    [['relay', '127.0.0.1:0', 'gopher://x:1'], /unknown scheme/],
    [['relay', 'exec:cat', '127.0.0.1:1'], /target only/],
    [['relay', '0.0.0.0:0', 'exec:/bin/cat'], /loopback/],
    [['relay', '127.0.0.1:0', '127.0.0.1:1', '--cert', 'x.pem'], /--key/],
    [['relay', 'udp:127.0.0.1:0', '127.0.0.1:1'], /udp:/],
  ];
  for (const [argv, why] of cases) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why, argv.join(' '));
  }
});
