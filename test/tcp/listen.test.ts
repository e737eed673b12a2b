import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ListenError } from '../../src/errors.js';
import { dial, listen } from '../../src/tcp/index.js';

test('listen on port 0 reports the real port; accept yields connections', async () => {
  const l = await listen('127.0.0.1:0');
  assert.ok(l.addr.port > 0);
  assert.equal(l.addr.address, `127.0.0.1:${l.addr.port}`);
  const c = await dial(l.addr.address);
  const s = await l.accept();
  assert.equal(s.remoteAddr?.address, c.localAddr?.address);
  c.destroy();
  s.destroy();
  await l.close();
});

test('the listener is async-iterable and the loop ends on close', async () => {
  const l = await listen('127.0.0.1:0');
  const seen: string[] = [];
  const loop = (async () => {
    for await (const conn of l) {
      seen.push(conn.remoteAddr!.address);
      conn.destroy();
    }
  })();
  const a = await dial(l.addr.address);
  const b = await dial(l.addr.address);
  while (seen.length < 2) await new Promise((r) => setTimeout(r, 5));
  await l.close();
  await loop;
  assert.deepEqual(new Set(seen), new Set([a.localAddr!.address, b.localAddr!.address]));
  a.destroy();
  b.destroy();
});

test('accept after close rejects with NETKIT_LISTENER_CLOSED; pending accepts too', async () => {
  const l = await listen('127.0.0.1:0');
  const pending = assert.rejects(
    l.accept(),
    (e: ListenError) => e instanceof ListenError && e.code === 'NETKIT_LISTENER_CLOSED',
  );
  await l.close();
  await pending;
  await assert.rejects(l.accept(), { code: 'NETKIT_LISTENER_CLOSED' });
  await assert.rejects(dial(l.addr.address), { code: 'NETKIT_DIAL_FAILED' });
});

test('closing the listener leaves accepted connections open (Go semantics)', async () => {
  const l = await listen('127.0.0.1:0');
  const c = await dial(l.addr.address);
  const s = await l.accept();
  await l.close();
  await c.write('still here\n');
  assert.equal(await s.readLine(), 'still here');
  c.destroy();
  s.destroy();
});

test('a port in use fails with NETKIT_LISTEN_FAILED', async () => {
  const l = await listen('127.0.0.1:0');
  await assert.rejects(listen(l.addr.address), (e: ListenError) => {
    assert.equal(e.code, 'NETKIT_LISTEN_FAILED');
    assert.equal((e.cause as NodeJS.ErrnoException).code, 'EADDRINUSE');
    return true;
  });
  await l.close();
});

test('tcp4 with an empty host binds 0.0.0.0; tcp6 binds [::] only', async () => {
  const l4 = await listen(':0', { network: 'tcp4' });
  assert.equal(l4.addr.ip, '0.0.0.0');
  await l4.close();
  const l6 = await listen(':0', { network: 'tcp6' });
  assert.equal(l6.addr.ip, '::');
  // IPv6-only: an IPv4 client cannot reach it.
  await assert.rejects(dial(`127.0.0.1:${l6.addr.port}`), { code: 'NETKIT_DIAL_FAILED' });
  await l6.close();
});

test('an aborted signal closes the listener', async () => {
  const ac = new AbortController();
  const l = await listen('127.0.0.1:0', { signal: ac.signal });
  const pending = assert.rejects(l.accept(), { code: 'NETKIT_LISTENER_CLOSED' });
  ac.abort();
  await pending;
  assert.equal(l.closed, true);
});

/**
 * HIDE_SOCKOPT is a module hook that makes the optional `sockopt` package
 * unresolvable, as on an install without it.
 */
const HIDE_SOCKOPT = `data:text/javascript,${encodeURIComponent(
  `export async function resolve(s, c, next) { if (s === 'sockopt') throw Object.assign(new Error('hidden'), { code: 'ERR_MODULE_NOT_FOUND' }); return next(s, c); }`,
)}`;

test('keep-alive interval without the sockopt package: listen rejects with NETKIT_UNSUPPORTED and binds nothing', async () => {
  const script = `
    import { register } from 'node:module';
    import net from 'node:net';
    register(${JSON.stringify(HIDE_SOCKOPT)});
    const { listen } = await import(${JSON.stringify(new URL('../../src/tcp/index.ts', import.meta.url).href)});
    // A free port, then proof that the failed listen left it free.
    const probe = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const port = probe.address().port;
    await new Promise((r) => probe.close(r));
    const err = await listen('127.0.0.1:' + port, { keepAlive: { idle: 1000, interval: 1000, count: 3 } }).then(() => null, (e) => e);
    const again = net.createServer().listen(port, '127.0.0.1');
    const bound = await new Promise((r) => { again.once('listening', () => r(true)); again.once('error', () => r(false)); });
    again.close();
    const plain = await listen('127.0.0.1:0', { keepAlive: { idle: 1000 } });
    await plain.close();
    console.log(JSON.stringify({ code: err?.code, message: err?.message, bound }));
  `;
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { timeout: 30_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    ),
  );
  const r = JSON.parse(out.trim().split('\n').at(-1) as string);
  assert.equal(r.code, 'NETKIT_UNSUPPORTED');
  assert.match(r.message, /sockopt/);
  assert.equal(r.bound, true, 'the port the failed listen was given is still free');
});
