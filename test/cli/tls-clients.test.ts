/**
 * The client TLS flags on every client command (tcp connect, http get, ws
 * connect, rpc call, send), in-process against servers made with the
 * library: the shared client TLS cases (test/helpers/tls-suite.ts) with
 * exit codes, and the flags' own rules.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { serveHttp } from '../../src/http/index.js';
import { arith } from '../../src/rpc/arith.js';
import { Registry, serveJsonRpc2Http, serveRpc } from '../../src/rpc/index.js';
import { echoHandler, endpointText, serve, UNIX_PREFIX } from '../../src/tcp/index.js';
import type { TlsClientOptions } from '../../src/tls/client.js';
import { serveFiles } from '../../src/transfer/index.js';
import { serveWs } from '../../src/ws/index.js';
import { cli } from '../helpers/cli.js';
import { clientTlsSuite, expectOk, expectTls, type Outcome, tlsListener } from '../helpers/tls-suite.js';

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-cli-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * tlsArgs writes what `tls` holds as the flags a person would type. For a
 * command that takes an address, TLS is turned on with --tls; for one that
 * takes a URL, the https:// or wss:// scheme does it.
 */
async function tlsArgs(
  t: TestContext,
  tls: TlsClientOptions | undefined,
  address: boolean,
): Promise<string[]> {
  if (tls === undefined) return [];
  const dir = await scratch(t);
  const file = async (name: string, pem: unknown) => {
    const p = path.join(dir, name);
    await writeFile(p, String(pem));
    return p;
  };
  const args = address ? ['--tls'] : [];
  if (tls.ca !== undefined) args.push('--cacert', await file('ca.pem', tls.ca));
  if (tls.cert !== undefined) args.push('--cert', await file('cert.pem', tls.cert));
  if (tls.key !== undefined) args.push('--key', await file('key.pem', tls.key));
  if (tls.servername !== undefined) args.push('--servername', tls.servername);
  if (tls.pin !== undefined) args.push('--pin', tls.pin);
  if (tls.insecure) args.push('--insecure');
  return args;
}

/** run runs a command with --json and reads how it ended: exit 0 and `ok(stdout)`, or its error event. */
async function run(argv: string[], ok: (stdout: string) => void): Promise<Outcome> {
  const r = await cli([...argv, '--json']);
  if (r.code === 0) {
    ok(r.stdout);
    return { ok: true };
  }
  const events = r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { event: string; code?: string; message?: string });
  const error = events.find((e) => e.event === 'error');
  return { ok: false, code: error?.code, message: error?.message ?? r.stderr, exit: r.code };
}

/** url is the URL for `address` (`host:port`, or `unix:/path` in got's form). */
function url(scheme: string, address: string, p: string): string {
  return address.startsWith(UNIX_PREFIX) ? `${scheme}://${address}:${p}` : `${scheme}://${address}${p}`;
}

const registry = () => new Registry().register('Arith', arith);

clientTlsSuite('tcp connect', {
  serve: async (t, listener) => {
    const server = serve(listener, echoHandler({ frame: 'none' }));
    t.after(() => server.close({ timeout: 100 }));
  },
  call: async (t, address, tls) =>
    run(['tcp', 'connect', address, '--send', 'ping', ...(await tlsArgs(t, tls, true))], (out) =>
      assert.match(out, /"event":"data".*"text":"ping"/),
    ),
});

clientTlsSuite('http get', {
  serve: async (t, listener) => {
    const server = await serveHttp(listener);
    t.after(() => server.close());
  },
  call: async (t, address, tls) =>
    run(
      ['http', 'get', url(tls ? 'https' : 'http', address, '/x'), ...(await tlsArgs(t, tls, false))],
      (out) => assert.equal((JSON.parse(out) as { status: number }).status, 200),
    ),
});

clientTlsSuite('ws connect', {
  serve: async (t, listener) => {
    const server = await serveWs(listener);
    t.after(() => server.close());
  },
  call: async (t, address, tls) =>
    run(
      [
        'ws',
        'connect',
        url(tls ? 'wss' : 'ws', address, '/echo'),
        '--send',
        'ping',
        ...(await tlsArgs(t, tls, false)),
      ],
      (out) => assert.match(out, /"event":"message".*"data":"ping"/),
    ),
});

clientTlsSuite('rpc call', {
  serve: async (t, listener) => {
    const server = await serveRpc(listener, registry());
    t.after(() => server.close());
  },
  call: async (t, address, tls) =>
    run(
      ['rpc', 'call', address, 'Arith.Multiply', '{"A":6,"B":7}', ...(await tlsArgs(t, tls, true))],
      (out) => assert.equal((JSON.parse(out) as { reply: number }).reply, 42),
    ),
});

clientTlsSuite('rpc call jsonrpc2 --http', {
  serve: async (t, listener) => {
    const server = await serveJsonRpc2Http(listener, registry());
    t.after(() => server.close());
  },
  call: async (t, address, tls) =>
    run(
      [
        'rpc',
        'call',
        address,
        'Arith.Multiply',
        '{"A":6,"B":7}',
        '--codec',
        'jsonrpc2',
        '--http',
        ...(await tlsArgs(t, tls, true)),
      ],
      (out) => assert.equal((JSON.parse(out) as { reply: number }).reply, 42),
    ),
});

/** receivers maps a listener's address to the directory its receiver writes into. */
const receivers = new Map<string, string>();
/** CODE is every receiver's code (some cases call a server that is not a receiver at all). */
const CODE = '7-tls-suite-code';

clientTlsSuite('send', {
  serve: async (t, listener) => {
    const dir = await scratch(t);
    const receiver = await serveFiles(listener, { dir, overwrite: 'overwrite', code: CODE });
    receivers.set(endpointText(listener.addr), dir);
    t.after(() => receiver.close());
  },
  call: async (t, address, tls) => {
    const src = await scratch(t);
    await writeFile(path.join(src, 'note.txt'), 'hello\n');
    const outcome = await run(
      ['send', path.join(src, 'note.txt'), address, '--code', CODE, ...(await tlsArgs(t, tls, true))],
      (out) => assert.match(out, /"event":"summary".*"ok":true/),
    );
    if (outcome.ok)
      assert.equal(await readFile(path.join(receivers.get(address)!, 'note.txt'), 'utf8'), 'hello\n');
    return outcome;
  },
});

test('--tls turns an http:// or ws:// URL into https:// or wss://', async (t) => {
  const l = await tlsListener(t, true);
  const web = await serveHttp(l);
  t.after(() => web.close());
  const pin = l.tls!.fingerprint;
  const r = await cli(['http', 'get', `http://${l.addr.address}/x`, '--tls', '--pin', pin]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Hello, you've requested: /x\n");
  // Without --tls the scheme decides: plain HTTP to a TLS port fails, and a pin does not change that.
  const plain = await cli(['http', 'get', `http://${l.addr.address}/x`, '--pin', pin]);
  assert.notEqual(plain.code, 0);

  const w = await tlsListener(t, true);
  const ws = await serveWs(w);
  t.after(() => ws.close());
  const echoed = await cli([
    'ws',
    'connect',
    `ws://${w.addr.address}/echo`,
    '--tls',
    '--pin',
    w.tls!.fingerprint,
    '--send',
    'hi',
    '-q',
  ]);
  assert.equal(echoed.code, 0, echoed.stderr);
  assert.equal(echoed.stdout, 'hi\n');
});

test('-k skips the chain but never the pin; tcp connect says the TLS version', async (t) => {
  const l = await tlsListener(t, true);
  const server = serve(l, echoHandler({ frame: 'none' }));
  t.after(() => server.close({ timeout: 100 }));
  const ok = await cli(['tcp', 'connect', l.addr.address, '-k', '--send', 'x']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout, 'x');
  assert.match(ok.stderr, /\(TLSv1\.3\)/);
  const pinned = await cli([
    'tcp',
    'connect',
    l.addr.address,
    '-k',
    '--pin',
    `sha256:${'1'.repeat(64)}`,
    '--json',
  ]);
  expectTls(
    {
      ok: false,
      code: (JSON.parse(pinned.stdout) as { code: string }).code,
      message: pinned.stdout,
      exit: pinned.code,
    },
    /pin mismatch/,
  );
});

test('the TLS flags are checked before dialling, each failure naming its flag (exit 2)', async (t) => {
  const dir = await scratch(t);
  const notPem = path.join(dir, 'not.pem');
  await writeFile(notPem, 'hello');
  const cases: [string[], string][] = [
    [['--pin', 'sha1:00'], '--pin'],
    [['--cacert', notPem], '--cacert'],
    [['--cert', notPem], '--key'],
    [['--key', notPem], '--cert'],
    [['--cert', notPem, '--key', notPem], '--cert'],
    [['--cacert', path.join(dir, 'missing.pem')], 'missing.pem'],
  ];
  for (const [i, [flags, named]] of cases.entries()) {
    for (const argv of [
      ['tcp', 'connect', '127.0.0.1:1'],
      ['http', 'get', 'https://127.0.0.1:1/'],
      ['ws', 'connect', 'wss://127.0.0.1:1/'],
      ['rpc', 'call', '127.0.0.1:1', 'A.B'],
      ['send', notPem, '127.0.0.1:1', '--code', 'x'],
    ]) {
      const r = await cli([...argv, ...flags]);
      assert.equal(r.code, 2, `#${i} ${argv.join(' ')} ${flags.join(' ')}: exit ${r.code} ${r.stderr}`);
      assert.ok(r.stderr.includes(named), `#${i} ${argv.join(' ')}: got ${r.stderr} want ${named}`);
    }
  }
});

test('tcp connect: --proxy-header cannot go with --tls', async () => {
  const r = await cli(['tcp', 'connect', '127.0.0.1:1', '--tls', '--proxy-header', 'v1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--proxy-header/);
});

test('http get: a Unix socket in the URL', async (t) => {
  const dir = await scratch(t);
  const web = await serveHttp(`unix:${path.join(dir, 'web.sock')}`);
  t.after(() => web.close());
  const r = await cli(['http', 'get', `${web.url}x`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "Hello, you've requested: /x\n");
  expectOk({ ok: true });
});
