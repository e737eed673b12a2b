/**
 * Go's crypto/tls clients (test/interop/tlsclient) against netkit's TLS
 * servers, with certificates from openssl: line echo, net/rpc (gob and
 * JSON), wss:// with gorilla, https with net/http, mutual TLS and pinning
 * an ephemeral certificate, over TLS 1.3 and 1.2. The other way round is
 * tls-go-client.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { serveHttp } from '../../src/http/index.js';
import { arith } from '../../src/rpc/arith.js';
import { Registry } from '../../src/rpc/registry.js';
import { serveRpc } from '../../src/rpc/server/serve.js';
import { echoHandler, listen, serve } from '../../src/tcp/index.js';
import type { TlsServerOptions } from '../../src/tls/server.js';
import { serveWs } from '../../src/ws/index.js';
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
  t.after(() => server.close({ timeout: 100 }));
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
  assert.equal(server.url, `wss://${server.address}/echo`);
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
