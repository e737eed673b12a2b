import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameError } from '../../src/errors.js';
import { LineDecoder, LineEncoder } from '../../src/framing/index.js';
import type { ConnSummary } from '../../src/tcp/index.js';
import { dial, echoHandler } from '../../src/tcp/index.js';
import { LineEchoDecoder } from '../../src/tcp/line-echo.js';
import { byteByByte, splitAt } from '../framing/helpers.js';
import { readAll, startServer, until } from '../helpers/net.js';

interface Outcome {
  out: string;
  code: string | undefined;
}

/** reference is the line echo done the long way: decode every line, encode it again. */
function reference(chunks: readonly Buffer[], max: number): Outcome {
  const lines = new LineDecoder({ maxLineBytes: max });
  const encoder = new LineEncoder({ maxLineBytes: max });
  const out: Buffer[] = [];
  const onLine = (line: Buffer): void => {
    out.push(encoder.encode(line));
  };
  return run(out, () => {
    for (const c of chunks) lines.push(c, onLine);
    lines.end(onLine);
  });
}

function echoed(chunks: readonly Buffer[], max: number): Outcome {
  const echo = newEcho(max);
  const out: Buffer[] = [];
  const onFrame = (wire: Buffer): void => {
    out.push(Buffer.from(wire));
  };
  return run(out, () => {
    for (const c of chunks) echo.push(c, onFrame);
    echo.end(onFrame);
  });
}

function newEcho(max: number): LineEchoDecoder {
  return new LineEchoDecoder(new LineDecoder({ maxLineBytes: max }), new LineEncoder({ maxLineBytes: max }));
}

function run(out: Buffer[], fn: () => void): Outcome {
  let code: string | undefined;
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FrameError, `expected a FrameError, got ${String(err)}`);
    code = err.code;
  }
  return { out: Buffer.concat(out).toString('latin1'), code };
}

/** splits gives the input whole, at every single split point, and byte by byte. */
function splits(data: Buffer): Buffer[][] {
  const out = [[data], byteByByte(data)];
  for (let i = 1; i < data.length; i++) out.push(splitAt(data, i));
  return out;
}

const CASES: { input: string; max?: number }[] = [
  { input: 'hello\n' },
  { input: 'a\nb\nc\n' },
  { input: '\n\n' },
  { input: 'crlf\r\nnext\n' },
  { input: 'lone\rcr\n' },
  { input: 'a\r\r\nb\n' }, // a line ending in \r: the encoder refuses it
  { input: 'tail without newline' },
  { input: 'tail with cr\r' },
  { input: 'part one\npart two' },
  { input: 'abcd\nefgh\n', max: 4 },
  { input: 'abcd\r\n', max: 4 },
  { input: 'ab\nabcde\nab\n', max: 4 },
  { input: 'abcdefgh', max: 4 },
  { input: 'ü\u00e9\n\u00ff\n' },
];

test('LineEchoDecoder answers exactly as decoding and re-encoding each line, at every split', () => {
  for (const [i, { input, max = 1024 }] of CASES.entries()) {
    const data = Buffer.from(input, 'latin1');
    for (const chunks of splits(data)) {
      const want = reference(chunks, max);
      const got = echoed(chunks, max);
      assert.deepEqual(
        got,
        want,
        `#${i} ${JSON.stringify(input)} in ${chunks.map((c) => JSON.stringify(c.toString('latin1'))).join(' + ')}`,
      );
    }
  }
});

test('LineEchoDecoder emits a chunk of whole lines as itself, once', () => {
  const echo = newEcho(1024);
  const chunk = Buffer.from('one\ntwo\nthree\n');
  const frames: Buffer[] = [];
  echo.push(chunk, (f) => frames.push(f));
  assert.equal(frames.length, 1);
  assert.equal(frames[0], chunk);
  // After a partial line the next chunk is not whole lines by itself.
  echo.push(Buffer.from('par'), (f) => frames.push(f));
  echo.push(Buffer.from('tial\n'), (f) => frames.push(f));
  assert.deepEqual(
    frames.slice(1).map((f) => f.toString()),
    ['partial\n'],
  );
  assert.equal(echo.buffered, 0);
});

test('LineEchoDecoder stays failed once a line is too large or onFrame throws', () => {
  const echo = newEcho(4);
  assert.throws(() => echo.push(Buffer.from('abcdefg\n'), () => {}), { code: 'NETKIT_FRAME_TOO_LARGE' });
  assert.throws(() => echo.push(Buffer.from('ok\n'), () => {}), { code: 'NETKIT_FRAME_TOO_LARGE' });
  assert.throws(() => echo.end(() => {}), { code: 'NETKIT_FRAME_TOO_LARGE' });

  const thrower = newEcho(1024);
  const boom = new Error('boom');
  assert.throws(
    () =>
      thrower.push(Buffer.from('fast\n'), () => {
        throw boom;
      }),
    (err) => err === boom,
  );
  assert.throws(
    () => thrower.push(Buffer.from('again\n'), () => {}),
    (err) => err === boom,
  );
});

test('echoHandler echoes pipelined lines byte for byte, CRLF as LF, and a final line without newline', async (t) => {
  const { address } = await startServer(t, echoHandler());
  const c = await dial(address);
  const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(i % 70)}\n`).join('');
  await c.write(lines);
  await c.write('crlf\r\n');
  await c.write('no newline');
  await c.closeWrite();
  assert.equal((await readAll(c)).toString(), `${lines}crlf\nno newline\n`);
});

test('echoHandler fails a connection on an oversize line, after echoing the lines before it', async (t) => {
  const { address, server } = await startServer(t, echoHandler({ maxFrameBytes: 8 }));
  const closed: ConnSummary[] = [];
  server.on('close', (_c, s) => closed.push(s));
  const c = await dial(address);
  await c.write('short\nmuch too long\n');
  await c.closeWrite();
  const got = await readAll(c).catch(() => Buffer.alloc(0));
  assert.ok('short\n'.startsWith(got.toString()), `got ${JSON.stringify(got.toString())}`);
  await until(() => closed.length === 1, 3000, 'the close event');
  assert.equal(closed[0]?.error?.code, 'NETKIT_FRAME_TOO_LARGE');
  c.destroy();
});
