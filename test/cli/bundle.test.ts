/**
 * The bundled client commands (scripts/bundle-cli.mjs, src/cli/bundle.ts):
 * when a bundle may be used, and that each bundled command, run from the
 * built CLI against a real peer, works from its bundle alone.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { type BundleEntry, bundleFor, isFresh, matchBundle } from '../../src/cli/bundle.js';
import { arith } from '../../src/rpc/arith.js';
import { Registry, serveRpc } from '../../src/rpc/index.js';
import { echoHandler, listen, serve } from '../../src/tcp/index.js';
import { serveWs } from '../../src/ws/index.js';
import { NETKIT_BIN } from '../helpers/cli.js';
import { startServer } from '../helpers/net.js';
import { ROOT } from '../helpers/tools.js';

const BUNDLES = new URL('../../dist/cli/bundles/', import.meta.url);
const MODULE_LOG = pathToFileURL(path.join(ROOT, 'test', 'helpers', 'module-log', 'register.mjs')).href;

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-bundle-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

test('matchBundle picks the entry the command line starts with, and nothing for other commands', () => {
  const entry = (argv: string[]): BundleEntry => ({
    argv,
    file: `${argv.join('-')}.js`,
    builtMs: 1,
    inputs: [],
  });
  const manifest = { bundles: [entry(['tcp', 'connect']), entry(['resolve'])] };
  assert.equal(matchBundle(manifest, ['tcp', 'connect', '127.0.0.1:1', '-q'])?.file, 'tcp-connect.js');
  assert.equal(matchBundle(manifest, ['resolve', 'tcp', 'localhost:80'])?.file, 'resolve.js');
  assert.equal(matchBundle(manifest, ['tcp', 'serve', ':0']), undefined);
  assert.equal(matchBundle(manifest, ['tcp']), undefined);
  assert.equal(matchBundle(manifest, ['--help']), undefined);
  assert.equal(matchBundle(manifest, []), undefined);
});

test('a bundle is used only while neither it nor any input changed after it was built', async (t) => {
  const dir = await scratch(t);
  await mkdir(path.join(dir, 'bundles'));
  await writeFile(path.join(dir, 'a.js'), '');
  await writeFile(path.join(dir, 'bundles', 'x.js'), '');
  const built = new Date('2026-01-01T00:00:10Z');
  await utimes(path.join(dir, 'a.js'), built, new Date('2026-01-01T00:00:05Z'));
  await utimes(path.join(dir, 'bundles', 'x.js'), built, built);
  const entry: BundleEntry = { argv: ['x'], file: 'x.js', builtMs: built.getTime(), inputs: ['../a.js'] };
  await writeFile(path.join(dir, 'bundles', 'manifest.json'), JSON.stringify({ bundles: [entry] }));
  const at = pathToFileURL(`${path.join(dir, 'bundles')}/`);

  assert.equal(bundleFor(at, ['x', 'y'])?.href, new URL('x.js', at).href, 'fresh: used');
  assert.equal(bundleFor(at, ['z']), undefined, 'no bundle for the command');

  // An input rebuilt after the bundle (a later tsc): stale.
  await utimes(path.join(dir, 'a.js'), built, new Date('2026-01-01T00:00:11Z'));
  assert.equal(bundleFor(at, ['x']), undefined, 'input newer than the bundle');
  await utimes(path.join(dir, 'a.js'), built, new Date('2026-01-01T00:00:05Z'));
  assert.ok(bundleFor(at, ['x']));

  // The bundle itself rewritten by something else, or an input gone.
  const stat = (u: URL) => (u.pathname.endsWith('/x.js') ? built.getTime() + 1 : built.getTime() - 1);
  assert.equal(isFresh(at, entry, stat), false, 'bundle mtime differs from the manifest');
  assert.equal(
    isFresh(at, { ...entry, inputs: ['../gone.js'] }, () => undefined),
    false,
  );
  assert.equal(
    isFresh(at, { ...entry, inputs: ['../gone.js'] }, (u) =>
      u.pathname.endsWith('/x.js') ? built.getTime() : undefined,
    ),
    false,
    'input missing',
  );

  // No manifest, or one that is not JSON: no bundle, no error.
  await writeFile(path.join(dir, 'bundles', 'manifest.json'), '{');
  assert.equal(bundleFor(at, ['x']), undefined);
  await rm(path.join(dir, 'bundles', 'manifest.json'));
  assert.equal(bundleFor(at, ['x']), undefined);
});

test('the build leaves a current bundle for every bundled command', async () => {
  const manifest = JSON.parse(await readFile(new URL('manifest.json', BUNDLES), 'utf8')) as {
    bundles: BundleEntry[];
  };
  assert.deepEqual(manifest.bundles.map((b) => b.argv.join(' ')).sort(), [
    'resolve',
    'rpc call',
    'tcp connect',
    'udp send',
    'ws connect',
  ]);
  for (const b of manifest.bundles) {
    assert.equal(
      bundleFor(BUNDLES, b.argv)?.href,
      new URL(b.file, BUNDLES).href,
      `${b.argv.join(' ')} is current`,
    );
    assert.ok(b.inputs.includes('../program.js'), 'built from dist/cli/program.js');
  }
});

/**
 * runBuilt runs the built CLI and records which modules it loaded; it
 * resolves with the exit code, output, and the loaded dist/ modules.
 */
async function runBuilt(
  t: TestContext,
  args: string[],
  stdin = '',
): Promise<{ code: number | null; stdout: string; stderr: string; loaded: string[] }> {
  const log = path.join(await scratch(t), 'modules.log');
  await writeFile(log, '');
  const child = spawn(process.execPath, ['--import', MODULE_LOG, NETKIT_BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, NETKIT_TEST_MODULE_LOG: log },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  child.stdin.end(stdin);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(timer);
  const dist = pathToFileURL(path.join(ROOT, 'dist')).href;
  const loaded = (await readFile(log, 'utf8'))
    .split('\n')
    .filter((u) => u.startsWith(dist))
    .map((u) => u.slice(dist.length + 1));
  return { code, stdout, stderr, loaded };
}

/** fromBundle asserts the run loaded the command's bundle and, besides the entry point, nothing else of dist/. */
function fromBundle(loaded: string[], bundle: string): void {
  assert.deepEqual(
    [...new Set(loaded)].sort(),
    ['cli/bundle.js', `cli/bundles/${bundle}`, 'cli/main.js'].sort(),
  );
}

test('tcp connect runs from its bundle: to an echo server, and over TLS (code the bundle loads on use)', async (t) => {
  const { address } = await startServer(t, echoHandler({ frame: 'none' }));
  const plain = await runBuilt(t, ['tcp', 'connect', address, '--send', 'ping\\n', '-q']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout, 'ping\n');
  fromBundle(plain.loaded, 'tcp-connect.js');

  const listener = await listen('127.0.0.1:0', { tls: true });
  const server = serve(listener, echoHandler({ frame: 'none' }));
  t.after(() => server.close({ timeout: 100 }));
  const tls = await runBuilt(t, [
    'tcp',
    'connect',
    listener.addr.address,
    '--tls',
    '--insecure',
    '--send',
    'sealed',
    '-q',
  ]);
  assert.equal(tls.code, 0, tls.stderr);
  assert.equal(tls.stdout, 'sealed');
  fromBundle(tls.loaded, 'tcp-connect.js');

  // Its errors keep their codes and exit status.
  const refused = await runBuilt(t, ['tcp', 'connect', '127.0.0.1:1', '--json']);
  assert.equal(refused.code, 3);
  assert.match(refused.stdout + refused.stderr, /NETKIT_DIAL_FAILED/);
});

test('udp send, ws connect, rpc call and resolve run from their bundles against real peers', async (t) => {
  const udp = createSocket('udp4');
  udp.on('message', (msg, rinfo) => udp.send(msg, rinfo.port, rinfo.address));
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  t.after(() => udp.close());
  const sent = await runBuilt(t, ['udp', 'send', `127.0.0.1:${udp.address().port}`, 'hello', '--json']);
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(sent.stdout, /hello/);
  fromBundle(sent.loaded, 'udp-send.js');

  const ws = await serveWs('127.0.0.1:0');
  t.after(() => ws.close());
  const talked = await runBuilt(t, ['ws', 'connect', `ws://${ws.address}/echo`, '--send', 'hi', '-q']);
  assert.equal(talked.code, 0, talked.stderr);
  assert.equal(talked.stdout, 'hi\n');
  fromBundle(talked.loaded, 'ws-connect.js');

  const rpc = await serveRpc('127.0.0.1:0', new Registry().register('Arith', arith));
  t.after(() => rpc.close());
  const called = await runBuilt(t, ['rpc', 'call', rpc.address, 'Arith.Multiply', '{"A":7,"B":8}']);
  assert.equal(called.code, 0, called.stderr);
  assert.equal(called.stdout.trim(), '56');
  fromBundle(called.loaded, 'rpc-call.js');

  const resolved = await runBuilt(t, ['resolve', 'tcp', '127.0.0.1:http']);
  assert.equal(resolved.code, 0, resolved.stderr);
  assert.equal(resolved.stdout.trim(), '127.0.0.1:80');
  fromBundle(resolved.loaded, 'resolve.js');
});

test('servers and help do not use bundles', async (t) => {
  const help = await runBuilt(t, ['tcp', '--help']);
  assert.equal(help.code, 0);
  assert.ok(help.loaded.includes('cli/program.js'));
  assert.ok(!help.loaded.some((m) => m.startsWith('cli/bundles/')));
});
