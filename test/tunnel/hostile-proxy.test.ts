/**
 * Proxies that misbehave, played by tiny node servers: an endless status
 * line or header, garbage, a bogus SOCKS5 reply, a close mid-reply, a
 * silence. Each must end in a clear typed error within its bound, never a
 * hang; and bytes a proxy sends right behind a good reply reach the caller.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { InvalidArgumentError, TunnelError } from '../../src/errors.js';
import { dialTunnel } from '../../src/tunnel/index.js';

/** fakeProxy runs `behave` for each connection, handing it the socket and the first bytes the client sent. */
async function fakeProxy(t: TestContext, behave: (s: net.Socket, first: Buffer) => void): Promise<number> {
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    s.on('error', () => {});
    s.once('data', (first: Buffer) => behave(s, first));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const s of open) s.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as net.AddressInfo).port;
}

/** socks5Then answers the greeting with "no authentication", then answers CONNECT with `reply`. */
function socks5Then(reply: Buffer | ((s: net.Socket) => void)) {
  return (s: net.Socket) => {
    s.write(Buffer.from([0x05, 0x00]));
    s.once('data', () => (typeof reply === 'function' ? reply(s) : s.write(reply)));
  };
}

async function failure(promise: Promise<unknown>): Promise<TunnelError> {
  const started = Date.now();
  const err = await promise.then(
    () => assert.fail('the tunnel opened'),
    (e: unknown) => e,
  );
  assert.ok(Date.now() - started < 4000, 'failed in time');
  assert.ok(err instanceof TunnelError, `not a TunnelError: ${String(err)}`);
  return err;
}

const TARGET = 'target.example:443';
const opts = { timeout: 4000, maxReplyBytes: 1024 };

test('an endless HTTP status line or header fails at maxReplyBytes, naming the limit', async (t) => {
  for (const endless of ['HTTP/1.1 200 ', 'HTTP/1.1 200 OK\r\nX-Long: ']) {
    const port = await fakeProxy(t, (s) => {
      s.write(endless);
      const spew = () => {
        if (!s.destroyed && s.write('a'.repeat(512))) setImmediate(spew);
        else s.once('drain', spew);
      };
      spew();
    });
    const err = await failure(dialTunnel(`http://127.0.0.1:${port}`, TARGET, opts));
    assert.equal(err.code, 'NETKIT_TUNNEL_PROTOCOL');
    assert.equal(err.limit, 1024);
    assert.match(err.message, /maxReplyBytes \(1024\)/);
  }
});

test('HTTP replies that are not HTTP, cut short, or refusals map to their codes', async (t) => {
  const table: { name: string; reply: string; close?: boolean; code: string; status?: number }[] = [
    { name: 'SSH banner', reply: 'SSH-2.0-OpenSSH_9.6\r\n\r\n', code: 'NETKIT_TUNNEL_PROTOCOL' },
    { name: 'HTTP/2 preface', reply: 'PRI * HTTP/2.0\r\n\r\n', code: 'NETKIT_TUNNEL_PROTOCOL' },
    { name: 'status not 3 digits', reply: 'HTTP/1.1 2000 OK\r\n\r\n', code: 'NETKIT_TUNNEL_PROTOCOL' },
    {
      name: 'closed mid-head',
      reply: 'HTTP/1.1 200 Connection est',
      close: true,
      code: 'NETKIT_TUNNEL_PROTOCOL',
    },
    { name: 'closed at once', reply: '', close: true, code: 'NETKIT_TUNNEL_PROTOCOL' },
    {
      name: '407',
      reply: 'HTTP/1.1 407 Proxy Authentication Required\r\n\r\n',
      code: 'NETKIT_TUNNEL_AUTH',
      status: 407,
    },
    {
      name: '403',
      reply: 'HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n',
      code: 'NETKIT_TUNNEL_FAILED',
      status: 403,
    },
    { name: '502', reply: 'HTTP/1.0 502 Bad Gateway\r\n\r\n', code: 'NETKIT_TUNNEL_FAILED', status: 502 },
  ];
  for (const row of table) {
    const port = await fakeProxy(t, (s) => (row.close ? s.end(row.reply) : s.write(row.reply)));
    const err = await failure(dialTunnel(`http://127.0.0.1:${port}`, TARGET, opts));
    assert.equal(err.code, row.code, `${row.name}: got ${err.code} (${err.message})`);
    assert.equal(err.status, row.status, `${row.name}: status`);
  }
});

test('SOCKS5 replies that are bogus, cut short, or refusals map to their codes', async (t) => {
  const table: {
    name: string;
    behave: (s: net.Socket, first: Buffer) => void;
    code: string;
    reply?: number;
  }[] = [
    {
      name: 'version 4 answer',
      behave: (s) => s.write(Buffer.from([0x04, 0x5a])),
      code: 'NETKIT_TUNNEL_PROTOCOL',
    },
    {
      name: 'HTTP answer',
      behave: (s) => s.write('HTTP/1.1 400 Bad Request\r\n\r\n'),
      code: 'NETKIT_TUNNEL_PROTOCOL',
    },
    {
      name: 'no method',
      behave: (s) => s.write(Buffer.from([0x05, 0xff])),
      code: 'NETKIT_TUNNEL_AUTH',
      reply: 0xff,
    },
    {
      name: 'password asked, none offered',
      behave: (s) => s.write(Buffer.from([0x05, 0x02])),
      code: 'NETKIT_TUNNEL_AUTH',
      reply: 0x02,
    },
    {
      name: 'closed after 1 byte',
      behave: (s) => s.end(Buffer.from([0x05])),
      code: 'NETKIT_TUNNEL_PROTOCOL',
    },
    {
      name: 'refused by target',
      behave: socks5Then(Buffer.from([0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0])),
      code: 'NETKIT_TUNNEL_FAILED',
      reply: 0x05,
    },
    {
      name: 'not allowed',
      behave: socks5Then(Buffer.from([0x05, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0])),
      code: 'NETKIT_TUNNEL_FAILED',
      reply: 0x02,
    },
    {
      name: 'unknown address type',
      behave: socks5Then(Buffer.from([0x05, 0x00, 0x00, 0x09])),
      code: 'NETKIT_TUNNEL_PROTOCOL',
    },
    {
      name: 'reserved byte set',
      behave: socks5Then(Buffer.from([0x05, 0x00, 0x07, 0x01])),
      code: 'NETKIT_TUNNEL_PROTOCOL',
    },
    {
      name: 'closed mid bound address',
      behave: socks5Then((s) => s.end(Buffer.from([0x05, 0x00, 0x00, 0x04, 0xfe, 0x80]))),
      code: 'NETKIT_TUNNEL_PROTOCOL',
    },
  ];
  for (const row of table) {
    const port = await fakeProxy(t, row.behave);
    const err = await failure(dialTunnel(`socks5h://127.0.0.1:${port}`, TARGET, opts));
    assert.equal(err.code, row.code, `${row.name}: got ${err.code} (${err.message})`);
    assert.equal(err.reply, row.reply, `${row.name}: reply`);
  }
});

test('a SOCKS5 refusal says what the reply code means', async (t) => {
  const port = await fakeProxy(t, socks5Then(Buffer.from([0x05, 0x05, 0x00, 0x01, 0, 0, 0, 0, 0, 0])));
  const err = await failure(dialTunnel(`socks5h://127.0.0.1:${port}`, TARGET, opts));
  assert.match(err.message, /connection refused by the target, as seen by the proxy/);
});

test('a proxy that accepts and stays silent fails at the timeout', async (t) => {
  for (const scheme of ['http', 'socks5h']) {
    const port = await fakeProxy(t, () => {});
    const started = Date.now();
    await assert.rejects(dialTunnel(`${scheme}://127.0.0.1:${port}`, TARGET, { timeout: 200 }), {
      code: 'NETKIT_CONNECT_TIMEOUT',
    });
    assert.ok(Date.now() - started < 2000);
  }
});

test('bytes the proxy sends in the same write as its reply reach the caller, split at every point', async (t) => {
  const after = Buffer.from('220 banner from the target\r\n');
  const httpReply = Buffer.concat([Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n'), after]);
  const socksReply = Buffer.concat([
    Buffer.from([0x05, 0x00, 0x00, 0x03, 4, ...Buffer.from('bind'), 0x01, 0xbb]),
    after,
  ]);
  for (const [scheme, reply] of [
    ['http', httpReply],
    ['socks5h', socksReply],
  ] as const) {
    // Whole, then split at a few points inside and around the reply's end.
    const cuts = [
      reply.length,
      1,
      reply.length - after.length - 1,
      reply.length - after.length,
      reply.length - 3,
    ];
    for (const cut of cuts) {
      const port = await fakeProxy(t, (s) => {
        const send = () => {
          s.write(reply.subarray(0, cut));
          setTimeout(() => s.write(reply.subarray(cut)), 5);
        };
        if (scheme === 'http') send();
        else {
          s.write(Buffer.from([0x05, 0x00]));
          s.once('data', send);
        }
      });
      const socket = await dialTunnel(`${scheme}://127.0.0.1:${port}`, TARGET, opts);
      t.after(() => socket.destroy());
      let got = Buffer.alloc(0);
      for await (const chunk of socket) {
        got = Buffer.concat([got, chunk as Buffer]);
        if (got.length >= after.length) break;
      }
      assert.equal(got.toString(), after.toString(), `${scheme}, cut at ${cut}`);
    }
  }
});

test('the CONNECT request names the target and carries Basic credentials, percent-decoded', async (t) => {
  let request = '';
  const port = await fakeProxy(t, (s, first) => {
    request = first.toString('latin1');
    s.write('HTTP/1.1 200 OK\r\n\r\n');
  });
  const socket = await dialTunnel(`http://al%40ice:p%3Ass@127.0.0.1:${port}`, '[::1]:8443', opts);
  socket.destroy();
  const lines = request.split('\r\n');
  assert.equal(lines[0], 'CONNECT [::1]:8443 HTTP/1.1');
  assert.ok(lines.includes('Host: [::1]:8443'));
  assert.ok(lines.includes(`Proxy-Authorization: Basic ${Buffer.from('al@ice:p:ss').toString('base64')}`));
});

test('interim 1xx answers are skipped and bare-LF heads are read; the bytes behind reach the caller', async (t) => {
  const after = 'SSH-2.0-target\r\n';
  for (const reply of [
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 Connection established\r\n\r\n',
    'HTTP/1.1 102 Processing\r\nX-A: 1\r\n\r\nHTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\n\r\n',
    'HTTP/1.0 200 Connection established\nProxy-Agent: tiny\n\n',
    'HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\r\n\n',
    // A 2xx to CONNECT has no body (RFC 9110 section 9.3.6): the "body" is the target's.
    'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n',
  ]) {
    const port = await fakeProxy(t, (s) => s.write(reply + after));
    const socket = await dialTunnel(`http://127.0.0.1:${port}`, TARGET, opts);
    t.after(() => socket.destroy());
    let got = '';
    for await (const chunk of socket) {
      got += (chunk as Buffer).toString('latin1');
      if (got.length >= after.length) break;
    }
    assert.equal(got, after, JSON.stringify(reply));
  }
});

test('a stream of 1xx answers ends at maxReplyBytes, and a 101 is a refusal', async (t) => {
  const spewing = await fakeProxy(t, (s) => {
    const spew = () => {
      if (!s.destroyed && s.write('HTTP/1.1 100 Continue\r\n\r\n'.repeat(20))) setImmediate(spew);
      else s.once('drain', spew);
    };
    spew();
  });
  const err = await failure(dialTunnel(`http://127.0.0.1:${spewing}`, TARGET, opts));
  assert.equal(err.code, 'NETKIT_TUNNEL_PROTOCOL');
  assert.equal(err.limit, 1024);
  const switching = await fakeProxy(t, (s) => s.write('HTTP/1.1 101 Switching Protocols\r\n\r\n'));
  const refused = await failure(dialTunnel(`http://127.0.0.1:${switching}`, TARGET, opts));
  assert.equal(refused.code, 'NETKIT_TUNNEL_FAILED');
  assert.equal(refused.status, 101);
});

test('replies split at every byte reach the same end: HTTP with a 1xx, SOCKS5 with a domain or IPv6 bound address', async (t) => {
  const after = Buffer.from('banner\r\n');
  const rows: [string, Buffer][] = [
    ['http', Buffer.from('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\nVia: p\n\n')],
    ['socks5h', Buffer.from([0x05, 0x00, 0x00, 0x03, 0, 0x01, 0xbb])],
    [
      'socks5h',
      Buffer.concat([
        Buffer.from([0x05, 0x00, 0x00, 0x03, 255]),
        Buffer.alloc(255, 0x61),
        Buffer.from([0, 80]),
      ]),
    ],
    [
      'socks5h',
      Buffer.concat([Buffer.from([0x05, 0x00, 0x00, 0x04]), Buffer.alloc(16, 0xfe), Buffer.from([0, 80])]),
    ],
  ];
  for (const [scheme, head] of rows) {
    const reply = Buffer.concat([head, after]);
    // Every cut inside a short reply; every 17th inside the 262-byte one, and its last few.
    const cuts = [...Array(reply.length).keys()]
      .slice(1)
      .filter((c) => reply.length < 100 || c % 17 === 0 || c > head.length - 4);
    for (const cut of cuts) {
      const port = await fakeProxy(t, (s) => {
        const send = () => {
          s.write(reply.subarray(0, cut));
          setTimeout(() => s.write(reply.subarray(cut)), 2);
        };
        if (scheme === 'http') send();
        else {
          s.write(Buffer.from([0x05, 0x00]));
          s.once('data', send);
        }
      });
      const socket = await dialTunnel(`${scheme}://127.0.0.1:${port}`, TARGET, opts);
      let got = Buffer.alloc(0);
      for await (const chunk of socket) {
        got = Buffer.concat([got, chunk as Buffer]);
        if (got.length >= after.length) break;
      }
      socket.destroy();
      assert.equal(got.toString(), after.toString(), `${scheme} ${head.length}-byte reply, cut at ${cut}`);
    }
  }
});

test('a target host with CR, LF or a space is refused before the proxy gets a byte', async (t) => {
  let requests = 0;
  const port = await fakeProxy(t, (s) => {
    requests++;
    s.write('HTTP/1.1 200 OK\r\n\r\n');
  });
  for (const target of [
    'evil\r\n\r\nGET /admin HTTP/1.1\r\nHost x\r\n\r\nx:443',
    'evil\r\nX-Injected 1:443',
    'a b:443',
  ]) {
    await assert.rejects(
      dialTunnel(`http://127.0.0.1:${port}`, target, opts),
      (e: unknown) => e instanceof InvalidArgumentError && e.option === 'target',
      JSON.stringify(target),
    );
  }
  assert.equal(requests, 0);
});

test('a CONNECT to a name beyond ASCII asks for its IDNA form, never garbled bytes', async (t) => {
  const requests: string[] = [];
  const port = await fakeProxy(t, (s, first) => {
    requests.push(first.toString('latin1'));
    s.write('HTTP/1.1 200 OK\r\n\r\n');
  });
  for (const target of ['例え.jp:443', 'bücher.example:443']) {
    const socket = await dialTunnel(`http://127.0.0.1:${port}`, target, opts);
    socket.destroy();
  }
  assert.deepEqual(
    requests.map((r) => r.split('\r\n', 2)),
    [
      ['CONNECT xn--r8jz45g.jp:443 HTTP/1.1', 'Host: xn--r8jz45g.jp:443'],
      ['CONNECT xn--bcher-kva.example:443 HTTP/1.1', 'Host: xn--bcher-kva.example:443'],
    ],
  );
});
