/**
 * The CLI's TLS flags against Go's crypto/tls (test/interop/tlsclient and
 * tlsechoserver), openssl s_client and curl: every serve command with --tls
 * (pinned by the fingerprint it prints) or --cert/--key, --client-ca, and
 * `tcp connect` with --cacert, --pin and --cert/--key.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { cli, spawnProc, startCli } from '../helpers/cli.js';
import { until } from '../helpers/net.js';
import { makePki } from '../helpers/openssl-certs.js';
import { goProgram, requireTool } from '../helpers/tools.js';

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

/** serveCli runs `netkit <argv> --json` in-process and returns what its listening line says. */
async function serveCli(t: TestContext, argv: string[]) {
  const run = startCli([...argv, '--json']);
  t.after(async () => {
    run.abort();
    await run.done;
  });
  const [line] = await run.waitFor(/\{"event":"listening".*\}\n/);
  const info = JSON.parse(line!) as { address: string; fingerprint?: string; url?: string };
  return { ...info, run };
}

const ECHOED = 'reply: hello 0\nreply: hello 1\nreply: hello 2\neof\ndone\n';

test('Go clients pin what each serve --tls prints: tcp, rpc, ws and http', async (t) => {
  const client = await goProgram(t, 'test/interop/tlsclient');
  if (!client) return;
  const tcp = await serveCli(t, ['tcp', 'serve', '127.0.0.1:0', '--echo', '--tls']);
  assert.match(tcp.fingerprint!, /^sha256:[0-9a-f]{64}$/);
  const line = await goClient(client, ['-addr', tcp.address, '-pin', tcp.fingerprint!]);
  assert.equal(line.stdout, `handshake TLS1.3 alpn=\n${ECHOED}`);

  const rpc = await serveCli(t, ['rpc', 'serve', '127.0.0.1:0', '--tls']);
  const calls = await goClient(client, ['-proto', 'rpc', '-addr', rpc.address, '-pin', rpc.fingerprint!]);
  assert.equal(
    calls.stdout,
    'handshake TLS1.3 alpn=\nmultiply 56\ndivide {Quo:3 Rem:2}\ndivide-by-zero divide by zero\ndone\n',
  );

  const ws = await serveCli(t, ['ws', 'serve', '127.0.0.1:0', '--tls', '--max-payload', '2MiB']);
  assert.equal(ws.url, `wss://${ws.address}/echo`);
  const wss = await goClient(client, ['-proto', 'ws', '-addr', ws.address, '-pin', ws.fingerprint!]);
  assert.match(wss.stdout, /^handshake TLS1\.3 alpn=http\/1\.1\nupgrade 101\n/);
  assert.match(wss.stdout, /\nbinary true 1048576 equal=true\nclose 1000\ndone\n$/);

  const http = await serveCli(t, ['http', 'serve', '127.0.0.1:0', '--tls']);
  assert.equal(http.url, `https://${http.address}/`);
  const get = await goClient(client, ['-proto', 'https', '-addr', http.address, '-pin', http.fingerprint!]);
  assert.equal(
    get.stdout,
    'handshake TLS1.3 alpn=http/1.1\nstatus 200 HTTP/1.1\nbody "Hello, you\'ve requested: /netkit\\n"\ndone\n',
  );
});

test('tcp serve --cert/--key --client-ca: Go and openssl with a client certificate echo; without one, refused', async (t) => {
  const client = await goProgram(t, 'test/interop/tlsclient');
  const pki = client && (await makePki(t));
  if (!client || !pki) return;
  const server = await serveCli(t, [
    ...[
      'tcp',
      'serve',
      '127.0.0.1:0',
      '--echo',
      '--cert',
      pki.server.cert.file,
      '--key',
      pki.server.key.file,
    ],
    ...['--client-ca', pki.ca.cert.file],
  ]);
  assert.equal(server.fingerprint, pki.server.fingerprint);
  const base = ['-addr', server.address, '-cacert', pki.ca.cert.file];
  const ok = await goClient(client, [...base, '-cert', pki.client.cert.file, '-key', pki.client.key.file]);
  assert.equal(ok.stdout, `handshake TLS1.3 alpn=\n${ECHOED}`);
  const none = await goClient(client, base);
  assert.equal(none.stdout, 'handshake TLS1.3 alpn=\nerror read: remote error: tls: certificate required\n');

  const line = `hello from openssl ${process.pid}`;
  const p = spawnProc('openssl', [
    ...[
      's_client',
      '-connect',
      server.address,
      '-brief',
      '-verify_return_error',
      '-verify_hostname',
      'localhost',
    ],
    ...['-CAfile', pki.ca.cert.file, '-cert', pki.client.cert.file, '-key', pki.client.key.file],
  ]);
  t.after(() => p.kill());
  p.child.stdin!.write(`${line}\n`);
  await p.waitFor(new RegExp(line));
  p.child.stdin!.end();
  assert.equal((await p.exited).code, 0);
  assert.match(p.stderr(), /Verification: OK\n/);
});

test('curl --cacert -> http serve --cert/--key', async (t) => {
  const pki = await makePki(t);
  if (!pki || !(await requireTool(t, 'curl'))) return;
  const server = await serveCli(t, [
    ...['http', 'serve', '127.0.0.1:0', '--cert', pki.server.cert.file, '--key', pki.server.key.file],
  ]);
  const port = server.address.split(':').at(-1)!;
  const { stdout } = await execFileP(
    'curl',
    [
      ...[
        '-sS',
        '--max-time',
        '10',
        '--resolve',
        `localhost:${port}:127.0.0.1`,
        '--cacert',
        pki.ca.cert.file,
      ],
      ...['--http2', '-w', '%{http_code} %{http_version}', `https://localhost:${port}/from-curl`],
    ],
    { timeout: 15_000 },
  );
  assert.equal(stdout, "Hello, you've requested: /from-curl\n200 1.1");
});

/** goServer starts test/interop/tlsechoserver and returns its address and connection reports. */
async function goServer(t: TestContext, args: string[]) {
  const bin = await goProgram(t, 'test/interop/tlsechoserver');
  if (!bin) return undefined;
  const p = spawnProc(bin, args);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  const reports = () =>
    p
      .stdout()
      .split('\n')
      .slice(1, -1)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { address: address!, reports };
}

test('tcp connect --cacert, --pin and --cert/--key -> Go tls.Listen echo server', async (t) => {
  const pki = await makePki(t);
  if (!pki) return;
  const go = await goServer(t, [
    ...['-cert', pki.server.cert.file, '-key', pki.server.key.file, '-client-ca', pki.ca.cert.file],
  ]);
  if (!go) return;
  const mine = ['--cert', pki.client.cert.file, '--key', pki.client.key.file];
  for (const trust of [
    ['--cacert', pki.ca.cert.file],
    ['--pin', pki.server.fingerprint],
  ]) {
    const r = await cli(['tcp', 'connect', go.address, ...trust, ...mine, '-q'], { stdin: 'one\ntwo\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'one\ntwo\n');
  }
  // A wrong pin: exit 3 with the reason, and the server read not one byte.
  const wrong = await cli(
    ['tcp', 'connect', go.address, '--pin', pki.selfSigned.fingerprint, ...mine, '-q'],
    {
      stdin: 'secret\n',
    },
  );
  assert.equal(wrong.code, 3);
  assert.match(wrong.stderr, /pin mismatch/);
  assert.equal(wrong.stdout, '');
  await until(() => go.reports().length === 3, 5000, 'a report for each of the three connections');
  const reports = go.reports();
  assert.deepEqual(
    reports.map((r) => [r.client, r.bytes]),
    [
      ['CN=alice', 8],
      ['CN=alice', 8],
      ['', 0],
    ],
  );
});
