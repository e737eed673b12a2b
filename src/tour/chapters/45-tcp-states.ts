import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { TcpSocket } from '../../tcpstate/parse.js';
import { readTcpSockets } from '../../tcpstate/read.js';
import type { Chapter, TourContext } from '../chapter.js';

// Each wait polls the kernel's table until this deadline. On loopback every
// transition takes microseconds; the slack is for reading the table, which
// walks every socket on the host and can take tens of milliseconds.
const DEADLINE_MS = 2000;
// The server writes in chunks small enough to fit the kernel's send buffer
// even once the client's window is shut, so none is left in Node's memory.
const CHUNK = 16 * 1024;

/** Pair is one sample of the kernel's view of both ends of the connection. */
interface Pair {
  client?: TcpSocket;
  server?: TcpSocket;
}

/**
 * TCP states: one connection on loopback is closed step by step, and after
 * each step both of its sockets are looked up in /proc/net/tcp — what the
 * kernel says, not what Node thinks. The client closes first (active close,
 * ending in TIME_WAIT); the server closes second (passive close, through
 * CLOSE_WAIT and LAST_ACK). LAST_ACK normally lasts microseconds, so the
 * server's FIN is held back behind data the paused client has not read.
 */
const chapter: Chapter = {
  title: 'TCP states: from ESTABLISHED to TIME_WAIT, sampled from the kernel',
  async run(t) {
    // allowHalfOpen: the server must not answer the client's FIN with its own;
    // it closes when the chapter says so.
    const listener = net.createServer({ allowHalfOpen: true });
    const sockets: net.Socket[] = [];
    try {
      listener.listen(0, '127.0.0.1');
      await once(listener, 'listening');
      const port = (listener.address() as net.AddressInfo).port;
      const accepted = once(listener, 'connection');
      const client = net.connect({ port, host: '127.0.0.1' });
      sockets.push(client);
      await once(client, 'connect');
      const [server] = (await accepted) as [net.Socket];
      sockets.push(server);
      listener.close();
      server.resume(); // read the client's FIN, so Node frees the socket once both sides are done
      client.pause(); // the client reads nothing until the end: its receive buffer will fill up

      const clientPort = client.localPort as number;
      const take = () => sample(port, clientPort);
      const wait = (claim: string, ok: (p: Pair) => boolean) => waitFor(t, claim, take, ok);
      // accept() and connect() have both returned, so the kernel already has both ends ESTABLISHED.
      const open = await take().catch((err: Error) => {
        t.check(false, `reading the kernel's TCP table: ${err.message}`);
        throw err;
      });
      t.check(
        open.client?.state === 'ESTABLISHED' && open.server?.state === 'ESTABLISHED',
        `both ends ESTABLISHED once connected: sampled client ${describe(open.client)}, server ${describe(open.server)}`,
      );
      t.say(
        `client 127.0.0.1:${clientPort} → server 127.0.0.1:${port}; after each step, /proc/net/tcp says:`,
      );
      say(t, 'connected', open);

      client.end();
      const half = await wait(
        'client FIN_WAIT2 and server CLOSE_WAIT after the client’s end()',
        (p) => p.client?.state === 'FIN_WAIT2' && p.server?.state === 'CLOSE_WAIT',
      );
      say(t, 'client end() (FIN)', half);
      t.say('  the client closed first (active close); the server has to close too (passive close)');

      const sent = await fillWindow(t, server, client, take);
      t.say(`  server writes ${sent} bytes: they fill the paused client's receive buffer, the rest queue up`);
      server.end();
      const lastAck = await wait(
        'server LAST_ACK with data still in its send queue after its end()',
        (p) => p.server?.state === 'LAST_ACK' && p.server.sendQueue > 0 && p.client?.state === 'FIN_WAIT2',
      );
      say(t, 'server end() (FIN)', lastAck);
      t.say(
        `  the server's FIN waits behind ${lastAck.server?.sendQueue} queued bytes (send queue, FIN included)`,
      );

      let read = 0;
      client.on('data', (chunk: Buffer) => {
        read += chunk.length;
      });
      client.resume();
      await within(t, once(client, 'close'), 'the client read to the end and closed');
      const done = await wait(
        'client TIME_WAIT and the server socket gone once the client has read everything',
        (p) => p.client?.state === 'TIME_WAIT' && p.server === undefined,
      );
      say(t, `client reads ${read} bytes`, done);
      t.check(read === sent, `the client read all ${sent} bytes, then the FIN (read ${read})`);
      t.say(`  TIME_WAIT is the kernel's: it holds the pair for 2·MSL (60 s), no process owns it`);
      if (!server.destroyed) await within(t, once(server, 'close'), 'the server socket closed');

      t.fact(
        'states',
        [open, half, lastAck, done].map((p) => [p.client?.state, p.server?.state ?? null]),
      );
      t.fact('lastAckSendQueue', lastAck.server?.sendQueue);
      // The client's TIME_WAIT outlives the chapter by a minute: the live page still shows it.
      const live = `netkit states --web --port ${port}`;
      t.say(`to watch these states live in a browser (TIME_WAIT stays for a minute): ${live}`);
      t.fact('live', live);
    } finally {
      for (const s of sockets) s.destroy();
      listener.close();
    }
  },
};
export default chapter;

/** sample finds both ends of the connection in the kernel's table. */
async function sample(port: number, clientPort: number): Promise<Pair> {
  const all = await readTcpSockets({ port, processes: false });
  return {
    client: all.find((s) => s.localPort === clientPort && s.remotePort === port),
    server: all.find((s) => s.localPort === port && s.remotePort === clientPort),
  };
}

/** waitFor samples until `ok` holds, and fails the chapter with the last sample at the deadline. */
async function waitFor(
  t: TourContext,
  claim: string,
  take: () => Promise<Pair>,
  ok: (p: Pair) => boolean,
): Promise<Pair> {
  const deadline = performance.now() + DEADLINE_MS;
  for (;;) {
    const p = await take();
    if (ok(p)) return p;
    t.check(
      performance.now() < deadline && !t.signal.aborted,
      `${claim}: last sampled client ${describe(p.client)}, server ${describe(p.server)}`,
    );
    await new Promise((r) => setTimeout(r, 1));
  }
}

/**
 * fillWindow has the server write until more bytes wait in its send queue
 * than the client could still take without reading, and returns how many it
 * wrote. Linux moves a socket from CLOSE_WAIT to LAST_ACK when it shuts down
 * its sending side even with data queued, and sends the FIN after that data,
 * so the FIN stays queued until the client reads. Two traps: Node calls
 * shutdown() only once the kernel has taken every byte, so each chunk is
 * waited for; and a window that looks shut may still open (a delayed ACK
 * announcing more, a receive queue being compacted), so the bytes the client
 * has not received must exceed its whole receive buffer, which does not grow
 * while the application is not reading (Node may yet move one read, at most
 * 64 KiB, into its own buffer: less than the margin). Reading the kernel's table costs
 * milliseconds (it walks every socket), so it is sampled once the client
 * cannot have taken it all, and again per chunk only if more is needed.
 */
async function fillWindow(
  t: TourContext,
  server: net.Socket,
  client: net.Socket,
  take: () => Promise<Pair>,
): Promise<number> {
  const rcvbuf = await receiveBuffer();
  const deadline = performance.now() + DEADLINE_MS;
  const chunk = Buffer.alloc(CHUNK, 'x');
  let sent = 0;
  for (;;) {
    t.check(performance.now() < deadline, `the client's window shut (${sent} bytes written)`);
    const written = new Promise<void>((resolve, reject) =>
      server.write(chunk, (err) => (err ? reject(err) : resolve())),
    );
    await within(t, written, `the kernel took every byte written (${sent} so far)`);
    sent += CHUNK;
    if (sent < 2 * rcvbuf + client.readableLength) continue;
    const p = await take();
    // Node's buffer is read after the kernel's queue: a read in between counts twice, never zero times.
    const unreceived = sent - (p.client?.recvQueue ?? 0) - client.readableLength;
    if (unreceived >= rcvbuf) return sent;
  }
}

const LATE = Symbol('late');

/** within waits for `p`, failing the chapter with `what` after the deadline. */
async function within<T>(t: TourContext, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), DEADLINE_MS);
  });
  const result = await Promise.race([p, late]);
  clearTimeout(timer);
  t.check(result !== LATE, what);
  return result as T;
}

/** receiveBuffer is a new socket's receive buffer (net.ipv4.tcp_rmem's default), or 256 KiB if unknown. */
async function receiveBuffer(): Promise<number> {
  const text = await readFile('/proc/sys/net/ipv4/tcp_rmem', 'utf8').catch(() => '');
  const size = Number.parseInt(text.trim().split(/\s+/)[1] ?? '', 10);
  return Number.isInteger(size) && size > 0 ? size : 256 * 1024;
}

function say(t: TourContext, step: string, p: Pair): void {
  t.say(`${`${step}:`.padEnd(27)} client ${describe(p.client).padEnd(12)} server ${describe(p.server)}`);
}

function describe(s: TcpSocket | undefined): string {
  if (!s) return '(gone)';
  return s.sendQueue > 0 ? `${s.state} (send queue ${s.sendQueue})` : s.state;
}
