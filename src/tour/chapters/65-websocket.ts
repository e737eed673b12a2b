import { dialWs } from '../../ws/client/client.js';
import { serveWs } from '../../ws/server/serve.js';
import type { Chapter } from '../chapter.js';

/** WebSocket: the classic echo server, a broadcast room, and what an oversize message gets. */
const chapter: Chapter = {
  title: 'WebSocket: echo, a broadcast room, ping RTT, and the 1009 close',
  async run(t) {
    const echo = await serveWs('127.0.0.1:0', { maxPayload: 1024, signal: t.signal });
    try {
      t.say(`echo server at ${echo.url} (the classic gorilla example's /echo)`);
      const c = await dialWs(echo.url, { signal: t.signal });
      await c.send('hello, gopher');
      const it = c[Symbol.asyncIterator]();
      const reply = (await it.next()).value;
      t.say(`sent "hello, gopher" -> got ${JSON.stringify(reply?.text())} back as a text message`);
      t.check(reply?.text() === 'hello, gopher' && !reply.binary, 'the echo');
      const rtt = await c.ping();
      t.say(`ping -> pong in ${rtt.toFixed(2)} ms (control frames travel between messages)`);
      t.check(Number.isFinite(rtt), 'a ping round trip');
      await c.send(Buffer.alloc(2048));
      const end = await it.next().then(
        () => 'no error',
        (err: { closeCode?: number }) => err.closeCode,
      );
      t.say(`a 2048-byte message to a server with maxPayload 1024 -> closed with ${end} (message too big)`);
      t.check(end === 1009, 'oversize messages close with 1009 before being buffered');
    } finally {
      await echo.close();
    }

    const chat = await serveWs('127.0.0.1:0', { mode: 'broadcast', signal: t.signal });
    try {
      const [ann, bob, eve] = await Promise.all(
        ['/chat/lobby', '/chat/lobby', '/chat/kitchen'].map((p) => dialWs(`ws://${chat.address}${p}`)),
      );
      await ann!.send('hi lobby');
      const got = await Promise.all(
        [ann!, bob!].map(async (c) => (await c[Symbol.asyncIterator]().next()).value?.text()),
      );
      t.say(`broadcast mode: ann sends "hi lobby" in /chat/lobby -> ann and bob get ${JSON.stringify(got)}`);
      const eveGot = await Promise.race([
        eve!
          [Symbol.asyncIterator]()
          .next()
          .then(() => 'a message'),
        new Promise((r) => setTimeout(() => r('nothing'), 100)),
      ]);
      t.say(`  eve, in /chat/kitchen, gets ${eveGot}`);
      t.check(got.every((m) => m === 'hi lobby') && eveGot === 'nothing', 'rooms by path');
      await Promise.all([ann!, bob!, eve!].map((c) => c.close()));
    } finally {
      await chat.close();
    }
  },
};
export default chapter;
