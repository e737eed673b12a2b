import { relay } from '../../relay/index.js';
import { dial, listen, serve } from '../../tcp/index.js';
import type { Chapter } from '../chapter.js';

const LINES = 10;
const DELAY_MS = 20;

/**
 * A relay between client and server, breaking the network on purpose
 * (`netkit relay --fault …`, Toxiproxy's toxics). First a slicer: one
 * 40-byte write leaves the relay as many small segments, so the reader
 * sees the stream as the network delivered it, not as it was written —
 * sticky packets in reverse. Then latency: 20 ms each way makes every
 * request/response round trip cost 40 ms, so ten lines asked one at a
 * time take ten round trips, while the same ten lines written at once
 * (pipelined) take about one.
 */
const chapter: Chapter = {
  title: 'A relay that breaks the network: slicing and latency',
  async run(t) {
    // The slicer: count the reads one write becomes.
    const reads: number[] = [];
    const sink = serve(await listen('127.0.0.1:0'), async (conn) => {
      for await (const chunk of conn) reads.push(chunk.length);
    });
    const sliced = await relay({
      listen: '127.0.0.1:0',
      targets: [sink.address],
      faults: [
        {
          type: 'slicer',
          stream: 'upstream',
          attributes: { average_size: 4, size_variation: 2, delay: 2000 },
        },
      ],
    });
    const writer = await dial(sliced.address, { signal: t.signal });
    await writer.write('one write of forty bytes, sliced apart.\n');
    await writer.closeWrite();
    while ((await writer.read()) !== null);
    await writer.close();
    await sliced.close();
    await sink.close();
    t.say(`relay --fault slicer=4,delay=2ms: 1 write of 40 bytes arrived as ${reads.length} reads`);
    t.say(`  read sizes: ${reads.slice(0, 12).join(', ')}${reads.length > 12 ? ', …' : ''}`);
    t.check(reads.reduce((a, b) => a + b, 0) === 40, 'every byte arrived, in order');
    t.check(
      reads.length >= 5,
      'the one write was delivered in pieces: a reader must frame, not trust writes',
    );

    // Latency: a line server behind 20 ms each way.
    const echo = serve(await listen('127.0.0.1:0'), async (conn) => {
      for (;;) {
        const line = await conn.readLine();
        if (line === null) return;
        await conn.write(`${line}\n`);
      }
    });
    const slow = await relay({
      listen: '127.0.0.1:0',
      targets: [echo.address],
      faults: [
        { type: 'latency', stream: 'upstream', attributes: { latency: DELAY_MS } },
        { type: 'latency', stream: 'downstream', attributes: { latency: DELAY_MS } },
      ],
    });
    const conn = await dial(slow.address, { signal: t.signal });
    let start = performance.now();
    for (let i = 0; i < LINES; i++) {
      await conn.write(`line ${i}\n`);
      await conn.readLine();
    }
    const oneByOne = performance.now() - start;
    start = performance.now();
    await conn.write(Array.from({ length: LINES }, (_, i) => `line ${i}\n`).join(''));
    for (let i = 0; i < LINES; i++) await conn.readLine();
    const pipelined = performance.now() - start;
    await conn.close();
    await slow.close();
    await echo.close();
    t.say(
      `relay --fault latency=${DELAY_MS}ms,stream=both: each round trip costs at least ${2 * DELAY_MS} ms`,
    );
    t.say(`  ${LINES} lines, each waiting for its answer: ${Math.round(oneByOne)} ms (${LINES} round trips)`);
    t.say(
      `  ${LINES} lines written at once (pipelined):     ${Math.round(pipelined)} ms (about 1 round trip)`,
    );
    t.check(oneByOne >= LINES * 2 * DELAY_MS - 5, 'latency adds to every round trip');
    t.check(pipelined < oneByOne / 3, 'pipelining pays the latency once, not once per line');
    t.fact('slicedReads', reads.length);
    t.fact('oneByOneMs', Math.round(oneByOne));
    t.fact('pipelinedMs', Math.round(pipelined));
  },
};
export default chapter;
