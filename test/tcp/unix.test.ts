/**
 * listen() and dial() on Unix domain sockets: round trips, the addresses a
 * Conn reports, the socket file's life (a stale one replaced, a live one
 * "in use", anything that is not a socket never touched, socketMode, gone
 * on close), and TLS over a socket path.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import type tls from 'node:tls';
import { ListenError } from '../../src/errors.js';
import { type Conn, dial, echoHandler, type ListenOptions, listen, serve } from '../../src/tcp/index.js';

/** socketDir is a fresh directory for socket files (short: a socket path has at most 107 bytes). */
async function socketDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nk-unix-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** echoOn listens at `address` with `options`, echoes, and records the connections served. */
async function echoOn(t: TestContext, address: string, options: ListenOptions = {}) {
  const listener = await listen(address, options);
  const conns: Conn[] = [];
  const server = serve(listener, (conn, ctx) => {
    conns.push(conn);
    return echoHandler()(conn, ctx);
  });
  t.after(() => server.close({ timeout: 100 }));
  return { listener, server, conns };
}

/** listenFailed asserts NETKIT_LISTEN_FAILED whose message matches `why`. */
function listenFailed(why: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof ListenError, String(err));
    assert.equal(err.code, 'NETKIT_LISTEN_FAILED');
    assert.match(err.message, why);
    return true;
  };
}

/** crashedServer leaves a socket file nobody listens on: a server SIGKILLed while listening. */
async function crashedServer(file: string): Promise<void> {
  const child = spawn(process.execPath, [
    '-e',
    `require('net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok((await lstat(file)).isSocket(), 'the crashed server left no socket file');
}

test('listen and dial over a Unix socket: unix:/path or network unix, a round trip both ways', async (t) => {
  const dir = await socketDir(t);
  for (const [address, options] of [
    [`unix:${path.join(dir, 'a.sock')}`, {}],
    [path.join(dir, 'b.sock'), { network: 'unix' }],
  ] as const) {
    const { listener } = await echoOn(t, address, options);
    const file = address.replace(/^unix:/, '');
    assert.equal(listener.addr.network, 'unix');
    assert.equal(listener.addr.address, file);
    const c = await dial(`unix:${file}`);
    await c.write('over unix\n');
    assert.equal(await c.readLine(), 'over unix');
    const d = await dial(file, { network: 'unix' });
    await d.write('again\n');
    assert.equal(await d.readLine(), 'again');
    c.destroy();
    d.destroy();
  }
});

test('Conn.localAddr and remoteAddr on a Unix socket: the path on the listening end, @ for the unnamed one', async (t) => {
  const dir = await socketDir(t);
  const file = path.join(dir, 'addr.sock');
  const { conns } = await echoOn(t, `unix:${file}`);
  const c = await dial(`unix:${file}`);
  t.after(() => c.destroy());
  await c.write('x\n');
  await c.readLine();
  const unnamed = { network: 'unix', ip: '', port: 0, family: 0, address: '@' };
  const named = { ...unnamed, address: file };
  assert.deepEqual({ ...c.localAddr }, unnamed);
  assert.deepEqual({ ...c.remoteAddr }, named);
  assert.deepEqual({ ...conns[0]!.localAddr }, named);
  assert.deepEqual({ ...conns[0]!.remoteAddr }, unnamed);
  assert.deepEqual({ ...c.summary().remoteAddr }, named);
});

test('a stale socket file left by a crashed server is replaced', async (t) => {
  const dir = await socketDir(t);
  const file = path.join(dir, 'stale.sock');
  await crashedServer(file);
  // Nobody answers there.
  await assert.rejects(dial(`unix:${file}`), { code: 'NETKIT_DIAL_FAILED' });
  const { listener } = await echoOn(t, `unix:${file}`);
  assert.equal(listener.addr.address, file);
  const c = await dial(`unix:${file}`);
  await c.write('fresh\n');
  assert.equal(await c.readLine(), 'fresh');
  c.destroy();
});

test('a live socket is "address already in use", and the server on it keeps serving', async (t) => {
  const dir = await socketDir(t);
  const file = path.join(dir, 'live.sock');
  await echoOn(t, `unix:${file}`);
  await assert.rejects(listen(`unix:${file}`), listenFailed(/address already in use/));
  // A plain node:net server too, not only a netkit one.
  const other = path.join(dir, 'node.sock');
  const srv = net.createServer((s) => s.end());
  await new Promise<void>((resolve) => srv.listen(other, resolve));
  t.after(() => srv.close());
  await assert.rejects(listen(`unix:${other}`), listenFailed(/address already in use/));
  const c = await dial(`unix:${file}`);
  await c.write('still\n');
  assert.equal(await c.readLine(), 'still');
  c.destroy();
  assert.ok((await lstat(other)).isSocket());
});

test('a regular file, a directory or a symlink at the path: NETKIT_LISTEN_FAILED, and it is left untouched', async (t) => {
  const dir = await socketDir(t);
  const regular = path.join(dir, 'file');
  await writeFile(regular, 'precious\n');
  const directory = path.join(dir, 'dir');
  await mkdir(directory);
  await writeFile(path.join(directory, 'inside'), 'kept\n');
  // A link to a stale socket must not be followed to it, nor removed.
  const stale = path.join(dir, 'stale.sock');
  await crashedServer(stale);
  const toSocket = path.join(dir, 'to-socket');
  await symlink(stale, toSocket);
  const toFile = path.join(dir, 'to-file');
  await symlink(regular, toFile);
  const dangling = path.join(dir, 'dangling');
  await symlink(path.join(dir, 'nowhere'), dangling);
  for (const p of [regular, directory, toSocket, toFile, dangling]) {
    const before = await lstat(p);
    await assert.rejects(listen(`unix:${p}`), listenFailed(/not a socket; not removing it/), p);
    const after = await lstat(p);
    assert.equal(after.ino, before.ino, `${p} was replaced`);
    assert.equal(after.mode, before.mode, p);
    assert.equal(after.mtimeMs, before.mtimeMs, `${p} was modified`);
  }
  assert.equal(await readFile(regular, 'utf8'), 'precious\n');
  assert.equal(await readFile(path.join(directory, 'inside'), 'utf8'), 'kept\n');
  assert.ok((await lstat(stale)).isSocket(), 'the socket behind the link was removed');
  await assert.rejects(lstat(path.join(dir, 'nowhere')), { code: 'ENOENT' });
});

test('socketMode sets the socket file’s permissions; the process umask is left as it was', async (t) => {
  const dir = await socketDir(t);
  const umask = process.umask();
  for (const mode of [0o600, 0o660, 0o666]) {
    const file = path.join(dir, `m${mode.toString(8)}.sock`);
    const { listener } = await echoOn(t, `unix:${file}`, { socketMode: mode });
    assert.equal((await stat(file)).mode & 0o777, mode, `socketMode 0o${mode.toString(8)}`);
    assert.equal(process.umask(), umask);
    const c = await dial(`unix:${file}`);
    await c.write('m\n');
    assert.equal(await c.readLine(), 'm');
    c.destroy();
    await listener.close();
  }
  await assert.rejects(listen('127.0.0.1:0', { socketMode: 0o600 }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'socketMode',
  });
  await assert.rejects(listen(`unix:${path.join(dir, 'x.sock')}`, { socketMode: 0o1777 }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'socketMode',
  });
});

test('the socket file is removed on close; the path can be listened on again', async (t) => {
  const dir = await socketDir(t);
  const file = path.join(dir, 'gone.sock');
  const l = await listen(`unix:${file}`);
  assert.ok((await lstat(file)).isSocket());
  await l.close();
  await assert.rejects(lstat(file), { code: 'ENOENT' });
  const again = await listen(`unix:${file}`);
  await again.close();
  await assert.rejects(lstat(file), { code: 'ENOENT' });
});

test('proxy with a Unix socket is refused up front; nothing is created at the path', async (t) => {
  const dir = await socketDir(t);
  const file = path.join(dir, 'proxy.sock');
  await assert.rejects(listen(`unix:${file}`, { proxy: { trust: ['127.0.0.1/32'] } }), {
    code: 'NETKIT_INVALID_ARGUMENT',
    option: 'proxy',
  });
  await assert.rejects(lstat(file), { code: 'ENOENT' });
  await assert.rejects(listen('unix:'), { code: 'NETKIT_INVALID_ARGUMENT', option: 'address' });
});

test('TLS over a Unix socket: the pipeline is the same', async (t) => {
  const dir = await socketDir(t);
  const file = path.join(dir, 'tls.sock');
  const { listener, conns } = await echoOn(t, `unix:${file}`, { tls: true });
  const c = await dial(`unix:${file}`, { tls: { pin: listener.tls!.fingerprint } });
  t.after(() => c.destroy());
  await c.write('secret\n');
  assert.equal(await c.readLine(), 'secret');
  assert.equal(conns[0]!.localAddr?.address, file);
  assert.equal((conns[0]!.socket as tls.TLSSocket).encrypted, true);
});
