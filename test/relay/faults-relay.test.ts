// test: alone
/**
 * Faults measured through relay() on real loopback sockets, against a
 * real backend: what a client sees (round trips, throughput, read sizes,
 * byte counts, FIN versus RST, silence) is timed with performance.now()
 * and checked against the toxic's attributes. The machine running this
 * may be loaded, so bounds are one-sided where they can be: a fault may
 * show more slowly than configured, never faster (less a few ms of timer
 * rounding), and upper slack is generous.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { type TestContext, test } from 'node:test';
import type { ConnFail } from '../../src/relay/index.js';
import { sleep, until } from '../helpers/net.js';
import { backend, startRelay, streamingBackend } from '../helpers/relay.js';

/** SLACK is the upper slack on any timed bound: a loaded 2-core machine runs timers late. */
const SLACK = 60;
/** EARLY is how far before its time a fault may show: Date.now() in the engine truncates to the ms. */
const EARLY = 3;

/** backendAt starts a backend and gives its address. */
async function backendAt(t: TestContext, onConn: (s: net.Socket) => void): Promise<string> {
  return (await backend(t, onConn)).address;
}

const echo = (s: net.Socket) => s.pipe(s);

/** Client is a client socket that records everything it sees: each read, its end, its error. */
class Client {
  readonly socket: net.Socket;
  reads: Buffer[] = [];
  bytes = 0;
  /** firstAt, lastAt: performance.now() of the first and latest read. */
  firstAt = 0;
  lastAt = 0;
  ended = false;
  closed = false;
  error: NodeJS.ErrnoException | undefined;
  #lines = '';
  #waiters: (() => void)[] = [];

  constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (c: Buffer) => {
      const now = performance.now();
      if (this.bytes === 0) this.firstAt = now;
      this.lastAt = now;
      this.reads.push(c);
      this.bytes += c.length;
      this.#lines += c.toString('latin1');
      this.#wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.#wake();
    });
    socket.on('error', (err) => {
      this.error = err;
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  get data(): Buffer {
    return Buffer.concat(this.reads);
  }

  /** line waits (at most `ms`) for the next whole line and returns it without its newline. */
  async line(ms = 3000): Promise<string> {
    const deadline = performance.now() + ms;
    for (;;) {
      const nl = this.#lines.indexOf('\n');
      if (nl >= 0) {
        const line = this.#lines.slice(0, nl);
        this.#lines = this.#lines.slice(nl + 1);
        return line;
      }
      if (this.closed) throw new Error('closed before a whole line arrived');
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no line within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** roundTrip sends `text` as a line and returns the ms until the echo's line is back. */
  async roundTrip(text: string): Promise<number> {
    const t0 = performance.now();
    this.socket.write(`${text}\n`);
    const got = await this.line();
    const ms = performance.now() - t0;
    assert.equal(got, text);
    return ms;
  }

  /** closedWithin waits at most `ms` for the socket to close. */
  closedWithin(ms: number): Promise<void> {
    return until(() => this.closed, ms, 'the client to close');
  }

  /** finishedWithin waits at most `ms` for the end of what the client reads: a FIN ('end'), or the socket closed. */
  finishedWithin(ms: number): Promise<void> {
    return until(() => this.ended || this.closed, ms, 'the end of the stream');
  }

  /**
   * resetSeen says whether the peer reset the connection. libuv reports an
   * RST that arrives in the same wakeup as the last data as end of stream
   * (a partial read plus POLLHUP is EOF to it), so an 'end' proves no FIN;
   * but the kernel keeps the reset's ECONNRESET for the next call, and a
   * write after an RST fails with it at once, where a write after a FIN
   * succeeds.
   */
  async resetSeen(): Promise<boolean> {
    if (this.error !== undefined) return this.error.code === 'ECONNRESET';
    if (this.socket.destroyed) return false;
    const code = await new Promise<string>((resolve) => {
      const timer = setTimeout(() => resolve('timeout'), 1000);
      this.socket.write('x', (err?: Error | null) => {
        clearTimeout(timer);
        resolve((err as NodeJS.ErrnoException | null | undefined)?.code ?? '');
      });
    });
    return code === 'ECONNRESET';
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }
}

async function connect(t: TestContext, address: string): Promise<Client> {
  const at = address.lastIndexOf(':');
  const socket = net.connect({
    host: address.slice(0, at),
    port: Number(address.slice(at + 1)),
    allowHalfOpen: true,
    noDelay: true,
  });
  const c = new Client(socket);
  t.after(() => socket.destroy());
  await Promise.race([
    once(socket, 'connect'),
    sleep(3000).then(() => {
      throw new Error('connect timed out');
    }),
  ]);
  return c;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');

/** rtts measures `n` round trips of a line protocol, one after another. */
async function rtts(c: Client, n: number, tag: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(await c.roundTrip(`${tag} ${i}`));
  return out;
}

/** grew checks that the round trips of `ms` exceed `base` by `delay`: never by less (but rounding), by no more than SLACK in the median. */
function grew(ms: number[], base: number, delay: number, what: string): void {
  const min = Math.min(...ms);
  const med = median(ms);
  assert.ok(min >= delay - EARLY, `${what}: a round trip of ${min.toFixed(1)} ms beat the ${delay} ms delay`);
  assert.ok(
    med - base <= delay + SLACK,
    `${what}: median round trip ${med.toFixed(1)} ms is over ${base.toFixed(1)} + ${delay} + ${SLACK} ms (${fmt(ms)})`,
  );
}

test('latency: a round trip grows by the delay once per direction, and shrinks back when removed, on one open connection', async (t) => {
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [await backendAt(t, echo)] });
  const c = await connect(t, r.address);
  const base = median(await rtts(c, 5, 'base'));
  assert.ok(base < 50, `a round trip with no fault took ${base.toFixed(1)} ms`);

  // Added while the connection is open: the next line already waits.
  r.toxics.add({ name: 'down', type: 'latency', attributes: { latency: 100 } });
  const one = await rtts(c, 5, 'down');
  grew(one, base, 100, 'downstream latency');

  r.toxics.add({ name: 'up', type: 'latency', stream: 'upstream', attributes: { latency: 100 } });
  const two = await rtts(c, 5, 'both');
  grew(two, base, 200, 'latency both ways');

  r.toxics.remove('down');
  const up = await rtts(c, 5, 'up');
  grew(up, base, 100, 'upstream latency');

  r.toxics.remove('up');
  const after = median(await rtts(c, 5, 'after'));
  assert.ok(after < base + SLACK, `with the faults removed a round trip took ${after.toFixed(1)} ms`);
  t.diagnostic(
    `base ${base.toFixed(1)} ms; down ${fmt(one)}; both ${fmt(two)}; up ${fmt(up)}; removed ${after.toFixed(1)}`,
  );
});

test('latency with jitter: each round trip stays within latency ± jitter, and they vary', async (t) => {
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, echo)],
    faults: [{ type: 'latency', attributes: { latency: 60, jitter: 20 } }],
  });
  const c = await connect(t, r.address);
  const ms = await rtts(c, 20, 'j');
  const min = Math.min(...ms);
  const max = Math.max(...ms);
  assert.ok(min >= 40 - EARLY, `a round trip of ${min.toFixed(1)} ms is under latency − jitter (40 ms)`);
  assert.ok(median(ms) <= 80 + SLACK, `median ${median(ms).toFixed(1)} ms is over latency + jitter + slack`);
  // 20 draws from 40 ms of spread all landing within 8 ms of each other has odds under 1e-9.
  assert.ok(max - min >= 8, `20 round trips spread only ${(max - min).toFixed(1)} ms: no jitter applied`);
  t.diagnostic(`round trips ${fmt(ms)}`);
});

test('latency with jitter keeps the order of separate chunks', async (t) => {
  const n = 40;
  const b = await backendAt(t, (s) => {
    s.once('data', async () => {
      // Separate writes a few ms apart, so each is its own chunk with its own draw at the relay.
      for (let i = 0; i < n; i++) {
        s.write(`${i}\n`);
        await sleep(2);
      }
      s.end();
    });
  });
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [b],
    faults: [{ type: 'latency', attributes: { latency: 30, jitter: 25 } }],
  });
  const c = await connect(t, r.address);
  c.socket.write('go\n');
  const got: number[] = [];
  for (let i = 0; i < n; i++) got.push(Number(await c.line()));
  assert.deepEqual(
    got,
    Array.from({ length: n }, (_, i) => i),
  );
  assert.ok(c.reads.length > 1, 'the lines arrived in one read: no chunk could have overtaken another');
});

test('bandwidth: downstream capped near the rate, upstream not', async (t) => {
  const total = 300_000;
  let upBytes = 0;
  let upDone = 0;
  const b = await backendAt(t, (s) => {
    s.on('data', (chunk: Buffer) => {
      if (upBytes === 0 && chunk[0] === 0x67 /* g */ && chunk.length === 3) {
        // 'go\n': send `total` bytes as fast as the relay takes them.
        const block = Buffer.alloc(16 * 1024, 0x61);
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            const part = block.subarray(0, Math.min(block.length, total - sent));
            sent += part.length;
            if (!s.write(part)) return void s.once('drain', pump);
          }
        };
        pump();
        return;
      }
      upBytes += chunk.length;
      if (upBytes >= 2_000_000) upDone = performance.now();
    });
  });
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [b],
    faults: [{ type: 'bandwidth', attributes: { rate: 200 } }], // KB/s
  });
  const c = await connect(t, r.address);
  const t0 = performance.now();
  c.socket.write('go\n');
  await until(() => c.bytes >= total, 10_000, `${total} bytes downstream`);
  const secs = (c.lastAt - t0) / 1000;
  const rate = total / secs / 1000;
  // Past the first 100 ms piece, the rate over the rest is the toxic's alone.
  const steady = (total - 20_000) / ((c.lastAt - c.firstAt) / 1000) / 1000;
  assert.ok(
    secs >= total / 200_000 - EARLY / 1000,
    `${total} bytes took only ${secs.toFixed(3)} s at 200 KB/s`,
  );
  assert.ok(rate <= 200, `downstream ran at ${rate.toFixed(1)} KB/s`);
  assert.ok(rate >= 150, `downstream ran at ${rate.toFixed(1)} KB/s, far under the 200 KB/s cap`);
  assert.ok(steady <= 210, `the steady downstream rate was ${steady.toFixed(1)} KB/s`);

  const t1 = performance.now();
  const big = Buffer.alloc(2_000_000, 0x62);
  c.socket.write(big);
  await until(() => upDone > 0, 10_000, '2 MB upstream');
  const upRate = 2_000_000 / ((upDone - t1) / 1000) / 1000;
  assert.ok(upRate > 2000, `upstream, with no fault, ran at only ${upRate.toFixed(0)} KB/s`);
  t.diagnostic(
    `downstream ${rate.toFixed(1)} KB/s over ${secs.toFixed(3)} s (steady ${steady.toFixed(1)}); upstream ${upRate.toFixed(0)} KB/s`,
  );
});

test('bandwidth removed at runtime: what it held goes on at once', async (t) => {
  const total = 300_000;
  const b = await backendAt(t, (s) => s.once('data', () => s.write(Buffer.alloc(total, 0x61))));
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [b],
    faults: [{ name: 'slow', type: 'bandwidth', attributes: { rate: 100 } }], // KB/s: 3 s for it all
  });
  const c = await connect(t, r.address);
  c.socket.write('go\n');
  await sleep(500);
  const before = c.bytes;
  assert.ok(before < total / 2, `${before} bytes passed 100 KB/s in 0.5 s`);
  const t0 = performance.now();
  r.toxics.remove('slow');
  await until(() => c.bytes >= total, 3000, 'the rest once the toxic was removed');
  const ms = performance.now() - t0;
  assert.ok(ms < 100 + SLACK, `the held ${total - before} bytes took ${ms.toFixed(1)} ms after the removal`);
  t.diagnostic(
    `${before} bytes in the first 0.5 s; the other ${total - before} within ${ms.toFixed(1)} ms of the removal`,
  );
});

test('slicer: a 1 KiB write arrives as many small reads, bytes intact', async (t) => {
  const payload = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7) & 0xff));
  const b = await backendAt(t, (s) => s.once('data', () => s.write(payload)));
  const target = b;
  // Without the fault the same write arrives whole: what follows is the slicer's doing.
  const plain = await startRelay(t, { listen: '127.0.0.1:0', targets: [target] });
  const p = await connect(t, plain.address);
  p.socket.write('go\n');
  await until(() => p.bytes >= 1024, 3000, '1 KiB without a fault');
  assert.ok(p.reads.length <= 2, `1 KiB without a fault came in ${p.reads.length} reads`);

  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [target],
    faults: [{ type: 'slicer', attributes: { average_size: 16, size_variation: 4, delay: 3000 } }],
  });
  const c = await connect(t, r.address);
  c.socket.write('go\n');
  await until(() => c.reads.length >= 10, 5000, 'the first pieces');
  // A stalled event loop, as on a loaded machine: the pieces after it must still leave one by one.
  const stall = performance.now() + 60;
  while (performance.now() < stall) {}
  await until(() => c.bytes >= 1024, 5000, '1 KiB through the slicer');
  await sleep(20);
  assert.deepEqual(c.data, payload);
  const sizes = c.reads.map((x) => x.length);
  // 1024 bytes halved down to 12–20 byte pieces makes 64; timers run late under load and
  // merge a few pieces in the socket, so ask for well over half that.
  assert.ok(sizes.length >= 40, `1 KiB came in only ${sizes.length} reads: ${sizes.join(' ')}`);
  const small = sizes.filter((n) => n <= 20).length;
  assert.ok(small >= sizes.length * 0.8, `reads over average_size + size_variation: ${sizes.join(' ')}`);
  // A client read may take two or three pieces when its turn comes late, never a burst.
  assert.ok(Math.max(...sizes) <= 60, `pieces came together after the stall: ${sizes.join(' ')}`);
  const med = median(sizes);
  assert.ok(med >= 12 && med <= 20, `median read ${med} bytes, not 16 ± 4: ${sizes.join(' ')}`);
  t.diagnostic(`${sizes.length} reads, median ${med} bytes: ${sizes.join(' ')}`);
});

/** sender is a backend that writes `n` patterned bytes once the client says something, then stays open. */
function sender(n: number, seen?: { ended: boolean }) {
  return (s: net.Socket) => {
    s.once('data', () => s.write(pattern(n)));
    s.on('end', () => {
      if (seen) seen.ended = true;
    });
  };
}

function pattern(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

test('limit_data: exactly N bytes arrive, then FIN, and the backend is sent a FIN too', async (t) => {
  const seen = { ended: false };
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, sender(5000, seen))],
    faults: [{ type: 'limit_data', attributes: { bytes: 1000 } }],
  });
  const c = await connect(t, r.address);
  c.socket.write('go\n');
  await c.finishedWithin(3000);
  assert.equal(c.error, undefined, 'the client saw an error, not a FIN');
  assert.ok(c.ended, 'the client saw no FIN');
  assert.deepEqual(c.data, pattern(5000).subarray(0, 1000));
  assert.equal(await c.resetSeen(), false, 'the connection was reset, not closed');
  await until(() => seen.ended, 3000, 'a FIN at the backend');
});

test('limit_data: N bytes arrive whole even when the client reads slower than the relay writes', async (t) => {
  const n = 4 * 1024 * 1024;
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, sender(n + 100_000))],
    faults: [{ type: 'limit_data', attributes: { bytes: n } }],
  });
  const c = await connect(t, r.address);
  c.socket.pause();
  c.socket.write('go\n');
  // Long enough for every buffer on the way to fill while the client reads nothing.
  await sleep(300);
  c.socket.resume();
  await c.finishedWithin(10_000);
  assert.equal(c.error, undefined, 'the client saw an error, not a FIN');
  assert.equal(c.bytes, n);
  assert.deepEqual(c.data, pattern(n + 100_000).subarray(0, n));
});

test('reset_peer with bytes: exactly N bytes arrive, then ECONNRESET', async (t) => {
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, sender(5000))],
    faults: [{ type: 'reset_peer', attributes: { bytes: 1000 } }],
  });
  const c = await connect(t, r.address);
  c.socket.write('go\n');
  await c.finishedWithin(3000);
  assert.deepEqual(c.data, pattern(5000).subarray(0, 1000));
  assert.ok(await c.resetSeen(), `the connection was not reset (${c.error?.code ?? 'FIN'})`);
});

test('timeout 0 after N bytes: N bytes arrive, then nothing, while the connection stays open', async (t) => {
  const upstream: Buffer[] = [];
  const b = await backendAt(t, (s) => {
    s.once('data', () => s.write(pattern(5000)));
    s.on('data', (d: Buffer) => upstream.push(d));
  });
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [b],
    faults: [{ type: 'timeout', attributes: { bytes: 1000, timeout: 0 } }],
  });
  const c = await connect(t, r.address);
  c.socket.write('go\n');
  await until(() => c.bytes >= 1000, 3000, '1000 bytes');
  await sleep(500);
  assert.equal(c.bytes, 1000, 'bytes came out of the black hole');
  assert.deepEqual(c.data, pattern(5000).subarray(0, 1000));
  assert.equal(c.closed, false, 'the black hole closed the connection');
  // Still open: the other direction carries on.
  c.socket.write('still here\n');
  await until(() => Buffer.concat(upstream).toString().endsWith('still here\n'), 3000, 'the upstream line');
  assert.equal(r.connections, 1);
});

test('timeout with a value: the connection is closed about that long after it opened', async (t) => {
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, () => {})],
    faults: [{ type: 'timeout', attributes: { timeout: 300 } }],
  });
  const t0 = performance.now();
  const c = await connect(t, r.address);
  // Toxiproxy's timeout runs from the start of the connection, data or not.
  await c.finishedWithin(3000);
  const ms = performance.now() - t0;
  assert.ok(ms >= 300 - EARLY, `closed after ${ms.toFixed(1)} ms, before the 300 ms timeout`);
  assert.ok(ms <= 300 + SLACK * 2, `closed after ${ms.toFixed(1)} ms`);
  assert.equal(c.bytes, 0);
  t.diagnostic(`closed after ${ms.toFixed(1)} ms`);
});

test('timeout with a value: data sent meanwhile is held, then the connection is closed', async (t) => {
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, sender(100))],
    faults: [{ type: 'timeout', attributes: { timeout: 300 } }],
  });
  const t0 = performance.now();
  const c = await connect(t, r.address);
  c.socket.write('go\n');
  await c.finishedWithin(3000);
  const ms = performance.now() - t0;
  assert.ok(ms >= 300 - EARLY && ms <= 300 + SLACK * 2, `closed after ${ms.toFixed(1)} ms`);
  assert.equal(c.bytes, 0, 'data passed a timeout toxic');
});

/** finTimer is a backend that records when its client's data and FIN arrive. */
function finTimer(at: { data: number; fin: number; text: string }) {
  return (s: net.Socket) => {
    s.on('data', (d: Buffer) => {
      at.text += d.toString();
      at.data = performance.now();
    });
    s.on('end', () => {
      at.fin = performance.now();
    });
  };
}

test('slow_close: data passes at once, the client FIN reaches the server only after the delay', async (t) => {
  const at = { data: 0, fin: 0, text: '' };
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, finTimer(at))],
    faults: [{ type: 'slow_close', stream: 'upstream', attributes: { delay: 300 } }],
  });
  const c = await connect(t, r.address);
  const t0 = performance.now();
  c.socket.end('bye\n');
  await until(() => at.fin > 0, 3000, 'the FIN at the backend');
  const data = at.data - t0;
  const fin = at.fin - t0;
  assert.equal(at.text, 'bye\n');
  assert.ok(data < SLACK, `data took ${data.toFixed(1)} ms through slow_close`);
  assert.ok(fin >= 300 - EARLY && fin <= 300 + SLACK, `the FIN took ${fin.toFixed(1)} ms`);
  t.diagnostic(`data after ${data.toFixed(1)} ms, FIN after ${fin.toFixed(1)} ms`);
});

test('slow_close: a FIN with no data before it is delayed too', async (t) => {
  const at = { data: 0, fin: 0, text: '' };
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, finTimer(at))],
    faults: [{ type: 'slow_close', stream: 'upstream', attributes: { delay: 300 } }],
  });
  const c = await connect(t, r.address);
  await until(() => r.connections === 1, 3000, 'the connection to be relayed');
  const t0 = performance.now();
  c.socket.end();
  await until(() => at.fin > 0, 3000, 'the FIN at the backend');
  const fin = at.fin - t0;
  assert.ok(fin >= 300 - EARLY && fin <= 300 + SLACK, `the FIN took ${fin.toFixed(1)} ms`);
});

test('latency: a FIN follows its data, not ahead of it', async (t) => {
  const at = { data: 0, fin: 0, text: '' };
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, finTimer(at))],
    faults: [{ type: 'latency', stream: 'upstream', attributes: { latency: 100 } }],
  });
  const c = await connect(t, r.address);
  const t0 = performance.now();
  c.socket.end('last\n');
  await until(() => at.fin > 0, 3000, 'the FIN at the backend');
  assert.equal(at.text, 'last\n');
  const data = at.data - t0;
  const fin = at.fin - t0;
  assert.ok(data >= 100 - EARLY && data <= 100 + SLACK, `the data took ${data.toFixed(1)} ms`);
  assert.ok(fin >= data, 'the FIN overtook the data');
  assert.ok(fin - data < SLACK, `the FIN came ${(fin - data).toFixed(1)} ms after the data`);
});

test('reset_peer: a FIN with no data before it is met with a reset', async (t) => {
  const at = { data: 0, fin: 0, text: '' };
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, finTimer(at))],
    faults: [{ type: 'reset_peer', stream: 'upstream' }],
  });
  const c = await connect(t, r.address);
  await until(() => r.connections === 1, 3000, 'the connection to be relayed');
  c.socket.end();
  await c.finishedWithin(3000);
  assert.ok(await c.resetSeen(), `the connection was not reset (${c.error?.code ?? 'FIN'})`);
  assert.equal(at.fin, 0, 'the FIN reached the backend');
});

/** outcome connects and says whether the relay reset the client or carried it to the backend's greeting. */
async function outcome(address: string): Promise<'reset' | 'ok'> {
  const at = address.lastIndexOf(':');
  const s = net.connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
  try {
    return await new Promise<'reset' | 'ok'>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('neither greeting nor reset within 5 s')), 5000);
      s.on('data', () => {
        clearTimeout(timer);
        resolve('ok');
      });
      s.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (err.code === 'ECONNRESET') resolve('reset');
        else reject(err);
      });
      s.on('close', () => {
        clearTimeout(timer);
        reject(new Error('closed without a greeting or a reset'));
      });
    });
  } finally {
    s.destroy();
  }
}

test('refuse 0.5: about half of 200 connections are reset at accept, each a NETKIT_RELAY_REFUSED fail', async (t) => {
  const b = await backendAt(t, (s) => s.end('hi\n'));
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [b],
    faults: [{ type: 'refuse', toxicity: 0.5 }],
  });
  const fails: ConnFail[] = [];
  r.on('fail', (f) => fails.push(f));
  const results: string[] = [];
  for (let i = 0; i < 200; i += 20) {
    results.push(...(await Promise.all(Array.from({ length: 20 }, () => outcome(r.address)))));
  }
  const resets = results.filter((x) => x === 'reset').length;
  // Binomial(200, 0.5): mean 100, sd 7.07; ±5 sd fails a correct engine about once in 3 million runs.
  assert.ok(resets >= 65 && resets <= 135, `${resets} of 200 connections were refused`);
  await until(() => fails.length >= resets, 3000, 'a fail event per refusal');
  assert.equal(fails.length, resets);
  for (const f of fails) assert.equal(f.code, 'NETKIT_RELAY_REFUSED');
  t.diagnostic(`${resets} of 200 refused`);
});

test('toxicity 0 never applies', async (t) => {
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [await backendAt(t, echo)],
    faults: [
      { type: 'latency', toxicity: 0, stream: 'upstream', attributes: { latency: 500 } },
      { type: 'reset_peer', toxicity: 0 },
      { type: 'refuse', toxicity: 0 },
    ],
  });
  const fails: ConnFail[] = [];
  r.on('fail', (f) => fails.push(f));
  for (let i = 0; i < 30; i++) {
    const c = await connect(t, r.address);
    const ms = await c.roundTrip(`n ${i}`);
    assert.ok(ms < 250, `#${i}: a round trip took ${ms.toFixed(1)} ms past a toxicity-0 latency of 500 ms`);
    c.socket.destroy();
  }
  assert.equal(fails.length, 0);
});

test('a reset_peer added at runtime resets an already-open connection at its next data', async (t) => {
  const r = await startRelay(t, { listen: '127.0.0.1:0', targets: [await backendAt(t, echo)] });
  const c = await connect(t, r.address);
  await c.roundTrip('before');
  r.toxics.add({ type: 'reset_peer', stream: 'upstream' });
  c.socket.write('after\n');
  await c.finishedWithin(3000);
  assert.equal(c.bytes, 'before\n'.length, 'the line after the reset_peer was echoed');
  assert.ok(await c.resetSeen(), 'the connection was not reset');
});

test('latency with a reader that never reads: the relay stops reading, the backend is paused', async (t) => {
  const b = await streamingBackend(t, 512 * 1024 * 1024);
  const r = await startRelay(t, {
    listen: '127.0.0.1:0',
    targets: [b.address],
    faults: [{ type: 'latency', attributes: { latency: 100 } }],
  });
  const c = await connect(t, r.address);
  c.socket.pause();
  await until(() => b.paused(), 5000, 'the backend to be paused');
  // The kernel's buffers grow in steps for a while (window probes, autotuning): wait for the
  // total to stay put for a whole second, many times the latency, within a bound.
  const deadline = performance.now() + 15_000;
  for (let last = -1; b.written() !== last; ) {
    assert.ok(
      performance.now() < deadline,
      `the backend was still writing after 15 s (${b.written()} bytes)`,
    );
    last = b.written();
    await sleep(1000);
  }
  assert.ok(
    b.written() < 64 * 1024 * 1024,
    `the backend wrote ${b.written()} bytes into a client that never reads`,
  );
  t.diagnostic(`the backend wrote ${(b.written() / 1024 / 1024).toFixed(1)} MiB before it was b.paused()`);
});
