/**
 * The rendezvous on real sockets: pairing in either order, bytes both ways
 * (1 MiB each, hashes equal) and half-close passed on, bytes sent before
 * pairing kept, several rooms at once, refusals (a taken role, a paired
 * room, maxRooms, a late or bad greeting) that leave the occupants alone,
 * expiry, a waiting client leaving or aborting, the per-room limits
 * (bytes, time, idle) cutting a pair with both sides reset, close(), and
 * the options checked up front on both the server and the client.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { isNetkitError, NetkitError, RendezvousError } from '../../src/errors.js';
import type { Conn } from '../../src/tcp/index.js';
import {
  type JoinOptions,
  joinRendezvous,
  type Rendezvous,
  type RendezvousEvent,
  type RendezvousOptions,
  serveRendezvous,
} from '../../src/transfer/rendezvous/index.js';
import { encodeFrame, joinBytes, MAGIC } from '../../src/transfer/rendezvous/protocol.js';
import { openFds, readAll, until } from '../helpers/net.js';
import { hostPort } from '../helpers/relay.js';

type EventOf<T extends RendezvousEvent['type']> = Extract<RendezvousEvent, { type: T }>;

/** Served is a rendezvous on loopback with its events, and a way to wait for one. */
interface Served {
  r: Rendezvous;
  address: string;
  events: RendezvousEvent[];
  next<T extends RendezvousEvent['type']>(
    type: T,
    match?: (e: EventOf<T>) => boolean,
    ms?: number,
  ): Promise<EventOf<T>>;
}

async function served(t: TestContext, options: RendezvousOptions = {}): Promise<Served> {
  const events: RendezvousEvent[] = [];
  const waiters = new Set<(e: RendezvousEvent) => void>();
  // Paired rooms left open by a test are cut at once when it ends.
  const r = await serveRendezvous('127.0.0.1:0', {
    shutdownTimeout: 0,
    ...options,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) w(e);
    },
  });
  t.after(() => r.close());
  const next = <T extends RendezvousEvent['type']>(
    type: T,
    match: (e: EventOf<T>) => boolean = () => true,
    ms = 5000,
  ): Promise<EventOf<T>> => {
    const seen = events.find((e) => e.type === type && match(e as EventOf<T>));
    if (seen) return Promise.resolve(seen as EventOf<T>);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no ${type} event within ${ms} ms; saw ${JSON.stringify(events)}`));
      }, ms);
      const w = (e: RendezvousEvent) => {
        if (e.type !== type || !match(e as EventOf<T>)) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve(e as EventOf<T>);
      };
      waiters.add(w);
    });
  };
  return { r, address: r.addr.address, events, next };
}

/** join joins and destroys the Conn after the test. */
async function join(t: TestContext, address: string, options: JoinOptions): Promise<Conn> {
  const conn = await joinRendezvous(address, options);
  t.after(() => conn.destroy());
  return conn;
}

/** waiting starts a join and resolves once the rendezvous says it holds the slot; `paired` is the join itself. */
async function waiting(
  address: string,
  options: JoinOptions,
): Promise<{ paired: Promise<Conn>; conn?: Conn }> {
  let said!: () => void;
  const told = new Promise<void>((r) => {
    said = r;
  });
  const paired = joinRendezvous(address, { ...options, onWaiting: () => said() });
  paired.catch(() => {});
  await Promise.race([told, paired]);
  return { paired };
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** exchange writes `out` and half-closes, while reading the peer to its end. */
async function exchange(conn: Conn, out: Buffer): Promise<Buffer> {
  const reading = readAll(conn);
  await conn.write(out);
  await conn.closeWrite();
  return reading;
}

/** rendezvousCode is the code a join rejected with. */
async function rejectionOf(p: Promise<unknown>): Promise<RendezvousError> {
  const err = await p.then(
    () => assert.fail('expected a refusal'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof RendezvousError, `got ${String(err)}`);
  return err;
}

/** raw dials the rendezvous with a plain socket (half-open), for clients that break the protocol. */
async function raw(t: TestContext, address: string): Promise<net.Socket> {
  const s = net.connect({ ...hostPort(address), allowHalfOpen: true });
  s.on('error', () => {});
  t.after(() => s.destroy());
  await once(s, 'connect');
  return s;
}

/** rest reads a raw socket until the rendezvous closes it, and closes it too. */
function rest(s: net.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  s.on('data', (c: Buffer) => chunks.push(c));
  s.on('end', () => s.end());
  return new Promise((resolve) => s.once('close', () => resolve(Buffer.concat(chunks))));
}

/** frames splits length-prefixed frames. */
function frames(b: Buffer): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (let at = 0; at + 4 <= b.length; ) {
    const n = b.readUInt32BE(at);
    out.push(JSON.parse(b.subarray(at + 4, at + 4 + n).toString()) as Record<string, unknown>);
    at += 4 + n;
  }
  return out;
}

for (const first of ['send', 'recv'] as const) {
  test(`pairs with the ${first === 'send' ? 'sender' : 'receiver'} first: 1 MiB each way intact, half-close passed on`, async (t) => {
    const s = await served(t);
    const second = first === 'send' ? 'recv' : 'send';
    const early = await waiting(s.address, { room: '7', role: first });
    const w = await s.next('waiting');
    assert.deepEqual([w.room, w.role], ['7', first]);
    assert.deepEqual(
      s.r.rooms().map((r) => [r.room, r.state]),
      [['7', 'waiting']],
    );
    const late = await join(t, s.address, { room: '7', role: second });
    const firstConn = await early.paired;
    t.after(() => firstConn.destroy());
    const [sender, receiver] = first === 'send' ? [firstConn, late] : [late, firstConn];
    const paired = await s.next('paired');
    assert.equal(paired.room, '7');
    assert.equal(paired.sender, `127.0.0.1:${sender.localAddr?.port}`);
    assert.equal(paired.receiver, `127.0.0.1:${receiver.localAddr?.port}`);
    assert.equal(s.r.rooms()[0]?.state, 'paired');

    const up = randomBytes(1024 * 1024);
    const down = randomBytes(1024 * 1024);
    // The receiver answers only after the sender's FIN arrived: the other way stays open.
    const receiving = (async () => {
      const got = await readAll(receiver);
      await receiver.write(down);
      await receiver.closeWrite();
      return got;
    })();
    const back = await exchange(sender, up);
    const got = await receiving;
    assert.equal(sha(got), sha(up));
    assert.equal(sha(back), sha(down));
    const closed = await s.next('closed');
    assert.deepEqual(closed.bytes, { toReceiver: up.length, toSender: down.length });
    assert.equal(closed.code, undefined);
    assert.match(closed.reason, /closed first \(FIN\)/);
    assert.deepEqual(s.r.rooms(), []);
  });
}

test('bytes a client sent after its join, before pairing, reach the peer first, in order', async (t) => {
  const s = await served(t);
  const sock = await raw(t, s.address);
  sock.write(Buffer.concat([joinBytes('early', 'send'), Buffer.from('before ')]));
  await s.next('waiting');
  // A second write while waiting: the rendezvous has stopped reading; the kernel holds it.
  sock.write('while waiting ');
  const receiver = await join(t, s.address, { room: 'early', role: 'recv' });
  sock.end('after');
  const got = await readAll(receiver);
  await receiver.closeWrite();
  assert.equal(got.toString(), 'before while waiting after');
  const closed = await s.next('closed');
  assert.equal(closed.bytes.toReceiver, got.length);
});

test('bytes sent after `paired` stay readable on the Conn (they arrive with the frame)', async (t) => {
  const s = await served(t);
  const sock = await raw(t, s.address);
  const receiving = join(t, s.address, { room: 'with-data', role: 'recv' });
  await s.next('waiting');
  // The sender's join and its first bytes in one write: the receiver gets `paired` and the bytes together.
  sock.write(Buffer.concat([joinBytes('with-data', 'send'), Buffer.from('hello')]));
  const receiver = await receiving;
  assert.equal((await receiver.readFull(5)).toString(), 'hello');
});

test('three pairs in three rooms at once: each gets only its own bytes', async (t) => {
  const s = await served(t);
  const rooms = ['a', 'b', 'c'];
  const results = await Promise.all(
    rooms.map(async (room) => {
      const [sender, receiver] = await Promise.all([
        join(t, s.address, { room, role: 'send' }),
        join(t, s.address, { room, role: 'recv' }),
      ]);
      const up = Buffer.concat([Buffer.from(`${room}:`), randomBytes(256 * 1024)]);
      const down = Buffer.concat([Buffer.from(`${room}<`), randomBytes(128 * 1024)]);
      const [got, back] = await Promise.all([exchange(receiver, down), exchange(sender, up)]);
      return { room, ok: sha(got) === sha(up) && sha(back) === sha(down) };
    }),
  );
  assert.deepEqual(results, [
    { room: 'a', ok: true },
    { room: 'b', ok: true },
    { room: 'c', ok: true },
  ]);
});

test('a third party, for a taken role or a paired room, is refused FULL; the pair keeps working', async (t) => {
  const s = await served(t);
  const first = await waiting(s.address, { room: 'r1', role: 'send' });
  const taken = await rejectionOf(joinRendezvous(s.address, { room: 'r1', role: 'send' }));
  assert.equal(taken.code, 'NETKIT_RENDEZVOUS_FULL');
  assert.equal(taken.remote, true);
  assert.equal(taken.room, 'r1');
  assert.match(taken.message, /has a sender already/);
  const receiver = await join(t, s.address, { room: 'r1', role: 'recv' });
  const sender = await first.paired;
  t.after(() => sender.destroy());
  for (const role of ['send', 'recv'] as const) {
    const full = await rejectionOf(joinRendezvous(s.address, { room: 'r1', role }));
    assert.equal(full.code, 'NETKIT_RENDEZVOUS_FULL');
    assert.match(full.message, /paired already/);
  }
  const refused = s.events.filter((e) => e.type === 'refused');
  assert.deepEqual(
    refused.map((e) => [e.type === 'refused' && e.code, e.type === 'refused' && e.room]),
    [
      ['NETKIT_RENDEZVOUS_FULL', 'r1'],
      ['NETKIT_RENDEZVOUS_FULL', 'r1'],
      ['NETKIT_RENDEZVOUS_FULL', 'r1'],
    ],
  );
  const [got, back] = await Promise.all([
    exchange(receiver, Buffer.from('pong')),
    exchange(sender, Buffer.from('ping')),
  ]);
  assert.deepEqual([got.toString(), back.toString()], ['ping', 'pong']);
});

test('maxRooms: a new room past the limit is refused LIMIT; joining an existing room still pairs', async (t) => {
  const s = await served(t, { maxRooms: 2 });
  const a = await waiting(s.address, { room: 'a', role: 'send' });
  await waiting(s.address, { room: 'b', role: 'recv' });
  const limit = await rejectionOf(joinRendezvous(s.address, { room: 'c', role: 'send' }));
  assert.equal(limit.code, 'NETKIT_RENDEZVOUS_LIMIT');
  assert.match(limit.message, /2 rooms \(maxRooms\)/);
  const receiver = await join(t, s.address, { room: 'a', role: 'recv' });
  const sender = await a.paired;
  t.after(() => sender.destroy());
  await sender.write('x');
  assert.equal((await receiver.readFull(1)).toString(), 'x');
});

test('roomTimeout: a client alone too long gets EXPIRED and the room is freed', async (t) => {
  const s = await served(t, { roomTimeout: 200 });
  const started = Date.now();
  const expired = await rejectionOf(joinRendezvous(s.address, { room: 'lonely', role: 'recv' }));
  const took = Date.now() - started;
  assert.equal(expired.code, 'NETKIT_RENDEZVOUS_EXPIRED');
  assert.ok(took >= 180 && took < 3000, `expired after ${took} ms`);
  const closed = await s.next('closed');
  assert.deepEqual([closed.room, closed.code], ['lonely', 'NETKIT_RENDEZVOUS_EXPIRED']);
  assert.deepEqual(s.r.rooms(), []);
  // The name is free: a new client waits in it again.
  await waiting(s.address, { room: 'lonely', role: 'recv' });
  await s.next('waiting', (e) => e.room === 'lonely');
});

test('joinTimeout: a client that says nothing gets PROTOCOL and is closed', async (t) => {
  const s = await served(t, { joinTimeout: 100 });
  const sock = await raw(t, s.address);
  const started = Date.now();
  const got = frames(await rest(sock));
  assert.ok(Date.now() - started < 3000);
  assert.equal(got.length, 1);
  assert.equal(got[0]?.type, 'error');
  assert.equal(got[0]?.code, 'NETKIT_RENDEZVOUS_PROTOCOL');
  const refused = await s.next('refused');
  assert.match(refused.reason, /joinTimeout/);
});

test('a half-sent greeting times out too (magic, no frame)', async (t) => {
  const s = await served(t, { joinTimeout: 100 });
  const sock = await raw(t, s.address);
  sock.write(MAGIC.subarray(0, 3));
  assert.equal(frames(await rest(sock))[0]?.code, 'NETKIT_RENDEZVOUS_PROTOCOL');
});

test('bad magic: closed without a word', async (t) => {
  const s = await served(t);
  const sock = await raw(t, s.address);
  sock.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await rest(sock)).length, 0);
  const refused = await s.next('refused');
  assert.equal(refused.code, 'NETKIT_RENDEZVOUS_PROTOCOL');
  assert.match(refused.reason, /magic/);
});

test('bad join frames: an error frame with PROTOCOL, the reason in it', async (t) => {
  const s = await served(t);
  const big = Buffer.alloc(4);
  big.writeUInt32BE(4097);
  const body = (v: string) => {
    const b = Buffer.from(v);
    const n = Buffer.alloc(4);
    n.writeUInt32BE(b.length);
    return Buffer.concat([n, b]);
  };
  const cases: [string, Buffer, RegExp][] = [
    ['oversize length', big, /4097 bytes exceeds/],
    ['not JSON', body('{nope'), /not JSON/],
    ['not an object', body('[1]'), /not a JSON object/],
    ['not a join', body('{"type":"hello"}'), /must be a "join"/],
    ['bad room', body('{"type":"join","room":"a/b","role":"send"}'), /room/],
    ['long room', body(`{"type":"join","room":"${'x'.repeat(65)}","role":"send"}`), /room/],
    ['bad role', body('{"type":"join","room":"a","role":"both"}'), /role/],
  ];
  for (const [name, frame, why] of cases) {
    const sock = await raw(t, s.address);
    sock.write(Buffer.concat([MAGIC, frame]));
    const got = frames(await rest(sock));
    assert.equal(got[0]?.code, 'NETKIT_RENDEZVOUS_PROTOCOL', name);
    assert.match(String(got[0]?.message), why, name);
  }
  assert.deepEqual(s.r.rooms(), []);
});

test('a waiting client that leaves frees its slot at once (room removed)', async (t) => {
  const s = await served(t);
  const sock = await raw(t, s.address);
  sock.write(joinBytes('gone', 'send'));
  await s.next('waiting');
  sock.destroy();
  const closed = await s.next('closed');
  assert.equal(closed.room, 'gone');
  assert.match(closed.reason, /sender left before a receiver joined/);
  assert.deepEqual(s.r.rooms(), []);
  // Another sender may take the slot now.
  await waiting(s.address, { room: 'gone', role: 'send' });
  await s.next(
    'waiting',
    (e) => e.room === 'gone' && s.events.filter((x) => x.type === 'waiting').length === 2,
  );
});

test('abort while waiting: NETKIT_ABORTED at once, the slot freed', async (t) => {
  const s = await served(t);
  const ac = new AbortController();
  const p = joinRendezvous(s.address, { room: 'stop', role: 'recv', signal: ac.signal });
  await s.next('waiting');
  const started = Date.now();
  ac.abort();
  const err = await p.then(
    () => assert.fail('expected an abort'),
    (e: unknown) => e,
  );
  assert.ok(isNetkitError(err, 'NETKIT_ABORTED'), String(err));
  assert.ok(Date.now() - started < 1000);
  await s.next('closed', (e) => e.room === 'stop');
  assert.deepEqual(s.r.rooms(), []);
});

test('maxRoomBytes: a pair that carries more is reset both ways, LIMIT in the closed event', async (t) => {
  const max = 64 * 1024;
  const s = await served(t, { maxRoomBytes: max });
  const [sender, receiver] = await Promise.all([
    join(t, s.address, { room: 'cap', role: 'send' }),
    join(t, s.address, { room: 'cap', role: 'recv' }),
  ]);
  const reading = readAll(receiver).then(
    (b) => b.length,
    (e: unknown) => e,
  );
  await sender.write(randomBytes(1024 * 1024)).catch(() => {});
  const closed = await s.next('closed');
  assert.equal(closed.code, 'NETKIT_RENDEZVOUS_LIMIT');
  assert.match(closed.reason, /maxRoomBytes/);
  assert.ok(closed.bytes.toReceiver + closed.bytes.toSender <= max, JSON.stringify(closed.bytes));
  // An RST right behind the last data may reach Linux with it and read as a plain end of
  // stream; either way the receiver got no more than the limit. The sender, with nothing
  // in flight towards it, shows the reset itself.
  const got = await reading;
  assert.ok(
    isNetkitError(got, 'NETKIT_CONNECTION_RESET') || (typeof got === 'number' && got <= max),
    String(got),
  );
  const senderEnd = await sender.read().then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isNetkitError(senderEnd, 'NETKIT_CONNECTION_RESET'), String(senderEnd));
});

test('maxRoomBytes counts bytes sent before pairing too: past it, none is delivered', async (t) => {
  const s = await served(t, { maxRoomBytes: 8 });
  const sock = await raw(t, s.address);
  sock.write(Buffer.concat([joinBytes('eager', 'send'), Buffer.alloc(100, 0x61)]));
  await s.next('waiting');
  const receiver = await join(t, s.address, { room: 'eager', role: 'recv' });
  // The reset follows `paired` at once; arriving together, Linux may report the pair as a plain
  // end of stream. Either way not one early byte reaches the receiver.
  const end = await readAll(receiver).then(
    (b) => b.length,
    (e: unknown) => e,
  );
  assert.ok(end === 0 || isNetkitError(end, 'NETKIT_CONNECTION_RESET'), String(end));
  const closed = await s.next('closed');
  assert.equal(closed.code, 'NETKIT_RENDEZVOUS_LIMIT');
  assert.deepEqual(closed.bytes, { toReceiver: 0, toSender: 0 });
});

test('maxRoomTime: a pair is cut when its time is up, both sides reset', async (t) => {
  const s = await served(t, { maxRoomTime: 200 });
  const [sender, receiver] = await Promise.all([
    join(t, s.address, { room: 'brief', role: 'send' }),
    join(t, s.address, { room: 'brief', role: 'recv' }),
  ]);
  const ends = await Promise.all(
    [sender, receiver].map((c) =>
      readAll(c).then(
        () => undefined,
        (e: unknown) => e,
      ),
    ),
  );
  for (const e of ends) assert.ok(isNetkitError(e, 'NETKIT_CONNECTION_RESET'), String(e));
  const closed = await s.next('closed');
  assert.equal(closed.code, 'NETKIT_RENDEZVOUS_LIMIT');
  assert.match(closed.reason, /maxRoomTime/);
  assert.ok(closed.seconds >= 0.18 && closed.seconds < 3, `${closed.seconds} s`);
});

test('over TLS (ephemeral certificate, pinned): paired, bytes carried, a cut reaches both as a reset', async (t) => {
  const s = await served(t, { tls: true, maxRoomBytes: 4096 });
  const tls = { pin: s.r.tls?.fingerprint as string };
  const [sender, receiver] = await Promise.all([
    join(t, s.address, { room: 'tls', role: 'send', tls }),
    join(t, s.address, { room: 'tls', role: 'recv', tls }),
  ]);
  await sender.write('within the limit');
  assert.equal((await receiver.readFull(16)).toString(), 'within the limit');
  const ends = [sender, receiver].map((c) =>
    readAll(c).then(
      () => undefined,
      (e: unknown) => e,
    ),
  );
  await sender.write(randomBytes(64 * 1024)).catch(() => {});
  for (const e of await Promise.all(ends)) assert.ok(isNetkitError(e, 'NETKIT_CONNECTION_RESET'), String(e));
  const closed = await s.next('closed');
  assert.equal(closed.code, 'NETKIT_RENDEZVOUS_LIMIT');
  assert.deepEqual(closed.bytes, { toReceiver: 16, toSender: 0 });
});

test('over a Unix socket: paired, bytes carried, peers shown as unix:@', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-rv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const events: RendezvousEvent[] = [];
  const r = await serveRendezvous(`unix:${path.join(dir, 'rv.sock')}`, { onEvent: (e) => events.push(e) });
  t.after(() => r.close());
  const at = `unix:${r.addr.address}`;
  const [sender, receiver] = await Promise.all([
    join(t, at, { room: 'u', role: 'send' }),
    join(t, at, { room: 'u', role: 'recv' }),
  ]);
  const [got] = await Promise.all([
    exchange(receiver, Buffer.alloc(0)),
    exchange(sender, Buffer.from('local')),
  ]);
  assert.equal(got.toString(), 'local');
  const paired = events.find((e) => e.type === 'paired');
  assert.deepEqual(paired, { type: 'paired', room: 'u', sender: 'unix:@', receiver: 'unix:@' });
});

test('idleTimeout: a paired room that moves nothing is cut', async (t) => {
  const s = await served(t, { idleTimeout: 150 });
  const [sender] = await Promise.all([
    join(t, s.address, { room: 'quiet', role: 'send' }),
    join(t, s.address, { room: 'quiet', role: 'recv' }),
  ]);
  const end = await readAll(sender).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isNetkitError(end, 'NETKIT_CONNECTION_RESET'), String(end));
  const closed = await s.next('closed');
  assert.equal(closed.code, 'NETKIT_TIMEOUT');
  assert.match(closed.reason, /idleTimeout/);
});

test('a reset from one side reaches the other as a reset', async (t) => {
  const s = await served(t);
  const [sender, receiver] = await Promise.all([
    join(t, s.address, { room: 'rst', role: 'send' }),
    join(t, s.address, { room: 'rst', role: 'recv' }),
  ]);
  sender.reset();
  const end = await readAll(receiver).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isNetkitError(end, 'NETKIT_CONNECTION_RESET'), String(end));
  const closed = await s.next('closed');
  assert.match(closed.reason, /the sender closed first \(RST\)/);
});

test('close(): waiting clients are dropped, paired rooms get shutdownTimeout, then are cut', async (t) => {
  const s = await served(t, { shutdownTimeout: 100 });
  const lone = joinRendezvous(s.address, { room: 'w', role: 'send' });
  lone.catch(() => {});
  await s.next('waiting');
  const [sender] = await Promise.all([
    join(t, s.address, { room: 'p', role: 'send' }),
    join(t, s.address, { room: 'p', role: 'recv' }),
  ]);
  const started = Date.now();
  await s.r.close();
  assert.ok(Date.now() - started < 3000);
  const err = await lone.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isNetkitError(err, 'NETKIT_CONNECTION_CLOSED'), String(err));
  const end = await readAll(sender).then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(isNetkitError(end, 'NETKIT_CONNECTION_RESET'), String(end));
  assert.deepEqual(
    s.events
      .filter((e) => e.type === 'closed')
      .map((e) => [e.type === 'closed' && e.room, e.type === 'closed' && e.reason])
      .sort(),
    [
      ['p', 'the rendezvous closed'],
      ['w', 'the rendezvous closed'],
    ],
  );
  await assert.rejects(joinRendezvous(s.address, { room: 'x', role: 'send' }), {
    code: 'NETKIT_DIAL_FAILED',
  });
});

test('a refusal from the rendezvous: known codes kept, others PROTOCOL, the message escaped', async (t) => {
  const cases: [string, string, string][] = [
    ['NETKIT_RENDEZVOUS_LIMIT', 'busy \x1b[2J', 'NETKIT_RENDEZVOUS_LIMIT'],
    ['NETKIT_RENDEZVOUS_SOMETHING_NEW', 'later', 'NETKIT_RENDEZVOUS_SOMETHING_NEW'],
    ['NETKIT_DIAL_FAILED', 'spoofed', 'NETKIT_RENDEZVOUS_PROTOCOL'],
    ['netkit_rendezvous_full', 'lower case', 'NETKIT_RENDEZVOUS_PROTOCOL'],
  ];
  for (const [code, message, want] of cases) {
    const server = net.createServer((sock) => {
      sock.on('error', () => {});
      sock.once('data', () => sock.end(encodeFrame({ type: 'error', code, message })));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.after(() => server.close());
    const port = (server.address() as net.AddressInfo).port;
    const err = await rejectionOf(joinRendezvous(`127.0.0.1:${port}`, { room: 'x', role: 'send' }));
    assert.equal(err.code, want, code);
    assert.equal(err.remote, true);
    assert.ok(!/[\x00-\x1f]/.test(err.message), `escaped: ${JSON.stringify(err.message)}`);
  }
});

test('a server that is no rendezvous: PROTOCOL, or a timeout when it never answers', async (t) => {
  const closer = net.createServer((sock) => sock.end());
  const silent = net.createServer(() => {});
  const sockets: net.Socket[] = [];
  silent.on('connection', (s) => sockets.push(s));
  for (const srv of [closer, silent]) {
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
  }
  t.after(() => {
    for (const s of sockets) s.destroy();
    closer.close();
    silent.close();
  });
  const at = (srv: net.Server) => `127.0.0.1:${(srv.address() as net.AddressInfo).port}`;
  const closed = await rejectionOf(joinRendezvous(at(closer), { room: 'x', role: 'send' }));
  assert.equal(closed.code, 'NETKIT_RENDEZVOUS_PROTOCOL');
  assert.match(closed.message, /netkit rendezvous/);
  await assert.rejects(joinRendezvous(at(silent), { room: 'x', role: 'send', connectTimeout: 150 }), {
    code: 'NETKIT_TIMEOUT',
  });
});

test('200 clients of every kind at once (garbage, silent, half greetings, pairs): pairs work, fds back to baseline', async (t) => {
  const s = await served(t, { joinTimeout: 300, roomTimeout: 300 });
  const before = openFds();
  const kinds = [
    (c: net.Socket) => c.write('GET / HTTP/1.1\r\n\r\n'),
    (c: net.Socket) => c.write(randomBytes(64)),
    (_c: net.Socket) => {},
    (c: net.Socket) => c.write(MAGIC.subarray(0, 4)),
    (c: net.Socket) => c.write(Buffer.concat([MAGIC, Buffer.from([0xff, 0xff, 0xff, 0xff])])),
    (c: net.Socket) => c.write(joinBytes(`alone${Math.random().toString(36).slice(2, 8)}`, 'send')),
    (c: net.Socket) => c.resetAndDestroy(),
  ];
  const clients = await Promise.all(
    Array.from({ length: 180 }, async (_, i) => {
      const c = await raw(t, s.address);
      kinds[i % kinds.length]?.(c);
      return rest(c);
    }),
  );
  const pairs = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const [a, b] = await Promise.all([
        join(t, s.address, { room: `pair${i}`, role: 'send' }),
        join(t, s.address, { room: `pair${i}`, role: 'recv' }),
      ]);
      const [got] = await Promise.all([exchange(b, Buffer.from('b')), exchange(a, Buffer.from(`a${i}`))]);
      a.destroy();
      b.destroy();
      return got.toString();
    }),
  );
  assert.deepEqual(
    pairs,
    Array.from({ length: 10 }, (_, i) => `a${i}`),
  );
  await Promise.all(clients);
  await until(() => s.r.rooms().length === 0, 5000, 'rooms freed');
  await until(() => openFds() <= before + 2, 5000, `fds back to ${before} (now ${openFds()})`);
});

test('invalid options are refused up front, naming the option', async () => {
  const server: [RendezvousOptions, string][] = [
    [{ maxRooms: 0 }, 'maxRooms'],
    [{ maxRooms: 1.5 }, 'maxRooms'],
    [{ roomTimeout: -1 }, 'roomTimeout'],
    [{ joinTimeout: 0 }, 'joinTimeout'],
    [{ idleTimeout: Number.NaN }, 'idleTimeout'],
    [{ maxRoomBytes: -1 }, 'maxRoomBytes'],
    [{ maxRoomBytes: 2 ** 60 }, 'maxRoomBytes'],
    [{ maxRoomTime: 2 ** 40 }, 'maxRoomTime'],
    [{ onEvent: 'x' as never }, 'onEvent'],
    [{ signal: {} as never }, 'signal'],
    [{ keepAlive: { idle: 10 } }, 'keepAlive.idle'],
  ];
  for (const [options, option] of server) {
    await assert.rejects(serveRendezvous('127.0.0.1:0', options), (err: unknown) => {
      assert.ok(err instanceof NetkitError && err.code === 'NETKIT_INVALID_ARGUMENT', String(err));
      assert.equal((err as unknown as { option: string }).option, option);
      return true;
    });
  }
  const client: [JoinOptions, string][] = [
    [{ room: '', role: 'send' }, 'room'],
    [{ room: 'a b', role: 'send' }, 'room'],
    [{ room: 'x'.repeat(65), role: 'send' }, 'room'],
    [{ room: 'a', role: 'both' as never }, 'role'],
    [{ room: 'a', role: 'send', connectTimeout: -5 }, 'connectTimeout'],
  ];
  for (const [options, option] of client) {
    await assert.rejects(joinRendezvous('127.0.0.1:1', options), { code: 'NETKIT_INVALID_ARGUMENT', option });
  }
});
