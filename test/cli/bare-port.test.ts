import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { cli, startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';

/** dial resolves once a TCP connection to 127.0.0.1:port is established (and closes it). */
function dial(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.destroy();
      resolve();
    });
    s.once('error', reject);
  });
}

/** freeUdpPort finds a UDP port free on every interface right now. */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp6');
    s.once('error', reject);
    s.bind(0, '::', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Every command that takes a listen address through the server helper, with what it needs besides.
const STREAM_SERVERS: { name: string; argv: (port: string, dir: string) => string[] }[] = [
  { name: 'tcp serve', argv: (p) => ['tcp', 'serve', p] },
  { name: 'http serve', argv: (p) => ['http', 'serve', p] },
  { name: 'ws serve', argv: (p) => ['ws', 'serve', p] },
  { name: 'rpc serve', argv: (p) => ['rpc', 'serve', p] },
  { name: 'recv', argv: (p, dir) => ['recv', p, '--dir', dir] },
];

for (const { name, argv } of STREAM_SERVERS) {
  test(`${name} 8330: a bare port listens on every interface, as :8330 does`, async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'netkit-bare-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const port = await freePort('::');
    const run = startCli([...argv(String(port), dir), '--json']);
    t.after(() => run.abort());
    const [line] = await run.waitFor(/\{"event":"listening".*\}/);
    const { address } = JSON.parse(line) as { address: string };
    assert.equal(address, `[::]:${port}`, `#${name}: got ${address}`);
    await dial(port);
    run.abort();
    assert.equal(await run.done, 0, run.stderr());
  });
}

test('http serve with a bare port answers http get on loopback', async (t) => {
  const port = await freePort('::');
  const run = startCli(['http', 'serve', String(port)]);
  t.after(() => run.abort());
  await run.waitFor(/listening/);
  const r = await cli(['http', 'get', `http://127.0.0.1:${port}/bare`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\/bare/);
});

test('udp serve 8330: a bare port answers datagrams', async (t) => {
  const port = await freeUdpPort();
  const run = startCli(['udp', 'serve', String(port), '--echo', '--json']);
  t.after(() => run.abort());
  const [line] = await run.waitFor(/\{"event":"listening".*\}/);
  assert.match((JSON.parse(line) as { address: string }).address, new RegExp(`:${port}$`));
  const sock = dgram.createSocket('udp4');
  t.after(() => sock.close());
  const reply = new Promise<Buffer>((resolve) => sock.once('message', resolve));
  sock.send('ping', port, '127.0.0.1');
  assert.equal((await reply).toString(), 'ping');
});

test('relay 8330 TARGET: the listen side takes a bare port too', async (t) => {
  const target = net.createServer((c) => c.end('through the relay'));
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  t.after(() => target.close());
  const port = await freePort('::');
  const to = `127.0.0.1:${(target.address() as net.AddressInfo).port}`;
  const run = startCli(['relay', String(port), to, '--json']);
  t.after(() => run.abort());
  const [line] = await run.waitFor(/\{"event":"listening".*\}/);
  assert.equal((JSON.parse(line) as { address: string }).address, `[::]:${port}`);
  const got = await new Promise<string>((resolve, reject) => {
    let text = '';
    const s = net.connect(port, '127.0.0.1');
    s.on('data', (d) => {
      text += d;
    });
    s.once('end', () => {
      s.end();
      resolve(text);
    });
    s.once('error', reject);
  });
  assert.equal(got, 'through the relay');
});

test('a bare port beyond 65535 is a usage error that names the range, before anything is bound', async () => {
  for (const argv of [
    ['tcp', 'serve', '99999'],
    ['udp', 'serve', '99999'],
    ['http', 'serve', '65536'],
    ['recv', '99999'],
    ['relay', '99999', '127.0.0.1:1'],
  ]) {
    const r = await cli(argv);
    assert.equal(r.code, 2, `#${argv.join(' ')}: got ${r.code}`);
    assert.match(r.stderr, /0 to 65535/, argv.join(' '));
  }
});
