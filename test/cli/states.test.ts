import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { cli, spawnNetkit, startCli } from '../helpers/cli.js';
import { until } from '../helpers/net.js';

async function listener(t: import('node:test').TestContext, onConn: (s: net.Socket) => void = () => {}) {
  // allowHalfOpen: a peer's FIN must not make Node end our side too (that is what lets CLOSE_WAIT last).
  const server = net.createServer({ allowHalfOpen: true }, onConn);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  return { server, port: (server.address() as net.AddressInfo).port };
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => resolve(c));
    c.on('error', reject);
  });
}

test('states --port: a table grouped by state with this process as owner, and a summary', async (t) => {
  const { port } = await listener(t);
  const c = await connect(port);
  t.after(() => c.destroy());
  const r = await cli(['states', '--port', String(port)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^LISTEN \(1\)$/m);
  assert.match(r.stdout, /^ESTABLISHED \(2\)$/m);
  assert.match(r.stdout, new RegExp(`127\\.0\\.0\\.1:${port} .*node/${process.pid}`));
  assert.match(r.stdout, /^3 sockets: 1 LISTEN, 2 ESTABLISHED$/m);
  // ss's column order: the queues (Recv-Q first), then the addresses; each row the same way.
  assert.match(r.stdout, /^\s+Recv-Q\s+Send-Q\s+Local\s+Remote\s+Timer\s+Process$/m);
  assert.match(r.stdout, new RegExp(`^\\s+\\d+\\s+\\d+\\s+127\\.0\\.0\\.1:${port} `, 'm'));
  const j = await cli(['states', '--port', String(port), '--json', '--state', 'estab']);
  const events = j.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const sockets = events.filter((e) => e.event === 'socket');
  assert.equal(sockets.length, 2);
  for (const s of sockets) {
    assert.equal(s.state, 'ESTABLISHED');
    assert.equal(s.pid, process.pid);
    assert.ok((s.inode as number) > 0);
  }
  assert.deepEqual(events.at(-1), { event: 'summary', total: 2, states: { ESTABLISHED: 2 } });
});

test('states: a bad state or port is a usage error (exit 2)', async () => {
  const bad = await cli(['states', '--state', 'HALF_OPEN']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown TCP state/);
  assert.equal((await cli(['states', '--port', '70000'])).code, 2);
});

test('states --watch flags a CLOSE_WAIT leak: a server that never closes what its clients closed', async (t) => {
  const kept: net.Socket[] = [];
  // The leak: accepted sockets are kept and never ended, even after the client's FIN.
  const { port } = await listener(t, (s) => {
    s.on('error', () => {});
    s.resume();
    kept.push(s);
  });
  t.after(() => {
    for (const s of kept) s.destroy();
  });
  const run = startCli([
    'states',
    '--port',
    String(port),
    '--watch',
    '100ms',
    '--count',
    '100',
    '--warn-after',
    '300ms',
    '--json',
  ]);
  t.after(() => run.abort());
  await run.waitFor(/"event":"summary"/);
  for (let i = 0; i < 5; i++) {
    const c = await connect(port);
    c.end();
    await new Promise((r) => setTimeout(r, 80));
  }
  await run.waitFor(
    // Sampled every 100 ms, each appears in CLOSE_WAIT (or is seen moving there from ESTABLISHED).
    /"event":"change","time":"[^"]+","kind":"(appeared|changed)",("from":"ESTABLISHED",)?"state":"CLOSE_WAIT"/,
  );
  const [warning] = await run.waitFor(/\{"event":"warning"[^\n]*/, 5000);
  const w = JSON.parse(warning) as { port: number; count: number; reason: string; pid: number };
  assert.equal(w.port, port);
  assert.ok(w.count >= 1);
  assert.ok(w.reason === 'growing' || w.reason === 'lingering');
  assert.equal(w.pid, process.pid);
  // Closing them clears the condition: the sockets move on to LAST_ACK or vanish.
  for (const s of kept) s.end();
  await until(
    () =>
      /"kind":"(changed|vanished)","from":"CLOSE_WAIT"|"kind":"vanished"[^\n]*"state":"CLOSE_WAIT"/.test(
        run.stdout(),
      ),
    5000,
    'CLOSE_WAIT gone',
  );
  run.abort();
  assert.equal(await run.done, 130);
});

test('states --explain marks the states of the selected sockets and says who must act', async (t) => {
  const { port } = await listener(t);
  const r = await cli(['states', '--port', String(port), '--explain']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\*LISTEN\*/);
  assert.doesNotMatch(r.stdout, /\*CLOSE_WAIT\*/);
  assert.match(r.stdout, /^LISTEN\s+waiting for connections/m);
});

test('states --watch refuses intervals below 100 ms (a busy loop), naming the minimum', async () => {
  for (const v of ['0', '0ms', '99ms', '0.05s']) {
    const r = await cli(['states', '--watch', v, '--count', '2']);
    assert.equal(r.code, 2, `--watch ${v}: ${r.stderr}`);
    assert.match(r.stderr, /--watch/);
    assert.match(r.stderr, /minimum of 100ms/);
  }
  const ok = await cli(['states', '--port', '1', '--watch', '100ms', '--count', '2']);
  assert.equal(ok.code, 0, ok.stderr);
});

test('a real `netkit states --watch` whose reader goes away (`| head -2`) exits 0, not 130', async (t) => {
  const { port } = await listener(t, (s) => s.on('error', () => {}));
  const p = spawnNetkit(['states', '--port', String(port), '--watch', '100ms', '--no-processes']);
  t.after(() => p.kill('SIGKILL'));
  await p.waitFor(/LISTEN/);
  p.child.stdout!.destroy(); // like `head -2` exiting after its lines
  // Each new connection is a change the command prints, into the closed pipe.
  const opened: net.Socket[] = [];
  t.after(() => {
    for (const c of opened) c.destroy();
  });
  const exited = p.exited.then((e) => ({ ...e }));
  while (p.child.exitCode === null && opened.length < 50) {
    opened.push(await connect(port));
    await Promise.race([exited, new Promise((r) => setTimeout(r, 150))]);
  }
  assert.deepEqual(await exited, { code: 0, signal: null });
});
