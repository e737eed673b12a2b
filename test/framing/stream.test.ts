import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { FrameError } from '../../src/errors.js';
import {
  createDecoder,
  createEncoder,
  decodeStream,
  type FrameDecoder,
  LineDecoder,
  readFrames,
} from '../../src/framing/index.js';
import { hex } from './helpers.js';

async function collect(iterable: AsyncIterable<Buffer>): Promise<string[]> {
  const out: string[] = [];
  for await (const f of iterable) out.push(f.toString('hex'));
  return out;
}

async function rejection(p: Promise<unknown>, code: FrameError['code']): Promise<FrameError> {
  const err = await p.then(
    () => assert.fail('expected a rejection'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof FrameError, `expected FrameError, got ${String(err)}`);
  assert.equal(err.code, code);
  return err;
}

describe('decodeStream', () => {
  test('turns byte chunks into object-mode frames', async () => {
    const t = Readable.from([hex('0000'), hex('0002 61'), hex('62 0000 0000')]).pipe(
      decodeStream(createDecoder('len16')),
    );
    assert.deepEqual(await collect(t), ['', '6162', '', '']); // empty frames survive object mode
  });

  test('emits a final unterminated line at the end', async () => {
    const t = Readable.from([Buffer.from('a\nb')]).pipe(decodeStream(new LineDecoder()));
    assert.deepEqual(await collect(t), ['61', '62']);
  });

  test('a decoder error destroys the stream with the FrameError', async () => {
    const t = decodeStream(createDecoder('len32', { maxFrameBytes: 4 }));
    const errored = once(t, 'error');
    t.write(hex('00000005'));
    const [err] = await errored;
    assert.ok(err instanceof FrameError);
    assert.equal(err.code, 'NETKIT_FRAME_TOO_LARGE');
    assert.ok(t.destroyed);
  });

  test('input ending mid-frame fails with NETKIT_FRAME_TRUNCATED', async () => {
    const t = decodeStream(createDecoder('uvarint'));
    await rejection(
      pipeline(Readable.from([hex('0361')]), t, async (frames) => collect(frames)),
      'NETKIT_FRAME_TRUNCATED',
    );
  });

  test('respects backpressure: the next chunk waits until frames are read', async () => {
    let pushes = 0;
    const inner = createDecoder('len8');
    const counting: FrameDecoder = {
      push(chunk, onFrame) {
        pushes++;
        inner.push(chunk, onFrame);
      },
      end: (onFrame) => inner.end(onFrame),
      get buffered() {
        return inner.buffered;
      },
    };
    const t = decodeStream(counting);
    const burst = Buffer.concat(Array.from({ length: 100 }, () => hex('0161'))); // 100 frames
    t.write(burst);
    t.write(burst);
    await new Promise((r) => setImmediate(r));
    assert.equal(pushes, 1, 'second chunk decoded while 100 frames sat unread');
    assert.ok(t.readableLength >= t.readableHighWaterMark);
    let n = 0;
    t.on('data', () => {
      n++;
    });
    t.end();
    await once(t, 'end');
    assert.equal(n, 200);
    assert.equal(pushes, 2);
  });
});

describe('readFrames', () => {
  async function* source(...chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
    for (const c of chunks) yield c;
  }

  test('decodes any async iterable of Uint8Array', async () => {
    const frames = readFrames(
      source(new Uint8Array([0, 0, 0]), new Uint8Array([1, 0x61])),
      createDecoder('len32'),
    );
    assert.deepEqual(await collect(frames), ['61']);
  });

  test('frames completed before an error are yielded, then the error is thrown', async () => {
    const seen: string[] = [];
    const err = await rejection(
      (async () => {
        for await (const f of readFrames(
          source(Buffer.from('ok\nfine\ntoo long\n')),
          new LineDecoder({ maxLineBytes: 4 }),
        )) {
          seen.push(f.toString());
        }
      })(),
      'NETKIT_FRAME_TOO_LARGE',
    );
    assert.equal(err.limit, 4);
    assert.deepEqual(seen, ['ok', 'fine']);
  });

  test('a source ending mid-frame throws NETKIT_FRAME_TRUNCATED after the complete frames', async () => {
    const seen: string[] = [];
    await rejection(
      (async () => {
        for await (const f of readFrames(source(hex('0161 0262')), createDecoder('len8')))
          seen.push(f.toString('hex'));
      })(),
      'NETKIT_FRAME_TRUNCATED',
    );
    assert.deepEqual(seen, ['61']);
  });

  test('leaving the loop early closes the source', async () => {
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) yield Buffer.from('x\n');
      } finally {
        closed = true;
      }
    }
    for await (const f of readFrames(endless(), new LineDecoder())) {
      assert.equal(f.toString(), 'x');
      break;
    }
    assert.equal(closed, true);
  });

  test('a stream with setEncoding (strings) is rejected, naming source', async () => {
    const r = Readable.from([Buffer.from('a\n')]);
    r.setEncoding('utf8');
    const err = await (async () => {
      for await (const _ of readFrames(r as AsyncIterable<Uint8Array>, new LineDecoder())) {
        // unreachable
      }
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal((err as { option?: string }).option, 'source');
  });
});

test('len32 over a real TCP socket, written in awkward pieces, decodes with readFrames and decodeStream', async () => {
  const encoder = createEncoder('len32');
  const payloads = Array.from({ length: 200 }, (_, i) => Buffer.alloc(i % 7 === 0 ? 0 : i * 13, i & 0xff));
  const wire = Buffer.concat(payloads.map((p) => encoder.encode(p)));
  const server = net.createServer(async (socket) => {
    // Write in pieces that ignore frame boundaries, yielding between them so
    // the reader sees many different read boundaries.
    for (let at = 0; at < wire.length; ) {
      const n = 1 + ((at * 7919) % 1500);
      socket.write(wire.subarray(at, at + n));
      at += n;
      if (at % 3 === 0) await new Promise((r) => setImmediate(r));
    }
    socket.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  try {
    const a = net.connect(port, '127.0.0.1');
    const viaIterator: Buffer[] = [];
    for await (const f of readFrames(a, createDecoder('len32'))) viaIterator.push(Buffer.from(f));
    assert.deepEqual(viaIterator, payloads);

    const b = net.connect(port, '127.0.0.1');
    const viaStream: Buffer[] = [];
    await pipeline(b, decodeStream(createDecoder('len32')), async (frames: AsyncIterable<Buffer>) => {
      for await (const f of frames) viaStream.push(f);
    });
    assert.deepEqual(viaStream, payloads);
  } finally {
    server.close();
  }
});
