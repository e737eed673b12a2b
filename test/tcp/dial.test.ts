import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { AbortError, ConnectionError, type InvalidArgumentError, TimeoutError } from '../../src/errors.js';
import { dial, listen } from '../../src/tcp/index.js';
import { IPPROTO_TCP, loadSockopt, tcpOptionNumbers } from '../../src/tcp/keepalive.js';
import { spawnProc } from '../helpers/cli.js';
import { readAll, startServer } from '../helpers/net.js';
import { goProgram, requireTool } from '../helpers/tools.js';

const execFileP = promisify(execFile);

test('dial to a closed port rejects with NETKIT_DIAL_FAILED and Go-like text', async () => {
  const l = await listen('127.0.0.1:0');
  const address = l.addr.address;
  await l.close();
  await assert.rejects(dial(address), (e: ConnectionError) => {
    assert.ok(e instanceof ConnectionError);
    assert.equal(e.code, 'NETKIT_DIAL_FAILED');
    assert.equal((e.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
    assert.equal(e.message, `dial tcp ${address}: connection refused`);
    return true;
  });
});

test('dial validates options up front, naming the option', async () => {
  await assert.rejects(
    dial('127.0.0.1:1', { timeout: -1 }),
    (e: InvalidArgumentError) => e.option === 'timeout',
  );
  await assert.rejects(
    dial('127.0.0.1:1', { keepAlive: { idle: 10 } }),
    (e: InvalidArgumentError) => e.option === 'keepAlive.idle',
  );
  await assert.rejects(dial('127.0.0.1', {}), { code: 'NETKIT_MISSING_PORT' });
  await assert.rejects(dial('127.0.0.1:1', { network: 'tcp5' }), { code: 'NETKIT_UNKNOWN_NETWORK' });
});

/** blackhole starts a Go listener that never accepts, so later connects hang in SYN_SENT. */
async function blackhole(t: import('node:test').TestContext): Promise<string | undefined> {
  const bin = await goProgram(t, 'test/interop/blackhole');
  if (!bin) return undefined;
  const p = spawnProc(bin, []);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  // Fill its accept queue (backlog 0 holds one connection); later SYNs are dropped.
  const fillers: (Awaited<ReturnType<typeof dial>> | undefined)[] = [];
  for (let i = 0; i < 2; i++) fillers.push(await dial(address!, { timeout: 300 }).catch(() => undefined));
  t.after(() => {
    for (const f of fillers) f?.destroy();
  });
  return address;
}

test('dial gives up after the connect timeout with NETKIT_CONNECT_TIMEOUT', async (t) => {
  const address = await blackhole(t);
  if (!address) return;
  const start = Date.now();
  await assert.rejects(
    dial(address, { timeout: 300 }),
    (e: TimeoutError) => e instanceof TimeoutError && e.code === 'NETKIT_CONNECT_TIMEOUT',
  );
  const took = Date.now() - start;
  assert.ok(took >= 280 && took < 2000, `took ${took} ms`);
});

test('dial honours an AbortSignal while connecting', async (t) => {
  const address = await blackhole(t);
  if (!address) return;
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('user gave up')), 100);
  await assert.rejects(
    dial(address, { signal: ac.signal, timeout: 5000 }),
    (e: AbortError) => e instanceof AbortError && e.code === 'NETKIT_ABORTED',
  );
  const pre = AbortSignal.abort();
  await assert.rejects(dial(address, { signal: pre }), { code: 'NETKIT_ABORTED' });
});

test('dial binds the requested local address', async (t) => {
  let seen = '';
  const { address } = await startServer(t, (conn) => {
    seen = conn.remoteAddr!.ip;
  });
  const c = await dial(address, { localAddress: '127.0.0.2' });
  assert.equal(c.localAddr?.ip, '127.0.0.2');
  await readAll(c);
  assert.equal(seen, '127.0.0.2');
});

test('dial over IPv6 loopback and by name', async (t) => {
  const l6 = await listen('[::1]:0', { network: 'tcp6' });
  t.after(() => l6.close());
  const acc = l6.accept();
  const c = await dial(`[::1]:${l6.addr.port}`);
  assert.equal(c.remoteAddr?.address, `[::1]:${l6.addr.port}`);
  assert.equal(c.remoteAddr?.family, 6);
  (await acc).destroy();
  c.destroy();
  // A zone is passed through to the connect call.
  const acc2 = l6.accept();
  const zoned = await dial(`[::1%lo]:${l6.addr.port}`);
  assert.equal(zoned.remoteAddr?.ip, '::1');
  (await acc2).destroy();
  zoned.destroy();
  const { listener } = await startServer(t, () => {});
  const byName = await dial(`localhost:${listener.addr.port}`);
  assert.equal(byName.remoteAddr?.ip, '127.0.0.1');
  byName.destroy();
});

test('noDelay is on by default and keep-alive uses the requested idle time (seen by ss)', async (t) => {
  if (!(await requireTool(t, 'ss', 'iproute2'))) return;
  const { address } = await startServer(t, async (conn) => {
    await readAll(conn);
  });
  const c = await dial(address, { keepAlive: { idle: 7000 } });
  t.after(() => c.destroy());
  const { stdout } = await execFileP('ss', [
    '-tno',
    'state',
    'established',
    `( sport = :${c.localAddr!.port} )`,
  ]);
  const m = /timer:\(keepalive,([\d.]+)(ms|sec|min)?/.exec(stdout);
  assert.ok(m, `no keepalive timer in ss output:\n${stdout}`);
  const off = await dial(address, { keepAlive: false });
  t.after(() => off.destroy());
  const out2 = await execFileP('ss', ['-tno', 'state', 'established', `( sport = :${off.localAddr!.port} )`]);
  assert.doesNotMatch(out2.stdout, /keepalive/);
});

test('keep-alive interval and count are applied (TCP_KEEPINTVL / TCP_KEEPCNT read back)', async (t) => {
  const lib = await loadSockopt();
  const numbers = tcpOptionNumbers();
  if (!lib || !numbers) {
    if (process.env.CI === 'true' && process.platform === 'linux')
      throw new Error('optional package sockopt must be installed in CI');
    t.skip('optional package sockopt is not installed, or this platform has no TCP_KEEPINTVL');
    return;
  }
  const { address } = await startServer(t, async (conn) => {
    await readAll(conn);
  });
  const c = await dial(address, { keepAlive: { idle: 5000, interval: 3000, count: 4, userTimeout: 7000 } });
  t.after(() => c.destroy());
  assert.equal(lib.getsockopt(c.socket, IPPROTO_TCP, numbers.keepIntvl), 3);
  assert.equal(lib.getsockopt(c.socket, IPPROTO_TCP, numbers.keepCnt), 4);
  assert.equal(lib.getsockopt(c.socket, IPPROTO_TCP, numbers.userTimeout!), 7000);
});

/** lookupOf answers every name with these addresses, in this order (a resolver stand-in for names). */
const lookupOf =
  (...addrs: string[]) =>
  async () =>
    addrs.map((a) => ({ address: a, family: a.includes(':') ? 6 : 4 }));

test('a name with several addresses falls back to the next when one refuses (Go Dialer order)', async (t) => {
  const l6 = await listen('[::1]:0', { network: 'tcp6' });
  t.after(() => l6.close());
  const accepted = l6.accept();
  // 127.0.0.1 comes first and refuses (nothing listens there on this port); ::1 answers.
  const c = await dial(`service.test:${l6.addr.port}`, { lookup: lookupOf('127.0.0.1', '::1') });
  assert.equal(c.remoteAddr?.address, `[::1]:${l6.addr.port}`);
  (await accepted).destroy();
  c.destroy();
});

test('when every address fails, the first address error is reported', async () => {
  const l = await listen('127.0.0.1:0');
  const port = l.addr.port;
  await l.close();
  await assert.rejects(
    dial(`service.test:${port}`, { lookup: lookupOf('127.0.0.1', '::1') }),
    (e: ConnectionError) => {
      assert.equal(e.code, 'NETKIT_DIAL_FAILED');
      assert.equal((e.cause as NodeJS.ErrnoException).code, 'ECONNREFUSED');
      assert.equal(e.message, `dial tcp service.test:${port}: connection refused`);
      return true;
    },
  );
  // tcp6 drops the IPv4 address; tcp4 with only IPv6 has nothing to dial.
  await assert.rejects(dial(`service.test:${port}`, { network: 'tcp4', lookup: lookupOf('::1') }), {
    code: 'NETKIT_NO_SUITABLE_ADDRESS',
  });
});

test('a silent address of the same family gets only its share of the timeout (Go partialDeadline)', async (t) => {
  const address = await blackhole(t);
  if (!address) return;
  const port = Number(address.split(':')[1]);
  const l2 = await listen(`127.0.0.2:${port}`).catch(() => undefined);
  if (!l2) {
    t.skip(`127.0.0.2:${port} is taken`);
    return;
  }
  t.after(() => l2.close());
  const accepted = l2.accept();
  const start = Date.now();
  const c = await dial(`service.test:${port}`, { timeout: 5000, lookup: lookupOf('127.0.0.1', '127.0.0.2') });
  const took = Date.now() - start;
  assert.equal(c.remoteAddr?.ip, '127.0.0.2');
  // 5 s over two addresses gives the first 2.5 s.
  assert.ok(took >= 2400 && took < 4500, `moved on after ${took} ms`);
  (await accepted).destroy();
  c.destroy();
});

test('a silent primary family is raced by the other family after 300 ms (Happy Eyeballs)', async (t) => {
  const address = await blackhole(t);
  if (!address) return;
  const port = Number(address.split(':')[1]);
  const l6 = await listen(`[::1]:${port}`, { network: 'tcp6' }).catch(() => undefined);
  if (!l6) {
    t.skip(`[::1]:${port} is taken`);
    return;
  }
  t.after(() => l6.close());
  const accepted = l6.accept();
  const start = Date.now();
  const c = await dial(`service.test:${port}`, { timeout: 30_000, lookup: lookupOf('127.0.0.1', '::1') });
  const took = Date.now() - start;
  assert.equal(c.remoteAddr?.family, 6);
  assert.ok(took >= 280 && took < 2000, `fallback won after ${took} ms`);
  (await accepted).destroy();
  c.destroy();
});
