import { dial, listen, serve } from '../../tcp/index.js';
import type { Chapter } from '../chapter.js';

/**
 * Half-close: the client sends its request and then FIN (closeWrite). The
 * server sees end-of-stream, which is how it knows the request is complete,
 * and still answers on the same connection; the client reads the answer
 * after its own side is shut.
 */
const chapter: Chapter = {
  title: 'Half-close: send FIN, keep reading',
  async run(t) {
    const listener = await listen('127.0.0.1:0');
    let serverSaw = '';
    const server = serve(listener, async (conn) => {
      let lines = 0;
      while ((await conn.readLine()) !== null) lines++;
      serverSaw = `server read ${lines} lines, then EOF (peer sent ${conn.peerClose?.toUpperCase()})`;
      await conn.write(`got ${lines} lines, goodbye\n`);
    });
    const client = await dial(listener.addr.address, { signal: t.signal });
    await client.write('one\ntwo\nthree\n');
    await client.closeWrite();
    t.say('client wrote 3 lines and called closeWrite() (FIN sent; reading continues)');
    const answer = await client.readLine();
    const eof = await client.readLine();
    t.say(serverSaw);
    t.say(
      `client still read the answer: ${JSON.stringify(answer)}; then EOF (${client.peerClose?.toUpperCase()})`,
    );
    t.check(answer === 'got 3 lines, goodbye', `answer after FIN: ${answer}`);
    t.check(eof === null && client.peerClose === 'fin', 'server closed with FIN after answering');
    await client.close();
    await server.close();
  },
};
export default chapter;
