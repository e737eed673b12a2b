/** sendFiles() over TLS and Unix sockets: the shared client TLS cases (test/helpers/tls-suite.ts). */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { endpointText } from '../../src/tcp/index.js';
import { sendFiles, serveFiles } from '../../src/transfer/index.js';
import { clientTlsSuite, outcomeOf, tlsListener } from '../helpers/tls-suite.js';

async function scratch(t: TestContext): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'netkit-send-tls-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** receivers maps a listener's address to the directory its receiver writes into and the code senders pass. */
const receivers = new Map<string, { dir: string; code: string | undefined }>();

clientTlsSuite('sendFiles', {
  serve: async (t, listener) => {
    const dir = await scratch(t);
    const receiver = await serveFiles(listener, { dir, overwrite: 'overwrite' });
    receivers.set(endpointText(listener.addr), { dir, code: receiver.code });
    t.after(() => receiver.close());
  },
  call: async (t, address, tls) => {
    const src = await scratch(t);
    const file = path.join(src, 'note.txt');
    await writeFile(file, 'hello over tls\n');
    // A server that is no receiver (the wrong pin case) has no code: any will do, TLS fails first.
    const receiver = receivers.get(address);
    const code = receiver?.code ?? 'no-receiver-here';
    return outcomeOf(async () => {
      const summary = await sendFiles([file], address, {
        tls,
        code,
        connectTimeout: 5000,
        idleTimeout: 5000,
      });
      assert.equal(summary.files, 1);
      assert.ok(receiver, 'no receiver at the address');
      assert.equal(await readFile(path.join(receiver.dir, 'note.txt'), 'utf8'), 'hello over tls\n');
    });
  },
});

test('sendFiles --compat speaks the classic protocol over TLS too', async (t) => {
  const l = await tlsListener(t, true);
  const dir = await scratch(t);
  const receiver = await serveFiles(l, { dir, compat: true });
  t.after(() => receiver.close());
  const src = await scratch(t);
  await writeFile(path.join(src, 'a.txt'), 'classic\n');
  await sendFiles([path.join(src, 'a.txt')], l.addr.address, {
    compat: true,
    tls: { pin: l.tls!.fingerprint },
  });
  // The classic receiver keeps the file once the sender has closed: a moment after sendFiles returns.
  assert.equal((await receiver.next())?.ok, true);
  assert.equal(await readFile(path.join(dir, 'a.txt'), 'utf8'), 'classic\n');
});

test('sendFiles validates tls before reading any source', async () => {
  await assert.rejects(
    sendFiles(['/nonexistent/file'], '127.0.0.1:1', { code: 'any-code', tls: { pin: 'md5:00' } }),
    {
      code: 'NETKIT_INVALID_ARGUMENT',
      option: 'tls.pin',
    },
  );
});
