/**
 * netkit's dial({tls}) against a Go crypto/tls echo server
 * (test/interop/tlsechoserver), with certificates from openssl: a private
 * CA, pins (a refused certificate costs the server not one application
 * byte) and client certificates for RequireAndVerifyClientCert, over TLS
 * 1.3 and 1.2. Go's clients against netkit's servers are tls-go.test.ts.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { dial } from '../../src/tcp/index.js';
import { spawnProc } from '../helpers/cli.js';
import { makePki } from '../helpers/openssl-certs.js';
import { goProgram } from '../helpers/tools.js';

/** VERSIONS are the TLS versions every exchange is tried with; `-tls12` caps the Go server at 1.2. */
const VERSIONS = [
  { version: 'TLS1.3', flags: [] },
  { version: 'TLS1.2', flags: ['-tls12'] },
] as const;

/** goServer starts test/interop/tlsechoserver and returns its address and connection reports. */
async function goServer(t: TestContext, args: string[]) {
  const bin = await goProgram(t, 'test/interop/tlsechoserver');
  if (!bin) return undefined;
  const p = spawnProc(bin, args);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  let seen = 0;
  /** next waits for the report of the next connection to end. */
  const next = async (): Promise<Record<string, unknown>> => {
    const lines = () => p.stdout().split('\n').slice(1, -1);
    const deadline = Date.now() + 5000;
    while (lines().length <= seen) {
      if (Date.now() > deadline) throw new Error(`no connection report from tlsechoserver:\n${p.stdout()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return JSON.parse(lines()[seen++]!) as Record<string, unknown>;
  };
  return { address: address!, next };
}

test('netkit dial({tls: {ca}}) -> Go tls.Listen echo server, TLS 1.3 and 1.2', async (t) => {
  const pki = await makePki(t);
  if (!pki) return;
  for (const { version, flags } of VERSIONS) {
    const go = await goServer(t, ['-cert', pki.server.cert.file, '-key', pki.server.key.file, ...flags]);
    if (!go) return;
    const port = go.address.split(':').at(-1)!;
    // By IP (checked against the IP SAN, no SNI) and by name.
    for (const address of [go.address, `localhost:${port}`]) {
      const c = await dial(address, { tls: { ca: pki.ca.cert.pem }, network: 'tcp4' });
      for (const msg of ['hello', 'ünïcödé', 'x'.repeat(100_000)]) {
        await c.write(`${msg}\n`);
        assert.equal(await c.readLine({ maxBytes: 200_000 }), msg);
      }
      // close_notify and FIN; Go reads EOF, closes, and netkit reads its end.
      await c.closeWrite();
      assert.equal(await c.read(), null);
      c.destroy();
      assert.deepEqual(await go.next(), {
        handshake: 'ok',
        version,
        alpn: '',
        client: '',
        bytes: 6 + Buffer.byteLength('ünïcödé\n') + 100_001,
      });
    }
    // Without the CA, Go's certificate is refused, in words.
    await assert.rejects(dial(go.address, { tls: true }), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NETKIT_TLS_FAILED');
      assert.match(err.message, /unknown CA/);
      return true;
    });
    assert.equal((await go.next()).bytes, 0);
  }
});

test('netkit dial with a pin -> Go server: the pinned certificate connects, a wrong pin sends not one byte', async (t) => {
  const pki = await makePki(t);
  if (!pki) return;
  for (const { version, flags } of VERSIONS) {
    const go = await goServer(t, [
      '-cert',
      pki.selfSigned.cert.file,
      '-key',
      pki.selfSigned.key.file,
      ...flags,
    ]);
    if (!go) return;
    const c = await dial(go.address, { tls: { pin: pki.selfSigned.fingerprint } });
    await c.write('pinned\n');
    assert.equal(await c.readLine(), 'pinned');
    c.destroy();
    assert.equal((await go.next()).bytes, 7);

    const wrong = dial(go.address, { tls: { pin: pki.server.fingerprint } });
    await assert.rejects(wrong, (err: Error & { code?: string }) => {
      assert.equal(err.code, 'NETKIT_TLS_FAILED');
      assert.equal((err.cause as { code?: string }).code, 'NETKIT_PIN_MISMATCH');
      assert.match(err.message, new RegExp(`fingerprint is ${pki.selfSigned.fingerprint}`));
      return true;
    });
    // netkit judges the pin once its side of the handshake is done and closes at once. In TLS 1.2
    // the server finishes last, so Go's handshake is complete; in TLS 1.3 the close may come before
    // the client's Finished reached Go (EOF). Either way, not one application byte.
    const report = await go.next();
    assert.equal(report.bytes, 0);
    assert.match(String(report.handshake), version === 'TLS1.2' ? /^ok$/ : /^(ok|EOF)$/);
  }
});

test('netkit dial with a client certificate -> Go server with RequireAndVerifyClientCert, TLS 1.3 and 1.2', async (t) => {
  const pki = await makePki(t);
  if (!pki) return;
  for (const { version, flags } of VERSIONS) {
    const go = await goServer(t, [
      ...[
        '-cert',
        pki.server.cert.file,
        '-key',
        pki.server.key.file,
        '-client-ca',
        pki.ca.cert.file,
        ...flags,
      ],
    ]);
    if (!go) return;
    const c = await dial(go.address, {
      tls: { ca: pki.ca.cert.pem, cert: pki.client.cert.pem, key: pki.client.key.pem },
    });
    await c.write('mutual\n');
    assert.equal(await c.readLine(), 'mutual');
    c.destroy();
    assert.deepEqual(await go.next(), { handshake: 'ok', version, alpn: '', client: 'CN=alice', bytes: 7 });

    // Without a certificate, or with one from another CA, Go refuses with a bad_certificate alert
    // and reads no application byte. In TLS 1.2 the server judges the certificate before its
    // Finished, so dial() fails, in words. In TLS 1.3 the client is done before the server has
    // judged it: dial() resolves and the alert fails the first read, with the same error.
    for (const [cert, why] of [
      [undefined, "tls: client didn't provide a certificate"],
      [
        pki.stranger,
        'tls: failed to verify client certificate: x509: certificate signed by unknown authority',
      ],
    ] as const) {
      const tls = { ca: pki.ca.cert.pem, ...(cert ? { cert: cert.cert.pem, key: cert.key.pem } : {}) };
      const refused = {
        code: 'NETKIT_TLS_FAILED',
        message: new RegExp(
          `^tls ${go.address}: the server refused the client certificate \\(.*bad certificate\\)$`,
        ),
      };
      if (version === 'TLS1.2') {
        await assert.rejects(dial(go.address, { tls }), refused);
      } else {
        const conn = await dial(go.address, { tls });
        t.after(() => conn.destroy());
        await conn.write('let me in\n');
        await assert.rejects(conn.readLine(), refused);
      }
      assert.deepEqual(await go.next(), { handshake: why, version: '', alpn: '', client: '', bytes: 0 });
    }
  }
});
