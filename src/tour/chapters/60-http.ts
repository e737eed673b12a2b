import { request, serveHttp } from '../../http/index.js';
import type { Chapter } from '../chapter.js';

/** HTTP: the classic hello handler, the request inspector, and where a request's time goes. */
const chapter: Chapter = {
  title: 'HTTP: hello, an inspector, and where the time goes',
  async run(t) {
    const server = await serveHttp('127.0.0.1:0', { signal: t.signal });
    try {
      t.say(`server on http://${server.address}/`);
      const hello = await request(`http://${server.address}/gopher`, { signal: t.signal });
      t.say(`GET /gopher -> ${hello.status} ${JSON.stringify(hello.body.toString())}`);
      t.check(hello.body.toString() === "Hello, you've requested: /gopher\n", 'the classic hello route');

      const inspected = await request(`http://${server.address}/hook?source=tour`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: '{"event":"push"}',
        signal: t.signal,
      });
      const info = JSON.parse(inspected.body.toString()) as {
        method: string;
        query: unknown;
        body: { json?: unknown };
      };
      t.say(`POST /hook with Accept: application/json -> the server describes the request it saw:`);
      t.say(
        `  method ${info.method}, query ${JSON.stringify(info.query)}, body ${JSON.stringify(info.body.json)}`,
      );
      t.check(
        info.method === 'POST' && JSON.stringify(info.body.json) === '{"event":"push"}',
        'the inspector reflects the request',
      );

      const shaped = await request(`http://${server.address}/?status=503&delay=50ms`, { signal: t.signal });
      const tm = shaped.timing;
      t.say(`?status=503&delay=50ms -> ${shaped.status} after ${tm.totalMs.toFixed(1)} ms`);
      t.say(
        `  connect ${tm.connectMs.toFixed(2)} ms, first byte ${tm.firstByteMs.toFixed(2)} ms, download ${tm.downloadMs.toFixed(2)} ms`,
      );
      t.check(shaped.status === 503 && tm.firstByteMs >= 45, 'response shaping and timing');
      t.fact('firstByteMs', Math.round(tm.firstByteMs));
    } finally {
      await server.close();
    }
  },
};
export default chapter;
