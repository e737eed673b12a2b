/**
 * Peers for relay tests: a node:net backend that frees its sockets after
 * the test (a half-open one would keep server.close() waiting for ever),
 * a byte echo, a client that writes, half-closes and reads to the end, and
 * a streaming server that counts what a client that never reads lets it
 * write.
 */
import { once } from 'node:events';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { type Relay, type RelayOptions, relay } from '../../src/relay/index.js';

/** backend starts a node:net server on loopback (half-open allowed) running `onConn`; its address is `host:port`. */
export async function backend(
  t: TestContext,
  onConn: (s: net.Socket) => void,
  host = '127.0.0.1',
): Promise<{ address: string; server: net.Server }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    onConn(s);
  });
  server.listen(0, host);
  await once(server, 'listening');
  t.after(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  const a = server.address() as net.AddressInfo;
  return { address: `${host.includes(':') ? `[${host}]` : host}:${a.port}`, server };
}

/** echoBackend echoes every byte, and ends after the client's FIN. */
export async function echoBackend(t: TestContext): Promise<string> {
  return (
    await backend(t, (s) => {
      s.pipe(s);
    })
  ).address;
}

/** hostPort splits `host:port` (or `[v6]:port`) for net.connect. */
export function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(address.slice(at + 1)) };
}

/** roundTrip writes `payload`, half-closes, and resolves with everything read until the peer's FIN. */
export function roundTrip(
  address: string,
  payload: Buffer | string,
  connect: (o: net.NetConnectOpts) => net.Socket = net.connect,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ ...hostPort(address), allowHalfOpen: true });
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      resolve(Buffer.concat(chunks));
      s.destroy();
    });
    s.on('error', reject);
    s.end(payload);
  });
}

/**
 * streamingBackend writes up to `limit` bytes into every connection as
 * fast as the connection takes them; `written()` is the total so far and
 * `paused()` whether a write has had to wait for 'drain'.
 */
export async function streamingBackend(
  t: TestContext,
  limit: number,
): Promise<{ address: string; written: () => number; paused: () => boolean }> {
  let written = 0;
  let paused = false;
  const b = await backend(t, (s) => {
    const chunk = Buffer.alloc(64 * 1024);
    const pump = () => {
      while (written < limit) {
        written += chunk.length;
        if (!s.write(chunk)) {
          paused = true;
          s.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  return { address: b.address, written: () => written, paused: () => paused };
}

/** startRelay starts relay(o), destroyed after the test. */
export async function startRelay(t: TestContext, o: RelayOptions): Promise<Relay> {
  const r = await relay(o);
  t.after(() => r.destroy());
  return r;
}

/** connected opens a client connection to `address`, destroyed after the test, and resolves once it is connected. */
export async function connected(t: TestContext, address: string): Promise<net.Socket> {
  const s = net.connect(hostPort(address));
  s.on('error', () => {});
  t.after(() => s.destroy());
  await once(s, 'connect');
  return s;
}

/** echoed writes `data` on a connected socket and resolves with what came back once as many bytes have. */
export async function echoed(s: net.Socket, data: Buffer | string): Promise<Buffer> {
  const want = Buffer.byteLength(data);
  const got: Buffer[] = [];
  let n = 0;
  const done = new Promise<void>((resolve) => {
    const onData = (b: Buffer) => {
      got.push(b);
      n += b.length;
      if (n >= want) {
        s.off('data', onData);
        resolve();
      }
    };
    s.on('data', onData);
  });
  s.write(data);
  await done;
  return Buffer.concat(got);
}
