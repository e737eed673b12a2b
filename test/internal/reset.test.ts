/**
 * resetSocket on a TLS server socket right after its handshake: the peer
 * sees a reset, and Node does not crash (it did, when the TLS layer was
 * destroyed in the same turn as the TCP handle under it was reset).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const PROGRAM = `
import tls from 'node:tls';
import { listen } from './src/tcp/index.ts';
import { resetSocket } from './src/internal/reset.ts';
const l = await listen('127.0.0.1:0', { tls: true });
const c = tls.connect({ host: '127.0.0.1', port: l.addr.port, rejectUnauthorized: false });
const seen = new Promise((resolve) => c.on('error', (e) => resolve(e.code)).on('close', () => resolve('close')));
for await (const conn of l) { resetSocket(conn.socket); break; }
console.log(await seen);
await l.close();
`;

test('resetSocket resets a TLS server socket just past its handshake, without crashing the process', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', PROGRAM], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.on('exit', (c, s) => resolve([c, s])),
  );
  assert.equal(signal, null, 'the process was not killed by a signal (SIGSEGV)');
  assert.equal(code, 0);
  assert.equal(out.trim(), 'ECONNRESET');
});
