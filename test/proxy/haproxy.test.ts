/**
 * A real HAProxy in front of netkit's servers: with `send-proxy` (v1) and
 * `send-proxy-v2` the servers must report the client's own address, not
 * HAProxy's, and keep the bytes that follow the header. Clients connect from
 * 127.0.0.2 (all of 127.0.0.0/8 is loopback on Linux) so the client's address
 * differs from HAProxy's 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { NETKIT_BIN, type Proc, spawnNetkit } from '../helpers/cli.js';
import { haproxyInFront } from '../helpers/haproxy.js';
import { until } from '../helpers/net.js';

const execFileP = promisify(execFile);
const CLIENT_V4 = '127.0.0.2';
const V2_SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');
const TRUST_LOCAL = '--proxy-protocol --trust 127.0.0.1/32';
const V1_AND_V2 = [{ send: 'send-proxy' }, { send: 'send-proxy-v2' }] as const;
const T = { timeout: 20_000 };

const helps = new Map<string, Promise<string>>();
/** needsFlag skips the test when the built CLI's `<cmd> serve --help` lacks `flag`. */
async function needsFlag(t: TestContext, cmd: string, flag: string): Promise<boolean> {
  let help = helps.get(cmd);
  if (!help) {
    help = execFileP(process.execPath, [NETKIT_BIN, cmd, 'serve', '--help']).then(
      (r) => r.stdout,
      () => '',
    );
    helps.set(cmd, help);
  }
  if ((await help).includes(flag)) return true;
  t.skip(`dist/cli/main.js ${cmd} serve has no ${flag} (run npm run build)`);
  return false;
}

/** serveNetkit spawns `netkit <args>` (a --json server), stops it after the test, and returns its address. */
async function serveNetkit(t: TestContext, args: string): Promise<{ proc: Proc; address: string }> {
  const proc = spawnNetkit(args.split(' '));
  t.after(() => proc.kill());
  const [, address] = await proc.waitFor(/"event":"listening","address":"([^"]+)"/);
  return { proc, address: address! };
}

/** events parses a netkit --json log and keeps the events named `name`. */
function events<E = { remote?: string }>(proc: Proc, name: string): E[] {
  return proc
    .stdout()
    .split('\n')
    .filter((l) => l.includes(`"event":"${name}"`))
    .map((l) => JSON.parse(l) as E);
}

/** connectFrom connects to host:port from `localAddress`; closed after the test. */
function connectFrom(t: TestContext, host: string, port: number, localAddress: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port, localAddress });
    t.after(() => s.destroy());
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** readUntil collects what `s` receives until `done` holds (or fails after `ms`). */
function readUntil(s: net.Socket, done: (b: Buffer) => boolean, ms = 5000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const got = () => JSON.stringify(buf.toString('latin1'));
    const timer = setTimeout(() => finish(new Error(`timed out; got ${got()}`)), ms);
    const finish = (err?: Error) => {
      clearTimeout(timer);
      s.off('data', onData);
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (done(buf)) finish();
    };
    s.on('data', onData);
    s.once('end', () => finish(new Error(`closed; got ${got()}`)));
    s.once('error', finish);
  });
}

/** Seen is the part of the inspector's JSON these tests read. */
interface Seen {
  remote: { ip: string; port: number };
  client?: { ip: string; port?: number; via: string };
}

/** getJson asks HAProxy on `port` for /who as JSON, from CLIENT_V4, and returns the inspector's answer. */
function getJson(port: number): Promise<{ seen: Seen; localPort: number }> {
  return new Promise((resolve, reject) => {
    const headers = { Accept: 'application/json' };
    const req = http.get({
      host: '127.0.0.1',
      port,
      path: '/who',
      localAddress: CLIENT_V4,
      agent: false,
      headers,
    });
    req.setTimeout(5000, () => req.destroy(new Error('request timed out')));
    req.once('error', reject);
    req.once('response', (res) => {
      const localPort = res.socket.localPort!;
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
        else resolve({ seen: JSON.parse(Buffer.concat(parts).toString()) as Seen, localPort });
      });
    });
  });
}

test(
  'smoke: HAProxy hands a plain server a PROXY header with the client address, then the bytes',
  T,
  async (t) => {
    const seen: Buffer[] = [];
    const server = net.createServer((c) => {
      let buf = Buffer.alloc(0);
      c.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (!buf.toString('latin1').endsWith('hello\n')) return;
        seen.push(buf);
        c.end('ok\n');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    t.after(() => server.close());
    const hx = await haproxyInFront(t, `127.0.0.1:${(server.address() as net.AddressInfo).port}`, [
      ...V1_AND_V2,
    ]);
    if (!hx) return;
    const [p1, p2] = hx.ports;

    const v1 = await connectFrom(t, '127.0.0.1', p1!, CLIENT_V4);
    v1.write('hello\n');
    await readUntil(v1, (b) => b.includes('ok\n'));
    assert.equal(
      seen[0]!.toString('latin1'),
      `PROXY TCP4 ${CLIENT_V4} 127.0.0.1 ${v1.localPort} ${p1}\r\nhello\n`,
    );

    const v2 = await connectFrom(t, '127.0.0.1', p2!, CLIENT_V4);
    v2.write('hello\n');
    await readUntil(v2, (b) => b.includes('ok\n'));
    const h = seen[1]!;
    assert.deepEqual(h.subarray(0, 12), V2_SIGNATURE);
    assert.equal(h[12], 0x21, 'version 2, command PROXY');
    assert.equal(h[13], 0x11, 'TCP over IPv4');
    assert.equal([...h.subarray(16, 20)].join('.'), CLIENT_V4);
    assert.equal([...h.subarray(20, 24)].join('.'), '127.0.0.1');
    assert.equal(h.readUInt16BE(24), v2.localPort);
    assert.equal(h.readUInt16BE(26), p2);
    assert.equal(h.subarray(16 + h.readUInt16BE(14)).toString(), 'hello\n', 'the client’s bytes follow');
  },
);

test('tcp serve behind send-proxy and send-proxy-v2 reports the client address and echoes', T, async (t) => {
  if (!(await needsFlag(t, 'tcp', '--proxy-protocol'))) return;
  const { proc, address } = await serveNetkit(t, `tcp serve 127.0.0.1:0 --echo --json ${TRUST_LOCAL}`);
  const hx = await haproxyInFront(t, address, [...V1_AND_V2]);
  if (!hx) return;
  const want: string[] = [];
  for (const [i, port] of hx.ports.entries()) {
    const c = await connectFrom(t, '127.0.0.1', port, CLIENT_V4);
    c.write(`hello v${i + 1}\n`);
    assert.equal((await readUntil(c, (b) => b.includes('\n'))).toString(), `hello v${i + 1}\n`);
    want.push(`${CLIENT_V4}:${c.localPort}`);
  }
  await until(() => events(proc, 'open').length === 2, 5000, 'two open events');
  // HAProxy dials netkit from 127.0.0.1; only the header can say 127.0.0.2.
  assert.deepEqual(
    events(proc, 'open').map((e) => e.remote),
    want,
  );
});

test('IPv6: a client on [::1] through HAProxy is [::1]:port to netkit (v1 TCP6 and v2)', T, async (t) => {
  if (!(await needsFlag(t, 'tcp', '--proxy-protocol'))) return;
  // netkit listens on IPv4: the header's family need not match the connection's.
  const { proc, address } = await serveNetkit(t, `tcp serve 127.0.0.1:0 --echo --json ${TRUST_LOCAL}`);
  const hx = await haproxyInFront(
    t,
    address,
    V1_AND_V2.map((r) => ({ ...r, host: '::1' })),
  );
  if (!hx) return;
  const want: string[] = [];
  for (const port of hx.ports) {
    const c = await connectFrom(t, '::1', port, '::1');
    c.write('six\n');
    assert.equal((await readUntil(c, (b) => b.includes('\n'))).toString(), 'six\n');
    want.push(`[::1]:${c.localPort}`);
  }
  await until(() => events(proc, 'open').length === 2, 5000, 'two open events');
  assert.deepEqual(
    events(proc, 'open').map((e) => e.remote),
    want,
  );
});

test(
  'an untrusted HAProxy is not believed: its own address is reported, its header echoed as data',
  T,
  async (t) => {
    if (!(await needsFlag(t, 'tcp', '--proxy-protocol'))) return;
    // --frame none echoes raw chunks, so the header comes back byte for byte.
    const args = 'tcp serve 127.0.0.1:0 --echo --frame none --json --proxy-protocol --trust 10.0.0.0/8';
    const { proc, address } = await serveNetkit(t, args);
    const hx = await haproxyInFront(t, address, [...V1_AND_V2]);
    if (!hx) return;
    const [p1, p2] = hx.ports;
    const endsHello = (b: Buffer) => b.toString('latin1').endsWith('hello\n');

    const v1 = await connectFrom(t, '127.0.0.1', p1!, CLIENT_V4);
    v1.write('hello\n');
    const back1 = await readUntil(v1, endsHello);
    assert.equal(
      back1.toString('latin1'),
      `PROXY TCP4 ${CLIENT_V4} 127.0.0.1 ${v1.localPort} ${p1}\r\nhello\n`,
    );

    const v2 = await connectFrom(t, '127.0.0.1', p2!, CLIENT_V4);
    v2.write('hello\n');
    const back2 = await readUntil(v2, endsHello);
    assert.deepEqual(back2.subarray(0, 12), V2_SIGNATURE);
    assert.equal(back2.subarray(16 + back2.readUInt16BE(14)).toString(), 'hello\n');

    await until(() => events(proc, 'open').length === 2, 5000, 'two open events');
    for (const e of events(proc, 'open'))
      assert.match(e.remote ?? '', /^127\.0\.0\.1:\d+$/, 'HAProxy’s own address');
  },
);

test('http serve behind send-proxy-v2 (mode tcp): the inspector’s remote is the client', T, async (t) => {
  if (!(await needsFlag(t, 'http', '--proxy-protocol'))) return;
  const { address } = await serveNetkit(t, `http serve 127.0.0.1:0 --json -q ${TRUST_LOCAL}`);
  const hx = await haproxyInFront(t, address, [{ send: 'send-proxy-v2' }]);
  if (!hx) return;
  const { seen, localPort } = await getJson(hx.ports[0]!);
  assert.deepEqual(seen.remote, { ip: CLIENT_V4, port: localPort });
});

test('http serve behind mode http + option forwardfor, without and with send-proxy-v2', T, async (t) => {
  if (!(await needsFlag(t, 'http', '--trust'))) return;
  const forwardfor = { mode: 'http', frontend: ['option forwardfor'] } as const;
  // Without PROXY the socket peer is HAProxy; --trust lets its X-Forwarded-For name the client.
  const xff = await serveNetkit(t, 'http serve 127.0.0.1:0 --json -q --trust 127.0.0.1/32');
  const plain = await haproxyInFront(t, xff.address, [{ send: '', ...forwardfor }]);
  if (!plain) return;
  const a = await getJson(plain.ports[0]!);
  if (a.seen.client === undefined) {
    t.skip('the inspector JSON has no `client` field in this build');
    return;
  }
  assert.equal(a.seen.remote.ip, '127.0.0.1');
  assert.deepEqual(a.seen.client, { ip: CLIENT_V4, via: 'x-forwarded-for' });
  // With PROXY the peer is the client itself, who is not trusted: its headers are not consulted.
  const pp = await serveNetkit(t, `http serve 127.0.0.1:0 --json -q ${TRUST_LOCAL}`);
  const both = await haproxyInFront(t, pp.address, [{ send: 'send-proxy-v2', ...forwardfor }]);
  if (!both) return;
  const b = await getJson(both.ports[0]!);
  assert.deepEqual(b.seen.remote, { ip: CLIENT_V4, port: b.localPort });
  assert.deepEqual(b.seen.client, { ip: CLIENT_V4, port: b.localPort, via: 'socket' });
});

test(
  'HAProxy health checks (send-proxy-v2 check, option httpchk) are answered, not refused',
  T,
  async (t) => {
    if (!(await needsFlag(t, 'http', '--proxy-protocol'))) return;
    const { proc, address } = await serveNetkit(t, `http serve 127.0.0.1:0 --json ${TRUST_LOCAL}`);
    // A check has no client: HAProxy 2.6 sends a v2 LOCAL header, then GET /health.
    const route = { send: 'send-proxy-v2', mode: 'http', backend: ['option httpchk GET /health'] } as const;
    const hx = await haproxyInFront(t, address, [{ ...route, server: 'check inter 100ms fall 1' }]);
    if (!hx) return;
    type Req = { path: string; remote: { ip: string } };
    const checks = () => events<Req>(proc, 'request').filter((e) => e.path === '/health');
    await until(() => checks().length >= 3, 5000, 'three health checks');
    // LOCAL carries no addresses: the socket's own peer (HAProxy) is reported.
    for (const c of checks()) assert.equal(c.remote.ip, '127.0.0.1');
    assert.doesNotMatch(hx.haproxy.output(), /is DOWN/);
  },
);
