import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { request, serveHttp } from '../../http/index.js';
import type { Chapter } from '../chapter.js';

/** HTTP: the classic hello handler, the request inspector, and where a request's time goes. */
const chapter: Chapter = {
  title: 'HTTP: hello, an inspector, where the time goes, and static files',
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
    await staticFiles(t);
  },
};

/** staticFiles serves a temporary directory and fetches part of a file, then revalidates it. */
async function staticFiles(t: Parameters<Chapter['run']>[0]): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'netkit-tour-'));
  try {
    await writeFile(path.join(dir, 'notes.txt'), 'TCP is a byte stream; framing is your job.\n');
    const files = await serveHttp('127.0.0.1:0', { dir, signal: t.signal });
    try {
      const url = `http://${files.address}/notes.txt`;
      const part = await request(url, { headers: { Range: 'bytes=0-2' }, signal: t.signal });
      t.say(
        `--dir: GET /notes.txt with Range: bytes=0-2 -> ${part.status} ${JSON.stringify(part.body.toString())}`,
      );
      t.check(part.status === 206 && part.body.toString() === 'TCP', 'a byte range of a static file');
      const etag = part.headers.find(([k]) => k.toLowerCase() === 'etag')?.[1] ?? '';
      const again = await request(url, { headers: { 'If-None-Match': etag }, signal: t.signal });
      t.say(`  again with If-None-Match: ${etag} -> ${again.status}, ${again.body.length} bytes`);
      t.check(again.status === 304 && again.body.length === 0, 'a cached copy revalidated with 304');
      const outside = await request(`http://${files.address}/%2e%2e/etc/passwd`, { signal: t.signal });
      t.say(`  GET /%2e%2e/etc/passwd -> ${outside.status}: nothing outside the directory is served`);
      t.check(outside.status === 400 || outside.status === 404, 'no escape from the served directory');
    } finally {
      await files.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
export default chapter;
