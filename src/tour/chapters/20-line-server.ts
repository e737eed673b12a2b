import { dial, listen, replyHandler, serve } from '../../tcp/index.js';
import type { Chapter } from '../chapter.js';

/** The classic line server and client: every line gets "Hello, Client!". */
const chapter: Chapter = {
  title: 'A TCP line server and client',
  async run(t) {
    const listener = await listen('127.0.0.1:0');
    const server = serve(listener, replyHandler('Hello, Client!'));
    t.say(`server listening on ${listener.addr.address}`);
    const conn = await dial(listener.addr.address, { signal: t.signal });
    try {
      for (const line of ['hello', 'how are you?', 'bye']) {
        await conn.write(`${line}\n`);
        const reply = await conn.readLine();
        t.say(`client sent ${JSON.stringify(line).padEnd(16)} server answered ${JSON.stringify(reply)}`);
        t.check(reply === 'Hello, Client!', `reply to ${line}: got ${reply}`);
      }
    } finally {
      await conn.close();
      await server.close();
    }
    t.fact('address', listener.addr.address);
  },
};
export default chapter;
