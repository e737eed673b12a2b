/**
 * netkit's WebSocket client (`netkit ws connect` and dialWs) against
 * gorilla/websocket's classic echo server (test/interop/wsecho, built with
 * Debian's golang-github-gorilla-websocket-dev).
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { dialWs, type WsClient, type WsMessage } from '../../src/ws/index.js';
import { cli, spawnProc } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

/** goEcho starts the gorilla echo server and returns its /echo URL. */
async function goEcho(t: TestContext, args: string[] = []): Promise<string | undefined> {
  const bin = await goProgram(t, 'test/interop/wsecho');
  if (!bin) return undefined;
  const p = spawnProc(bin, args);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  return `ws://${address}/echo`;
}

interface JsonEvent {
  event: string;
  type?: string;
  data?: string;
  base64?: string;
  bytes?: number;
  [key: string]: unknown;
}

/** connect runs `netkit ws connect --json` to completion and parses its events. */
async function connect(args: string[]): Promise<{ code: number; events: JsonEvent[]; stderr: string }> {
  const r = await cli(['ws', 'connect', ...args, '--json']);
  const events = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as JsonEvent);
  return { code: r.code, events, stderr: r.stderr };
}

/**
 * reader returns a function giving the client's next message, failing after
 * `ms` rather than hanging the test when a message never arrives.
 */
function reader(ws: WsClient, ms = 5000): () => Promise<WsMessage> {
  const it = ws[Symbol.asyncIterator]();
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no message within ${ms} ms`)), ms);
    });
    try {
      const r = await Promise.race([it.next(), timeout]);
      assert.equal(r.done, false, 'the connection ended before a message came');
      return r.value;
    } finally {
      clearTimeout(timer);
    }
  };
}

const messages = (events: JsonEvent[]) => events.filter((e) => e.event === 'message');

test('netkit ws connect --send -> gorilla echo: the text comes back', async (t) => {
  const url = await goEcho(t);
  if (!url) return;
  const r = await connect([url, '--send', 'hello']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    messages(r.events).map(({ type, data }) => ({ type, data })),
    [{ type: 'text', data: 'hello' }],
  );
});

test('netkit ws connect -H reaches gorilla: the echo server reports the header first', async (t) => {
  const url = await goEcho(t);
  if (!url) return;
  const r = await connect([url, '-H', 'X-Netkit-Test: abc', '--send', 'hello', '--count', '2']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    messages(r.events).map((e) => e.data),
    ['header:abc', 'hello'],
  );
});

test('netkit ws connect --subprotocol: gorilla picks the one it speaks', async (t) => {
  const url = await goEcho(t, ['-subprotocols', 'chat']);
  if (!url) return;
  const r = await connect([url, '--subprotocol', 'superchat', '--subprotocol', 'chat', '--send', 'hi']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.events[0], { event: 'connected', url, protocol: 'chat' });
  assert.deepEqual(
    messages(r.events).map((e) => e.data),
    ['hi'],
  );
});

test('netkit ws connect --binary -> gorilla echo: sent and echoed as binary', async (t) => {
  const url = await goEcho(t);
  if (!url) return;
  const r = await connect([url, '--binary', '--send', 'hello']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    messages(r.events).map(({ type, base64, bytes }) => ({ type, base64, bytes })),
    [{ type: 'binary', base64: Buffer.from('hello').toString('base64'), bytes: 5 }],
  );
});

test('netkit ws connect: gorilla refusing the upgrade (404, 403 origin, no subprotocol) exits 3', async (t) => {
  const url = await goEcho(t, ['-subprotocols', 'chat']);
  if (!url) return;
  const cases = [
    { args: [url.replace(/\/echo$/, '/nothere')], message: /404/ },
    // gorilla's zero Upgrader admits only an Origin matching the Host.
    { args: [url, '--origin', 'http://elsewhere.example'], message: /403/ },
    { args: [url, '--subprotocol', 'nope'], message: /subprotocol/ },
  ];
  for (const c of cases) {
    const r = await connect([...c.args, '--send', 'x']);
    assert.equal(r.code, 3, `${c.args.join(' ')}: ${r.stderr}`);
    assert.deepEqual(
      r.events.map((e) => [e.event, e.code]),
      [['error', 'NETKIT_WS_HANDSHAKE']],
    );
    assert.match(String(r.events[0]!.message), c.message);
  }
});

test('dialWs -> gorilla echo: text, binary, 1 MiB, ping rtt and a 1000 close', async (t) => {
  const url = await goEcho(t);
  if (!url) return;
  const ws = await dialWs(url, { maxPayload: 2 * 1024 * 1024 });
  t.after(() => ws.close());
  const next = reader(ws);

  await ws.send('héllo, gorilla');
  const text = await next();
  assert.equal(text.binary, false);
  assert.equal(text.text(), 'héllo, gorilla');

  const all = Uint8Array.from({ length: 256 }, (_, i) => i);
  await ws.send(all);
  const bin = await next();
  assert.equal(bin.binary, true);
  assert.deepEqual(bin.data, Buffer.from(all));

  const big = Buffer.alloc(1 << 20);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
  await ws.send(big);
  const echoed = await next();
  assert.equal(echoed.binary, true);
  assert.equal(echoed.data.length, big.length);
  assert.ok(echoed.data.equals(big));

  const rtt = await ws.ping();
  assert.ok(Number.isFinite(rtt) && rtt >= 0, `rtt ${rtt}`);

  const closed = await ws.close(1000, 'done');
  assert.equal(closed.code, 1000);
  // After the closing handshake, iteration ends.
  assert.equal((await ws[Symbol.asyncIterator]().next()).done, true);
});

test('dialWs headers and protocols -> gorilla echo: the header is seen, chat is negotiated', async (t) => {
  const url = await goEcho(t, ['-subprotocols', 'chat']);
  if (!url) return;
  const ws = await dialWs(url, { headers: { 'X-Netkit-Test': 'lib' }, protocols: ['superchat', 'chat'] });
  t.after(() => ws.close());
  assert.equal(ws.protocol, 'chat');
  // gorilla sends this right after its 101 response, so it can arrive in the same TCP read.
  assert.equal((await reader(ws)()).text(), 'header:lib');
});

test('dialWs offering only an unknown subprotocol: gorilla picks none, the handshake fails clearly', async (t) => {
  const url = await goEcho(t, ['-subprotocols', 'chat']);
  if (!url) return;
  // RFC 6455 §4.1: a client that offered subprotocols may fail the connection when the server picks none.
  await assert.rejects(dialWs(url, { protocols: ['nope'] }), {
    code: 'NETKIT_WS_HANDSHAKE',
    message: /subprotocol/,
  });
});
