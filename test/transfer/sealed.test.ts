/**
 * The record layer on its own, over a real loopback connection: what goes
 * in comes out, lengths are padded, a tampered record is
 * NETKIT_TRANSFER_INTEGRITY, and a connection cut inside a record ends
 * the stream without handing out unverified bytes. And the code rules.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { type TestContext, test } from 'node:test';
import { isNetkitError } from '../../src/errors.js';
import { type Conn, dial } from '../../src/tcp/index.js';
import { CODE_WORDS, generateCode, normalizeCode, roomOf } from '../../src/transfer/index.js';
import { sourceKey } from '../../src/transfer/secure/guesses.js';
import { MAX_PAYLOAD, PAD, Sealed, sessionKeys } from '../../src/transfer/secure/sealed.js';

const KE = Buffer.alloc(16, 7);

/** pair dials a raw server; `onServer` gets the accepted socket (the test writes what it likes into it). */
async function pair(t: TestContext): Promise<{ conn: Conn; server: Promise<net.Socket> }> {
  let take!: (s: net.Socket) => void;
  const server = new Promise<net.Socket>((resolve) => {
    take = resolve;
  });
  const srv = net.createServer((s) => take(s));
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const conn = await dial(`127.0.0.1:${(srv.address() as net.AddressInfo).port}`);
  t.after(() => {
    conn.destroy();
    srv.close();
    void server.then((s) => s.destroy());
  });
  return { conn, server };
}

/** sealedBytes is what a sender's Sealed writes for these payloads, captured off a real socket. */
async function sealedBytes(t: TestContext, payloads: Buffer[]): Promise<Buffer> {
  const { conn, server } = await pair(t);
  const s = new Sealed(conn, sessionKeys(KE, 'sender'), 'receiver');
  for (const p of payloads) await s.write(p);
  await conn.closeWrite();
  const sock = await server;
  const parts: Buffer[] = [];
  for await (const c of sock) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** openAll feeds raw bytes to a receiving Sealed and reads until the end. */
async function openAll(t: TestContext, raw: Buffer): Promise<Buffer> {
  const { conn, server } = await pair(t);
  const sock = await server;
  sock.end(raw);
  const r = new Sealed(conn, sessionKeys(KE, 'receiver'), 'sender');
  const out: Buffer[] = [];
  for (let c = await r.read(); c !== null; c = await r.read()) out.push(c);
  return Buffer.concat(out);
}

function records(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < b.length; ) {
    const len = b.readUInt32BE(at);
    out.push(b.subarray(at, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

test('payloads of every size come back whole, in records of at most 1 MiB padded to 256 bytes', async (t) => {
  const payloads = [
    Buffer.alloc(0),
    Buffer.from('x'),
    randomBytes(255),
    randomBytes(256),
    randomBytes(MAX_PAYLOAD * 2 + 3),
  ];
  // A payload ending in zeros must keep them: only the padding after the 0x01 marker goes.
  payloads.push(Buffer.concat([Buffer.from('tail'), Buffer.alloc(300)]));
  const raw = await sealedBytes(t, payloads);
  const recs = records(raw);
  // 1 + 1 + 1 + 1 + 3 (the 2 MiB + 3 bytes payload) + 1
  assert.equal(recs.length, 8);
  for (const r of recs) {
    assert.equal((r.length - 4 - 16) % PAD, 0);
    assert.ok(r.length - 4 - 16 <= MAX_PAYLOAD + PAD);
  }
  assert.deepEqual(await openAll(t, raw), Buffer.concat(payloads));
});

test('a record changed, dropped, replayed, reordered or reflected is NETKIT_TRANSFER_INTEGRITY', async (t) => {
  const raw = await sealedBytes(t, [Buffer.from('one'), Buffer.from('two'), Buffer.from('three')]);
  const [a, b, c] = records(raw) as [Buffer, Buffer, Buffer];
  const flipped = Buffer.from(b);
  flipped[10]! ^= 1;
  const lengthChanged = Buffer.from(a);
  lengthChanged.writeUInt32BE(lengthChanged.readUInt32BE(0) + PAD, 0);
  const cases: [string, Buffer][] = [
    ['flipped', Buffer.concat([a, flipped, c])],
    ['dropped', Buffer.concat([a, c])],
    ['replayed', Buffer.concat([a, a, b, c])],
    ['reordered', Buffer.concat([b, a, c])],
    ['a length changed', Buffer.concat([lengthChanged, b, c, Buffer.alloc(PAD)])],
    ['an impossible length', Buffer.concat([Buffer.from([0, 0, 0, 17]), Buffer.alloc(17)])],
  ];
  for (const [name, bytes] of cases) {
    await assert.rejects(
      openAll(t, bytes),
      (e: unknown) => isNetkitError(e, 'NETKIT_TRANSFER_INTEGRITY'),
      name,
    );
  }
  // A record sent back to its sender: the other direction has its own key.
  const { conn, server } = await pair(t);
  (await server).end(a);
  const sender = new Sealed(conn, sessionKeys(KE, 'sender'), 'receiver');
  await assert.rejects(sender.read(), (e: unknown) => isNetkitError(e, 'NETKIT_TRANSFER_INTEGRITY'));
});

test('a connection cut inside a record ends the stream and hands out nothing of that record', async (t) => {
  const raw = await sealedBytes(t, [Buffer.from('whole'), Buffer.from('cut short')]);
  const [a, b] = records(raw) as [Buffer, Buffer];
  assert.deepEqual(await openAll(t, Buffer.concat([a, b.subarray(0, b.length - 1)])), Buffer.from('whole'));
  assert.deepEqual(await openAll(t, Buffer.concat([a, b.subarray(0, 2)])), Buffer.from('whole'));
});

test('codes: generated as room and words, normalised, and the room is the first part', () => {
  const code = generateCode();
  const [room, ...words] = code.split('-');
  assert.match(room!, /^[1-9]\d{0,3}$/);
  assert.equal(words.length, CODE_WORDS);
  for (const w of words) assert.match(w, /^[a-z]{3,8}$/);
  assert.notEqual(generateCode(), code);
  assert.equal(generateCode(5).split('-').length, 6);
  assert.throws(() => generateCode(1), /2 to 8/);
  assert.equal(normalizeCode('  7 Crossword--PUZZLE\tapple '), '7-crossword-puzzle-apple');
  assert.equal(roomOf('7 crossword puzzle'), '7');
  for (const bad of ['', '   ', 'x'.repeat(300), 'a\u0007b']) {
    assert.throws(
      () => normalizeCode(bad),
      (e: unknown) => isNetkitError(e, 'NETKIT_INVALID_ARGUMENT'),
    );
  }
  // A rendezvous needs ROOM-secret: a code of one word has no secret part to run the PAKE on.
  assert.throws(() => roomOf('onlyoneword'), /ROOM-secret/);
  assert.throws(() => roomOf(`${'r'.repeat(65)}-words`), /ROOM-secret/);
});

test('the wrong-code slow-down groups sources: an IPv4 address, an IPv6 /64', () => {
  assert.equal(sourceKey('192.0.2.7'), '192.0.2.7');
  assert.equal(sourceKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(sourceKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(sourceKey('2001:DB8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
  assert.equal(sourceKey('::1'), '0:0:0:0::/64');
  assert.equal(sourceKey('unix'), 'unix');
});
