import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { type HttpServerOptions, serveHttp } from '../../src/http/server/index.js';

export const SECRET = `TOP-SECRET-${randomBytes(8).toString('hex')}`;
export const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
export const ESCAPEE = '<b>x&y"\'.txt'; // `/` cannot be in a file name; these are the other characters HTML cares about

/**
 * fixture makes `outer/` (holding secret.txt, outside the root) and
 * `outer/root/` (served), starts a server on the root, and removes it all after
 * the test.
 */
export async function fixture(t: TestContext, options: HttpServerOptions = {}) {
  const outer = await fs.mkdtemp(path.join(os.tmpdir(), 'netkit-static-'));
  t.after(() => fs.rm(outer, { recursive: true, force: true }));
  const root = path.join(outer, 'root');
  const w = (rel: string, data: string | Buffer) => fs.writeFile(path.join(root, rel), data);
  await fs.mkdir(path.join(root, 'sub', 'deeper'), { recursive: true });
  await fs.mkdir(path.join(root, 'site'));
  await fs.mkdir(path.join(root, '.git'));
  await fs.mkdir(path.join(outer, 'private'));
  await fs.writeFile(path.join(outer, 'secret.txt'), SECRET);
  await fs.writeFile(path.join(outer, 'private', 'secret.txt'), SECRET);
  await w('page.html', '<!doctype html><title>p</title>');
  await w('style.css', 'body{}');
  await w('app.js', 'export {};');
  await w('data.json', '{"a":1}');
  await w('image.png', PNG);
  await w('hello.txt', 'hello, world\n');
  await w('blob.nkunknown', 'x');
  await w('README', 'no extension');
  await w('.env', SECRET);
  await w('.git/config', SECRET);
  await w('sub/.hidden', SECRET);
  await w('sub/inner.txt', 'inner\n');
  await w('site/index.html', '<h1>index</h1>');
  await w(ESCAPEE, 'escaped\n');
  await fs.symlink(path.join(outer, 'secret.txt'), path.join(root, 'leak.txt'));
  await fs.symlink(path.join(outer, 'private'), path.join(root, 'leakdir'));
  await fs.symlink(path.join(root, 'hello.txt'), path.join(root, 'alias.txt'));
  await fs.symlink(path.join(root, '.env'), path.join(root, 'env-alias.txt'));
  const server = await serveHttp('127.0.0.1:0', { ...options, dir: root });
  t.after(() => server.close());
  return { root, outer, server, base: `http://${server.address}` };
}

export interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
}

/** raw sends `target` byte for byte (fetch and URL would normalize it) and reads the response to EOF. */
export function raw(address: string, target: string, method = 'GET', extra = ''): Promise<RawResponse> {
  const [host, port] = [
    address.slice(0, address.lastIndexOf(':')),
    address.slice(address.lastIndexOf(':') + 1),
  ];
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host);
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const [statusLine = '', ...lines] = all.subarray(0, split).toString('latin1').split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: all.subarray(split + 4) });
    });
    socket.write(`${method} ${target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n${extra}\r\n`, 'latin1');
  });
}
