import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bind } from '../../src/udp/index.js';
import { cli, startCli } from '../helpers/cli.js';

test('udp serve answers "Hello, Client!" and logs each datagram; udp send prints the reply', async (t) => {
  const run = startCli(['udp', 'serve', '127.0.0.1:0']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/listening (\S+) \(udp, reply "Hello, Client!"\)/);
  const r = await cli(['udp', 'send', address!, 'hello there, server']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'Hello, Client!\n');
  await run.waitFor(/127\.0\.0\.1:\d+\s+19B {2}hello there, server/);
  run.abort();
  assert.equal(await run.done, 0);
});

test('udp serve never answers with more bytes than it received', async (t) => {
  const run = startCli(['udp', 'serve', '127.0.0.1:0', '--json', '-q']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const r = await cli(['udp', 'send', address!, 'hi', '--json']);
  const reply = JSON.parse(r.stdout) as { bytes: number; text: string };
  assert.deepEqual([reply.bytes, reply.text], [2, 'He']);
});

test('udp serve --echo --json; udp send --hex, several messages', async (t) => {
  const run = startCli(['udp', 'serve', '127.0.0.1:0', '--echo', '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const r = await cli(['udp', 'send', address!, '\\x00\\x01AB', 'second', '--json', '--hex']);
  assert.equal(r.code, 0);
  const replies = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; hex: string });
  assert.deepEqual(
    replies.map((x) => x.hex),
    ['00014142', Buffer.from('second').toString('hex')],
  );
  await run.waitFor(/"event":"datagram".*"bytes":6/);
});

test('udp send: no reply exits 4, a closed port exits 5, an oversize message is refused', async () => {
  const silent = await bind('127.0.0.1:0');
  const quiet = await cli(['udp', 'send', silent.localAddr.address, 'anyone?', '--wait', '150ms']);
  assert.equal(quiet.code, 4);
  assert.match(quiet.stderr, /no reply within 150 ms/);
  const port = silent.localAddr.port;
  await silent.close();
  const closed = await cli(['udp', 'send', `127.0.0.1:${port}`, 'hello', '--wait', '1s']);
  assert.ok(closed.code === 5 || closed.code === 4, `exit ${closed.code}: ${closed.stderr}`);
  const big = await cli(['udp', 'send', `127.0.0.1:${port}`, 'x'.repeat(65_508), '--json']);
  assert.equal(big.code, 2);
  assert.equal((JSON.parse(big.stdout) as { code: string }).code, 'NETKIT_DATAGRAM_TOO_LARGE');
});

test('udp serve shows peer bytes escaped: invalid UTF-8, bidi overrides and escapes never raw', async (t) => {
  const run = startCli(['udp', 'serve', '127.0.0.1:0']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/listening (\S+) \(udp/);
  const peer = await bind('127.0.0.1:0');
  t.after(() => peer.close());
  await peer.send(Buffer.concat([Buffer.from([0xff]), Buffer.from('x\u202ey\x1b[2J')]), address!);
  await run.waitFor(/\\xffx\\u202ey\\x1b\[2J/);
  // stdout is captured as latin1: U+202E and U+FFFD would show as their UTF-8 bytes.
  assert.doesNotMatch(run.stdout(), /\xe2\x80\xae|\xef\xbf\xbd|\x1b/);
});

test('udp send without messages sends each line of stdin as a datagram, newline included, as ncat -u does', async (t) => {
  const run = startCli(['udp', 'serve', '127.0.0.1:0', '--echo', '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"address":"([^"]+)"/);
  const r = await cli(['udp', 'send', address!, '--json'], { stdin: 'one\ntwo\nlast' });
  assert.equal(r.code, 0, r.stderr);
  const replies = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; text: string });
  assert.deepEqual(
    replies.map((x) => x.text),
    ['one\n', 'two\n', 'last'],
  );
});
