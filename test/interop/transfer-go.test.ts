/**
 * netkit send/recv against the classic Go file transfer programs (built from
 * test/interop/filesend and filerecv): one file per connection, name, "ok",
 * bytes until close. Also what a receiver does with a name that climbs out
 * of its directory, and with a classic sender when it is not in --compat.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { type CliRun, cli, spawnProc, startCli } from '../helpers/cli.js';
import { goProgram } from '../helpers/tools.js';

const execFileP = promisify(execFile);

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-xfer-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** writeFiles creates the files under `dir` and returns their paths, in order. */
async function writeFiles(dir: string, files: Record<string, Buffer>): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [name, data] of Object.entries(files)) {
    const p = path.join(dir, name);
    await writeFile(p, data);
    paths.push(p);
  }
  return paths;
}

async function assertSameFiles(dir: string, files: Record<string, Buffer>): Promise<void> {
  assert.deepEqual((await readdir(dir)).sort(), Object.keys(files).sort());
  for (const [name, data] of Object.entries(files)) {
    const got = await readFile(path.join(dir, name));
    assert.ok(got.equals(data), `${name}: ${got.length} bytes differ from the ${data.length} sent`);
  }
}

/** listTree returns every path under `dir`, relative to it. */
async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

/** summaries waits until `run` has printed `n` recv summary events and returns them. */
async function summaries(run: CliRun, n: number, ms = 20_000): Promise<Array<{ ok: boolean }>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = run
      .stdout()
      .split('\n')
      .filter((l) => l.includes('"event":"summary"'))
      .map((l) => JSON.parse(l) as { ok: boolean });
    if (found.length >= n) return found;
    if (Date.now() > deadline) {
      throw new Error(`expected ${n} summaries; output:\n${run.stdout()}\n${run.stderr()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * classicSend plays the classic sender's first step: write the name and wait
 * for the reply. It resolves with everything the receiver sent before
 * closing, or rejects if the connection is still open after `ms`.
 */
function classicSend(address: string, name: string, ms = 10_000): Promise<string> {
  const { hostname, port } = new URL(`tcp://${address}`);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: hostname.replace(/^\[|\]$/g, ''), port: Number(port) });
    const got: Buffer[] = [];
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`connection still open after ${ms} ms; received ${JSON.stringify(`${got}`)}`));
    }, ms);
    sock.on('connect', () => sock.write(name));
    sock.on('data', (d: Buffer) => got.push(d));
    // A reset is a close too: the receiver may drop the connection without reading everything.
    sock.on('error', () => {});
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(got).toString('latin1'));
    });
  });
}

test('Go filesend -> netkit recv --compat: empty, 3 MiB random and "file..mp4" arrive intact', async (t) => {
  const sender = await goProgram(t, 'test/interop/filesend');
  if (!sender) return;
  const base = await tempDir(t);
  const dest = path.join(base, 'dest');
  const files = {
    'empty.txt': Buffer.alloc(0),
    'random.bin': randomBytes(3 * 1024 * 1024),
    'file..mp4': Buffer.from('not really a video\n'),
    'notes.txt': Buffer.from('ünïcödé line\r\nsecond line\n'),
  };
  const paths = await writeFiles(path.join(base, 'src'), files);
  const run = startCli(['recv', '127.0.0.1:0', '--compat', '--dir', dest, '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"event":"listening".*"address":"([^"]+)"/);
  const { stdout } = await execFileP(sender, ['-addr', address!, ...paths]);
  assert.equal(
    stdout,
    Object.entries(files)
      .map(([name, data]) => `sent ${name} ${data.length}\n`)
      .join(''),
  );
  const sums = await summaries(run, paths.length);
  assert.ok(
    sums.every((s) => s.ok),
    run.stdout(),
  );
  await assertSameFiles(dest, files);
});

test('netkit send --compat -> Go filerecv: two files, one connection each', async (t) => {
  const receiver = await goProgram(t, 'test/interop/filerecv');
  if (!receiver) return;
  const base = await tempDir(t);
  const dest = path.join(base, 'dest');
  await mkdir(dest);
  const files = {
    'one.bin': randomBytes(1024 * 1024 + 17),
    'two.txt': Buffer.from('hello from netkit\n'),
  };
  const paths = await writeFiles(path.join(base, 'src'), files);
  const p = spawnProc(receiver, ['-dir', dest, '-n', String(paths.length)]);
  t.after(() => p.kill());
  const [, address] = await p.waitFor(/listening (\S+)/);
  const r = await cli(['send', '--compat', ...paths, address!]);
  assert.equal(r.code, 0, r.stderr);
  const exit = await p.exited;
  assert.equal(exit.code, 0, p.stderr());
  const lines = p.stdout().trim().split('\n').slice(1).sort();
  assert.deepEqual(lines, ['received one.bin 1048593', 'received two.txt 18']);
  await assertSameFiles(dest, files);
});

test('netkit recv --compat refuses "../../escape.txt" without "ok" and keeps serving', async (t) => {
  const sender = await goProgram(t, 'test/interop/filesend');
  if (!sender) return;
  const base = await tempDir(t);
  // ../../escape.txt from base/a/b/dest would be base/a/escape.txt.
  const dest = path.join(base, 'a', 'b', 'dest');
  await mkdir(dest, { recursive: true });
  const before = await listTree(base);
  const run = startCli(['recv', '127.0.0.1:0', '--compat', '--dir', dest, '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"event":"listening".*"address":"([^"]+)"/);

  for (const name of ['../../escape.txt', '..\\..\\escape.txt', '/etc/escape.txt', '..']) {
    const reply = await classicSend(address!, name);
    assert.notEqual(reply, 'ok', `${name} was accepted`);
    assert.ok(!reply.startsWith('ok'), `${name}: receiver answered ${JSON.stringify(reply)}`);
  }
  assert.deepEqual(await listTree(base), before, 'something was written');

  const [good] = await writeFiles(path.join(base, 'src'), { 'after.txt': Buffer.from('still here\n') });
  await execFileP(sender, ['-addr', address!, good!]);
  await run.waitFor(/"event":"summary"[^\n]*"ok":true/, 10_000);
  assert.equal(await readFile(path.join(dest, 'after.txt'), 'utf8'), 'still here\n');
  assert.deepEqual(await listTree(path.join(base, 'a')), ['b', 'b/dest', 'b/dest/after.txt']);
});

test('a classic sender to netkit recv without --compat is closed without "ok"', async (t) => {
  const base = await tempDir(t);
  const dest = path.join(base, 'dest');
  const run = startCli(['recv', '127.0.0.1:0', '--dir', dest, '--json']);
  t.after(() => run.abort());
  const [, address] = await run.waitFor(/"event":"listening".*"address":"([^"]+)"/);
  const [, code] = await run.waitFor(/"event":"listening".*"code":"([^"]+)"/);

  const reply = await classicSend(address!, 'classic-sender-file.txt');
  assert.ok(!reply.startsWith('ok'), `receiver answered ${JSON.stringify(reply)}`);
  const created = await readdir(dest).catch(() => []);
  assert.deepEqual(created, [], 'the classic sender left a file behind');

  // The receiver still takes a transfer from netkit send.
  const [file] = await writeFiles(path.join(base, 'src'), { 'native.bin': randomBytes(100_000) });
  const r = await cli(['send', file!, address!, '--code', code!]);
  assert.equal(r.code, 0, r.stderr);
  await assertSameFiles(dest, { 'native.bin': await readFile(file!) });
});
