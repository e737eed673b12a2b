/**
 * netkit's TLS servers against the openssl and curl command lines (Debian's
 * openssl and curl): s_client verifies the certificate and echoes a line
 * through a TLS line server over TLS 1.3 and 1.2, with and without a client
 * certificate; openssl reads an ephemeral certificate and agrees on its
 * fingerprint; curl fetches from an HTTPS server, which answers ALPN with
 * http/1.1 though curl offers h2.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { serveHttp } from '../../src/http/index.js';
import { echoHandler, listen, serve } from '../../src/tcp/index.js';
import type { TlsServerOptions } from '../../src/tls/server.js';
import { spawnProc } from '../helpers/cli.js';
import { makePki } from '../helpers/openssl-certs.js';
import { requireTool } from '../helpers/tools.js';

const execFileP = promisify(execFile);

/** lineServer is a netkit TLS line echo server on 127.0.0.1:0. */
async function lineServer(t: TestContext, tls: TlsServerOptions | true) {
  const listener = await listen('127.0.0.1:0', { tls });
  const server = serve(listener, echoHandler({ frame: 'line' }));
  t.after(() => server.close({ timeout: 100 }));
  return listener;
}

/**
 * sClient runs `openssl s_client` against `address` with `args`, sends one
 * line, and waits for it to come back (or for s_client to exit). It resolves
 * with s_client's exit code, stdout (the echo) and stderr (the -brief summary).
 */
async function sClient(address: string, args: string[]) {
  const p = spawnProc('openssl', [
    ...['s_client', '-connect', address, '-brief', '-no_ign_eof', '-verify_return_error'],
    ...args,
  ]);
  const line = `hello from openssl ${process.pid}`;
  p.child.stdin!.write(`${line}\n`);
  const timer = setTimeout(() => void p.kill(), 10_000);
  try {
    await Promise.race([p.waitFor(new RegExp(line)), p.exited]);
  } catch {
    // s_client exited without echoing: its exit code tells why.
  }
  // Closing stdin makes s_client send close_notify and exit.
  p.child.stdin!.end();
  const { code } = await p.exited;
  clearTimeout(timer);
  return { code, stdout: p.stdout(), stderr: p.stderr(), echoed: p.stdout().includes(`${line}\n`) };
}

test('openssl s_client -CAfile -> netkit TLS line server: verified, a line echoed, TLS 1.3 and 1.2', async (t) => {
  const pki = await makePki(t);
  if (!pki) return;
  for (const [leaf, trust] of [
    [pki.selfSigned, pki.selfSigned],
    [pki.server, pki.ca],
  ] as const) {
    const listener = await lineServer(t, { cert: leaf.cert.pem, key: leaf.key.pem });
    for (const [flag, version] of [
      ['-tls1_3', 'TLSv1.3'],
      ['-tls1_2', 'TLSv1.2'],
    ]) {
      const r = await sClient(listener.addr.address, [
        ...['-CAfile', trust.cert.file, '-verify_hostname', 'localhost', flag!],
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.echoed, r.stdout);
      assert.match(r.stderr, new RegExp(`Protocol version: ${version}\\n`));
      assert.match(r.stderr, /Verification: OK\n/);
      assert.match(r.stderr, /Verified peername: localhost\n/);
    }
  }
  // Trusting another CA, openssl refuses the certificate and never gets to send the line.
  const listener = await lineServer(t, { cert: pki.server.cert.pem, key: pki.server.key.pem });
  const r = await sClient(listener.addr.address, ['-CAfile', pki.selfSigned.cert.file]);
  assert.notEqual(r.code, 0);
  assert.equal(r.echoed, false);
  assert.match(r.stderr, /unable to get local issuer certificate/);
});

test('openssl s_client -cert/-key -> netkit server with clientCA; refused without a certificate', async (t) => {
  const pki = await makePki(t);
  if (!pki) return;
  const listener = await lineServer(t, {
    cert: pki.server.cert.pem,
    key: pki.server.key.pem,
    clientCA: pki.ca.cert.pem,
  });
  const base = ['-CAfile', pki.ca.cert.file];
  const ok = await sClient(listener.addr.address, [
    ...[...base, '-cert', pki.client.cert.file, '-key', pki.client.key.file],
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.echoed, ok.stdout);
  for (const flag of ['-tls1_3', '-tls1_2']) {
    const none = await sClient(listener.addr.address, [...base, flag]);
    assert.equal(none.echoed, false, `${flag}: ${none.stdout}`);
    assert.match(none.stderr, /alert (certificate required|handshake failure)/);
  }
});

test('openssl reads an ephemeral certificate: same SHA-256 fingerprint, a valid TLS server certificate', async (t) => {
  if (!(await requireTool(t, 'openssl'))) return;
  const listener = await lineServer(t, true);
  const { certificate, fingerprint } = listener.tls!;
  const openssl = (args: string[]) => {
    const p = execFileP('openssl', args, { timeout: 10_000 });
    p.child.stdin!.end(certificate);
    return p;
  };
  const fp = await openssl(['x509', '-noout', '-fingerprint', '-sha256']);
  assert.equal(
    `sha256:${fp.stdout
      .replace(/^sha256 Fingerprint=/i, '')
      .trim()
      .replaceAll(':', '')
      .toLowerCase()}`,
    fingerprint,
  );
  const ext = await openssl(['x509', '-noout', '-ext', 'subjectAltName,basicConstraints,keyUsage']);
  assert.match(ext.stdout, /DNS:localhost, IP Address:127\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
  assert.match(ext.stdout, /CA:FALSE/);
  const text = await openssl(['x509', '-noout', '-text']);
  assert.match(text.stdout, /ASN1 OID: prime256v1/);
  assert.match(text.stdout, /Signature Algorithm: ecdsa-with-SHA256/);
});

test('curl --cacert -> netkit serveHttp({tls}): the body, HTTP/1.1 chosen by ALPN over h2', async (t) => {
  const pki = await makePki(t);
  if (!pki || !(await requireTool(t, 'curl'))) return;
  const server = await serveHttp('127.0.0.1:0', {
    tls: { cert: pki.server.cert.pem, key: pki.server.key.pem },
  });
  t.after(() => server.close());
  const port = server.address.split(':').at(-1)!;
  const curl = (args: string[]) =>
    execFileP(
      'curl',
      [
        '-sS',
        '--max-time',
        '10',
        '--resolve',
        `localhost:${port}:127.0.0.1`,
        ...args,
        `https://localhost:${port}/curl`,
      ],
      { timeout: 15_000 },
    );
  const { stdout } = await curl([
    ...['--cacert', pki.ca.cert.file, '--http2', '-w', '%{http_code} %{http_version} %{ssl_verify_result}'],
  ]);
  assert.equal(stdout, "Hello, you've requested: /curl\n200 1.1 0");
  // Without the CA, curl refuses the certificate.
  await assert.rejects(curl([]), (err: { code?: number; stderr?: string }) => {
    assert.equal(err.code, 60); // CURLE_PEER_FAILED_VERIFICATION
    assert.match(err.stderr!, /unable to get local issuer certificate/);
    return true;
  });
});
