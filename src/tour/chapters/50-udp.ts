import { isNetkitError } from '../../errors.js';
import { bind, dial, MAX_UDP_PAYLOAD_V4 } from '../../udp/index.js';
import type { Chapter } from '../chapter.js';

/**
 * UDP: datagrams keep their boundaries (no sticky packets) but may be lost,
 * and one datagram carries at most 65,507 bytes over IPv4.
 */
const chapter: Chapter = {
  title: 'UDP: datagrams, their boundaries and their size limit',
  async run(t) {
    const server = await bind('127.0.0.1:0', { signal: t.signal });
    const serving = (async () => {
      for await (const { data, from } of server) await server.send(data, from);
    })().catch(() => {});
    const client = await dial(server.localAddr.address, { signal: t.signal });
    try {
      t.say(`echo server on udp ${server.localAddr.address}`);
      for (const m of ['one', 'two', 'three']) await client.send(m);
      const replies: string[] = [];
      for (let i = 0; i < 3; i++) replies.push((await client.receive({ timeout: 2000 })).data.toString());
      t.say(`three sends came back as three datagrams: ${replies.map((r) => JSON.stringify(r)).join(', ')}`);
      t.check(replies.join(',') === 'one,two,three', 'each datagram kept its boundary');

      const big = Buffer.alloc(MAX_UDP_PAYLOAD_V4, 'x');
      await client.send(big);
      const echoed = await client.receive({ timeout: 2000 });
      t.say(`the largest IPv4 datagram, ${echoed.data.length} bytes, made the round trip`);
      t.check(echoed.data.length === MAX_UDP_PAYLOAD_V4, 'a 65,507-byte datagram is echoed');
      const tooBig = await client.send(Buffer.alloc(MAX_UDP_PAYLOAD_V4 + 1)).then(
        () => 'sent',
        (err: unknown) => (isNetkitError(err) ? err.code : 'other error'),
      );
      t.say(`one byte more is refused before sending: ${tooBig}`);
      t.check(tooBig === 'NETKIT_DATAGRAM_TOO_LARGE', 'an oversize datagram is refused');
      t.fact('maxDatagram', MAX_UDP_PAYLOAD_V4);
    } finally {
      await client.close();
      await server.close();
      await serving;
    }
  },
};
export default chapter;
