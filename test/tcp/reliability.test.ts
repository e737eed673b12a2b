/**
 * RELIABILITY.md items 1, 7, 33–35 and 37 for TCP servers: oversize lines,
 * resets, 1,000 mixed clients, half-open peers, connection caps, squatters.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { type Conn, type ConnSummary, dial, listen, replyHandler, serve } from '../../src/tcp/index.js';
import { openFds, readAll, sleep, startServer, until } from '../helpers/net.js';

test('#1 a 64 MiB line with no newline closes that connection with NETKIT_FRAME_TOO_LARGE; others are served', async (t) => {
  const limit = 64 * 1024;
  const { address, server } = await startServer(t, replyHandler('ok', { maxFrameBytes: limit }));
  const errors: string[] = [];
  const summaries: ConnSummary[] = [];
  server.on('handlerError', (e) => errors.push((e as { code?: string }).code ?? ''));
  server.on('close', (_c, s) => summaries.push(s));

  const flood = await dial(address);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  const flooding = (async () => {
    try {
      for (let sent = 0; sent < 64 << 20; sent += chunk.length) await flood.write(chunk);
    } catch {
      // The server cut us off: expected.
    }
  })();
  const polite = await dial(address);
  for (let i = 0; i < 5; i++) {
    await polite.write(`hello ${i}\n`);
    assert.equal(await polite.readLine(), 'ok');
  }
  await flooding;
  await until(() => errors.length === 1, 5000, 'the flood to be cut off');
  assert.deepEqual(errors, ['NETKIT_FRAME_TOO_LARGE']);
  const cut = summaries.find((s) => s.error?.code === 'NETKIT_FRAME_TOO_LARGE')!;
  // The server stopped reading soon after the limit: it never held the 64 MiB.
  assert.ok(cut.bytesRead < 2 * limit + 256 * 1024, `server read ${cut.bytesRead} bytes before closing`);
  polite.destroy();
  flood.destroy();
});

test('#7 #34 resets mid-read and mid-write never crash the server and leak nothing', async (t) => {
  const baseline = openFds();
  const summaries: ConnSummary[] = [];
  const { address, server } = await startServer(t, async (conn) => {
    const line = await conn.readLine();
    if (line === 'download') {
      const big = Buffer.alloc(1 << 20);
      for (let i = 0; i < 64; i++) await conn.write(big); // the client resets part-way
    }
  });
  server.on('close', (_c, s) => summaries.push(s));
  // Reset mid-read: half a line, then RST.
  const a = await dial(address);
  await a.write('half a li');
  await sleep(20);
  a.reset();
  // Reset mid-write: ask for 64 MiB, read a little, then RST.
  const b = await dial(address);
  await b.write('download\n');
  await b.read();
  b.reset();
  await until(() => summaries.length === 2, 5000, 'both connections to close');
  for (const s of summaries) {
    assert.equal(s.peerClose, 'rst');
    assert.equal(s.error?.code, 'NETKIT_CONNECTION_RESET');
  }
  await until(() => openFds() <= baseline + 2, 3000, `fds back to ${baseline}`);
});

test('#34 a silent (half-open) peer is reaped by the idle timeout', async (t) => {
  const summaries: ConnSummary[] = [];
  const { address, server } = await startServer(t, replyHandler('ok'), { idleTimeout: 200 });
  server.on('close', (_c, s) => summaries.push(s));
  const silent = await dial(address);
  const start = Date.now();
  await until(() => summaries.length === 1, 3000, 'the idle connection to be closed');
  const took = Date.now() - start;
  assert.ok(took >= 150 && took < 1500, `reaped after ${took} ms`);
  assert.equal(summaries[0]!.error?.code, 'NETKIT_TIMEOUT');
  silent.destroy();
});

test('#34 a half-closed client still gets every answer', async (t) => {
  const { address } = await startServer(t, replyHandler('ok'));
  const c = await dial(address);
  await c.write('a\nb\nc\n');
  await c.closeWrite();
  assert.equal((await readAll(c)).toString(), 'ok\nok\nok\n');
});

test('#35 past maxConnections new clients are refused at once with RST', async (t) => {
  const refused: string[] = [];
  const { address, server } = await startServer(t, replyHandler('ok'), { maxConnections: 2 });
  server.on('refuse', (r) => refused.push(r?.address ?? ''));
  const a = await dial(address);
  const b = await dial(address);
  await until(() => server.connections === 2);
  const start = Date.now();
  // The RST can beat the handshake's completion on loopback, failing the dial itself.
  const c = await dial(address).catch((e: { code: string; cause?: { code?: string } }) => e);
  const result =
    'read' in c
      ? await c.read().then(
          (v) => (v === null ? 'eof' : 'data'),
          (e: { code: string }) => e.code,
        )
      : `${c.code}/${c.cause?.code}`;
  assert.match(result, /^(NETKIT_CONNECTION_RESET|NETKIT_DIAL_FAILED\/ECONNRESET)$/);
  assert.ok(Date.now() - start < 500, 'refusal was not quick');
  await until(() => refused.length === 1);
  // The two admitted clients are unaffected.
  await a.write('x\n');
  assert.equal(await a.readLine(), 'ok');
  a.destroy();
  b.destroy();
  if ('destroy' in c) c.destroy();
});

test('#37 a client that sends nothing is closed at firstByteTimeout; one that talks is not', async (t) => {
  const summaries: ConnSummary[] = [];
  const { address, server } = await startServer(t, replyHandler('ok'), { firstByteTimeout: 200 });
  server.on('close', (_c, s) => summaries.push(s));
  const silent = await dial(address);
  const talker = await dial(address);
  await talker.write('hi\n');
  assert.equal(await talker.readLine(), 'ok');
  const start = Date.now();
  await until(() => summaries.length === 1, 3000, 'the silent connection to be closed');
  const took = Date.now() - start;
  assert.ok(took < 1500, `closed after ${took} ms`);
  assert.equal(summaries[0]!.error?.code, 'NETKIT_TIMEOUT');
  assert.equal((summaries[0]!.error as { op?: string }).op, 'first byte');
  // The talker, silent since its first line for longer than the first-byte timeout, is still served.
  await sleep(300);
  await talker.write('again\n');
  assert.equal(await talker.readLine(), 'ok');
  silent.destroy();
  talker.destroy();
});

test('#37 1,000 silent sockets cannot lock talking clients out of a capped server', async (t) => {
  const max = 50;
  const { address, server } = await startServer(t, replyHandler('ok'), {
    maxConnections: max,
    firstByteTimeout: 60_000,
  });
  let evicted = 0;
  server.on('evict', () => evicted++);
  // Clients that talked first hold their slots through the flood.
  const talkers: Conn[] = [];
  for (let i = 0; i < 10; i++) {
    const c = await dial(address);
    await c.write('hi\n');
    assert.equal(await c.readLine(), 'ok');
    talkers.push(c);
  }
  const squatters: Conn[] = [];
  t.after(() => {
    for (const c of [...squatters, ...talkers]) c.destroy();
  });
  const swallow = (c: Conn) => c.read().catch(() => null);
  for (let i = 0; i < 1000; i += 100) {
    const batch = await Promise.all(Array.from({ length: 100 }, () => dial(address).catch(() => undefined)));
    for (const c of batch) {
      if (!c) continue;
      squatters.push(c);
      void swallow(c);
    }
  }
  await until(() => evicted >= 1000 - (max - talkers.length), 10_000, 'squatters to be evicted');
  // A new client that talks is served at once, and every early talker still is.
  const late = await dial(address);
  await late.write('late\n');
  assert.equal(await late.readLine(), 'ok');
  late.destroy();
  for (const c of talkers) {
    await c.write('still\n');
    assert.equal(await c.readLine(), 'ok');
  }
  assert.ok(server.connections <= max + 1, `${server.connections} connections`);
});

test('#37 behind a proxy, a client that sent only the PROXY header is still silent: timed out and evicted', async (t) => {
  const listener = await listen('127.0.0.1:0', { proxy: { trust: ['127.0.0.1/32'] } });
  const server = serve(listener, replyHandler('ok'), { maxConnections: 2, firstByteTimeout: 400 });
  t.after(() => server.close({ timeout: 100 }));
  const summaries: ConnSummary[] = [];
  server.on('close', (_c, s) => summaries.push(s));
  const header = 'PROXY TCP4 192.0.2.1 192.0.2.2 1111 2222\r\n';
  const quiet = [await dial(listener.addr.address), await dial(listener.addr.address)];
  t.after(() => {
    for (const c of quiet) c.destroy();
  });
  for (const c of quiet) await c.write(header);
  await until(() => server.connections === 2);
  // The cap is full of header-only connections: a client that talks takes the place of one.
  const talker = await dial(listener.addr.address);
  t.after(() => talker.destroy());
  await talker.write(`${header}hi\n`);
  assert.equal(await talker.readLine(), 'ok');
  // The other is closed at the first-byte timeout, though the proxy sent its header.
  await until(() => summaries.length === 2, 3000, 'both header-only connections to be closed');
  assert.ok(summaries.every((s) => s.error?.code === 'NETKIT_TIMEOUT'));
  await talker.write('again\n');
  assert.equal(await talker.readLine(), 'ok');
});

test('#33 1,000 concurrent clients mixing valid and garbage input: no crash, fds back to baseline', async () => {
  const baseline = openFds();
  const rssBefore = process.memoryUsage().rss;
  const listener = await listen('127.0.0.1:0', { backlog: 4096 });
  const server = serve(listener, replyHandler('ok', { maxFrameBytes: 1024 }), { idleTimeout: 5000 });
  const outcomes = new Map<string, number>();
  const note = (k: string) => outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  const client = async (i: number): Promise<void> => {
    let conn: Conn;
    try {
      conn = await dial(listener.addr.address, { timeout: 10_000 });
    } catch {
      note('dial-failed');
      return;
    }
    try {
      switch (i % 4) {
        case 0: // valid
          await conn.write('hello\n');
          note((await conn.readLine()) === 'ok' ? 'valid-ok' : 'valid-wrong');
          await conn.close();
          break;
        case 1: // garbage over the limit, no newline
          await conn.write(randomBytes(4096).map((b) => (b === 10 ? 11 : b)));
          await readAll(conn).catch(() => {});
          conn.destroy();
          note('garbage-closed');
          break;
        case 2: // reset mid-line
          await conn.write(randomBytes(100).map((b) => (b === 10 ? 11 : b)));
          conn.reset();
          note('reset');
          break;
        default: // binary lines with CR, NUL and invalid UTF-8, then half-close
          await conn.write(Buffer.from([0, 0xff, 0xfe, 13, 10, 0xc3, 10]));
          await conn.closeWrite();
          note((await readAll(conn)).toString() === 'ok\nok\n' ? 'binary-ok' : 'binary-wrong');
      }
    } catch (err) {
      note(`error:${(err as { code?: string }).code}`);
      conn.destroy();
    }
  };
  await Promise.all(Array.from({ length: 1000 }, (_, i) => client(i)));
  await until(() => server.connections === 0, 10_000, 'every connection to close');
  await server.close();
  assert.deepEqual(Object.fromEntries(outcomes), {
    'valid-ok': 250,
    'garbage-closed': 250,
    reset: 250,
    'binary-ok': 250,
  });
  await until(() => openFds() <= baseline + 2, 5000, `fds back to ${baseline} (now ${openFds()})`);
  const grown = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
  assert.ok(grown < 200, `rss grew by ${grown.toFixed(0)} MiB`);
});
