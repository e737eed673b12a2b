import { readdirSync } from 'node:fs';
import net from 'node:net';
import type { TestContext } from 'node:test';
import type { FrameDecoder } from '../../src/framing/index.js';
import {
  type Conn,
  dial,
  type Handler,
  type Listener,
  listen,
  type Server,
  serve,
} from '../../src/tcp/index.js';

/** openFds counts this process's open file descriptors (Linux). */
export function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** until polls `cond` every 10 ms and rejects after `ms`. */
export async function until(cond: () => boolean, ms = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** sleep waits ms milliseconds. */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** startServer listens on 127.0.0.1:0, serves `handler`, and shuts down after the test. */
export async function startServer(
  t: TestContext,
  handler: Handler,
  options: Parameters<typeof serve>[2] = {},
): Promise<{ listener: Listener; server: Server; address: string }> {
  const listener = await listen('127.0.0.1:0');
  const server = serve(listener, handler, options);
  t.after(() => server.close({ timeout: 100 }));
  return { listener, server, address: listener.addr.address };
}

/** readAll reads a connection to its end and returns the bytes. */
export async function readAll(conn: Conn): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of conn) parts.push(c);
  return Buffer.concat(parts);
}

/** connectTo starts a server running `handler` and dials it; both are cleaned up after the test. */
export async function connectTo(t: TestContext, handler: Handler, options: Parameters<typeof serve>[2] = {}) {
  const started = await startServer(t, handler, options);
  const client = await dial(started.address);
  t.after(() => client.destroy());
  return { ...started, client };
}

/** collectFrames reads every frame of `conn` as text and reports how the loop ended. */
export async function collectFrames(
  conn: Conn,
  decoder: FrameDecoder,
): Promise<{ frames: string[]; error: { code?: string } | undefined }> {
  const frames: string[] = [];
  try {
    for await (const f of conn.frames(decoder)) frames.push(f.toString());
    return { frames, error: undefined };
  } catch (err) {
    return { frames, error: err as { code?: string } };
  }
}

/**
 * freePort finds a port that is free on `host` right now: bind port 0, read
 * the port, close. Another process may take it before HAProxy binds it, which
 * is why callers that bind it later (startHaproxy) retry.
 */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<number>((resolve, reject) => {
        const srv = net.createServer();
        srv.once('error', reject);
        srv.listen(0, host, () => {
          const { port } = srv.address() as net.AddressInfo;
          srv.close(() => resolve(port));
        });
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}
