/**
 * The rendezvous greeting parser, table-driven from hex fixtures: a valid
 * greeting fed whole, at every split point and one byte at a time gives
 * the same join and the same bytes after it; a wrong byte of the magic is
 * caught at that byte; an oversize length is refused before its body; bad
 * frames name what is wrong. Also the frame encoder and the join bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RendezvousError } from '../../src/errors.js';
import {
  encodeFrame,
  JoinParser,
  type JoinResult,
  joinBytes,
  MAGIC,
  MAX_FRAME_BYTES,
  parseServerFrame,
} from '../../src/transfer/rendezvous/protocol.js';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

// MAGIC, then a 40-byte frame: {"type":"join","room":"7","role":"send"}
const JOIN_7_SEND = hex(`
  004e4b525601
  00000028
  7b2274797065223a226a6f696e222c22726f6f6d223a2237222c22726f6c65223a2273656e64227d
`);

/** feed pushes `chunks` in order and returns the first result that is not "more". */
function feed(chunks: Buffer[]): JoinResult {
  const p = new JoinParser();
  for (const c of chunks) {
    const r = p.push(c);
    if (r.kind !== 'more') return r;
  }
  return { kind: 'more' };
}

test('joinBytes is the fixture: magic, length, JSON', () => {
  assert.equal(joinBytes('7', 'send').toString('hex'), JOIN_7_SEND.toString('hex'));
  assert.equal(MAGIC.toString('hex'), '004e4b525601');
});

test('a greeting split at every point, or a byte at a time, parses the same, keeping what follows', () => {
  const after = Buffer.from('early bytes');
  const all = Buffer.concat([JOIN_7_SEND, after]);
  const splits: [string, Buffer[]][] = [['whole', [all]]];
  for (let i = 1; i < all.length; i++) splits.push([`split at ${i}`, [all.subarray(0, i), all.subarray(i)]]);
  splits.push(['byte by byte', [...all].map((b) => Buffer.from([b]))]);
  for (const [name, chunks] of splits) {
    // As the server does: the parser until the join, then the chunks after it are early bytes.
    const p = new JoinParser();
    let join: JoinResult | undefined;
    const early: Buffer[] = [];
    for (const c of chunks) {
      if (join !== undefined) early.push(c);
      else {
        const r = p.push(c);
        if (r.kind === 'more') continue;
        join = r;
        if (r.kind === 'join') early.push(r.rest);
      }
    }
    assert.equal(join?.kind, 'join', name);
    if (join?.kind !== 'join') continue;
    assert.deepEqual(
      { room: join.join.room, role: join.join.role, early: Buffer.concat(early).toString() },
      { room: '7', role: 'send', early: 'early bytes' },
      name,
    );
  }
});

test('a wrong magic byte is caught at that byte, without waiting for the rest', () => {
  for (let i = 0; i < MAGIC.length; i++) {
    const bad = Buffer.from(MAGIC);
    bad[i] = (bad[i] as number) ^ 0xff;
    const p = new JoinParser();
    let r: JoinResult = { kind: 'more' };
    for (let j = 0; j <= i; j++) r = p.push(bad.subarray(j, j + 1));
    assert.equal(r.kind, 'bad-magic', `byte ${i}`);
  }
  // A newer version is another magic: refused the same way, not misread.
  assert.equal(feed([hex('004e4b525602')]).kind, 'bad-magic');
});

test('lengths: up to the limit is read, past it refused before any body byte', () => {
  const lengths: [number, 'more' | 'error'][] = [
    [MAX_FRAME_BYTES, 'more'],
    [MAX_FRAME_BYTES + 1, 'error'],
    [0xffffffff, 'error'],
  ];
  for (const [n, kind] of lengths) {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(n);
    const r = feed([MAGIC, len]);
    assert.equal(r.kind, kind, `length ${n}`);
    if (r.kind === 'error') {
      assert.ok(r.error instanceof RendezvousError);
      assert.equal(r.error.code, 'NETKIT_RENDEZVOUS_PROTOCOL');
    }
  }
});

test('bad frames: PROTOCOL, saying what is wrong', () => {
  const cases: [string, RegExp][] = [
    ['', /not JSON/],
    ['null', /not a JSON object/],
    ['"join"', /not a JSON object/],
    ['{"type":"waiting"}', /must be a "join"/],
    ['{"type":"join","role":"send"}', /room/],
    ['{"type":"join","room":"","role":"send"}', /room/],
    ['{"type":"join","room":"é","role":"send"}', /room/],
    ['{"type":"join","room":"a\\u001b","role":"send"}', /room/],
    ['{"type":"join","room":"a"}', /role/],
    ['{"type":"join","room":"a","role":"SEND"}', /role/],
  ];
  for (const [json, why] of cases) {
    const body = Buffer.from(json);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(body.length);
    const r = feed([Buffer.concat([MAGIC, len, body])]);
    assert.equal(r.kind, 'error', json);
    if (r.kind === 'error') assert.match(r.error.message, why, json);
  }
  // Unknown fields are ignored: a later version may add some.
  const extra = Buffer.from('{"type":"join","room":"a-b_C9","role":"recv","hint":1}');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(extra.length);
  const r = feed([Buffer.concat([MAGIC, len, extra])]);
  assert.equal(r.kind, 'join');
  if (r.kind === 'join') assert.deepEqual(r.join, { type: 'join', room: 'a-b_C9', role: 'recv' });
});

test('server frames: encoded with their length, parsed back; unknown types refused', () => {
  const frame = encodeFrame({ type: 'paired' });
  assert.equal(frame.toString('hex'), `00000011${Buffer.from('{"type":"paired"}').toString('hex')}`);
  assert.deepEqual(parseServerFrame(frame.subarray(4), 'r'), { type: 'paired' });
  assert.deepEqual(parseServerFrame(Buffer.from('{"type":"error","code":7}'), 'r'), {
    type: 'error',
    code: '',
    message: '',
  });
  assert.throws(() => parseServerFrame(Buffer.from('{"type":"data"}'), 'r'), {
    code: 'NETKIT_RENDEZVOUS_PROTOCOL',
  });
});
