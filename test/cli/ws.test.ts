import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { CLOSE, dialWs, type WsClient } from '../../src/ws/index.js';
import { cli, spawnNetkit, startCli } from '../helpers/cli.js';
import { until } from '../helpers/net.js';
import { closeOf, next, rawWs, startWs } from '../ws/fixtures.js';

async function serve(t: import('node:test').TestContext, args: string[] = []) {
  const run = startCli(['ws', 'serve', '127.0.0.1:0', ...args]);
  t.after(() => run.abort());
  const m = await run.waitFor(/listening (ws:\/\/\S+)|"event":"listening".*?"url":"(ws:\/\/[^"]+)"/);
  return { run, url: (m[1] ?? m[2]) as string };
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
  // The kernel hands connections to whichever worker accepts first: connect until two clients
  // sit on different workers (bounded).
  const clients: WsClient[] = [];
  const workers = () =>
    new Set(
      proc
        .stdout()
        .split('\n')
        .filter((l) => l.includes('"event":"open"'))
        .map((l) => (JSON.parse(l) as { worker: number }).worker),
    );
  for (let i = 0; i < 60 && workers().size < 2; i++) {
    clients.push(await dialWs(`ws://${address}/chat/room`));
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
  // The echo of the second preamble may still be on its way when the server has seen it.
  await client.waitFor(/"data":"hello"[\s\S]*"data":"hello"/);
  assert.equal(client.stdout().split('"data":"hello"').length - 1, 2, client.stdout());
});

/** jsonEvents parses the JSON lines a command printed. */
const jsonEvents = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('ws connect --binary sends stdin byte for byte: every byte value, newlines included, in messages of at most 64 KiB', async (t) => {
  const { run, url } = await serve(t, ['--json']);
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const input = Buffer.concat(Array.from({ length: 800 }, () => all)); // 200 KiB
  const r = await cli(['ws', 'connect', url, '--binary', '--json'], { stdin: input });
  assert.equal(r.code, 0, r.stderr);
  await run.waitFor(/"event":"close"/);
  const got = jsonEvents(run.stdout()).filter((e) => e.event === 'message');
  assert.ok(got.every((m) => m.type === 'binary'));
  const sizes = got.map((m) => m.bytes as number);
  assert.ok(Math.max(...sizes) <= 64 * 1024, `message sizes ${sizes}`);
  const received = Buffer.concat(got.map((m) => Buffer.from(m.base64 as string, 'base64')));
  assert.equal(received.length, input.length);
  assert.ok(received.equals(input), 'the server received exactly the bytes of stdin');
  // And the echo comes back to the client unchanged.
  const echoed = jsonEvents(r.stdout).filter((e) => e.event === 'message');
  assert.ok(Buffer.concat(echoed.map((m) => Buffer.from(m.base64 as string, 'base64'))).equals(input));
});

test('ws connect exits 5 when the server closes with 1009, whether stdin ended before or after; the server reports the 1009 it sent', async (t) => {
  const { run, url } = await serve(t, ['--json', '--max-payload', '1KiB']);
  const big = `${'x'.repeat(2000)}\n`;
  const closeCodes = () =>
    jsonEvents(run.stdout())
      .filter((e) => e.event === 'close')
      .map((e) => e.code);
  // Input ends at once: the client's own close (1000) crosses the server's 1009.
  const ended = await cli(['ws', 'connect', url], { stdin: big });
  assert.equal(ended.code, 5, ended.stderr);
  assert.match(ended.stderr, /1009/);
  await until(() => closeCodes().length === 1);
  // Input still open when the 1009 arrives; it ends afterwards.
  const open = startCli(['ws', 'connect', url]);
  open.stdin.write(big);
  await until(() => closeCodes().length === 2);
  open.stdin.end();
  assert.equal(await open.done, 5, open.stderr());
  assert.deepEqual(closeCodes(), [CLOSE.TOO_BIG, CLOSE.TOO_BIG]);
});

test('ws connect prints what the server says with bidi and control characters escaped: messages, close reasons, HTTP reasons', async (t) => {
  const server = await startWs(t, {
    handler: async (peer) => {
      peer.send('left\u202eright');
      for await (const _ of peer) peer.close(4000, 'reason\u202eevil');
    },
  });
  const run = startCli(['ws', 'connect', server.url]);
  run.stdin.write('go\n');
  assert.equal(await run.done, 5, run.stderr());
  // The in-process stdout is captured as latin1: a raw U+202E would show as its UTF-8 bytes.
  assert.equal(run.stdout(), 'left\\u202eright\n');
  assert.ok(!run.stderr().includes('\u202e'), run.stderr());
  assert.match(run.stderr(), /reason\\u202eevil/);
  // A server that refuses the upgrade with a reason phrase in UTF-8 (read as latin1: C1 controls).
  const refuser = net.createServer((c) => {
    c.on('error', () => {});
    c.once('data', () =>
      c.end(
        Buffer.concat([
          Buffer.from('HTTP/1.1 403 No'),
          Buffer.from('\u202e', 'utf8'),
          Buffer.from('way\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'),
        ]),
      ),
    );
  });
  await new Promise<void>((resolve) => refuser.listen(0, '127.0.0.1', resolve));
  t.after(() => refuser.close());
  const port = (refuser.address() as net.AddressInfo).port;
  const refused = await cli(['ws', 'connect', `ws://127.0.0.1:${port}/`]);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /403/);
  assert.ok(!/[\u0080-\u009f\u202e]/.test(refused.stderr), JSON.stringify(refused.stderr));
});

test('ws serve prints rooms, messages and close reasons from peers escaped', async (t) => {
  const { run, url } = await serve(t, ['--mode', 'broadcast']);
  const ws = await rawWs(`${url}/%E2%80%AEroom`);
  const closed = closeOf(ws);
  ws.send('hi\u202ethere');
  await run.waitFor(/#1 hi/);
  ws.close(4001, 'bye\u202e');
  await closed;
  await run.waitFor(/closed 4001/);
  const out = run.stdout();
  assert.ok(!out.includes(Buffer.from('\u202e').toString('latin1')), out);
  assert.match(out, /\(room \\u202eroom\)/);
  assert.match(out, /#1 hi\\u202ethere/);
  assert.match(out, /closed 4001 bye\\u202e/);
});
