/**
 * One client per server command, so the tests of what every server shares
 * (TLS, reload, Unix sockets) run the same table over `tcp serve`, `rpc
 * serve`, `http serve`, `ws serve` and `recv`. A session is a connection
 * (plain or TLS, TCP or Unix) that can do a round trip of the command's
 * protocol, more than once where the protocol allows, and tells the
 * certificate the server presented.
 */
import { lstat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import tls from 'node:tls';
import { WebSocket } from 'ws';
import { fingerprintOf } from '../../src/tls/fingerprint.js';
import { sendFiles } from '../../src/transfer/index.js';

export { events } from './cli.js';

/** ClientTls is what a test client brings to a TLS server: nothing, or a client certificate. */
export interface ClientTls {
  cert?: string;
  key?: string;
}

/** Session is one open connection to a server. */
export interface Session {
  /** fingerprint is `sha256:<hex>` of the certificate the server presented (TLS only). */
  readonly fingerprint: string | undefined;
  /** exchange does one round trip of the protocol, rejecting if the server does not answer. */
  exchange(): Promise<void>;
  close(): void;
}

/** Driver is a server command and a client for it. */
export interface Driver {
  name: string;
  /** argv starts the command (without the address), in a directory of `dir` where it needs one. */
  argv(dir: string): string[];
  /** connect opens a session: plain (`false`) or TLS, with or without a client certificate. */
  connect(address: string, tls: ClientTls | false): Promise<Session>;
  /** subject finds the verified client certificate's subject in the server's --json events. */
  subject(events: Record<string, unknown>[]): string | undefined;
}

/** target turns a listening address (`127.0.0.1:1234`, `unix:/path`) into node:net connect options. */
export function target(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice(5) };
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/**
 * rawConnect opens a plain or TLS connection (no certificate checks: the
 * tests compare fingerprints themselves) and resolves once it is ready.
 */
export function rawConnect(address: string, t: ClientTls | false, alpn?: string[]): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const where = target(address);
    const socket =
      t === false
        ? net.connect(where)
        : tls.connect({
            ...where,
            rejectUnauthorized: false,
            ...(t.cert ? { cert: t.cert, key: t.key } : {}),
            ...(alpn ? { ALPNProtocols: alpn } : {}),
          });
    socket.once(t === false ? 'connect' : 'secureConnect', () => resolve(socket));
    socket.once('error', reject);
  });
}

function peerFingerprint(socket: net.Socket): string | undefined {
  const cert = (socket as tls.TLSSocket).getPeerX509Certificate?.();
  return cert === undefined ? undefined : fingerprintOf(cert.raw);
}

/** lines reads `\n`-terminated lines from a socket; next() rejects when the socket closes first. */
function lines(socket: net.Socket): () => Promise<string> {
  let buf = '';
  let waiting: { resolve: (l: string) => void; reject: (e: Error) => void } | undefined;
  let ended: Error | undefined;
  const pump = () => {
    const i = buf.indexOf('\n');
    if (waiting && i >= 0) {
      const w = waiting;
      waiting = undefined;
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      w.resolve(line);
    } else if (waiting && ended) {
      const w = waiting;
      waiting = undefined;
      w.reject(ended);
    }
  };
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    buf += d;
    pump();
  });
  const end = (err?: Error) => {
    ended ??= err ?? new Error('the server closed the connection');
    pump();
  };
  socket.on('error', end);
  socket.on('close', () => end());
  return () =>
    new Promise((resolve, reject) => {
      waiting = { resolve, reject };
      pump();
    });
}

/** lineSession is a session of a line protocol: send a line, expect an answer that passes `check`. */
async function lineSession(
  address: string,
  t: ClientTls | false,
  request: (n: number) => string,
  check: (line: string, n: number) => boolean,
): Promise<Session> {
  const socket = await rawConnect(address, t);
  const next = lines(socket);
  let n = 0;
  return {
    fingerprint: peerFingerprint(socket),
    exchange: async () => {
      const i = ++n;
      socket.write(request(i));
      const line = await next();
      if (!check(line, i)) throw new Error(`unexpected answer ${JSON.stringify(line)}`);
    },
    close: () => socket.destroy(),
  };
}

const tcpDriver: Driver = {
  name: 'tcp serve',
  argv: () => ['tcp', 'serve'],
  connect: (address, t) =>
    lineSession(
      address,
      t,
      () => 'hi\n',
      (l) => l === 'Hello, Client!',
    ),
  subject: (events) => events.find((e) => e.event === 'open' && e.subject)?.subject as string | undefined,
};

const rpcDriver: Driver = {
  name: 'rpc serve',
  // Go's net/rpc/jsonrpc codec: one JSON object per call, a line per answer.
  argv: () => ['rpc', 'serve', '--codec', 'json'],
  connect: (address, t) =>
    lineSession(
      address,
      t,
      (n) => `${JSON.stringify({ method: 'Arith.Multiply', params: [{ A: n, B: 7 }], id: n })}\n`,
      (l, n) => {
        const r = JSON.parse(l) as { id: number; result: number };
        return r.id === n && r.result === n * 7;
      },
    ),
  subject: (events) => events.find((e) => e.event === 'open' && e.subject)?.subject as string | undefined,
};

const httpDriver: Driver = {
  name: 'http serve',
  argv: () => ['http', 'serve'],
  connect: async (address, t) => {
    // One keep-alive connection, made by the test, reused by every exchange.
    const socket = await rawConnect(address, t, ['http/1.1']);
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1 });
    let given = false;
    (agent as unknown as { createConnection: () => net.Socket }).createConnection = () => {
      if (given) throw new Error('the keep-alive connection was not reused');
      given = true;
      return socket;
    };
    return {
      fingerprint: peerFingerprint(socket),
      exchange: () =>
        new Promise<void>((resolve, reject) => {
          const req = https.request(
            { host: 'localhost', path: '/x', agent, headers: { Accept: 'application/json' } },
            (res) => {
              let body = '';
              res.setEncoding('utf8');
              res.on('data', (d: string) => {
                body += d;
              });
              res.on('end', () => {
                if (res.statusCode === 200 && (JSON.parse(body) as { path: string }).path === '/x') resolve();
                else reject(new Error(`HTTP ${res.statusCode}: ${body}`));
              });
            },
          );
          req.on('error', reject);
          req.end();
        }),
      close: () => {
        agent.destroy();
        socket.destroy();
      },
    };
  },
  subject: (events) =>
    (
      events.find((e) => e.event === 'request' && (e.tls as { subject?: string } | undefined)?.subject)
        ?.tls as { subject: string } | undefined
    )?.subject,
};

const wsDriver: Driver = {
  name: 'ws serve',
  argv: () => ['ws', 'serve'],
  connect: async (address, t) => {
    const socket = await rawConnect(address, t, ['http/1.1']);
    const ws = new WebSocket(`${t === false ? 'ws' : 'wss'}://localhost/echo`, {
      createConnection: () => socket,
    } as ConstructorParameters<typeof WebSocket>[2]);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('close', () => reject(new Error('closed before the upgrade')));
    });
    let n = 0;
    return {
      fingerprint: peerFingerprint(socket),
      exchange: () =>
        new Promise<void>((resolve, reject) => {
          const text = `ping ${++n}`;
          const onClose = () => reject(new Error('the server closed the WebSocket'));
          ws.once('close', onClose);
          ws.once('message', (data: Buffer) => {
            ws.off('close', onClose);
            if (data.toString() === text) resolve();
            else reject(new Error(`echoed ${data.toString()}`));
          });
          ws.send(text);
        }),
      close: () => ws.terminate(),
    };
  },
  subject: (events) => events.find((e) => e.event === 'open' && e.subject)?.subject as string | undefined,
};

/**
 * recvDriver sends through a tunnel: `sendFiles` (plain TCP, as `netkit
 * send` without TLS) dials a local relay that pipes it into the session's
 * connection, so the session is open before its transfer starts. It does
 * one exchange: a transfer takes its connection. The receiver is started
 * with a code of the driver's (the tests that share it never read its
 * listening line), and every transfer is encrypted under it.
 */
let notes = 0;
const RECV_CODE = '5-driver-shared-code';

const recvDriver: Driver = {
  name: 'recv',
  argv: (dir) => ['recv', '--dir', dir, '--code', RECV_CODE],
  connect: async (address, t) => {
    const socket = await rawConnect(address, t);
    let used = false;
    return {
      fingerprint: peerFingerprint(socket),
      exchange: async () => {
        if (used) throw new Error('a transfer takes its connection: open another session');
        used = true;
        const relay = net.createServer((c) => {
          c.pipe(socket).pipe(c);
          c.on('error', () => socket.destroy());
          socket.on('error', () => c.destroy());
          socket.on('close', () => c.destroy());
        });
        await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
        const src = await mkdtemp(path.join(os.tmpdir(), 'netkit-send-'));
        try {
          // A name of its own, so sessions of one receiver never meet an existing file.
          const name = `note-${++notes}.txt`;
          await writeFile(path.join(src, name), `sent at ${Date.now()}\n`);
          const { port } = relay.address() as net.AddressInfo;
          const s = await sendFiles([path.join(src, name)], `127.0.0.1:${port}`, {
            code: RECV_CODE,
            connectTimeout: 5_000,
            idleTimeout: 5_000,
          });
          if (!s.ok || s.files !== 1) throw new Error(`transfer failed: ${JSON.stringify(s)}`);
        } finally {
          relay.close();
          await rm(src, { recursive: true, force: true });
        }
      },
      close: () => socket.destroy(),
    };
  },
  subject: (events) => events.find((e) => e.event === 'summary' && e.subject)?.subject as string | undefined,
};

/** DRIVERS are the five server commands. */
export const DRIVERS: readonly Driver[] = [tcpDriver, rpcDriver, httpDriver, wsDriver, recvDriver];

/** workDir is a fresh temporary directory removed after the test. */
export async function workDir(t: TestContext): Promise<string> {
  // Short: a Unix socket path must fit in about 100 bytes.
  const dir = await mkdtemp(path.join(os.tmpdir(), 'nk-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** exists tells whether anything (a file, a socket) is at `file`. */
export async function exists(file: string): Promise<boolean> {
  return lstat(file).then(
    () => true,
    (err: NodeJS.ErrnoException) => err.code !== 'ENOENT',
  );
}
