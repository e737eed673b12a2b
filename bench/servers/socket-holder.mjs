// The set-up of the states benchmark: one process that fills the TCP table.
// It listens on 127.0.0.1 and opens <pairs> connections to itself, so it
// holds both ends of each: 2 × pairs ESTABLISHED sockets plus one LISTEN.
//
// usage: node bench/servers/socket-holder.mjs [pairs]   (default 5000)
// Prints "listening 127.0.0.1:<port> (ready <sockets> sockets, nofile <limit>)"
// once every connection is established and accepted; runs until killed.
//
// Each socket is a file descriptor, so the caller raises `ulimit -n` first.
// When the limit is still too low, fewer pairs are opened (the line says how
// many sockets are held) rather than failing halfway with EMFILE.
import { readFileSync } from 'node:fs';
import net from 'node:net';

const requested = Number(process.argv[2] ?? 5000);
// Connections are opened in batches no larger than the listen backlog
// (Linux's default somaxconn is 4096, Node's backlog 511), so the accept
// queue never overflows and no SYN is dropped and retried a second later.
const BATCH = 200;
// Descriptors Node itself needs (stdio, the event loop, libuv's threads).
const HEADROOM = 64;

/** nofile reads the soft RLIMIT_NOFILE this process got from the shell. */
function nofile() {
  const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(m[1]);
}

const limit = nofile();
const pairs = Math.max(0, Math.min(requested, Math.floor((limit - HEADROOM) / 2)));

const accepted = [];
const clients = [];
let onAccept = () => {};
const server = net.createServer((socket) => {
  socket.on('error', () => {});
  accepted.push(socket);
  onAccept();
});

function fail(err) {
  process.stderr.write(`socket-holder: ${err.stack ?? err}\n`);
  process.exit(1);
}

/** openBatch connects n clients and resolves once all are connected and accepted. */
function openBatch(port, n) {
  const target = accepted.length + n;
  return new Promise((resolve, reject) => {
    let connected = 0;
    const check = () => {
      if (connected === n && accepted.length >= target) resolve();
    };
    onAccept = check;
    for (let i = 0; i < n; i++) {
      const c = net.connect({ host: '127.0.0.1', port });
      c.once('error', reject);
      c.once('connect', () => {
        connected++;
        check();
      });
      clients.push(c);
    }
  });
}

// Resetting (SO_LINGER 0) instead of closing leaves no 10,000 TIME_WAIT
// entries in the machine's table for a minute after the benchmark.
process.once('SIGTERM', () => {
  for (const s of clients) s.resetAndDestroy();
  for (const s of accepted) s.resetAndDestroy();
  server.close();
  process.exit(0);
});

server.listen(0, '127.0.0.1', async () => {
  const { port } = server.address();
  try {
    for (let done = 0; done < pairs; done += BATCH) await openBatch(port, Math.min(BATCH, pairs - done));
  } catch (err) {
    fail(err);
  }
  const sockets = clients.length + accepted.length + 1;
  process.stdout.write(`listening 127.0.0.1:${port} (ready ${sockets} sockets, nofile ${limit})\n`);
});
server.on('error', fail);
