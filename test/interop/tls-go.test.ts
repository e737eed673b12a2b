/**
 * netkit's TLS against Go's crypto/tls, both ways (programs under
 * test/interop/tlsclient and tlsechoserver, certificates from openssl):
 * line echo, net/rpc (gob and JSON), wss:// with gorilla, https with
 * net/http, mutual TLS, and pinning — including that a client refusing the
 * certificate sends no application byte.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { serveHttp } from '../../src/http/index.js';
import { arith } from '../../src/rpc/arith.js';
import { Registry } from '../../src/rpc/registry.js';
import { serveRpc } from '../../src/rpc/server/serve.js';
import { dial, echoHandler, listen, serve } from '../../src/tcp/index.js';
import type { TlsServerOptions } from '../../src/tls/server.js';
import { serveWs } from '../../src/ws/index.js';
import { spawnProc } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/openssl-certs.js';
import { goProgram } from '../helpers/tools.js';

const execFileP = promisify(execFile);

/** goClient runs test/interop/tlsclient; a failing run resolves too, with its exit code. */
async function goClient(bin: string, args: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await execFileP(bin, ['-timeout', '10s', ...args], { timeout: 20_000 });
    return { code: 0, stdout };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/** setup builds tlsclient and the certificates, or returns undefined when a tool is missing. */
async function setup(t: TestContext): Promise<{ client: string; pki: Pki } | undefined> {
  const client = await goProgram(t, 'test/interop/tlsclient');
  if (!client) return undefined;
  const pki = await makePki(t);
  return pki && { client, pki };
}

/** lineServer is a netkit TLS line echo server on 127.0.0.1:0. */
async function lineServer(t: TestContext, tls: TlsServerOptions | true) {
  const listener = await listen('127.0.0.1:0', { tls });
  const server = serve(listener, echoHandler({ frame: 'line' }));
  t.after(() => server.shutdown({ timeout: 100 }));
  return listener;
}

/** VERSIONS are the TLS versions every exchange is tried with; `-tls12` caps a Go peer at 1.2. */
const VERSIONS = [
  { version: 'TLS1.3', flags: [] },
  { version: 'TLS1.2', flags: ['-tls12'] },
] as const;

const ECHOED = 'reply: hello 0\nreply: hello 1\nreply: hello 2\neof\ndone\n';

test('Go tls.Dial line client -> netkit TLS line server, trusting its CA or its self-signed certificate', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { pki } = s;
  for (const [leaf, trust] of [
    [pki.server, pki.ca],
    [pki.selfSigned, pki.selfSigned],
  ] as const) {
    const listener = await lineServer(t, { cert: leaf.cert.pem, key: leaf.key.pem });
    assert.equal(listener.tls?.fingerprint, leaf.fingerprint);
    for (const { version, flags } of VERSIONS) {
      const r = await goClient(s.client, [
        '-addr',
        listener.addr.address,
        '-cacert',
        trust.cert.file,
        ...flags,
      ]);
      assert.equal(r.stdout, `handshake ${version} alpn=\n${ECHOED}`);
    }
  }
});

test('Go client pinning the ephemeral certificate by SHA-256 -> netkit listen({tls: true})', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const listener = await lineServer(t, true);
  assert.match(listener.tls!.fingerprint, /^sha256:[0-9a-f]{64}$/);
  const ok = await goClient(s.client, ['-addr', listener.addr.address, '-pin', listener.tls!.fingerprint]);
  assert.equal(ok.stdout, `handshake TLS1.3 alpn=\n${ECHOED}`);
  // The ephemeral certificate chains to nothing: without the pin, Go refuses it.
  const unpinned = await goClient(s.client, ['-addr', listener.addr.address, '-cacert', s.pki.ca.cert.file]);
  assert.equal(unpinned.code, 1);
  assert.match(unpinned.stdout, /^error handshake: .*certificate/);
  const wrong = await goClient(s.client, ['-addr', listener.addr.address, '-pin', s.pki.server.fingerprint]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /^error handshake: pin mismatch: certificate is sha256:[0-9a-f]{64}\n$/);
});

test('Go client offering ALPN -> netkit TLS line server: the handshake still works, nothing is negotiated', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const listener = await lineServer(t, true);
  const r = await goClient(s.client, [
    ...['-addr', listener.addr.address, '-pin', listener.tls!.fingerprint, '-alpn', 'h2,http/1.1'],
  ]);
  assert.equal(r.stdout, `handshake TLS1.3 alpn=\n${ECHOED}`);
});

test('Go client with a client certificate -> netkit server with clientCA; refused without one or with a stranger', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { pki } = s;
  const listener = await lineServer(t, {
    cert: pki.server.cert.pem,
    key: pki.server.key.pem,
    clientCA: pki.ca.cert.pem,
  });
  const stranger = ['-cert', pki.stranger.cert.file, '-key', pki.stranger.key.file];
  // How Go learns of the refusal depends on the version. TLS 1.2: during the handshake. TLS 1.3:
  // the client is done before the server has judged its certificate, so on the first read. A
  // missing certificate gets OpenSSL's alert; a stranger's is refused by node:tls only after
  // OpenSSL's handshake, by closing the socket, so Go reads EOF (or a reset, if it already wrote).
  const refusals: Record<string, [RegExp, RegExp]> = {
    'TLS1.3': [
      /^handshake TLS1\.3 alpn=\nerror read: remote error: tls: certificate required\n$/,
      /^handshake TLS1\.3 alpn=\nerror read: (EOF|.*connection reset by peer)\n$/,
    ],
    'TLS1.2': [
      /^error handshake: remote error: tls: handshake failure\n$/,
      /^error handshake: (EOF|.*connection reset by peer)\n$/,
    ],
  };
  for (const { version, flags } of VERSIONS) {
    const base = ['-addr', listener.addr.address, '-cacert', pki.ca.cert.file, ...flags];
    const ok = await goClient(s.client, [
      ...base,
      '-cert',
      pki.client.cert.file,
      '-key',
      pki.client.key.file,
    ]);
    assert.equal(ok.stdout, `handshake ${version} alpn=\n${ECHOED}`);
    const [none, other] = refusals[version]!;
    const r1 = await goClient(s.client, base);
    assert.equal(r1.code, 1);
    assert.match(r1.stdout, none);
    const r2 = await goClient(s.client, [...base, ...stranger]);
    assert.equal(r2.code, 1);
    assert.match(r2.stdout, other);
  }
});

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
  const s = await setup(t);
  if (!s) return;
  const { pki } = s;
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
  const s = await setup(t);
  if (!s) return;
  const { pki } = s;
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
  const s = await setup(t);
  if (!s) return;
  const { pki } = s;
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
    // judged it: dial() resolves and the alert ends the first read.
    for (const [cert, why] of [
      [undefined, "tls: client didn't provide a certificate"],
      [
        pki.stranger,
        'tls: failed to verify client certificate: x509: certificate signed by unknown authority',
      ],
    ] as const) {
      const tls = { ca: pki.ca.cert.pem, ...(cert ? { cert: cert.cert.pem, key: cert.key.pem } : {}) };
      if (version === 'TLS1.2') {
        await assert.rejects(dial(go.address, { tls }), {
          code: 'NETKIT_TLS_FAILED',
          message: new RegExp(
            `^tls ${go.address}: the server refused the client certificate \\(.*bad certificate\\)$`,
          ),
        });
      } else {
        const conn = await dial(go.address, { tls });
        t.after(() => conn.destroy());
        await conn.write('let me in\n');
        await assert.rejects(conn.readLine(), (err: Error & { code?: string }) => {
          assert.match(String(err.code), /^NETKIT_(TLS_FAILED|CONNECTION_CLOSED)$/);
          assert.match(err.message, /bad certificate/);
          return true;
        });
      }
      assert.deepEqual(await go.next(), { handshake: why, version: '', alpn: '', client: '', bytes: 0 });
    }
  }
});

test('Go net/rpc client (gob and jsonrpc) over tls.Dial -> netkit serveRpc({tls})', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { pki } = s;
  const registry = new Registry().register('Arith', arith);
  for (const codec of ['gob', 'json'] as const) {
    const server = await serveRpc('127.0.0.1:0', registry, {
      codec,
      tls: { cert: pki.server.cert.pem, key: pki.server.key.pem },
    });
    t.after(() => server.close());
    const proto = codec === 'gob' ? 'rpc' : 'jsonrpc';
    const r = await goClient(s.client, [
      '-proto',
      proto,
      '-addr',
      server.address,
      '-cacert',
      pki.ca.cert.file,
    ]);
    assert.equal(
      r.stdout,
      'handshake TLS1.3 alpn=\nmultiply 56\ndivide {Quo:3 Rem:2}\ndivide-by-zero divide by zero\ndone\n',
    );
  }
});

test('gorilla websocket client on wss:// -> netkit serveWs({tls}) echo', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { pki } = s;
  const server = await serveWs('127.0.0.1:0', {
    tls: { cert: pki.server.cert.pem, key: pki.server.key.pem },
    maxPayload: 2 * 1024 * 1024,
  });
  t.after(() => server.close());
  const r = await goClient(s.client, ['-proto', 'ws', '-addr', server.address, '-cacert', pki.ca.cert.file]);
  assert.equal(
    r.stdout,
    [
      'handshake TLS1.3 alpn=http/1.1',
      'upgrade 101',
      'text true "hello over wss"',
      'binary true 1048576 equal=true',
      'close 1000',
      'done\n',
    ].join('\n'),
  );
});

test('Go net/http client -> netkit serveHttp({tls}): ALPN http/1.1 though h2 is offered, and the body', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const { pki } = s;
  const server = await serveHttp('127.0.0.1:0', {
    tls: { cert: pki.server.cert.pem, key: pki.server.key.pem },
  });
  t.after(() => server.close());
  assert.match(server.url, /^https:\/\//);
  const r = await goClient(s.client, [
    '-proto',
    'https',
    '-addr',
    server.address,
    '-cacert',
    pki.ca.cert.file,
  ]);
  assert.equal(
    r.stdout,
    'handshake TLS1.3 alpn=http/1.1\nstatus 200 HTTP/1.1\nbody "Hello, you\'ve requested: /netkit\\n"\ndone\n',
  );
});
