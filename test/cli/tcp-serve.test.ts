import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Conn, dial } from '../../src/tcp/index.js';
import { spawnNetkit, startCli } from '../helpers/cli.js';
import { readAll, until } from '../helpers/net.js';

test('tcp serve answers lines with "Hello, Client!" and logs open and close with FIN', async (t) => {
  const run = startCli(['tcp', 'serve', '127.0.0.1:0']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/listening (\S+) \(frame line, reply "Hello, Client!"\)/);
  const c = await dial(address!);
  await c.write('hi\n');
  assert.equal(await c.readLine(), 'Hello, Client!');
  await c.closeWrite();
  await readAll(c);
  await run.waitFor(/close 127\.0\.0\.1:\d+ FIN in 3B out 15B/);
  assert.match(run.stdout(), /open {2}127\.0\.0\.1:\d+/);
  run.abort();
  assert.equal(await run.done, 0);
});

test('tcp serve --echo --frame len32 --json emits one JSON object per line', async (t) => {
  const run = startCli(['tcp', 'serve', '127.0.0.1:0', '--echo', '--frame', 'len32', '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"event":"listening","address":"([^"]+)"/);
  const c = await dial(address!);
  await c.write(Buffer.from('0000000268690000000100', 'hex'));
  await c.closeWrite();
  assert.equal((await readAll(c)).toString('hex'), '0000000268690000000100');
  await run.waitFor(/"event":"close"/);
  run.abort();
  assert.equal(await run.done, 0);
  const events = run
    .stdout()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; peerClose?: string; bytesIn?: number });
  assert.deepEqual(
    events.map((e) => e.event),
    ['listening', 'open', 'close', 'stopped'],
  );
  assert.equal(events[2]!.peerClose, 'fin');
  assert.equal(events[2]!.bytesIn, 11);
});

test('tcp serve --max-frame closes a client whose line is too long and says why', async (t) => {
  const run = startCli(['tcp', 'serve', '127.0.0.1:0', '--max-frame', '1KiB', '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const c = await dial(address!);
  await c.write(Buffer.alloc(4096, 'a'));
  await readAll(c).catch(() => {});
  c.destroy();
  await run.waitFor(/"event":"close".*"error":"NETKIT_FRAME_TOO_LARGE"/);
});

test('tcp serve --max-conns refuses the extra connection and logs it', async (t) => {
  const run = startCli(['tcp', 'serve', '127.0.0.1:0', '--max-conns', '1', '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const a = await dial(address!);
  // A client that has talked keeps its slot (a silent one would be evicted for the newcomer).
  await a.write('hi\n');
  assert.equal(await a.readLine(), 'Hello, Client!');
  const b = await dial(address!).catch(() => undefined);
  await run.waitFor(/"event":"refuse".*"reason":"max-connections"/);
  a.destroy();
  b?.destroy();
});

test('tcp serve: a silent client is closed after --first-byte-timeout, and evicted at --max-conns', async (t) => {
  const run = startCli([
    'tcp',
    'serve',
    '127.0.0.1:0',
    '--max-conns',
    '1',
    '--first-byte-timeout',
    '300ms',
    '--json',
  ]);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const silent = await dial(address!);
  t.after(() => silent.destroy());
  // The cap is full with a client that said nothing: a newcomer takes its place.
  const b = await dial(address!);
  t.after(() => b.destroy());
  await b.write('hi\n');
  assert.equal(await b.readLine(), 'Hello, Client!');
  // Closed by the server: FIN, or RST when its close raced the handshake.
  const ended = await silent.read().catch((e: { code: string }) => e.code);
  assert.ok(ended === null || ended === 'NETKIT_CONNECTION_RESET', `silent client got ${ended}`);
  const [close] = await run.waitFor(/\{"event":"close"[^\n]*/);
  assert.equal((JSON.parse(close) as { error?: string }).error, 'NETKIT_TIMEOUT', close);
  const c = await dial(address!).catch(() => undefined);
  // b holds the only slot and has talked: c is refused, and b is not touched.
  await run.waitFor(/"event":"refuse"/);
  c?.destroy();
  await b.write('again\n');
  assert.equal(await b.readLine(), 'Hello, Client!');
});

test('tcp serve rejects bad flags with exit code 2', async () => {
  for (const args of [
    ['--frame', 'len7'],
    ['--max-conns', '0'],
    ['--idle-timeout', 'soon'],
    ['--workers', 'x'],
  ]) {
    const run = startCli(['tcp', 'serve', '127.0.0.1:0', ...args]);
    assert.equal(await run.done, 2, `${args.join(' ')}: ${run.stderr()}`);
    assert.match(run.stderr(), /error: option/);
  }
});

test('tcp serve on a port in use fails with exit code 3 and NETKIT_LISTEN_FAILED', async (t) => {
  const first = startCli(['tcp', 'serve', '127.0.0.1:0']);
  t.after(() => first.abort());
  const [, address] = await first.waitFor(/listening (\S+)/);
  const second = startCli(['tcp', 'serve', address!]);
  assert.equal(await second.done, 3);
  assert.match(second.stderr(), /address already in use \[NETKIT_LISTEN_FAILED\]/);
});

test('SIGINT stops a real `netkit tcp serve` process cleanly (exit 0)', async () => {
  const p = spawnNetkit(['tcp', 'serve', '127.0.0.1:0']);
  const [, address] = await p.waitFor(/listening (\S+)/);
  const c = await dial(address!);
  await c.write('x\n');
  assert.equal(await c.readLine(), 'Hello, Client!');
  p.child.kill('SIGINT');
  // The open connection is closed with FIN during the graceful shutdown.
  assert.equal(await c.read(), null);
  assert.deepEqual(await p.exited, { code: 0, signal: null });
  c.destroy();
});

test('--workers 2 shares one port between two processes and both serve', async () => {
  const p = spawnNetkit(['tcp', 'serve', '127.0.0.1:0', '--workers', '2', '--json']);
  try {
    const [, address] = await p.waitFor(/"event":"listening","address":"([^"]+)","workers":2/);
    const workers = () =>
      new Set(
        p
          .stdout()
          .split('\n')
          .filter((l) => l.includes('"event":"open"'))
          .map((l) => (JSON.parse(l) as { worker: number }).worker),
      );
    // The workers accept from the shared socket, so the kernel decides who takes each
    // connection: open batches of 16 until both workers took some (bounded).
    const conns: Conn[] = [];
    for (let batch = 0; batch === 0 || (workers().size < 2 && batch < 20); batch++) {
      const more = await Promise.all(Array.from({ length: 16 }, () => dial(address!)));
      conns.push(...more);
      for (const c of more) {
        await c.write('q\n');
        assert.equal(await c.readLine(), 'Hello, Client!');
      }
      const n = conns.length;
      await until(() => (p.stdout().match(/"event":"open"/g) ?? []).length === n, 5000, `${n} open events`);
    }
    assert.deepEqual([...workers()].sort(), [1, 2], `both workers took connections (${conns.length})`);
    for (const c of conns) c.destroy();
  } finally {
    const start = Date.now();
    p.child.kill('SIGTERM');
    assert.deepEqual(await p.exited, { code: 0, signal: null });
    // Workers shut down with the primary instead of waiting out --shutdown-timeout.
    assert.ok(Date.now() - start < 3000, `took ${Date.now() - start} ms to stop`);
  }
});

test('a real `netkit tcp serve` whose stdout reader goes away shuts down cleanly (no EPIPE crash)', async () => {
  const p = spawnNetkit(['tcp', 'serve', '127.0.0.1:0']);
  const [, address] = await p.waitFor(/listening (\S+)/);
  p.child.stdout!.destroy(); // like `| head -1` exiting
  // The next log lines hit the closed pipe.
  for (let i = 0; i < 3; i++) {
    const c = await dial(address!).catch(() => undefined);
    if (!c) break;
    await c.write('x\n').catch(() => {});
    await c.read().catch(() => null);
    c.destroy();
  }
  const exit = await p.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.doesNotMatch(p.stderr(), /Unhandled 'error' event|EPIPE/);
});

test('--workers on a port in use fails fast with exit code 3, without restarting workers', async (t) => {
  const first = startCli(['tcp', 'serve', '127.0.0.1:0']);
  t.after(() => first.abort());
  const [, address] = await first.waitFor(/listening (\S+)/);
  const p = spawnNetkit(['tcp', 'serve', address!, '--workers', '2']);
  const start = Date.now();
  assert.deepEqual(await p.exited, { code: 3, signal: null });
  assert.ok(Date.now() - start < 5000);
  assert.match(p.stderr(), /NETKIT_LISTEN_FAILED/);
  assert.doesNotMatch(p.stderr(), /restarting/);
});
