/**
 * unix:/path on every server command: a stale socket file (a server that
 * crashed left it) is replaced, a file that is not a socket is never
 * removed, --socket-mode sets the file's permissions.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { cli, startCli } from '../helpers/cli.js';
import { DRIVERS, events, exists, workDir } from '../helpers/serve-drivers.js';

/** staleSocket leaves a socket file at `file` that nobody listens on: its server was killed before it could clean up. */
async function staleSocket(file: string): Promise<void> {
  const child = spawn(process.execPath, [
    '-e',
    `require('node:net').createServer().listen(${JSON.stringify(file)}, () => process.kill(process.pid, 'SIGKILL'))`,
  ]);
  await new Promise((resolve) => child.once('exit', resolve));
  assert.ok((await stat(file)).isSocket(), 'a stale socket file');
}

for (const driver of DRIVERS) {
  describe(`${driver.name} on a Unix socket`, () => {
    it('replaces a stale socket file, serves on it, and removes it when stopped', async (t) => {
      const dir = await workDir(t);
      const sock = path.join(dir, 's.sock');
      await staleSocket(sock);
      const run = startCli([...driver.argv(dir), `unix:${sock}`, '--json']);
      t.after(() => run.abort());
      await run.waitFor(/"event":"listening"/, 15_000);
      const listening = events(run.stdout()).find((e) => e.event === 'listening')!;
      assert.equal(listening.address, `unix:${sock}`);
      const s = await driver.connect(`unix:${sock}`, false);
      t.after(() => s.close());
      await s.exchange();
      s.close();
      run.abort();
      assert.equal(await run.done, 0);
      assert.equal(await exists(sock), false, 'the socket file is removed');
    });

    it('leaves a regular file at the path alone, and the error names it', async (t) => {
      const dir = await workDir(t);
      const file = path.join(dir, 'precious.txt');
      await writeFile(file, 'keep me\n');
      const r = await cli([...driver.argv(dir), `unix:${file}`]);
      assert.equal(r.code, 3, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`${file.replace(/[.]/g, '\\.')} exists and is not a socket; not removing it`),
      );
      assert.equal(await readFile(file, 'utf8'), 'keep me\n');
    });
  });
}

describe('Unix socket flags', () => {
  it('--socket-mode 0600 makes the socket file owner-only; clients show as unix:@', async (t) => {
    const dir = await workDir(t);
    const sock = path.join(dir, 's.sock');
    const run = startCli(['tcp', 'serve', `unix:${sock}`, '--socket-mode', '0600', '--json']);
    t.after(() => run.abort());
    await run.waitFor(/"event":"listening"/, 15_000);
    assert.equal((await stat(sock)).mode & 0o777, 0o600);
    const s = await DRIVERS[0]!.connect(`unix:${sock}`, false);
    t.after(() => s.close());
    await s.exchange();
    await run.waitFor(/"event":"open","remote":"unix:@","local":"unix:[^"]+s\.sock"/);
  });

  it('TLS over a Unix socket: http serve --tls answers at https://unix:/path:/', async (t) => {
    const dir = await workDir(t);
    const sock = path.join(dir, 's.sock');
    const run = startCli(['http', 'serve', `unix:${sock}`, '--tls', '--json']);
    t.after(() => run.abort());
    await run.waitFor(/"event":"listening"/, 15_000);
    const listening = events(run.stdout()).find((e) => e.event === 'listening')!;
    assert.equal(listening.url, `https://unix:${sock}:/`);
    const http = DRIVERS.find((d) => d.name === 'http serve')!;
    const s = await http.connect(`unix:${sock}`, {});
    t.after(() => s.close());
    assert.equal(s.fingerprint, listening.fingerprint);
    await s.exchange();
    await run.waitFor(/"event":"request".*"remote":\{"ip":"","port":0,"unix":true\}/);
  });

  it('usage errors: --socket-mode without unix:, --network or --proxy-protocol with it', async (t) => {
    const dir = await workDir(t);
    const sock = `unix:${path.join(dir, 's.sock')}`;
    const cases: [string[], RegExp][] = [
      [['tcp', 'serve', '127.0.0.1:0', '--socket-mode', '0600'], /--socket-mode: .*unix:\/path/],
      [['tcp', 'serve', sock, '--socket-mode', '999'], /--socket-mode.*octal/],
      [['http', 'serve', sock, '--network', 'tcp6'], /--network: .*Unix socket/],
      [
        ['rpc', 'serve', sock, '--proxy-protocol', '--trust', '127.0.0.1/32'],
        /--proxy-protocol: .*Unix socket/,
      ],
    ];
    for (const [i, [argv, want]] of cases.entries()) {
      const r = await cli(argv);
      assert.equal(r.code, 2, `#${i}: ${r.stderr}`);
      assert.match(r.stderr, want, `#${i}`);
    }
    assert.equal(await exists(sock.slice(5)), false, 'nothing was bound');
  });
});
