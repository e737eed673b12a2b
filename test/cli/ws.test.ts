import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLOSE, connectWs, type WsClient } from '../../src/ws/index.js';
import { cli, spawnNetkit, startCli } from '../helpers/cli.js';
import { until } from '../helpers/net.js';
import { closeOf, next, rawWs, startWs } from '../ws/fixtures.js';

async function serve(t: import('node:test').TestContext, args: string[] = []) {
  const run = startCli(['ws', 'serve', '127.0.0.1:0', ...args]);
  t.after(() => run.abort());
  const [, url] = await run.waitFor(/listening (ws:\/\/\S+)/);
  return { run, url: url as string };
}

test('ws serve echoes and prints each connection and message; ws connect --send prints the reply', async (t) => {
  const { run, url } = await serve(t);
  const r = await cli(['ws', 'connect', url, '--send', 'hello there', '-q']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello there\n');
  await run.waitFor(/#1 hello there/);
  await run.waitFor(/#1 \S+ closed 1000 after 1 messages/);
  assert.match(run.stderr(), /^$/);
  run.abort();
  assert.equal(await run.done, 0);
});

test('ws connect --json: messages as events, binary as base64; stdin lines become messages', async (t) => {
  const { url } = await serve(t, ['-q']);
  const j = await cli([
    'ws',
    'connect',
    url,
    '--send',
    'a',
    '--send',
    'b',
    '--count',
    '2',
    '--json',
    '--binary',
  ]);
  assert.equal(j.code, 0, j.stderr);
  const events = j.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(events[0]?.event, 'connected');
  const messages = events.filter((e) => e.event === 'message');
  assert.deepEqual(
    messages.map((m) => [m.type, m.base64]),
    [
      ['binary', Buffer.from('a').toString('base64')],
      ['binary', Buffer.from('b').toString('base64')],
    ],
  );
  const piped = await cli(['ws', 'connect', url, '-q'], { stdin: 'one\ntwo\n' });
  assert.equal(piped.code, 0, piped.stderr);
  assert.equal(piped.stdout, 'one\ntwo\n');
});

test('ws connect: headers and subprotocols reach the server; control characters print escaped', async (t) => {
  let headers: Record<string, unknown> = {};
  const server = await startWs(t, {
    protocols: ['v1'],
    handler: async (peer) => {
      headers = peer.headers;
      for await (const _ of peer) {
        peer.send(`proto=${peer.protocol}\x1b[31m`);
        break;
      }
    },
  });
  const r = await cli([
    'ws',
    'connect',
    server.url,
    '-H',
    'X-Api-Key: k1',
    '--subprotocol',
    'v1',
    '--send',
    'x',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'proto=v1\\x1b[31m\n');
  assert.equal(headers['x-api-key'], 'k1');
  assert.match(r.stderr, /connected to .* \(subprotocol v1\)/);
});

test('ws connect exit codes: 2 bad URL, 3 refused or upgrade refused, 4 no reply in time, 5 dropped', async (t) => {
  assert.equal((await cli(['ws', 'connect', 'ftp://x/'])).code, 2);
  assert.equal((await cli(['ws', 'connect', 'ws://127.0.0.1:1/'])).code, 3);
  const { url } = await serve(t, ['-q', '--origin', 'https://ok.example']);
  const refused = await cli(['ws', 'connect', url]);
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /403/);
  assert.match(refused.stderr, /NETKIT_WS_HANDSHAKE/);
  const server = await startWs(t, {
    handler: async (peer) => {
      for await (const m of peer) if (m.text() === 'drop') peer.terminate();
    },
  });
  const silent = await cli(['ws', 'connect', server.url, '--send', 'hi', '--wait', '200ms']);
  assert.equal(silent.code, 4, silent.stderr);
  // stdin stays open: the server, not the end of input, ends the session.
  const dropped = startCli(['ws', 'connect', server.url]);
  dropped.stdin.write('drop\n');
  assert.equal(await dropped.done, 5, dropped.stderr());
  assert.match(dropped.stderr(), /dropped without a close frame/);
});

test('ws serve: bad flags exit 2 naming the flag', async () => {
  const r = await cli(['ws', 'serve', '127.0.0.1:0', '--path', 'nope']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /path/);
  const m = await cli(['ws', 'serve', '127.0.0.1:0', '--mode', 'fanout']);
  assert.equal(m.code, 2);
});

test('ws serve: Ctrl-C closes every client with 1001', async (t) => {
  const { run, url } = await serve(t, ['-q']);
  const ws = await rawWs(url);
  const closed = closeOf(ws);
  run.abort();
  assert.equal((await closed).code, CLOSE.GOING_AWAY);
  assert.equal(await run.done, 0);
});

test('ws serve --workers 2 --mode broadcast: a room spans both workers', async (t) => {
  const proc = spawnNetkit(['ws', 'serve', '127.0.0.1:0', '--workers', '2', '--mode', 'broadcast', '--json']);
  t.after(() => proc.kill('SIGKILL'));
  const [, address] = await proc.waitFor(/"event":"listening","address":"([^"]+)","url":"ws:/);
  // The primary hands connections round-robin: connect until two clients sit on different workers.
  const clients: WsClient[] = [];
  const workers = () =>
    new Set(
      proc
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"event":"open"'))
        .map((l) => (JSON.parse(l) as { worker: number }).worker),
    );
  for (let i = 0; i < 6 && workers().size < 2; i++) {
    clients.push(await connectWs(`ws://${address}/chat/room`));
    await until(() => proc.stdout().split('"event":"open"').length - 1 === clients.length);
  }
  t.after(() => Promise.all(clients.map((c) => c.close())));
  assert.equal(workers().size, 2, 'clients on both workers');
  await clients[0]!.send('across workers');
  for (const c of clients) assert.equal((await next(c)).text(), 'across workers');
  assert.equal((await proc.kill('SIGTERM')).code, 0);
});

test('ws connect --ping prints round-trip times; --show-ping shows the server heartbeat', async (t) => {
  const { url } = await serve(t, ['-q', '--heartbeat', '100ms']);
  const run = startCli(['ws', 'connect', url, '--json', '--ping', '50ms', '--show-ping']);
  t.after(() => run.abort());
  await run.waitFor(/"event":"rtt","rttMs":[\d.]+/);
  await run.waitFor(/"event":"ping","payload":""/);
  run.stdin.end();
  assert.equal(await run.done, 0);
});

test('ws connect --reconnect --preamble: after a server restart the preamble is sent again', async (t) => {
  const first = startCli(['ws', 'serve', '127.0.0.1:0', '--json']);
  const [, address] = await first.waitFor(/"address":"([^"]+)"/);
  const client = startCli([
    'ws',
    'connect',
    `ws://${address}/echo`,
    '--reconnect',
    '--preamble',
    'hello',
    '--json',
  ]);
  t.after(() => client.abort());
  await client.waitFor(/"data":"hello"/);
  first.abort();
  await first.done;
  await client.waitFor(/"event":"reconnecting"/);
  const second = startCli(['ws', 'serve', address!, '--json']);
  t.after(() => second.abort());
  await second.waitFor(/"event":"message".*"data":"hello"/, 10_000);
  await client.waitFor(/"event":"reconnected"/);
  assert.equal(client.stdout().split('"data":"hello"').length - 1, 2, client.stdout());
});
