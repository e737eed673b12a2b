/**
 * The ephemeral certificate a `tls: true` server makes at start: ECDSA
 * P-256, self-signed, for localhost, 127.0.0.1 and ::1, valid for a week,
 * and a fingerprint that is the one openssl prints for it.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { listen } from '../../src/tcp/index.js';
import { selfSigned } from '../../src/tls/ephemeral.js';
import { fingerprintOfPem, parsePin } from '../../src/tls/fingerprint.js';
import { requireTool } from '../helpers/tools.js';

const execFileP = promisify(execFile);
const HOSTS = ['localhost', '127.0.0.1', '::1'];
const DAY = 24 * 3600 * 1000;

test('selfSigned: ECDSA P-256, self-signed, not a CA, SANs for localhost, 127.0.0.1 and ::1', async () => {
  const e = await selfSigned(HOSTS);
  const x = new X509Certificate(e.cert);
  assert.equal(x.publicKey.asymmetricKeyType, 'ec');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(x.ca, false);
  assert.equal(x.subject, 'CN=localhost');
  assert.equal(x.issuer, x.subject);
  assert.ok(x.verify(x.publicKey), 'signed by its own key');
  assert.ok(x.checkPrivateKey(createPrivateKey(e.key)), 'the key is the certificate’s');
  assert.equal(x.checkHost('localhost'), 'localhost');
  assert.equal(x.checkIP('127.0.0.1'), '127.0.0.1');
  assert.equal(x.checkIP('::1'), '::1');
  // Nothing else: not another name, not 127.0.0.2, not the IPv4-mapped form of 127.0.0.1.
  assert.equal(x.checkHost('example.com'), undefined);
  assert.equal(x.checkIP('127.0.0.2'), undefined);
  assert.equal(x.checkIP('::ffff:127.0.0.1'), undefined);
  assert.equal(x.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
  // Node's keyUsage is the extended key usage: serverAuth, and clientAuth so it can also be a client's.
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
});

test('selfSigned: valid from a minute ago for a week; a fresh serial and key each time', async () => {
  const before = Date.now();
  const a = await selfSigned(HOSTS);
  const b = await selfSigned(HOSTS);
  const x = new X509Certificate(a.cert);
  const from = Date.parse(x.validFrom);
  const to = Date.parse(x.validTo);
  // X.509 times have whole seconds.
  assert.ok(from <= before - 59_000 && from >= before - 62_000, `validFrom ${x.validFrom}`);
  assert.ok(Math.abs(to - from - 7 * DAY - 60_000) <= 2_000, `valid ${(to - from) / DAY} days`);
  const y = new X509Certificate(b.cert);
  assert.notEqual(x.serialNumber, y.serialNumber);
  assert.notEqual(a.fingerprint, b.fingerprint);
  assert.notEqual(a.key, b.key);
  // The serial is a positive INTEGER (RFC 5280 4.1.2.2): its top bit is clear.
  assert.ok(Number.parseInt(x.serialNumber.slice(0, 2), 16) < 0x80, x.serialNumber);
});

test('selfSigned: hosts become the SANs, names and IPs alike; the first one is the subject', async () => {
  const e = await selfSigned(['example.test', '10.1.2.3', '2001:db8::1', 'example.test']);
  const x = new X509Certificate(e.cert);
  assert.equal(x.subject, 'CN=example.test');
  assert.equal(x.subjectAltName, 'DNS:example.test, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:1');
  assert.equal(x.checkHost('localhost'), undefined);
});

test('the fingerprint is what `openssl x509 -fingerprint -sha256` prints for the certificate', async (t) => {
  if (!(await requireTool(t, 'openssl'))) return;
  const e = await selfSigned(HOSTS);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-ephemeral-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'cert.pem');
  await writeFile(file, e.cert);
  const { stdout } = await execFileP('openssl', ['x509', '-in', file, '-noout', '-fingerprint', '-sha256']);
  // sha256 Fingerprint=AB:CD:…
  const colons = /Fingerprint=([0-9A-F:]+)/i.exec(stdout)?.[1];
  assert.ok(colons, stdout);
  assert.equal(e.fingerprint, `sha256:${colons.replaceAll(':', '').toLowerCase()}`);
  assert.equal(parsePin('pin', `sha256:${colons}`), e.fingerprint);
  assert.equal(fingerprintOfPem(e.cert), e.fingerprint);
  // openssl reads what pkijs wrote as the X.509 it claims to be.
  const { stdout: text } = await execFileP('openssl', ['x509', '-in', file, '-noout', '-text']);
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /ASN1 OID: prime256v1/);
  assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
  assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature/);
  assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
  // And it verifies as its own issuer.
  const { stdout: ok } = await execFileP('openssl', ['verify', '-CAfile', file, file]);
  assert.match(ok, /OK/);
});

test('listen({ tls: true }) serves an ephemeral certificate whose fingerprint a client sees', async (t) => {
  const l = await listen('127.0.0.1:0', { tls: true });
  t.after(() => l.close());
  assert.equal(l.tls?.ephemeral, true);
  assert.equal(fingerprintOfPem(l.tls!.certificate), l.tls!.fingerprint);
  const accepted = l.accept();
  const client = tls.connect({ host: '127.0.0.1', port: l.addr.port, ca: l.tls!.certificate });
  t.after(() => client.destroy());
  // Trusted through its own PEM, for the IP: the SANs and the chain both check out.
  await new Promise<void>((resolve, reject) => {
    client.once('secureConnect', resolve);
    client.once('error', reject);
  });
  assert.equal(client.authorized, true);
  assert.equal(
    `sha256:${client.getPeerX509Certificate()!.fingerprint256.replaceAll(':', '').toLowerCase()}`,
    l.tls!.fingerprint,
  );
  (await accepted).destroy();
});
