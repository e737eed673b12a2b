/**
 * The TLS step of the Listener pipeline (bind → PROXY header → TLS →
 * protocol), on real sockets: the TLS 1.2 floor, ALPN, mutual TLS,
 * certificate reload, a PROXY header in front of the handshake, and
 * options refused before anything is bound.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Duplex } from 'node:stream';
import { type TestContext, test } from 'node:test';
import tls from 'node:tls';
import { serveHttp } from '../../src/http/index.js';
import { buildProxyHeaderV1, buildProxyHeaderV2 } from '../../src/proxy/build.js';
import { type Conn, dial, echoHandler, type ListenOptions, listen, serve } from '../../src/tcp/index.js';
import { verifiedSubject } from '../../src/tls/client.js';
import { spawnProc } from '../helpers/cli.js';
import { makePki } from '../helpers/openssl-certs.js';
import { requireTool } from '../helpers/tools.js';

/** echoServer listens with `options`, echoes every connection, and records each one served. */
async function echoServer(t: TestContext, options: ListenOptions) {
  const listener = await listen('127.0.0.1:0', options);
  const conns: Conn[] = [];
  const server = serve(listener, (conn, ctx) => {
    conns.push(conn);
    return echoHandler()(conn, ctx);
  });
  t.after(() => server.close({ timeout: 100 }));
  return { listener, server, conns, address: listener.addr.address };
}

/** connectTls runs a node:tls client handshake; resolves with the socket or rejects with the error. */
function connectTls(port: number, options: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    s.once('secureConnect', () => {
      s.removeListener('error', reject);
      s.on('error', () => {});
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** roundTrip writes a line and resolves with the first line back, or rejects when the connection ends first. */
function roundTrip(s: tls.TLSSocket, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer) => {
      got += d.toString();
      const nl = got.indexOf('\n');
      if (nl >= 0) {
        done();
        resolve(got.slice(0, nl));
      }
    };
    const onEnd = (err?: Error) => {
      done();
      reject(err ?? new Error(`the connection ended before a line came back (got ${JSON.stringify(got)})`));
    };
    const done = () => {
      s.off('data', onData);
      s.off('error', onEnd);
      s.off('close', onEnd);
    };
    s.on('data', onData);
    s.once('error', onEnd);
    s.once('close', () => onEnd());
    s.write(`${line}\n`);
  });
}

/** refused is true when a TLS client cannot get a line echoed: the handshake or the first read fails. */
async function refused(port: number, options: tls.ConnectionOptions): Promise<string> {
  let s: tls.TLSSocket | undefined;
  try {
    s = await connectTls(port, options);
    // In TLS 1.3 the client is done before the server has judged its certificate: the refusal comes on read.
    const line = await roundTrip(s, 'hello');
    return `served: ${line}`;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  } finally {
    s?.destroy();
  }
}

test('TLS 1.2 is the minimum: openssl s_client -tls1_1 gets a protocol_version alert; 1.2 and 1.3 are served', async (t) => {
  if (!(await requireTool(t, 'openssl'))) return;
  const { listener } = await echoServer(t, { tls: true });
  const sClient = async (version: string) => {
    const p = spawnProc('openssl', ['s_client', version, '-connect', listener.addr.address, '-msg']);
    t.after(() => p.kill('SIGKILL'));
    p.child.stdin!.end();
    await p.exited;
    return p.stdout() + p.stderr();
  };
  for (const old of ['-tls1_1', '-tls1']) {
    const out = await sClient(old);
    // The ClientHello went out; the server answered with the alert, not a ServerHello.
    assert.match(out, />>> TLS 1\.[01], Handshake \[length [0-9a-f]+\], ClientHello/, out);
    assert.match(out, /<<< TLS 1\.[01], Alert \[length 0002\], fatal protocol_version/, out);
    assert.doesNotMatch(out, /ServerHello/);
  }
  for (const [flag, version] of [
    ['-tls1_2', 'TLSv1.2'],
    ['-tls1_3', 'TLSv1.3'],
  ] as const) {
    const out = await sClient(flag);
    assert.ok(out.includes(`New, ${version}, Cipher is`), out);
  }
  // node:tls agrees.
  assert.equal(
    await refused(listener.addr.port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' }),
    'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION',
  );
  const s = await connectTls(listener.addr.port, { maxVersion: 'TLSv1.2' });
  assert.equal(s.getProtocol(), 'TLSv1.2');
  assert.equal(await roundTrip(s, 'twelve'), 'twelve');
  s.destroy();
});

test('ALPN: listen({ tls: { alpn } }) negotiates it; a client offering none of it is refused', async (t) => {
  const { listener, conns } = await echoServer(t, { tls: { alpn: ['http/1.1'] } });
  const s = await connectTls(listener.addr.port, { ALPNProtocols: ['h2', 'http/1.1'] });
  t.after(() => s.destroy());
  assert.equal(s.alpnProtocol, 'http/1.1');
  assert.equal(await roundTrip(s, 'alpn'), 'alpn');
  assert.equal((conns[0]!.socket as tls.TLSSocket).alpnProtocol, 'http/1.1');
  // No protocol in common: RFC 7301's no_application_protocol alert, as Go's server sends.
  assert.equal(
    await refused(listener.addr.port, { ALPNProtocols: ['h2'] }),
    'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL',
  );
  // A client that offers no ALPN at all is served without one.
  const plain = await connectTls(listener.addr.port);
  assert.equal(plain.alpnProtocol, false);
  assert.equal(await roundTrip(plain, 'none'), 'none');
  plain.destroy();
});

test('serveHttp(address, { tls: true }) offers http/1.1 over ALPN', async (t) => {
  const server = await serveHttp('127.0.0.1:0', { tls: true });
  t.after(() => server.close());
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  const port = Number(server.address.split(':').pop());
  const s = await connectTls(port, { ALPNProtocols: ['h2', 'http/1.1'] });
  t.after(() => s.destroy());
  assert.equal(s.alpnProtocol, 'http/1.1');
  assert.equal(
    await roundTrip(s, 'GET /alpn HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r'),
    'HTTP/1.1 200 OK\r',
  );
});

test('mutual TLS: no certificate or one from another CA is refused; a good one gives verifiedSubject', async (t) => {
  const pki = await makePki(t);
  if (!pki) return;
  const { listener, conns } = await echoServer(t, { tls: { clientCA: pki.ca.cert.pem } });
  const port = listener.addr.port;
  const check = async () => {
    assert.match(await refused(port, {}), /CERTIFICATE_REQUIRED|HANDSHAKE_FAILURE|ECONNRESET|ended before/);
    assert.match(
      await refused(port, { cert: pki.stranger.cert.pem, key: pki.stranger.key.pem }),
      /UNKNOWN_CA|BAD_CERTIFICATE|ECONNRESET|ended before/,
    );
    // A server certificate from the right CA is not a client certificate (extendedKeyUsage serverAuth only).
    assert.match(
      await refused(port, { cert: pki.server.cert.pem, key: pki.server.key.pem }),
      /UNSUPPORTED_CERTIFICATE|BAD_CERTIFICATE|ECONNRESET|ended before/,
    );
    assert.equal(conns.length, 0, 'a refused client reached the handler');
    // TLS 1.2 as well, where the refusal comes within the handshake.
    assert.match(await refused(port, { maxVersion: 'TLSv1.2' }), /HANDSHAKE_FAILURE|CERTIFICATE_REQUIRED/);
    const good = await connectTls(port, { cert: pki.client.cert.pem, key: pki.client.key.pem });
    assert.equal(await roundTrip(good, 'alice'), 'alice');
    assert.equal(verifiedSubject(conns.at(-1)!.socket), 'CN=alice');
    good.destroy();
  };
  await check();
  // A reload keeps the client CA and the demand for a certificate.
  listener.setCertificate({ cert: pki.server.cert.pem, key: pki.server.key.pem });
  conns.length = 0;
  await check();
});

test('a connection without a client certificate has no verifiedSubject', async (t) => {
  const { listener, conns } = await echoServer(t, { tls: true });
  const s = await connectTls(listener.addr.port);
  t.after(() => s.destroy());
  assert.equal(await roundTrip(s, 'x'), 'x');
  assert.equal(verifiedSubject(conns[0]!.socket), undefined);
});

test('setCertificate: new connections get the new certificate, an open one keeps working; a bad pair changes nothing', async (t) => {
  const pki = await makePki(t);
  if (!pki) return;
  const { listener, address } = await echoServer(t, { tls: true });
  const first = listener.tls!.fingerprint;
  assert.equal(listener.tls!.ephemeral, true);
  const open = await dial(address, { tls: { pin: first } });
  t.after(() => open.destroy());
  await open.write('before\n');
  assert.equal(await open.readLine(), 'before');

  listener.setCertificate({ cert: pki.server.cert.pem, key: pki.server.key.pem });
  assert.equal(listener.tls!.fingerprint, pki.server.fingerprint);
  assert.equal(listener.tls!.certificate, pki.server.cert.pem);
  assert.equal(listener.tls!.ephemeral, false);
  await assert.rejects(dial(address, { tls: { pin: first } }), { code: 'NETKIT_TLS_FAILED' });
  const fresh = await dial(address, { tls: { ca: pki.ca.cert.pem, servername: 'localhost' } });
  await fresh.write('after\n');
  assert.equal(await fresh.readLine(), 'after');
  fresh.destroy();
  // The connection made before the reload (to the pinned, old certificate) still speaks.
  await open.write('still\n');
  assert.equal(await open.readLine(), 'still');

  // A key that is not the certificate's, and a certificate that is not one: refused, and the last good pair stays.
  const bad = [
    [{ cert: pki.server.cert.pem, key: pki.client.key.pem }, 'tls.key', /: key values mismatch$/],
    // Named as the certificate's fault, not as a key that does not fit it.
    [
      { cert: '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', key: pki.server.key.pem },
      'tls.cert',
      /does not parse/,
    ],
    [{ cert: pki.server.key.pem, key: pki.server.cert.pem }, 'tls.cert', /CERTIFICATE/],
  ] as const;
  for (const [i, [pair, option, why]] of bad.entries()) {
    assert.throws(
      () => listener.setCertificate(pair),
      (err: { code?: string; option?: string; message: string }) => {
        assert.equal(err.code, 'NETKIT_INVALID_ARGUMENT', `#${i}`);
        assert.equal(err.option, option, `#${i}`);
        assert.match(err.message, why, `#${i}`);
        return true;
      },
    );
    assert.equal(listener.tls!.fingerprint, pki.server.fingerprint, `#${i}`);
    const c = await dial(address, { tls: { pin: pki.server.fingerprint } });
    await c.write(`ok ${i}\n`);
    assert.equal(await c.readLine(), `ok ${i}`);
    c.destroy();
  }
});

/**
 * proxiedTls opens a TCP connection and runs a TLS client over it with
 * `header` in front: in the same write as the ClientHello (`together`), so
 * the server must put the bytes after the header back for node:tls, or
 * alone and then the handshake.
 */
async function proxiedTls(
  t: TestContext,
  port: number,
  header: Buffer,
  together: boolean,
): Promise<tls.TLSSocket> {
  const raw = net.connect({ port, host: '127.0.0.1', noDelay: true });
  t.after(() => raw.destroy());
  raw.on('error', () => {});
  await new Promise((resolve) => raw.once('connect', resolve));
  if (!together) {
    raw.write(header);
    await new Promise((r) => setTimeout(r, 20));
    return connectTls(port, { socket: raw });
  }
  let first = true;
  const prefixed = new Duplex({
    write(chunk: Buffer, _enc, cb) {
      raw.write(first ? Buffer.concat([header, chunk]) : chunk, cb);
      first = false;
    },
    read() {},
    final(cb) {
      raw.end(cb);
    },
    destroy(err, cb) {
      raw.destroy();
      cb(err);
    },
  });
  raw.on('data', (d) => prefixed.push(d));
  raw.on('end', () => prefixed.push(null));
  return connectTls(port, { socket: prefixed });
}

test('a PROXY v1 or v2 header before the handshake: the connection reports the client after TLS; the bytes after the header reach TLS intact', async (t) => {
  const { listener, conns } = await echoServer(t, { tls: true, proxy: { trust: ['127.0.0.1/32'] } });
  const cases = [
    {
      header: buildProxyHeaderV1({
        family: 'inet',
        source: { address: '203.0.113.7', port: 51000 },
        destination: { address: '198.51.100.1', port: 443 },
      }),
      remote: '203.0.113.7:51000',
      local: '198.51.100.1:443',
    },
    {
      header: buildProxyHeaderV2({
        family: 'inet6',
        source: { address: '2001:db8::7', port: 51001 },
        destination: { address: '2001:db8::1', port: 8443 },
      }),
      remote: '[2001:db8::7]:51001',
      local: '[2001:db8::1]:8443',
    },
  ];
  let i = 0;
  for (const c of cases) {
    for (const together of [true, false]) {
      const s = await proxiedTls(t, listener.addr.port, c.header, together);
      assert.equal(await roundTrip(s, `case ${i}`), `case ${i}`, `#${i}`);
      const conn = conns[i]!;
      assert.ok(conn.socket instanceof tls.TLSSocket, `#${i}: not a TLS socket`);
      assert.equal(conn.remoteAddr?.address, c.remote, `#${i}`);
      assert.equal(conn.localAddr?.address, c.local, `#${i}`);
      s.destroy();
      i++;
    }
  }
  // A trusted peer that starts the handshake without a header is closed, never served.
  assert.match(await refused(listener.addr.port, {}), /ECONNRESET|disconnected|ended before|socket hang up/i);
  assert.equal(conns.length, i);
});

test('the handshake timeout ends with the handshake: a connection idle past it stays open', async (t) => {
  const { listener, address } = await echoServer(t, { tls: { handshakeTimeout: 200 } });
  const c = await dial(address, { tls: { pin: listener.tls!.fingerprint } });
  t.after(() => c.destroy());
  await new Promise((r) => setTimeout(r, 600));
  await c.write('still here\n');
  assert.equal(await c.readLine(), 'still here');
});
