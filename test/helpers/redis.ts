/**
 * startRedis runs a throwaway redis-server on a free loopback port for one
 * test: no persistence, nothing written to disk, killed after the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import type { TestContext } from 'node:test';
import { requireTool } from './tools.js';

/** RedisServer is a running redis-server; restart() keeps its port. */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
}

/** startRedis returns a running server, or undefined when redis-server is missing (the test is skipped). */
export async function startRedis(t: TestContext): Promise<RedisServer | undefined> {
  if (!(await requireTool(t, 'redis-server', 'redis-server'))) return undefined;
  let child: ChildProcess | undefined;
  let port = 0;
  // Another process may grab the port between probing and binding it; try again with a new one.
  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      child = await launch(port);
      break;
    } catch (err) {
      if (attempt >= 5) throw err;
    }
  }
  const stop = async () => {
    const c = child;
    child = undefined;
    if (c) await kill(c);
  };
  t.after(stop);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    async restart() {
      await stop();
      child = await launch(port);
    },
  };
}

/** freePort asks the kernel for an unused loopback port. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** launch starts redis-server on `port` and resolves once it answers PING. */
async function launch(port: number): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--protected-mode', 'yes');
  // cwd is the temp dir so that nothing can ever land in the repository.
  const child = spawn('redis-server', args, { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const deadline = Date.now() + 10_000;
  while (!(await answersPing(port))) {
    if (child.exitCode !== null || child.signalCode !== null || Date.now() > deadline) {
      await kill(child);
      throw new Error(`redis-server on port ${port} did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

/** answersPing is true when a Redis on `port` replies +PONG. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let reply = '';
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('error', () => done(false));
    sock.once('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d: Buffer) => {
      reply += d.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/** kill ends the server and waits for the process to be gone, so its port is free again. */
function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}
