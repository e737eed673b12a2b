/** sendFiles through a real forward proxy, direct to a receiver and through a rendezvous. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { receiveFiles, sendFiles, serveRendezvous } from '../../src/transfer/index.js';
import { startDante, startTinyproxy } from '../helpers/forward-proxies.js';
import { startReceiver, tempDir } from '../transfer/helpers.js';

test('sendFiles through danted reaches the receiver, encrypted end to end', async (t) => {
  const proxy = await startDante(t);
  if (!proxy) return;
  const src = await tempDir(t, 'netkit-px-src-');
  const bytes = randomBytes(200_000);
  await writeFile(path.join(src, 'through-the-proxy.bin'), bytes);
  const dst = await tempDir(t, 'netkit-px-dst-');
  const recv = await startReceiver(t, { dir: dst });
  const sum = await sendFiles([path.join(src, 'through-the-proxy.bin')], recv.address, {
    code: recv.code,
    proxy: proxy.url,
  });
  assert.equal(sum.files, 1);
  assert.ok((await readFile(path.join(dst, 'through-the-proxy.bin'))).equals(bytes));
});

test('sendFiles via a rendezvous through tinyproxy pairs with a direct receiver', async (t) => {
  const proxy = await startTinyproxy(t);
  if (!proxy) return;
  const rv = await serveRendezvous('127.0.0.1:0');
  t.after(() => rv.close());
  const src = await tempDir(t, 'netkit-px-src-');
  await writeFile(path.join(src, 'via.txt'), 'met at the rendezvous\n');
  const dst = await tempDir(t, 'netkit-px-dst-');
  let told!: (code: string) => void;
  const code = new Promise<string>((resolve) => {
    told = resolve;
  });
  const sending = sendFiles([path.join(src, 'via.txt')], {
    via: rv.addr.address,
    onCode: told,
    proxy: proxy.url,
  });
  sending.catch(() => {});
  const received = await receiveFiles({ via: rv.addr.address, code: await code, dir: dst });
  assert.equal(received.ok, true, received.error?.message);
  assert.equal((await sending).files, 1);
  assert.equal(await readFile(path.join(dst, 'via.txt'), 'utf8'), 'met at the rendezvous\n');
});

test('sendFiles with a bad proxy URL fails before reading a source, naming proxy', async () => {
  await assert.rejects(
    sendFiles(['/nonexistent/file'], '127.0.0.1:9', { code: '1-a-b-c', proxy: 'gopher://x' }),
    {
      code: 'NETKIT_INVALID_ARGUMENT',
      option: 'proxy',
    },
  );
});
