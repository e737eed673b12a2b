/**
 * TLS on every server command, through the one server helper: --tls with an
 * ephemeral certificate a client pins, --cert/--key, and --client-ca.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dial } from '../../src/tcp/index.js';
import { type CliRun, startCli } from '../helpers/cli.js';
import { makePki } from '../helpers/openssl-certs.js';
import {
  type ClientTls,
  DRIVERS,
  type Driver,
  events,
  rawConnect,
  workDir,
} from '../helpers/serve-drivers.js';

/** serve starts `driver`'s command on a free port with `args` and resolves with its listening event. */
async function serve(
  t: import('node:test').TestContext,
  driver: Driver,
  args: string[],
): Promise<{
  run: CliRun;
  address: string;
  fingerprint: string | undefined;
  listening: Record<string, unknown>;
}> {
  const run = startCli([...driver.argv(await workDir(t)), '127.0.0.1:0', '--json', ...args]);
  t.after(async () => {
    run.abort();
    await run.done;
  });
  await run.waitFor(/"event":"listening"/, 15_000);
  const listening = events(run.stdout()).find((e) => e.event === 'listening')!;
  return {
    run,
    address: listening.address as string,
    fingerprint: listening.fingerprint as string | undefined,
    listening,
  };
}

/** refused is true when a session cannot be opened or cannot do its exchange. */
async function refused(driver: Driver, address: string, tls: ClientTls | false): Promise<boolean> {
  try {
    const s = await driver.connect(address, tls);
    try {
      await s.exchange();
    } finally {
      s.close();
    }
    return false;
  } catch {
    return true;
  }
}

for (const driver of DRIVERS) {
  describe(`${driver.name} with TLS`, () => {
    it('--tls serves an ephemeral certificate whose fingerprint the listening event gives', async (t) => {
      const { address, fingerprint, listening } = await serve(t, driver, ['--tls']);
      assert.match(fingerprint ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.equal(listening.tls, true);
      if (driver.name === 'http serve') assert.match(listening.url as string, /^https:\/\//);
      if (driver.name === 'ws serve') assert.match(listening.url as string, /^wss:\/\/.*\/echo$/);
      const s = await driver.connect(address, {});
      t.after(() => s.close());
      assert.equal(s.fingerprint, fingerprint);
      await s.exchange();
    });

    it('--cert/--key serve that certificate; a plain-text client is closed', async (t) => {
      const pki = await makePki(t);
      if (!pki) return;
      const { address, fingerprint } = await serve(t, driver, [
        '--cert',
        pki.server.cert.file,
        '--key',
        pki.server.key.file,
      ]);
      assert.equal(fingerprint, pki.server.fingerprint);
      const s = await driver.connect(address, {});
      t.after(() => s.close());
      assert.equal(s.fingerprint, pki.server.fingerprint);
      await s.exchange();
      // A plain-text client is closed once its bytes do not make a TLS record.
      const plain = await rawConnect(address, false);
      plain.end('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      plain.resume();
      await new Promise((resolve) => plain.once('close', resolve));
    });

    it('--client-ca refuses a client without a certificate, or with a stranger one, and logs the subject of one with a certificate', async (t) => {
      const pki = await makePki(t);
      if (!pki) return;
      const { run, address } = await serve(t, driver, ['--client-ca', pki.ca.cert.file]);
      assert.ok(await refused(driver, address, {}), 'no client certificate');
      assert.ok(
        await refused(driver, address, { cert: pki.stranger.cert.pem, key: pki.stranger.key.pem }),
        'a certificate from another CA',
      );
      const s = await driver.connect(address, { cert: pki.client.cert.pem, key: pki.client.key.pem });
      t.after(() => s.close());
      await s.exchange();
      await run.waitFor(/"subject":"CN=alice"/);
      assert.equal(driver.subject(events(run.stdout())), 'CN=alice');
    });
  });
}

describe('TLS flags', () => {
  it('tcp serve --tls: a client pinning the printed fingerprint connects with netkit dial; another pin is refused', async (t) => {
    const run = startCli(['tcp', 'serve', '127.0.0.1:0', '--tls']);
    t.after(() => run.abort());
    const [, address, pin] = await run.waitFor(
      /^listening (\S+) \(frame line, reply "Hello, Client!"\) tls (sha256:[0-9a-f]{64})$/m,
    );
    const c = await dial(address!, { tls: { pin: pin! } });
    await c.write('hi\n');
    assert.equal(await c.readLine(), 'Hello, Client!');
    c.destroy();
    await assert.rejects(dial(address!, { tls: { pin: `sha256:${'0'.repeat(64)}` } }), {
      code: 'NETKIT_TLS_FAILED',
    });
  });

  it('a --cert or --key that does not load exits 2 before binding, naming the flag and the file', async (t) => {
    const pki = await makePki(t);
    if (!pki) return;
    const cases: [string[], RegExp][] = [
      [['--cert', pki.server.cert.file], /--key/],
      [['--cert', '/nonexistent/cert.pem', '--key', pki.server.key.file], /--cert.*\/nonexistent\/cert\.pem/],
      [
        ['--cert', pki.server.key.file, '--key', pki.server.key.file],
        /--cert: .*server\.key is not PEM holding a CERTIFICATE/,
      ],
      [['--cert', pki.server.cert.file, '--key', pki.client.key.file], /--key: .*client\.key/],
      [['--client-ca', pki.server.key.file], /--client-ca: .*server\.key/],
    ];
    for (const [i, [args, want]] of cases.entries()) {
      const run = startCli(['tcp', 'serve', '127.0.0.1:0', ...args]);
      assert.equal(await run.done, 2, `#${i}: ${run.stderr()}`);
      assert.match(run.stderr(), want, `#${i}`);
      assert.doesNotMatch(run.stdout(), /listening/, `#${i}`);
    }
  });
});
