/** The client commands with --proxy through real forward proxies, and the proxy environment on http. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { arith } from '../../src/rpc/arith.js';
import { Registry, serveRpc } from '../../src/rpc/index.js';
import { cli, startCli } from '../helpers/cli.js';
import { freePort, startDante, startTinyproxy } from '../helpers/forward-proxies.js';
import { startReceiver, tempDir } from '../transfer/helpers.js';
import { startWs } from '../ws/fixtures.js';

/** run is cli() with an environment (startCli's), to completion. */
async function run(argv: string[], env: Record<string, string> = {}, stdin = '') {
  const r = startCli(argv, { env, stdin });
  const code = await r.done;
  return { code, stdout: r.stdout(), stderr: r.stderr() };
}

async function echoServer(t: TestContext): Promise<number> {
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

/** greetServer writes `text` to each connection and closes it. */
async function greetServer(t: TestContext, text: string): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as net.AddressInfo).port;
}

async function httpServer(t: TestContext): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '');
    res.end(`hello ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as net.AddressInfo).port, paths };
}

test('tcp connect --proxy: through danted (half-close carried) and tinyproxy (--no-shutdown)', async (t) => {
  const port = await echoServer(t);
  const danted = await startDante(t);
  if (!danted) return;
  const r = await cli([
    'tcp',
    'connect',
    '127.0.0.1',
    String(port),
    '--proxy',
    danted.url,
    '--send',
    'via\\n',
    '-q',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'via\n');
  // tinyproxy ends the whole tunnel on the client's FIN, so the target greets and closes instead.
  const tinyproxy = await startTinyproxy(t);
  if (!tinyproxy) return;
  const greeter = await greetServer(t, 'hello from the target\n');
  const g = await cli([
    'tcp',
    'connect',
    '127.0.0.1',
    String(greeter),
    '--proxy',
    tinyproxy.url,
    '--no-shutdown',
  ]);
  assert.equal(g.code, 0, g.stderr);
  assert.equal(g.stdout, 'hello from the target\n');
  assert.match(g.stderr, new RegExp(`through proxy http://127\\.0\\.0\\.1:${tinyproxy.port}`));
});

test('http get --proxy, and a proxy refusing the tunnel exits 3', async (t) => {
  const proxy = await startTinyproxy(t);
  if (!proxy) return;
  const { port, paths } = await httpServer(t);
  const r = await cli(['http', 'get', `http://127.0.0.1:${port}/p`, '--proxy', proxy.url]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello /p');
  assert.deepEqual(paths, ['/p']);
  const closed = await freePort();
  const refused = await cli(['http', 'get', `http://127.0.0.1:${closed}/`, '--proxy', proxy.url]);
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(refused.stderr, /proxy/);
});

test('a bad --proxy is exit 2 naming --proxy and the schemes, on every client command', async () => {
  for (const argv of [
    ['tcp', 'connect', '127.0.0.1:9'],
    ['http', 'get', 'http://127.0.0.1:9/'],
    ['ws', 'connect', 'ws://127.0.0.1:9/'],
    ['rpc', 'call', '127.0.0.1:9', 'Arith.Multiply', '{"A":1,"B":2}'],
    ['send', '/nonexistent', '127.0.0.1:9', '--code', '1-a-b-c'],
  ]) {
    const r = await cli([...argv, '--proxy', 'ftp://127.0.0.1:21']);
    assert.equal(r.code, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--proxy/);
    assert.match(r.stderr, /socks5h:\/\//);
  }
});

test('http get follows HTTP_PROXY; NO_PROXY, --noproxy and --proxy "" go direct (the proxy is gone)', async (t) => {
  const { port, paths } = await httpServer(t);
  const url = `http://127.0.0.1:${port}/env`;
  const proxy = await startTinyproxy(t);
  if (!proxy) return;
  const through = await run(['http', 'get', url], { HTTP_PROXY: proxy.url });
  assert.equal(through.code, 0, through.stderr);
  assert.equal(through.stdout, 'hello /env');
  // Now the proxy is stopped: only a request that goes direct can succeed.
  await proxy.stop();
  const dead = { HTTP_PROXY: proxy.url };
  const failed = await run(['http', 'get', url], dead);
  assert.equal(failed.code, 3, failed.stderr);
  assert.match(failed.stderr, /proxy/);
  for (const [env, flags] of [
    [{ ...dead, NO_PROXY: '127.0.0.1' }, []],
    [{ ...dead, no_proxy: 'localhost, 127.0.0.0/8' }, []],
    [dead, ['--noproxy', '*']],
    [dead, ['--proxy', '']],
    [{ http_proxy: proxy.url, NO_PROXY: '*' }, []],
  ] as [Record<string, string>, string[]][]) {
    const direct = await run(['http', 'get', url, ...flags], env);
    assert.equal(direct.code, 0, `${JSON.stringify(env)} ${flags.join(' ')}: ${direct.stderr}`);
  }
  // HTTPS_PROXY is for https: URLs only.
  assert.equal((await run(['http', 'get', url], { HTTPS_PROXY: proxy.url })).code, 0);
  assert.equal(paths.length, 7);
  // tcp connect never reads the environment.
  const echo = await echoServer(t);
  const tcp = await run(['tcp', 'connect', `127.0.0.1:${echo}`, '--send', 'x', '-q'], {
    ALL_PROXY: proxy.url,
  });
  assert.equal(tcp.code, 0, tcp.stderr);
});

test('ws connect --proxy through danted, and through HTTP_PROXY', async (t) => {
  const proxy = await startDante(t);
  if (!proxy) return;
  const { url } = await startWs(t);
  const r = await cli(['ws', 'connect', url, '--proxy', proxy.url, '--send', 'hello proxy', '-q']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'hello proxy\n');
  const e = await run(['ws', 'connect', url, '--send', 'hello env', '-q'], { http_proxy: proxy.url });
  assert.equal(e.code, 0, e.stderr);
  assert.equal(e.stdout, 'hello env\n');
});

test('rpc call --proxy through tinyproxy (gob, and jsonrpc2 over TCP; jsonrpc2 --http is a usage error)', async (t) => {
  const proxy = await startTinyproxy(t);
  if (!proxy) return;
  const server = await serveRpc('127.0.0.1:0', new Registry().register('Arith', arith));
  t.after(() => server.close());
  const r = await cli([
    'rpc',
    'call',
    server.address,
    'Arith.Multiply',
    '{"A":6,"B":7}',
    '--proxy',
    proxy.url,
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '42');
  const { serveJsonRpc2Tcp } = await import('../../src/rpc/jsonrpc2/index.js');
  const j2 = await serveJsonRpc2Tcp('127.0.0.1:0', new Registry().register('Arith', arith));
  t.after(() => j2.close());
  const call = ['rpc', 'call', j2.address, 'Arith.Multiply', '{"A":6,"B":7}', '--codec', 'jsonrpc2'];
  const j = await cli([...call, '--proxy', proxy.url]);
  assert.equal(j.code, 0, j.stderr);
  assert.equal(j.stdout.trim(), '42');
  const overHttp = await cli([...call, '--http', '--proxy', proxy.url]);
  assert.equal(overHttp.code, 2, overHttp.stderr);
});

test('send --proxy through danted', async (t) => {
  const proxy = await startDante(t);
  if (!proxy) return;
  const src = await tempDir(t, 'netkit-px-cli-');
  const file = path.join(src, 'proxied.txt');
  await writeFile(file, 'sent through a SOCKS5 proxy\n');
  const recv = await startReceiver(t, { dir: await tempDir(t, 'netkit-px-cli-dst-') });
  const r = await cli(['send', file, recv.address, '--code', recv.code!, '--proxy', proxy.url, '-q']);
  assert.equal(r.code, 0, r.stderr);
  const summary = await recv.summary();
  assert.equal(summary.files, 1);
});

test('a bad proxy in the environment is exit 2 naming the variable, its password hidden', async () => {
  for (const [env, name] of [
    [{ HTTP_PROXY: 'ftp://127.0.0.1:21' }, 'HTTP_PROXY'],
    [{ http_proxy: 'http://u:s3cr3t@127.0.0.1:99999' }, 'http_proxy'],
    [{ ALL_PROXY: 'garbage:::' }, 'ALL_PROXY'],
  ] as [Record<string, string>, string][]) {
    const r = await run(['http', 'get', 'http://127.0.0.1:9/'], env);
    assert.equal(r.code, 2, `${name}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`\\b${name}\\b`));
    assert.doesNotMatch(r.stderr, /s3cr3t/);
  }
  const ws = await run(['ws', 'connect', 'ws://127.0.0.1:9/'], { all_proxy: 'socks4://127.0.0.1:1' });
  assert.equal(ws.code, 2, ws.stderr);
  assert.match(ws.stderr, /\ball_proxy\b/);
});
