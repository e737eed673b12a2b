/** netkit's HTTPS client against Go's net/http TLS server (httptest's self-signed certificate). */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { NetkitError } from '../../src/errors.js';
import { request } from '../../src/http/index.js';
import { cli, spawnProc } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

/** startGoTls runs test/interop/httpsserver and returns its URL and certificate (PEM). */
async function startGoTls(t: TestContext): Promise<{ url: string; cert: string } | undefined> {
  const bin = await goProgram(t, 'test/interop/httpsserver');
  if (!bin) return undefined;
  const p = spawnProc(bin, []);
  t.after(() => p.kill());
  const [, url] = await p.waitFor(/listening (\S+)/);
  await p.waitFor(/-----END CERTIFICATE-----/);
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/.exec(p.stdout())![0];
  return { url: url!, cert };
}

test('request() over https: trusted through ca, with a measured TLS phase', async (t) => {
  const peer = await startGoTls(t);
  if (!peer) return;
  const res = await request(`${peer.url}/secure`, { ca: peer.cert });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "Hello, you've requested: /secure\n");
  // Go answers with the negotiated version; Node and Go agree on TLS 1.3 (0x304).
  assert.ok(res.headers.some(([k, v]) => k === 'X-Tls-Version' && v === '304'));
  const { tlsMs, connectMs, firstByteMs, totalMs } = res.timing;
  assert.ok(tlsMs > 0, `tlsMs ${tlsMs}`);
  assert.ok(firstByteMs >= connectMs + tlsMs, JSON.stringify(res.timing));
  assert.ok(totalMs >= firstByteMs);
});

test('request() over https: an untrusted certificate is NETKIT_TLS_FAILED; insecure skips the check', async (t) => {
  const peer = await startGoTls(t);
  if (!peer) return;
  await assert.rejects(request(peer.url), (err: unknown) => {
    assert.ok(err instanceof NetkitError);
    assert.equal(err.code, 'NETKIT_TLS_FAILED');
    assert.match(String((err.cause as NodeJS.ErrnoException).code), /SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    return true;
  });
  // The certificate is for 127.0.0.1 and example.com, not for "localhost": a name mismatch.
  const byName = peer.url.replace('127.0.0.1', 'localhost');
  await assert.rejects(request(byName, { ca: peer.cert }), { code: 'NETKIT_TLS_FAILED' });
  const res = await request(peer.url, { insecure: true });
  assert.equal(res.status, 200);
});

test('request() rejects a ca that is not PEM, and a non-boolean insecure', async () => {
  await assert.rejects(request('https://127.0.0.1:1/', { ca: 'not a cert' }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'ca',
  });
  await assert.rejects(request('https://127.0.0.1:1/', { insecure: 'yes' as unknown as boolean }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'insecure',
  });
});

test('http get --cacert --timing prints a TLS phase; without --cacert it exits 3', async (t) => {
  const peer = await startGoTls(t);
  if (!peer) return;
  const dir = await mkdtemp(join(tmpdir(), 'netkit-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const pem = join(dir, 'ca.pem');
  await writeFile(pem, peer.cert);
  const ok = await cli(['http', 'get', `${peer.url}/x`, '--cacert', pem, '--timing']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, "Hello, you've requested: /x\n");
  const tls = /^ {2}tls +([\d.]+) ms$/m.exec(ok.stderr);
  assert.ok(tls, ok.stderr);
  assert.ok(Number(tls[1]) > 0);
  const refused = await cli(['http', 'get', peer.url, '--json']);
  assert.equal(refused.code, 3);
  assert.equal((JSON.parse(refused.stdout) as { code: string }).code, 'NETKIT_TLS_FAILED');
  const insecure = await cli(['http', 'get', peer.url, '-k']);
  assert.equal(insecure.code, 0, insecure.stderr);
});
