/**
 * Run a real HAProxy for a test: the caller's frontends and backends, a
 * `global`/`defaults` prelude that keeps it small, quiet and quick, and a
 * probe frontend this helper connects to so it knows HAProxy is up without
 * sending a connection (and a PROXY header) to the caller's backends.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { freePort } from './net.js';
import { requireTool } from './tools.js';

export { freePort };

/** Haproxy is a running HAProxy; stop() is also called after the test. */
export interface Haproxy {
  stop(): Promise<void>;
  /** output is what HAProxy printed so far (alerts and warnings), for failure messages. */
  output(): string;
}

/**
 * PRELUDE keeps HAProxy to the test's needs: no syslog (no `log` line at all),
 * few connections, and timeouts short enough that nothing outlives a test.
 */
const PRELUDE = `global
  maxconn 64

defaults
  mode tcp
  timeout connect 1s
  timeout client 5s
  timeout server 5s
`;

/** connectOnce resolves true when something accepts a TCP connection on host:port. */
function connectOnce(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * startHaproxy runs `haproxy -f cfg -db` with `config` (frontends and
 * backends; this helper adds global, defaults and its probe frontend) and
 * resolves once HAProxy listens. Pass a function to get fresh ports on each
 * try: a port taken between freePort() and HAProxy's bind makes HAProxy exit,
 * and the start is retried. Resolves undefined when haproxy is not installed
 * (the test is then skipped, or fails under CI=true).
 */
export async function startHaproxy(
  t: TestContext,
  config: string | (() => Promise<string>),
): Promise<Haproxy | undefined> {
  if (!(await requireTool(t, 'haproxy', 'haproxy'))) return undefined;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-haproxy-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const tries = typeof config === 'string' ? 1 : 3;
  let last: Error | undefined;
  for (let i = 0; i < tries; i++) {
    const body = typeof config === 'string' ? config : await config();
    try {
      const proxy = await startOnce(dir, body);
      t.after(() => proxy.stop());
      return proxy;
    } catch (err) {
      last = err as Error;
      // Only a lost port race is worth another try; a bad config is not.
      if (!/cannot bind socket|Address already in use/i.test(last.message)) break;
    }
  }
  throw last;
}

async function startOnce(dir: string, body: string): Promise<Haproxy> {
  const probe = await freePort();
  // All listeners are bound before HAProxy accepts on any, so once the probe
  // answers, every frontend in `body` listens too. It rejects at once and so
  // never reaches a backend.
  const cfg = `${PRELUDE}\nfrontend netkit_probe\n  bind 127.0.0.1:${probe}\n  tcp-request connection reject\n\n${body}\n`;
  const file = path.join(dir, 'haproxy.cfg');
  await writeFile(file, cfg);
  const child = spawn('haproxy', ['-f', file, '-db'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    // SIGTERM is HAProxy's hard stop; SIGKILL only if it hangs anyway.
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 5000;
  for (;;) {
    if (gone) throw new Error(`haproxy exited before listening:\n${out}\nconfig:\n${cfg}`);
    if (await connectOnce('127.0.0.1', probe)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not listen within 5s:\n${out}\nconfig:\n${cfg}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { stop, output: () => out };
}

/** Route is one HAProxy frontend and its backend with a single server. */
export interface Route {
  /** send is the server's PROXY option: 'send-proxy' (v1), 'send-proxy-v2', or '' for none. */
  send: 'send-proxy' | 'send-proxy-v2' | '';
  /** host HAProxy listens on (127.0.0.1 unless told; '::1' for IPv6). */
  host?: string;
  mode?: 'tcp' | 'http';
  /** frontend and backend are extra lines for those sections, e.g. `option forwardfor`. */
  frontend?: readonly string[];
  backend?: readonly string[];
  /** server is extra words for the server line, e.g. `check inter 100ms`. */
  server?: string;
}

/**
 * haproxyInFront starts HAProxy with one frontend per route, each on a free
 * port and forwarding to `target` (host:port), and returns the frontends'
 * ports in route order (undefined when haproxy is missing and the test skipped).
 */
export async function haproxyInFront(
  t: TestContext,
  target: string,
  routes: Route[],
): Promise<{ ports: number[]; haproxy: Haproxy } | undefined> {
  let ports: number[] = [];
  const haproxy = await startHaproxy(t, async () => {
    ports = await Promise.all(routes.map((r) => freePort(r.host ?? '127.0.0.1')));
    return routes.map((r, i) => section(r, i, ports[i]!, target)).join('\n');
  });
  return haproxy ? { ports, haproxy } : undefined;
}

function section(r: Route, i: number, port: number, target: string): string {
  const host = r.host ?? '127.0.0.1';
  const mode = `  mode ${r.mode ?? 'tcp'}`;
  return [
    `frontend fe${i}`,
    mode,
    `  bind ${host.includes(':') ? `[${host}]` : host}:${port}`,
    ...(r.frontend ?? []).map((l) => `  ${l}`),
    `  default_backend be${i}`,
    `backend be${i}`,
    mode,
    ...(r.backend ?? []).map((l) => `  ${l}`),
    `  server s1 ${target} ${r.send} ${r.server ?? ''}`,
    '',
  ].join('\n');
}
