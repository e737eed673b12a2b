/**
 * SIGHUP reloads --cert/--key on every server command: a pair that does
 * not load keeps the old certificate and says why; a good one is served to
 * new connections while open ones go on with the old.
 */
import assert from 'node:assert/strict';
import { copyFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { startCli } from '../helpers/cli.js';
import { makePki, type Pki } from '../helpers/openssl-certs.js';
import { DRIVERS, type Driver, events, workDir } from '../helpers/serve-drivers.js';

/** serveWithFiles starts `driver` on copies of the self-signed pair it can overwrite, and waits until it listens. */
async function serveWithFiles(t: TestContext, driver: Driver, pki: Pki) {
  const dir = await workDir(t);
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  await copyFile(pki.selfSigned.cert.file, cert);
  await copyFile(pki.selfSigned.key.file, key);
  const run = startCli([...driver.argv(dir), '127.0.0.1:0', '--json', '--cert', cert, '--key', key]);
  t.after(async () => {
    run.abort();
    await run.done;
  });
  await run.waitFor(/"event":"listening"/, 15_000);
  const address = events(run.stdout()).find((e) => e.event === 'listening')!.address as string;
  const reloads = () => events(run.stdout()).filter((e) => e.event === 'reload');
  /** hangup sends this process SIGHUP and resolves with the reload event it caused. */
  const hangup = async () => {
    const before = reloads().length;
    process.kill(process.pid, 'SIGHUP');
    for (let i = 0; i < 500 && reloads().length === before; i++) await new Promise((r) => setTimeout(r, 10));
    const got = reloads()[before];
    assert.ok(got, 'a reload event');
    return got;
  };
  return { run, address, cert, key, hangup };
}

for (const driver of DRIVERS) {
  describe(`${driver.name}: SIGHUP`, () => {
    it('with a broken key keeps the old certificate and says why', async (t) => {
      const pki = await makePki(t);
      if (!pki) return;
      const { address, key, hangup } = await serveWithFiles(t, driver, pki);
      await writeFile(key, 'not a key\n');
      const reload = await hangup();
      assert.equal(reload.ok, false);
      assert.equal(reload.code, 'NETKIT_INVALID_ARGUMENT');
      assert.match(reload.reason as string, /^--key: .*key\.pem is not PEM holding a PRIVATE KEY/);
      assert.equal(reload.fingerprint, pki.selfSigned.fingerprint);
      const s = await driver.connect(address, {});
      t.after(() => s.close());
      assert.equal(s.fingerprint, pki.selfSigned.fingerprint);
      await s.exchange();
    });

    it('with a good new pair serves it to new connections; an open one keeps working', async (t) => {
      const pki = await makePki(t);
      if (!pki) return;
      const { address, cert, key, hangup } = await serveWithFiles(t, driver, pki);
      const open = await driver.connect(address, {});
      t.after(() => open.close());
      assert.equal(open.fingerprint, pki.selfSigned.fingerprint);
      // A key from another pair first: the two files must match, or the old pair stays.
      await copyFile(pki.server.cert.file, cert);
      assert.equal((await hangup()).ok, false);
      await copyFile(pki.server.key.file, key);
      const reload = await hangup();
      assert.equal(reload.ok, true);
      assert.equal(reload.fingerprint, pki.server.fingerprint);
      const fresh = await driver.connect(address, {});
      t.after(() => fresh.close());
      assert.equal(fresh.fingerprint, pki.server.fingerprint);
      await fresh.exchange();
      await open.exchange();
    });
  });
}

describe('SIGHUP without --cert', () => {
  it('reloads nothing, says so, and keeps serving', async (t) => {
    const run = startCli(['tcp', 'serve', '127.0.0.1:0', '--tls', '--json']);
    t.after(() => run.abort());
    await run.waitFor(/"event":"listening"/, 15_000);
    process.kill(process.pid, 'SIGHUP');
    await run.waitFor(/"event":"reload","ok":true,"reloaded":false/);
    run.abort();
    assert.equal(await run.done, 0);
  });
});
