// The "sticky packets" problem and its fix. A client makes 20 small writes;
// TCP is a byte stream, so a server that reads chunks sees them glued
// together. Prefixing each message with its length (len32 framing) lets the
// server split them back exactly.
//
//   node --import tsx examples/sticky-packets.ts
import { createEncoder, dial, listen } from 'netkit';
import { createDecoder } from 'netkit/framing';

const listener = await listen('127.0.0.1:0');
const encoder = createEncoder('len32');

for (const framed of [false, true]) {
  const client = await dial(listener.addr.address);
  const server = await listener.accept();
  for (let i = 1; i <= 20; i++) {
    const msg = Buffer.from(`message ${i}`);
    void client.write(framed ? encoder.encode(msg) : msg);
  }
  await client.closeWrite();
  await new Promise((r) => setTimeout(r, 50)); // let everything arrive, as on a busy server

  if (framed) {
    const frames: string[] = [];
    for await (const frame of server.frames(createDecoder('len32'))) frames.push(frame.toString());
    console.log(`framed: ${frames.length} messages, first ${JSON.stringify(frames[0])}`);
  } else {
    let reads = 0;
    for await (const _chunk of server) reads++;
    console.log(`raw: 20 writes arrived in ${reads} read(s)`);
  }
  await server.close();
  await client.close();
}
await listener.close();
