import assert from 'node:assert/strict';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { TunnelError } from '../../src/errors.js';
import { dialTunnel } from '../../src/tunnel/index.js';
import { freePort, startDante, startTinyproxy } from '../helpers/forward-proxies.js';

/** echoServer answers every byte with itself, after an optional greeting. */
async function echoServer(t: TestContext, greeting?: string): Promise<number> {
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    s.once('close', () => open.delete(s));
    if (greeting !== undefined) s.write(greeting);
    s.pipe(s);
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

/** roundTrip writes `text` and reads until as many bytes came back. */
async function roundTrip(socket: net.Socket, text: string, expected = text): Promise<string> {
  socket.write(text);
  let got = '';
  for await (const chunk of socket) {
    got += chunk.toString();
    if (got.length >= expected.length) break;
  }
  return got;
}

const proxies = [
  { name: 'tinyproxy (HTTP CONNECT)', start: startTinyproxy },
  { name: 'danted (SOCKS5)', start: startDante },
] as const;

for (const { name, start } of proxies) {
  test(`a tunnel through ${name} carries bytes both ways`, async (t) => {
    const proxy = await start(t);
    if (!proxy) return;
    const port = await echoServer(t);
    const socket = await dialTunnel(proxy.url, `127.0.0.1:${port}`, { timeout: 5000 });
    t.after(() => socket.destroy());
    assert.equal(await roundTrip(socket, 'hello through the proxy\n'), 'hello through the proxy\n');
  });

  test(`${name}: a target that refuses is a TunnelError carrying the proxy's answer`, async (t) => {
    const proxy = await start(t);
    if (!proxy) return;
    const closed = await freePort();
    const err = await dialTunnel(proxy.url, `127.0.0.1:${closed}`, { timeout: 5000 }).then(
      () => assert.fail('the tunnel opened to a closed port'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof TunnelError);
    assert.equal(err.code, 'NETKIT_TUNNEL_FAILED');
    assert.equal(err.target, `127.0.0.1:${closed}`);
    if (proxy.url.startsWith('socks5')) assert.equal(err.reply, 0x05);
    else assert.ok(err.status !== undefined && err.status >= 400, `status ${err.status}`);
  });

  test(`${name} with credentials: the right ones open the tunnel, wrong or none are NETKIT_TUNNEL_AUTH`, async (t) => {
    const proxy = await start(t, { auth: true });
    if (!proxy) return;
    const port = await echoServer(t);
    const socket = await dialTunnel(proxy.url, `127.0.0.1:${port}`, { timeout: 5000 });
    t.after(() => socket.destroy());
    assert.equal(await roundTrip(socket, 'authorized\n'), 'authorized\n');
    const scheme = proxy.url.slice(0, proxy.url.indexOf('://'));
    for (const url of [
      `${scheme}://${proxy.user}:wrong-${proxy.password}@127.0.0.1:${proxy.port}`,
      `${scheme}://127.0.0.1:${proxy.port}`,
    ]) {
      await assert.rejects(dialTunnel(url, `127.0.0.1:${port}`, { timeout: 5000 }), (e: unknown) => {
        assert.ok(e instanceof TunnelError, String(e));
        assert.equal(e.code, 'NETKIT_TUNNEL_AUTH', `${url}: ${e.message}`);
        assert.ok(!e.message.includes(proxy.password!), 'the password is not in the message');
        return true;
      });
    }
  });
}

test('socks5h:// hands the proxy the name, socks5:// an address resolved here', async (t) => {
  const proxy = await startDante(t);
  if (!proxy) return;
  const port = await echoServer(t);
  const h = await dialTunnel(proxy.url.replace('socks5:', 'socks5h:'), `localhost:${port}`, {
    timeout: 5000,
  });
  t.after(() => h.destroy());
  assert.equal(await roundTrip(h, 'by name\n'), 'by name\n');
  const asked: string[] = [];
  const lookup = async (host: string) => {
    asked.push(host);
    return [{ address: '127.0.0.1', family: 4 }];
  };
  const local = await dialTunnel(proxy.url, `echo.invalid:${port}`, { timeout: 5000, lookup });
  t.after(() => local.destroy());
  assert.deepEqual(asked, ['echo.invalid']);
  assert.equal(await roundTrip(local, 'by address\n'), 'by address\n');
});

test('a greeting the target sends at once arrives through either proxy', async (t) => {
  const port = await echoServer(t, 'SSH-2.0-banner\r\n');
  for (const start of [startTinyproxy, startDante]) {
    const proxy = await start(t);
    if (!proxy) return;
    const socket = await dialTunnel(proxy.url, `127.0.0.1:${port}`, { timeout: 5000 });
    t.after(() => socket.destroy());
    assert.equal(await roundTrip(socket, 'x', 'SSH-2.0-banner\r\nx'), 'SSH-2.0-banner\r\nx');
  }
});

test('an unreachable proxy is NETKIT_DIAL_FAILED naming the proxy', async (t) => {
  const closed = await freePort();
  await assert.rejects(
    dialTunnel(`http://127.0.0.1:${closed}`, '127.0.0.1:80', { timeout: 5000 }),
    (e: unknown) => {
      assert.equal((e as TunnelError).code, 'NETKIT_DIAL_FAILED');
      assert.match((e as Error).message, /proxy/);
      return true;
    },
  );
  void t;
});
