/**
 * An HTTP or WebSocket client pointed at a port that does not speak HTTP
 * (an SSH server, a binary protocol, TLS) says so with NETKIT_HTTP_PROTOCOL
 * and shows the first bytes the peer sent, escaped, instead of llhttp's
 * "Expected HTTP/, RTSP/ or ICE/". Real TCP servers on port 0 that send
 * their greeting as soon as a client connects, as SSH and SMTP do.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { HttpProtocolError, request } from '../../src/http/client/index.js';
import { dialWs } from '../../src/ws/index.js';
import { cli } from '../helpers/cli.js';

/** greeter listens on 127.0.0.1:0 and sends `bytes` to every client that connects. */
async function greeter(t: TestContext, bytes: Buffer): Promise<string> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.write(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

const SSH = Buffer.from('SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n');
/** BINARY holds NUL, a byte that is not UTF-8, and an escape sequence that would clear a terminal. */
const BINARY = Buffer.from([0x00, 0x01, 0xff, 0x1b, 0x5b, 0x32, 0x4a, 0x9b, 0x41]);
const TLS_ALERT = Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x32]);

const CASES: { name: string; bytes: Buffer; says: RegExp; shows: string }[] = [
  {
    name: 'an SSH server',
    bytes: SSH,
    says: /the peer does not speak HTTP; it sent /,
    shows: '"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\\r\\n"',
  },
  {
    name: 'a binary protocol',
    bytes: BINARY,
    says: /the peer does not speak HTTP; it sent /,
    shows: '"\\x00\\x01\\xff\\x1b[2J\\x9bA"',
  },
  {
    name: 'a TLS server',
    bytes: TLS_ALERT,
    says: /the peer answered with TLS .*not plain HTTP; use (https|wss):\/\//,
    shows: '"\\x15\\x03\\x01\\x00\\x02\\x022"',
  },
  {
    name: 'a malformed HTTP response',
    bytes: Buffer.from('HTTP/1.1 200 OK\r\nX-Evil: \x1b[2J\r\n\r\n'),
    says: /the peer sent a malformed HTTP response \(.+\); it began /,
    shows: '"HTTP/1.1 200 OK\\r\\nX-Evil: \\x1b[2J\\r\\n\\r\\n"',
  },
];

/** RAW_CONTROL finds a control character a terminal would act on. */
const RAW_CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

function checkError(err: unknown, address: string, c: (typeof CASES)[number]): true {
  assert.ok(err instanceof HttpProtocolError, `got ${String(err)}`);
  assert.equal(err.code, 'NETKIT_HTTP_PROTOCOL');
  assert.equal(err.address, address);
  assert.deepEqual(err.received, c.bytes);
  assert.match(err.message, c.says);
  assert.ok(err.message.includes(c.shows), `${err.message} shows ${c.shows}`);
  assert.doesNotMatch(err.message, RAW_CONTROL);
  assert.doesNotMatch(err.message, /Expected HTTP\//);
  return true;
}

describe('a client pointed at a port that does not speak HTTP', () => {
  for (const c of CASES) {
    it(`request() to ${c.name}: NETKIT_HTTP_PROTOCOL with the bytes it sent, escaped`, async (t) => {
      const address = await greeter(t, c.bytes);
      await assert.rejects(request(`http://${address}/`, { timeout: 5000 }), (err) =>
        checkError(err, address, c),
      );
    });

    it(`dialWs() to ${c.name}: NETKIT_HTTP_PROTOCOL with the bytes it sent, escaped`, async (t) => {
      const address = await greeter(t, c.bytes);
      await assert.rejects(dialWs(`ws://${address}/`, { timeout: 5000 }), (err) =>
        checkError(err, address, c),
      );
    });
  }

  it('keeps and shows only the first 64 bytes of a long answer', async (t) => {
    const long = Buffer.from(`220 ${'x'.repeat(300)}\r\n`);
    const address = await greeter(t, long);
    const err = await request(`http://${address}/`).catch((e: unknown) => e);
    assert.ok(err instanceof HttpProtocolError);
    assert.deepEqual(err.received, long.subarray(0, 64));
    assert.ok(err.message.includes(`… (${long.length} bytes)`), err.message);
  });

  it('http get exits 3 and says what the peer sent, escaped; --json gives the code', async (t) => {
    const address = await greeter(t, BINARY);
    const r = await cli(['http', 'get', `http://${address}/`, '--timeout', '5s']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /does not speak HTTP; it sent "\\x00\\x01\\xff\\x1b\[2J\\x9bA"/);
    assert.match(r.stderr, /\[NETKIT_HTTP_PROTOCOL\]/);
    assert.doesNotMatch(r.stderr.replace(/\n$/, ''), RAW_CONTROL);
    const json = await cli(['http', 'get', `http://${address}/`, '--json']);
    assert.equal(json.code, 3);
    const event = JSON.parse(json.stdout.trim()) as { event: string; code: string; message: string };
    assert.equal(event.event, 'error');
    assert.equal(event.code, 'NETKIT_HTTP_PROTOCOL');
  });

  it('ws connect exits 3 and says what the peer sent, escaped', async (t) => {
    const address = await greeter(t, SSH);
    const r = await cli(['ws', 'connect', `ws://${address}/`, '--connect-timeout', '5s']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /does not speak HTTP; it sent "SSH-2\.0-OpenSSH_9\.2p1 Debian-2\+deb12u3\\r\\n"/);
    assert.match(r.stderr, /NETKIT_HTTP_PROTOCOL/);
    assert.doesNotMatch(r.stderr.replace(/\n$/, ''), RAW_CONTROL);
  });
});

describe('https:// or wss:// to a plain-text server says it does not speak TLS', () => {
  it('in words, without OpenSSL internals', async (t) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      // What a plain HTTP server answers to a ClientHello.
      socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
    for (const [url, scheme] of [
      [`https://${address}/`, 'http'],
      [`wss://${address}/`, 'ws'],
    ] as const) {
      const err = (await (scheme === 'http' ? request(url) : dialWs(url)).then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: string; message?: string } | undefined;
      assert.equal(err?.code, 'NETKIT_TLS_FAILED', url);
      assert.match(err!.message!, new RegExp(`does not speak TLS .*plain ${scheme}://`));
      assert.doesNotMatch(err!.message!, /SSL routines|openssl|EPROTO/);
    }
  });
});

describe('a peer that closes without an HTTP answer', () => {
  it('is said to have closed without answering, with the hint for a TLS port', async (t) => {
    const server = net.createServer((socket) => {
      socket.on('error', () => {});
      // A TLS server reading plain-text bytes closes without a word, as this one does.
      socket.once('data', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    const err = (await request(url).then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; message?: string } | undefined;
    assert.equal(err?.code, 'NETKIT_CONNECTION_RESET');
    assert.match(
      err!.message!,
      /closed the connection without answering \(if it is a TLS port, use https:\/\/\)/,
    );
    assert.doesNotMatch(err!.message!, /socket hang up/);
  });
});
