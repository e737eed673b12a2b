/**
 * Real forward proxies for tunnel tests: tinyproxy (HTTP CONNECT, with or
 * without Basic credentials) and Dante's danted (SOCKS5, with no method or
 * username/password, which Dante checks against the system's users: a
 * throwaway user is made for the test and removed after it). Each runs in
 * the foreground on a free loopback port with a generated configuration,
 * and is stopped when the test ends.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { promisify } from 'node:util';
import { type Proc, spawnProc } from './cli.js';
import { requireTool } from './tools.js';

const execFileP = promisify(execFile);

/** ForwardProxy is a running proxy: its URL (credentials included when it wants them) and how to stop it. */
export interface ForwardProxy {
  /** url is the proxy's URL, `http://…` or `socks5://…`, with `user:password@` when it has credentials. */
  url: string;
  host: string;
  port: number;
  /** credentials, when the proxy requires them. */
  user?: string;
  password?: string;
  proc: Proc;
  /** stop ends the proxy (also done when the test ends). */
  stop: () => Promise<void>;
}

/** freePort finds a loopback port nobody listens on (closed again before the proxy binds it). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * startTinyproxy runs tinyproxy allowing 127.0.0.1, with Basic
 * credentials when `auth` is set. Undefined when tinyproxy is missing (the
 * test is skipped).
 */
export async function startTinyproxy(
  t: TestContext,
  options: { auth?: boolean } = {},
): Promise<ForwardProxy | undefined> {
  if (!(await requireTool(t, 'tinyproxy'))) return undefined;
  const dir = await tempDir(t);
  const user = options.auth ? 'netkit' : undefined;
  const password = options.auth ? `pw-${randomBytes(6).toString('hex')}` : undefined;
  return launch(t, 'http', user, password, async (port) => {
    const conf = [
      `Port ${port}`,
      'Listen 127.0.0.1',
      'Timeout 30',
      'Allow 127.0.0.1',
      'LogLevel Info',
      'MaxClients 50',
      ...(options.auth ? [`BasicAuth ${user} ${password}`] : []),
    ].join('\n');
    const file = path.join(dir, 'tinyproxy.conf');
    await writeFile(file, `${conf}\n`);
    return { proc: spawnProc('tinyproxy', ['-d', '-c', file]), ready: /Accepting connections/ };
  });
}

/**
 * startDante runs danted as a SOCKS5 proxy for loopback clients. With
 * `auth`, it asks for a username and password, and a system user is made
 * for it (useradd, chpasswd; removed when the test ends); when that cannot
 * be done (not root, no useradd), the test is skipped saying why.
 */
export async function startDante(
  t: TestContext,
  options: { auth?: boolean } = {},
): Promise<ForwardProxy | undefined> {
  if (!(await requireTool(t, 'danted', 'dante-server'))) return undefined;
  const root = process.getuid?.() === 0;
  let user: string | undefined;
  let password: string | undefined;
  if (options.auth) {
    if (!root || !(await requireTool(t, 'useradd', 'passwd'))) {
      t.skip('SOCKS5 username authentication with danted needs a system user: run as root with useradd');
      return undefined;
    }
    user = `nkpx${randomBytes(4).toString('hex')}`;
    password = `pw-${randomBytes(6).toString('hex')}`;
    await execFileP('useradd', ['-M', '-N', '-s', '/usr/sbin/nologin', user]);
    const made = user;
    t.after(() => execFileP('userdel', [made]).then(() => undefined));
    await new Promise<void>((resolve, reject) => {
      const child = execFile('chpasswd', (err) => (err ? reject(err) : resolve()));
      child.stdin!.end(`${made}:${password}\n`);
    });
  }
  const dir = await tempDir(t);
  return launch(t, 'socks5', user, password, async (port) => {
    const conf = [
      'logoutput: stderr',
      `internal: 127.0.0.1 port = ${port}`,
      'external: 127.0.0.1',
      `socksmethod: ${options.auth ? 'username' : 'none'}`,
      'clientmethod: none',
      ...(root ? ['user.privileged: root', 'user.unprivileged: nobody'] : []),
      'client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
      'socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }',
    ].join('\n');
    const file = path.join(dir, 'danted.conf');
    await writeFile(file, `${conf}\n`);
    const pid = path.join(dir, 'danted.pid');
    return { proc: spawnProc('/usr/sbin/danted', ['-f', file, '-N', '1', '-p', pid]), ready: /running/ };
  });
}

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-fwd-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * launch starts a proxy on a free port and waits until it says it is ready
 * and accepts connections. The port is free when picked, but another test
 * may bind it before the proxy does: then the proxy exits, and it is started
 * again on another port (three tries). It is stopped when the test ends.
 */
async function launch(
  t: TestContext,
  scheme: string,
  user: string | undefined,
  password: string | undefined,
  spawn: (port: number) => Promise<{ proc: Proc; ready: RegExp }>,
): Promise<ForwardProxy> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const { proc, ready } = await spawn(port);
    const stop = async () => {
      await proc.kill('SIGTERM');
    };
    t.after(stop);
    let exited = false;
    void proc.exited.then(() => {
      exited = true;
    });
    const deadline = Date.now() + 10_000;
    const output = () => proc.stderr() + proc.stdout();
    for (;;) {
      if (exited) break;
      if (ready.test(output()) && (await accepts(port)) && !exited) {
        const auth = user === undefined ? '' : `${user}:${password}@`;
        return {
          url: `${scheme}://${auth}127.0.0.1:${port}`,
          host: '127.0.0.1',
          port,
          ...(user !== undefined ? { user, password } : {}),
          proc,
          stop,
        };
      }
      if (Date.now() > deadline) throw new Error(`${scheme} proxy not ready on ${port}:\n${output()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    if (attempt >= 3) throw new Error(`${scheme} proxy exited at start:\n${output()}`);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
