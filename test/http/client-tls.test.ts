/** request() over https and Unix sockets: the shared client TLS cases (test/helpers/tls-suite.ts), and the shorthands. */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { request, serveHttp } from '../../src/http/index.js';
import { UNIX_PREFIX } from '../../src/tcp/index.js';
import type { TlsClientOptions } from '../../src/tls/client.js';
import { clientTlsSuite, expectOk, expectTls, outcomeOf, tlsListener } from '../helpers/tls-suite.js';

/** httpUrl is the URL request() takes for `address`: `host:port`, or `unix:/path` in got's form. */
export function httpUrl(address: string, secure: boolean, path = '/x'): string {
  const scheme = secure ? 'https' : 'http';
  return address.startsWith(UNIX_PREFIX) ? `${scheme}://${address}:${path}` : `${scheme}://${address}${path}`;
}

async function get(address: string, tls: TlsClientOptions | undefined): Promise<void> {
  const url = httpUrl(address, tls !== undefined);
  const res = await request(url, { tls, timeout: 5000 });
  assert.equal(res.url, url);
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), "Hello, you've requested: /x\n");
}

clientTlsSuite('request', {
  serve: async (t, listener) => {
    const server = await serveHttp(listener);
    t.after(() => server.close());
  },
  call: (_t, address, tls) => outcomeOf(() => get(address, tls)),
});

test('request: ca and insecure fold into tls; given twice is a usage error', async (t) => {
  const l = await tlsListener(t, true);
  const server = await serveHttp(l);
  t.after(() => server.close());
  const url = `https://${l.addr.address}/x`;
  assert.equal((await request(url, { ca: l.tls!.certificate })).status, 200);
  assert.equal((await request(url, { insecure: true })).status, 200);
  // insecure skips the chain, never the pin.
  expectTls(
    await outcomeOf(() => request(url, { insecure: true, tls: { pin: `sha256:${'0'.repeat(64)}` } })),
    /pin mismatch/,
  );
  await assert.rejects(request(url, { ca: l.tls!.certificate, tls: { ca: l.tls!.certificate } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'ca',
  });
  await assert.rejects(request(url, { tls: { pin: 'nope' } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'tls.pin',
  });
});

test('request: the tls phase is timed through the agent; a redirect to https keeps the pin', async (t) => {
  const l = await tlsListener(t, true);
  const server = await serveHttp(l);
  t.after(() => server.close());
  const pin = l.tls!.fingerprint;
  const res = await request(`https://${l.addr.address}/x`, { tls: { pin } });
  assert.ok(res.timing.connectMs > 0, JSON.stringify(res.timing));
  assert.ok(res.timing.tlsMs > 0, JSON.stringify(res.timing));
  assert.ok(res.timing.firstByteMs >= res.timing.connectMs + res.timing.tlsMs, JSON.stringify(res.timing));
  expectOk(await outcomeOf(() => request(`https://${l.addr.address}/x`, { tls: { pin }, follow: true })));
});

test('request: a Unix socket in the URL, as serveHttp prints it; a relative redirect stays on it', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-http-unix-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const server = await serveHttp(`unix:${path.join(dir, 'web.sock')}`);
  t.after(() => server.close());
  assert.equal(server.url, `http://unix:${path.join(dir, 'web.sock')}:/`);
  const res = await request(`${server.url}x?y=1`);
  assert.equal(res.status, 200);
  assert.equal(res.url, `${server.url}x?y=1`);
  const moved = await request(`${server.url}redirect/2`, { follow: true }).catch((err: Error) => err);
  if (moved instanceof Error) throw moved;
  assert.equal(moved.status, 200);
  assert.ok(
    moved.redirects.every((u) => u.startsWith(server.url)),
    moved.redirects.join(' '),
  );
});

test('request: a refused Unix socket is NETKIT_DIAL_FAILED naming it', async () => {
  await assert.rejects(
    request('http://unix:/nonexistent/netkit.sock:/'),
    (err: Error & { code?: string; address?: string }) => {
      assert.equal(err.code, 'NETKIT_DIAL_FAILED');
      assert.equal(err.address, 'unix:/nonexistent/netkit.sock');
      return true;
    },
  );
});
