/**
 * --workers through the one server helper, on real processes: every
 * command (rpc serve too), one ephemeral certificate for all workers,
 * SIGHUP passed on to each, and Unix sockets shared through node:cluster.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { type Proc, spawnNetkit } from '../helpers/cli.js';
import { makePki } from '../helpers/openssl-certs.js';
import { DRIVERS, type Driver, events, exists, type Session, workDir } from '../helpers/serve-drivers.js';

const driver = (name: string): Driver => DRIVERS.find((d) => d.name === name)!;

/** start runs a real netkit with --json and waits for its listening event. */
async function start(
  t: TestContext,
  argv: string[],
): Promise<{ p: Proc; listening: Record<string, unknown> }> {
  const p = spawnNetkit([...argv, '--json']);
  t.after(() => p.kill('SIGKILL'));
  await p.waitFor(/"event":"listening"/, 20_000);
  return { p, listening: events(p.stdout()).find((e) => e.event === 'listening')! };
}

/** workersSeen is the set of workers that logged an `open` so far. */
function workersSeen(p: Proc): Set<number> {
  return new Set(
    events(p.stdout())
      .filter((e) => e.event === 'open' || e.event === 'request')
      .map((e) => e.worker as number),
  );
}

/**
 * spread opens sessions, one exchange each, until both workers have served
 * one, and returns them. The kernel picks the worker that accepts, which is
 * no strict alternation, hence the generous bound.
 */
async function spread(
  t: TestContext,
  p: Proc,
  d: Driver,
  address: string,
  tls: false | object,
): Promise<Session[]> {
  const sessions: Session[] = [];
  t.after(() => {
    for (const s of sessions) s.close();
  });
  for (let i = 0; i < 32 && workersSeen(p).size < 2; i++) {
    const s = await d.connect(address, tls);
    sessions.push(s);
    await s.exchange();
    await p.waitFor(new RegExp(`("event":"(open|request)".*){${i + 1}}`, 's'));
  }
  assert.deepEqual([...workersSeen(p)].sort(), [1, 2], 'both workers served');
  return sessions;
}

describe('--workers', () => {
  it('rpc serve --workers 2 serves calls from both workers and stops with exit 0', async (t) => {
    const { p, listening } = await start(t, [
      'rpc',
      'serve',
      '127.0.0.1:0',
      '--codec',
      'json',
      '--workers',
      '2',
    ]);
    assert.equal(listening.workers, 2);
    assert.deepEqual(listening.services, ['Arith']);
    await spread(t, p, driver('rpc serve'), listening.address as string, false);
    // A call's line may follow its connection's by up to one log write interval.
    await p.waitFor(/"event":"call"[^\n]*"method":"Arith\.Multiply"/);
    assert.ok(
      events(p.stdout()).some((e) => e.event === 'call' && e.method === 'Arith.Multiply' && e.worker),
    );
    assert.equal((await p.kill('SIGTERM')).code, 0);
    assert.ok(events(p.stdout()).some((e) => e.event === 'stopped'));
  });

  it('--workers 2 --tls: the primary makes one certificate and both workers serve it', async (t) => {
    const { p, listening } = await start(t, ['tcp', 'serve', '127.0.0.1:0', '--tls', '--workers', '2']);
    assert.match(listening.fingerprint as string, /^sha256:[0-9a-f]{64}$/);
    const sessions = await spread(t, p, driver('tcp serve'), listening.address as string, {});
    for (const s of sessions) assert.equal(s.fingerprint, listening.fingerprint);
    assert.equal((await p.kill('SIGTERM')).code, 0);
  });

  it('http serve --workers 2 --cert/--key: SIGHUP to the primary reloads the certificate in each worker', async (t) => {
    const pki = await makePki(t);
    if (!pki) return;
    const dir = await workDir(t);
    const cert = path.join(dir, 'cert.pem');
    const key = path.join(dir, 'key.pem');
    await copyFile(pki.selfSigned.cert.file, cert);
    await copyFile(pki.selfSigned.key.file, key);
    const argv = ['http', 'serve', '127.0.0.1:0', '--workers', '2', '--cert', cert, '--key', key];
    const { p, listening } = await start(t, argv);
    assert.equal(listening.fingerprint, pki.selfSigned.fingerprint);
    await copyFile(pki.server.cert.file, cert);
    await copyFile(pki.server.key.file, key);
    p.child.kill('SIGHUP');
    await p.waitFor(/("event":"reload","ok":true.*){2}/s);
    const reloads = events(p.stdout()).filter((e) => e.event === 'reload');
    assert.deepEqual(reloads.map((e) => e.worker).sort(), [1, 2]);
    for (const r of reloads) assert.equal(r.fingerprint, pki.server.fingerprint);
    const sessions = await spread(t, p, driver('http serve'), listening.address as string, {});
    for (const s of sessions) assert.equal(s.fingerprint, pki.server.fingerprint);
    assert.equal((await p.kill('SIGTERM')).code, 0);
  });

  it('ws serve --workers 2 on a Unix socket: both workers accept on the one path', async (t) => {
    const dir = await workDir(t);
    const sock = path.join(dir, 's.sock');
    const { p, listening } = await start(t, ['ws', 'serve', `unix:${sock}`, '--workers', '2']);
    assert.equal(listening.address, `unix:${sock}`);
    await spread(t, p, driver('ws serve'), `unix:${sock}`, false);
    for (const e of events(p.stdout()).filter((e) => e.event === 'open')) assert.equal(e.remote, 'unix:@');
    assert.equal((await p.kill('SIGTERM')).code, 0);
    assert.equal(await exists(sock), false, 'the socket file is removed');
  });
});
