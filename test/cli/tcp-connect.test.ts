import assert from 'node:assert/strict';
import { test } from 'node:test';
import { echoHandler, listen, replyHandler } from '../../src/tcp/index.js';
import { cli, spawnNetkit, startCli } from '../helpers/cli.js';
import { readAll, startServer } from '../helpers/net.js';

test('stdin goes to the socket, the socket to stdout; EOF half-closes; FIN exits 0', async (t) => {
  const { address } = await startServer(t, echoHandler({ frame: 'none' }));
  const r = await cli(['tcp', 'connect', address], { stdin: 'one\ntwo\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'one\ntwo\n');
  assert.match(r.stderr, /connection closed by peer \(FIN\)/);
});

test('--send expands escapes, half-closes, and prints the whole answer', async (t) => {
  let got = '';
  const { address } = await startServer(t, async (conn) => {
    got = (await readAll(conn)).toString();
    await conn.write('HTTP/1.0 200 OK\r\n\r\nhello');
  });
  const r = await cli(['tcp', 'connect', address, '--send', 'HEAD / HTTP/1.0\\r\\n\\r\\n', '-q']);
  assert.equal(r.code, 0);
  assert.equal(got, 'HEAD / HTTP/1.0\r\n\r\n');
  assert.equal(r.stdout, 'HTTP/1.0 200 OK\r\n\r\nhello');
  assert.equal(r.stderr, '');
});

test('--frame len32 frames each stdin line and prints each reply frame on its own line', async (t) => {
  const { address } = await startServer(t, echoHandler({ frame: 'len32' }));
  const r = await cli(['tcp', 'connect', address, '--frame', 'len32', '-q'], { stdin: 'alpha\nbeta\n' });
  assert.equal(r.code, 0);
  assert.equal(r.stdout, 'alpha\nbeta\n');
});

test('--hex prints a hex dump; --json prints data events', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.write(Buffer.from([0, 1, 2, 0x41]));
  });
  const hex = await cli(['tcp', 'connect', address, '--hex', '-q', '--no-shutdown']);
  assert.equal(hex.stdout, '00000000: 0001 0241                                ...A\n');
  const json = await cli(['tcp', 'connect', address, '--json', '--hex']);
  const events = json.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    events.map((e) => e.event),
    ['connected', 'data', 'closed'],
  );
  assert.equal(events[1]!.hex, '00010241');
  assert.equal(events[2]!.peerClose, 'fin');
});

test('framed text from the server is made safe for a terminal', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.write('evil \x1b[2J here\n');
  });
  const r = await cli(['tcp', 'connect', address, '--frame', 'line', '-q']);
  assert.equal(r.stdout, 'evil \\x1b[2J here\n');
});

test('exit codes: refused 3, reset 5, bad address 6, bad flag 2', async (t) => {
  const l = await listen('127.0.0.1:0');
  const closed = l.addr.address;
  await l.close();
  const refused = await cli(['tcp', 'connect', closed]);
  assert.equal(refused.code, 3);
  assert.match(refused.stderr, /connection refused \[NETKIT_DIAL_FAILED\]/);

  const { address } = await startServer(t, async (conn) => {
    await conn.readLine();
    conn.reset();
  });
  const reset = await cli(['tcp', 'connect', address, '--send', 'x\\n', '--no-shutdown']);
  assert.equal(reset.code, 5);
  assert.match(reset.stderr, /connection reset by peer \(RST\)/);

  const bad = await cli(['tcp', 'connect', 'nowhere']);
  assert.equal(bad.code, 6);
  assert.match(bad.stderr, /NETKIT_MISSING_PORT/);

  const flag = await cli(['tcp', 'connect', address, '--connect-timeout', 'forever']);
  assert.equal(flag.code, 2);
});

test('--idle-timeout exits with 4 when the server goes quiet', async (t) => {
  const { address } = await startServer(t, replyHandler('never'));
  const start = Date.now();
  const r = await cli(['tcp', 'connect', address, '--idle-timeout', '200ms', '--no-shutdown']);
  assert.equal(r.code, 4, r.stderr);
  assert.ok(Date.now() - start < 2000);
});

test('--send gives up after 10 s by default on a server that never answers (exit 4); --idle-timeout 0 waits on', async (t) => {
  // Reads each request to its FIN, then neither answers nor closes.
  const { address } = await startServer(t, async (conn) => {
    await readAll(conn);
    await new Promise(() => {});
  });
  const start = Date.now();
  const patient = startCli(['tcp', 'connect', address, '--send', 'ping\\n', '--idle-timeout', '0']);
  t.after(() => patient.abort());
  const r = await cli(['tcp', 'connect', address, '--send', 'ping\\n', '--json']);
  const waited = Date.now() - start;
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stdout, /"event":"idle","idleMs":10000/);
  assert.ok(waited >= 9_900 && waited < 20_000, `gave up after ${waited} ms`);
  // The one that asked for no deadline is still waiting.
  const outcome = await Promise.race([patient.done, new Promise((r) => setImmediate(r, 'waiting'))]);
  assert.equal(outcome, 'waiting');
  patient.abort();
  assert.equal(await patient.done, 130);
});

test('SIGINT closes a real `netkit tcp connect` with exit code 130', async (t) => {
  const { address } = await startServer(t, echoHandler());
  const p = spawnNetkit(['tcp', 'connect', address]);
  p.child.stdin!.write('ping\n');
  await p.waitFor(/ping/);
  p.child.kill('SIGINT');
  assert.deepEqual(await p.exited, { code: 130, signal: null });
});

test('in an interactive session a line holding only Q quits with exit 0', async (t) => {
  const { address } = await startServer(t, replyHandler('Hello, Client!'));
  const run = startCli(['tcp', 'connect', address, '--frame', 'line'], { tty: true });
  run.stdin.write('hello\n');
  await run.waitFor(/Hello, Client!/);
  run.stdin.write('Q\n');
  assert.equal(await run.done, 0);
  assert.equal(run.stdout(), 'Hello, Client!\n');
});

test('a real `netkit tcp connect` exits when the server closes, even with stdin still open', async (t) => {
  const { address } = await startServer(t, async (conn) => {
    await conn.write('bye\n');
  });
  const p = spawnNetkit(['tcp', 'connect', address, '-q']);
  t.after(() => p.kill());
  // stdin stays open: nothing is written and it is never ended.
  const start = Date.now();
  assert.deepEqual(await p.exited, { code: 0, signal: null });
  assert.equal(p.stdout(), 'bye\n');
  assert.ok(Date.now() - start < 3000);
});

test('ncat style: host and port as two arguments; a port given twice or on a Unix socket is a usage error', async (t) => {
  const { address } = await startServer(t, echoHandler({ frame: 'none' }));
  const port = address.slice(address.lastIndexOf(':') + 1);
  const r = await cli(['tcp', 'connect', '127.0.0.1', port], { stdin: 'two args\n' });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'two args\n');
  const twice = await cli(['tcp', 'connect', address, port]);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /has a port already.*NETKIT_INVALID_ARGUMENT/);
  const unix = await cli(['tcp', 'connect', 'unix:/tmp/x.sock', '80']);
  assert.equal(unix.code, 2);
  assert.match(unix.stderr, /Unix socket address takes no port/);
  const bad = await cli(['tcp', 'connect', '127.0.0.1', '80;x']);
  assert.equal(bad.code, 2);
});
