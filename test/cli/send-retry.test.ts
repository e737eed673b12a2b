/**
 * `netkit send --retry`: a receiver that is not up yet is tried again
 * until it is; a connection broken mid-file (a relay fault closes it after
 * 256 KiB) is sent again and the receiver resumes its part; without
 * --retry the same break fails at once.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { serveFiles } from '../../src/transfer/index.js';
import { cli, startCli } from '../helpers/cli.js';
import { freePort } from '../helpers/net.js';
import { startRelay } from '../helpers/relay.js';

async function dirs(t: TestContext) {
  const root = await mkdtemp(path.join(os.tmpdir(), 'nk-retry-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  const file = path.join(root, 'data.bin');
  const bytes = randomBytes(2 * 1024 * 1024);
  await writeFile(file, bytes);
  return { root, file, sha: createHash('sha256').update(bytes).digest('hex'), out: path.join(root, 'in') };
}

/**
 * cutAfter starts a receiver into `dir` behind a relay whose fault `cut`
 * closes a connection after 256 KiB sent; `code` is the receiver's.
 */
async function cutAfter(t: TestContext, dir: string) {
  const receiver = await serveFiles('127.0.0.1:0', { dir });
  t.after(() => receiver.destroy());
  const relay = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [receiver.address],
    faults: [{ name: 'cut', type: 'limit_data', stream: 'upstream', attributes: { bytes: 256 * 1024 } }],
  });
  return { relay, code: receiver.code! };
}

const sha = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

test('--retry: a receiver that comes up late is reached on a later attempt', async (t) => {
  const d = await dirs(t);
  const port = await freePort();
  // The code is agreed beforehand, as a person would read it out before starting the receiver.
  const code = '4-late-shift-tiger';
  const run = startCli([
    'send',
    d.file,
    `127.0.0.1:${port}`,
    '--code',
    code,
    '--retry',
    '5',
    '--connect-timeout',
    '1s',
    '--json',
  ]);
  await run.waitFor(/"event":"retry".*"code":"NETKIT_DIAL_FAILED"/, 10_000);
  const receiver = await serveFiles(`127.0.0.1:${port}`, { dir: d.out, code });
  t.after(() => receiver.destroy());
  assert.equal(await run.done, 0, run.stderr());
  assert.equal(await sha(path.join(d.out, 'data.bin')), d.sha);
});

test('--retry: a connection broken mid-file is sent again and resumes the part', async (t) => {
  const d = await dirs(t);
  const { relay: r, code } = await cutAfter(t, d.out);
  // The first connection is cut; the fault is gone for the next one.
  r.once('close', () => r.toxics.remove('cut'));
  const run = startCli(['send', d.file, r.address, '--code', code, '--retry', '2', '--json']);
  assert.equal(await run.done, 0, run.stdout() + run.stderr());
  const retry = run
    .stdout()
    .split('\n')
    .filter((l) => l.includes('"event":"retry"'))
    .map((l) => JSON.parse(l));
  assert.equal(retry.length, 1);
  assert.equal(retry[0].path, 'data.bin');
  assert.equal(await sha(path.join(d.out, 'data.bin')), d.sha);
});

test('without --retry the same break fails, saying a resend resumes', async (t) => {
  const d = await dirs(t);
  const { relay: r, code } = await cutAfter(t, d.out);
  const res = await cli(['send', d.file, r.address, '--code', code, '--json']);
  assert.notEqual(res.code, 0);
  assert.match(res.stdout, /"event":"resumable"/);
});
