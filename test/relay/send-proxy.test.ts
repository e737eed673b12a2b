/**
 * sendProxy against real readers of the PROXY protocol: netkit's own
 * listener (plain and TLS) and HAProxy's `accept-proxy`. Each must see
 * the relay's client, not the relay. IPv4 clients connect from 127.0.0.2
 * (all of 127.0.0.0/8 is loopback on Linux) while the relay dials its
 * targets from 127.0.0.1, so the two cannot be confused; on IPv6, where
 * ::1 is the only loopback address, the ports tell them apart.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { type ClientAddress, proxyHeader } from '../../src/relay/client-header.js';
import type { SendProxy } from '../../src/relay/index.js';
import { type Listener, type ListenOptions, listen, serve } from '../../src/tcp/index.js';
import { freePort, startHaproxy } from '../helpers/haproxy.js';
import { startRelay } from '../helpers/relay.js';

const CLIENT_V4 = '127.0.0.2';
const VERSIONS: readonly SendProxy[] = ['v1', 'v2'];
const T = { timeout: 20_000 };

/**
 * whoami serves one line per connection on `host`: the client and the
 * address it dialled as the server sees them (after any PROXY header), and
 * whether the connection is TLS.
 */
async function whoami(t: TestContext, host: string, options: ListenOptions): Promise<Listener> {
  const listener = await listen(`${host.includes(':') ? `[${host}]` : host}:0`, options);
  const server = serve(listener, async (conn) => {
    const tls = (conn.socket as { encrypted?: boolean }).encrypted === true;
    await conn.write(`${conn.remoteAddr?.address} ${conn.localAddr?.address} tls=${tls}\n`);
  });
  t.after(() => server.close({ timeout: 100 }));
  return listener;
}

/** ask connects to `address` from `localAddress`, sends `request`, and returns the reply to its end and the client's port. */
function ask(
  address: string,
  localAddress: string,
  request = '',
  ms = 5000,
): Promise<{ reply: string; port: number }> {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port: Number(address.slice(at + 1)), localAddress });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => s.destroy(new Error(`no reply from ${address} within ${ms} ms`)), ms);
    let port = 0;
    s.once('connect', () => {
      port = s.localPort as number;
      if (request !== '') s.write(request);
    });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.once('end', () => {
      clearTimeout(timer);
      s.destroy();
      resolve({ reply: Buffer.concat(chunks).toString(), port });
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

/** within rejects when `p` has not settled after `ms`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** hasIpv6 says whether ::1 can be bound here. */
async function hasIpv6(): Promise<boolean> {
  const srv = net.createServer();
  try {
    srv.listen(0, '::1');
    await once(srv, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    srv.close();
  }
}

const SIG = '0d0a0d0a000d0a515549540a';
/** HEADERS: what each client becomes on the wire, v1 as text and v2 as hex (ver_cmd, fam, length, addresses). */
const HEADERS: { name: string; client: ClientAddress; v1: string; v2: string }[] = [
  {
    name: 'IPv4',
    client: { address: '127.0.0.2', port: 1234, localAddress: '127.0.0.1', localPort: 80 },
    v1: 'PROXY TCP4 127.0.0.2 127.0.0.1 1234 80\r\n',
    v2: `${SIG}21 11 000c 7f000002 7f000001 04d2 0050`,
  },
  {
    name: 'IPv4-mapped IPv6 goes as IPv4',
    client: { address: '::ffff:127.0.0.2', port: 1234, localAddress: '::ffff:127.0.0.1', localPort: 80 },
    v1: 'PROXY TCP4 127.0.0.2 127.0.0.1 1234 80\r\n',
    v2: `${SIG}21 11 000c 7f000002 7f000001 04d2 0050`,
  },
  {
    name: 'IPv6',
    client: { address: '::1', port: 1234, localAddress: '::1', localPort: 443 },
    v1: 'PROXY TCP6 ::1 ::1 1234 443\r\n',
    v2: `${SIG}21 21 0024 ${'00'.repeat(15)}01 ${'00'.repeat(15)}01 04d2 01bb`,
  },
  {
    name: 'link-local IPv6 loses its zone',
    client: { address: 'fe80::1%eth0', port: 1, localAddress: 'fe80::2%eth0', localPort: 2 },
    v1: 'PROXY TCP6 fe80::1 fe80::2 1 2\r\n',
    v2: `${SIG}21 21 0024 fe80${'00'.repeat(13)}01 fe80${'00'.repeat(13)}02 0001 0002`,
  },
  {
    name: 'a Unix-socket client (no address)',
    client: {},
    v1: 'PROXY UNKNOWN\r\n',
    v2: `${SIG}20 00 0000`,
  },
  {
    name: 'families that differ cannot share a header',
    client: { address: '127.0.0.2', port: 1, localAddress: '::1', localPort: 2 },
    v1: 'PROXY UNKNOWN\r\n',
    v2: `${SIG}20 00 0000`,
  },
];

test('proxyHeader: v1 text and v2 bytes for each kind of client', () => {
  for (const [i, c] of HEADERS.entries()) {
    assert.equal(proxyHeader('v1', c.client).toString('latin1'), c.v1, `#${i} ${c.name}: v1`);
    assert.equal(
      proxyHeader('v2', c.client).toString('hex'),
      c.v2.replaceAll(' ', ''),
      `#${i} ${c.name}: v2`,
    );
  }
});

for (const version of VERSIONS) {
  test(`${version}: netkit's listener behind the relay sees the client's address and port`, T, async (t) => {
    const backend = await whoami(t, '127.0.0.1', { proxy: { trust: ['127.0.0.1/32'] } });
    const r = await startRelay(t, {
      listen: '127.0.0.1:0',
      targets: [backend.addr.address],
      sendProxy: version,
    });
    const opened: string[] = [];
    r.on('open', (e) => opened.push(e.client));
    for (let i = 0; i < 3; i++) {
      const { reply, port } = await ask(r.address, CLIENT_V4);
      // The destination is what the client dialled: the relay, not the backend.
      assert.equal(reply, `${CLIENT_V4}:${port} ${r.address} tls=false\n`, `#${i}`);
      assert.equal(opened[i], `${CLIENT_V4}:${port}`);
    }
  });

  test(`${version}: an IPv4 client of an IPv6 socket (::ffff:127.0.0.2) is sent as IPv4`, T, async (t) => {
    const backend = await whoami(t, '127.0.0.1', { proxy: { trust: ['127.0.0.1/32'] } });
    const r = await startRelay(t, {
      listen: '[::ffff:127.0.0.1]:0',
      targets: [backend.addr.address],
      sendProxy: version,
    });
    const { reply, port } = await ask(`127.0.0.1:${r.address.split(':').at(-1)}`, CLIENT_V4);
    assert.equal(reply, `${CLIENT_V4}:${port} 127.0.0.1:${r.address.split(':').at(-1)} tls=false\n`);
  });

  test(
    `${version}: a Unix-socket client has no address to send: the backend keeps the relay's`,
    T,
    async (t) => {
      const backend = await whoami(t, '127.0.0.1', { proxy: { trust: ['127.0.0.1/32'] } });
      const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-send-proxy-'));
      t.after(() => rm(dir, { recursive: true, force: true }));
      const sock = path.join(dir, 'r.sock');
      await startRelay(t, { listen: `unix:${sock}`, targets: [backend.addr.address], sendProxy: version });
      const reply = await new Promise<string>((resolve, reject) => {
        const s = net.connect(sock);
        const chunks: Buffer[] = [];
        s.on('data', (d: Buffer) => chunks.push(d));
        s.once('end', () => resolve(Buffer.concat(chunks).toString()));
        s.once('error', reject);
        s.setTimeout(5000, () => s.destroy(new Error('no reply within 5000 ms')));
      });
      // v1 UNKNOWN and v2 LOCAL both mean "use the connection's own addresses": the relay's dial.
      assert.match(reply, new RegExp(`^127\\.0\\.0\\.1:\\d+ ${backend.addr.address} tls=false\n$`));
    },
  );

  test(`${version}: over IPv6 the backend sees [::1] and the client's port`, T, async (t) => {
    if (!(await hasIpv6())) {
      t.skip('no IPv6 loopback (::1) on this machine');
      return;
    }
    const backend = await whoami(t, '::1', { proxy: { trust: ['::1/128'] } });
    const r = await startRelay(t, { listen: '[::1]:0', targets: [backend.addr.address], sendProxy: version });
    const { reply, port } = await ask(r.address, '::1');
    assert.equal(reply, `[::1]:${port} ${r.address} tls=false\n`);
  });

  test(`${version}: the header goes before the TLS handshake of a tls: target`, T, async (t) => {
    const backend = await whoami(t, '127.0.0.1', { proxy: { trust: ['127.0.0.1/32'] }, tls: true });
    const fingerprint = backend.tls?.fingerprint as string;
    // v1 trusts the certificate by pin, v2 skips checks: both ways reach the handshake.
    const targetTls = version === 'v1' ? { pin: fingerprint } : { insecure: true };
    const r = await startRelay(t, {
      listen: '127.0.0.1:0',
      targets: [`tls:${backend.addr.address}`],
      sendProxy: version,
      targetTls,
    });
    const { reply, port } = await ask(r.address, CLIENT_V4);
    assert.equal(reply, `${CLIENT_V4}:${port} ${r.address} tls=true\n`);
  });
}

test('a relay behind a PROXY sender passes the original client on, not its own peer', T, async (t) => {
  const backend = await whoami(t, '127.0.0.1', { proxy: { trust: ['127.0.0.1/32'] } });
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [backend.addr.address],
    proxy: { trust: [`${CLIENT_V4}/32`] },
    sendProxy: 'v2',
  });
  // CLIENT_V4 plays a load balancer in front of the relay, speaking for 203.0.113.7.
  const { reply } = await ask(r.address, CLIENT_V4, 'PROXY TCP4 203.0.113.7 198.51.100.1 5555 80\r\n');
  assert.equal(reply, '203.0.113.7:5555 198.51.100.1:80 tls=false\n');
});

test('on the wire to a tls: target: the whole PROXY header, then a TLS ClientHello record', T, async (t) => {
  let seen!: (b: Buffer) => void;
  const first = new Promise<Buffer>((resolve) => {
    seen = resolve;
  });
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0);
    s.on('error', () => {});
    s.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      const eol = buf.indexOf('\r\n');
      // A TLS record header is 5 bytes; wait for it after the v1 line.
      if (eol >= 0 && buf.length >= eol + 2 + 5) {
        seen(buf);
        s.destroy();
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [`tls:127.0.0.1:${(server.address() as net.AddressInfo).port}`],
    sendProxy: 'v1',
    targetTls: { insecure: true },
  });
  const relayPort = Number(r.address.split(':')[1]);
  const client = net.connect({ host: '127.0.0.1', port: relayPort, localAddress: CLIENT_V4 });
  client.on('error', () => {});
  t.after(() => client.destroy());
  await once(client, 'connect');
  const buf = await within(first, 5000, 'the bytes the relay sent');
  const eol = buf.indexOf('\r\n') + 2;
  assert.equal(
    buf.subarray(0, eol).toString('latin1'),
    `PROXY TCP4 ${CLIENT_V4} 127.0.0.1 ${client.localPort} ${relayPort}\r\n`,
  );
  // 0x16 is the handshake content type, 0x03 the major version of every TLS record.
  assert.deepEqual([...buf.subarray(eol, eol + 2)], [0x16, 0x03]);
});

test(
  'HAProxy with accept-proxy reads the header: %ci:%cp is the client, %fi:%fp what it dialled',
  T,
  async (t) => {
    const ports: number[] = [];
    const hx = await startHaproxy(t, async () => {
      ports.length = 0;
      ports.push(await freePort(), await freePort());
      // One frontend per version, so a header of the wrong version would be refused, not misread.
      return VERSIONS.map((_, i) =>
        [
          `frontend who${i}`,
          '  mode http',
          `  bind 127.0.0.1:${ports[i]} accept-proxy`,
          '  http-request return status 200 content-type text/plain lf-string "%ci:%cp %fi:%fp\\n"',
          '',
        ].join('\n'),
      ).join('\n');
    });
    if (!hx) return;
    for (const [i, version] of VERSIONS.entries()) {
      const r = await startRelay(t, {
        listen: '127.0.0.1:0',
        targets: [`127.0.0.1:${ports[i]}`],
        sendProxy: version,
      });
      const { reply, port } = await ask(
        r.address,
        CLIENT_V4,
        'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      );
      const body = reply.slice(reply.indexOf('\r\n\r\n') + 4);
      assert.match(reply, /^HTTP\/1\.1 200 /, `${version}: ${reply}\n${hx.output()}`);
      assert.equal(body, `${CLIENT_V4}:${port} ${r.address}\n`, version);
    }
  },
);
