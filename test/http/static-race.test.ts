import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, lstatSync, openSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fixture, SECRET } from './static-fixture.js';

// The swapper runs in its own process so that its tight loop of renames races
// the server's thread pool instead of blocking the server's event loop. Each
// turn puts `.held-b` at the target and then `.held-a` back (two renames
// each, as directories cannot be renamed over a non-empty directory), and it
// stops by itself after `ms` so that a crashed test leaves nothing behind.
const SWAPPER = `
const fs = require('node:fs');
const [dir, target, ms] = process.argv.slice(1);
const t = dir + '/' + target, a = dir + '/.held-a', b = dir + '/.held-b';
const deadline = Date.now() + Number(ms);
while (Date.now() < deadline) {
  fs.renameSync(t, a); fs.renameSync(b, t);
  fs.renameSync(t, b); fs.renameSync(a, t);
}
`;

/**
 * swap starts flipping `dir/target` between what is there and `dir/.held-b`.
 * The test must stop it (see stop) before the fixture's directory is removed;
 * after the test it is stopped in any case.
 */
async function swap(t: TestContext, dir: string, target: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', SWAPPER, dir, target, '15000'], { stdio: 'ignore' });
  t.after(() => stop(child));
  await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
  return child;
}

/** stop ends a swapper and waits for it, so that the tree no longer changes. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill();
  await exited;
}

interface Outcome {
  statuses: Map<number, number>;
  leaked: number;
  hung: number;
}

/**
 * hammer requests `url` from `workers` loops until `count` requests or `ms`
 * have passed, each request given `timeoutMs`, and tallies what came back.
 */
async function hammer(url: string, { count = 2000, ms = 5000, workers = 4, timeoutMs = 2000 } = {}) {
  const out: Outcome = { statuses: new Map(), leaked: 0, hung: 0 };
  const deadline = Date.now() + ms;
  let sent = 0;
  const worker = async () => {
    while (sent < count && Date.now() < deadline) {
      sent++;
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        const body = await res.text();
        out.statuses.set(res.status, (out.statuses.get(res.status) ?? 0) + 1);
        if (body.includes(SECRET)) out.leaked++;
      } catch (err) {
        if ((err as Error).name !== 'TimeoutError') throw err;
        out.hung++;
      }
    }
  };
  await Promise.all(Array.from({ length: workers }, worker));
  return out;
}

/**
 * release opens every FIFO in `paths` for writing, which completes any open
 * for reading that is blocked on it (and the reader then sees end of file).
 * It is done synchronously, on the main thread: a wedged thread pool could not
 * run it. Without this a test against a server that blocks would never end.
 */
async function release(paths: string[]): Promise<void> {
  for (let i = 0; i < 10; i++) {
    for (const p of paths) {
      try {
        if (!lstatSync(p).isFIFO()) continue;
        closeSync(openSync(p, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // ENXIO: nobody is waiting on it
      }
    }
    await sleep(50);
  }
}

/** ok fetches `url` and expects a 200 within `timeoutMs`: a server whose thread pool is wedged gives none. */
async function ok(url: string, timeoutMs = 3000): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    assert.equal(res.status, 200, url);
    return await res.text();
  } catch (err) {
    if ((err as Error).name !== 'TimeoutError') throw err;
    assert.fail(`${url}: no answer within ${timeoutMs} ms`);
  }
}

describe('serveHttp({ dir }) and a local writer racing it', () => {
  it('RELIABILITY 38: a file swapped for a symlink out of the root is never served', async (t) => {
    const { root, outer, base } = await fixture(t);
    await fs.writeFile(path.join(root, 'race.txt'), 'public\n');
    await fs.symlink(path.join(outer, 'secret.txt'), path.join(root, '.held-b'));
    const swapper = await swap(t, root, 'race.txt');
    const out = await hammer(`${base}/race.txt`).finally(() => stop(swapper));
    assert.equal(out.leaked, 0, `secret served ${out.leaked} times: ${[...out.statuses]}`);
    assert.equal(out.hung, 0);
    assert.deepEqual(
      [...out.statuses.keys()].filter((s) => s !== 200 && s !== 404),
      [],
      'only the file or nothing',
    );
    assert.ok(out.statuses.get(200), 'the race was run: the file itself was served');
  });

  it('RELIABILITY 38: a parent directory swapped for a symlink out of the root is never followed', async (t) => {
    const { root, outer, base } = await fixture(t);
    await fs.mkdir(path.join(root, 'racedir'));
    await fs.writeFile(path.join(root, 'racedir', 'secret.txt'), 'public\n');
    await fs.symlink(path.join(outer, 'private'), path.join(root, '.held-b'));
    const swapper = await swap(t, root, 'racedir');
    const out = await hammer(`${base}/racedir/secret.txt`).finally(() => stop(swapper));
    assert.equal(out.leaked, 0, `secret served ${out.leaked} times: ${[...out.statuses]}`);
    assert.equal(out.hung, 0);
    assert.ok(out.statuses.get(200), 'the race was run: the file itself was served');
  });

  it('RELIABILITY 38: FIFOs and sockets in the root are refused without blocking', async (t) => {
    const { root, base } = await fixture(t);
    const fifo = path.join(root, 'pipe');
    execFileSync('mkfifo', [fifo]);
    await fs.symlink(fifo, path.join(root, 'pipe-alias'));
    const sock = net.createServer();
    await new Promise<void>((resolve) => sock.listen(path.join(root, 'sock'), resolve));
    t.after(() => new Promise((resolve) => sock.close(resolve)));
    try {
      // more than the thread pool's 4 threads, all at once
      const targets = Array.from({ length: 12 }, (_, i) => ['/pipe', '/pipe-alias', '/sock'][i % 3]);
      const results = await Promise.all(
        targets.map(async (p) => {
          const res = await fetch(`${base}${p}`, { signal: AbortSignal.timeout(3000) });
          await res.text();
          return [p, res.status] as const;
        }),
      );
      for (const [p, status] of results) assert.equal(status, 404, p);
      assert.equal(await ok(`${base}/hello.txt`), 'hello, world\n');
      const listing = await (await fetch(`${base}/`, { headers: { accept: 'application/json' } })).json();
      const names = (listing as { name: string }[]).map((e) => e.name);
      for (const hidden of ['pipe', 'pipe-alias', 'sock']) assert.ok(!names.includes(hidden), hidden);
    } finally {
      await release([fifo]);
    }
  });

  it('RELIABILITY 38: a file swapped for a FIFO never wedges the server', async (t) => {
    const { root, base } = await fixture(t);
    await fs.writeFile(path.join(root, 'race.txt'), 'public\n');
    execFileSync('mkfifo', [path.join(root, '.held-b')]);
    const swapper = await swap(t, root, 'race.txt');
    let out: Outcome;
    try {
      out = await hammer(`${base}/race.txt`, { count: 1000, ms: 4000, workers: 8 });
      await stop(swapper);
      // a normal request after the race must still be answered promptly
      assert.equal(await ok(`${base}/hello.txt`), 'hello, world\n');
    } finally {
      await stop(swapper);
      await release(['race.txt', '.held-a', '.held-b'].map((n) => path.join(root, n)));
    }
    assert.equal(out.hung, 0, `${out.hung} requests got no answer: ${[...out.statuses]}`);
    assert.ok(out.statuses.get(200), 'the race was run: the file itself was served');
  });
});
