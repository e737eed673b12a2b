import { createDecoder, createEncoder } from '../../framing/index.js';
import { type Conn, dial, listen, serve } from '../../tcp/index.js';
import type { Chapter } from '../chapter.js';

const MESSAGES = Array.from({ length: 20 }, (_, i) => `message ${String(i + 1).padStart(2, '0')}`);

/**
 * Sticky packets: TCP is a byte stream, so twenty writes can arrive as a few
 * reads. The server here is busy for 50 ms before it reads, as a loaded
 * server would be, and finds the messages glued together; with
 * length-prefixed framing the same traffic splits back into twenty.
 */
const chapter: Chapter = {
  title: 'Sticky packets, and framing as the fix',
  async run(t) {
    const naive = await readAfterPause(async (conn) => {
      for (const m of MESSAGES) void conn.write(m);
    }, t.signal);
    t.say(`20 writes of "message NN" arrived as ${naive.chunks.length} read(s):`);
    for (const c of naive.chunks.slice(0, 3)) t.say(`  read: ${JSON.stringify(c.toString()).slice(0, 70)}…`);
    t.check(
      Buffer.concat(naive.chunks).toString() === MESSAGES.join(''),
      'the bytes arrived intact, in order',
    );
    t.check(naive.chunks.length < MESSAGES.length, 'the writes were merged by the stream');

    const encoder = createEncoder('len32');
    const framed = await readAfterPause(async (conn) => {
      for (const m of MESSAGES) void conn.write(encoder.encode(Buffer.from(m)));
    }, t.signal);
    const frames: string[] = [];
    const decoder = createDecoder('len32');
    for (const chunk of framed.chunks) decoder.push(chunk, (f) => frames.push(f.toString()));
    decoder.end(() => {});
    t.say(
      `with a 4-byte length before each message: ${framed.chunks.length} read(s), ${frames.length} frames`,
    );
    t.say(
      `  frames: ${frames
        .slice(0, 3)
        .map((f) => JSON.stringify(f))
        .join(', ')}, …`,
    );
    t.check(
      frames.length === 20 && frames.every((f, i) => f === MESSAGES[i]),
      'framing recovers all 20 messages',
    );
    t.fact('naiveReads', naive.chunks.length);
    t.fact('frames', frames.length);
  },
};
export default chapter;

async function readAfterPause(
  send: (conn: Conn) => Promise<void>,
  signal: AbortSignal,
): Promise<{ chunks: Buffer[] }> {
  const listener = await listen('127.0.0.1:0');
  const chunks: Buffer[] = [];
  const server = serve(listener, async (conn) => {
    conn.socket.pause(); // a busy server: the kernel keeps receiving while we do not read
    await new Promise((r) => setTimeout(r, 50));
    conn.socket.resume();
    for await (const chunk of conn) chunks.push(chunk);
  });
  const client = await dial(listener.addr.address, { signal });
  await send(client);
  await client.closeWrite();
  while ((await client.read()) !== null); // wait for the server's FIN: it has read everything
  await client.close();
  await server.close();
  return { chunks };
}
