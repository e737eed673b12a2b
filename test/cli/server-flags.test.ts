/**
 * The flags every server command shares: one name for the connection cap
 * (the old one kept where it existed), durations in seconds when bare, and
 * mistakes refused before anything is bound.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WebSocket } from 'ws';
import { dial } from '../../src/tcp/index.js';
import { cli, startCli } from '../helpers/cli.js';
import { DRIVERS, events, workDir } from '../helpers/serve-drivers.js';

describe('shared server flags', () => {
  it('every server command lists the shared flags in --help', async () => {
    for (const d of DRIVERS) {
      const r = await cli([...d.argv('.'), '--help']);
      assert.equal(r.code, 0);
      for (const flag of [
        '--network',
        '--socket-mode',
        '--max-conns',
        '--shutdown-timeout',
        '--workers',
        '--proxy-protocol',
        '--trust',
        '--quiet',
        '--json',
        '--tls',
        '--cert',
        '--key',
        '--client-ca',
        '--handshake-timeout',
      ]) {
        assert.match(r.stdout, new RegExp(`^\\s+(-\\w, )?${flag}\\b`, 'm'), `${d.name} ${flag}`);
      }
      assert.match(r.stdout, /unix:\/path/, d.name);
      assert.doesNotMatch(r.stdout, /--max-connections/, `${d.name}: the old name stays out of --help`);
    }
  });

  it('rpc serve --max-conns refuses the connection past the cap', async (t) => {
    const run = startCli(['rpc', 'serve', '127.0.0.1:0', '--codec', 'json', '--max-conns', '1', '--json']);
    t.after(() => run.abort());
    const [, address] = await run.waitFor(/"event":"listening","address":"([^"]+)"/);
    const rpc = DRIVERS.find((d) => d.name === 'rpc serve')!;
    const a = await rpc.connect(address!, false);
    t.after(() => a.close());
    // A connection that has talked keeps its place (a silent one would be evicted for the newcomer).
    await a.exchange();
    const b = await dial(address!).catch(() => undefined);
    t.after(() => b?.destroy());
    await run.waitFor(/"event":"refuse","remote":"127\.0\.0\.1:\d+","reason":"max-connections"/);
  });

  it('ws serve --max-connections, the old name of --max-conns, still caps connections', async (t) => {
    const run = startCli(['ws', 'serve', '127.0.0.1:0', '--max-connections', '1', '--json']);
    t.after(() => run.abort());
    const [, url] = await run.waitFor(/"url":"(ws:[^"]+)"/);
    const first = new WebSocket(url!);
    t.after(() => first.terminate());
    await new Promise((resolve, reject) => {
      first.once('open', resolve);
      first.once('error', reject);
    });
    const second = new WebSocket(url!);
    const status = await new Promise<number | undefined>((resolve) => {
      second.once('unexpected-response', (_req, res) => resolve(res.statusCode));
      second.once('open', () => resolve(undefined));
      second.once('error', () => {});
    });
    second.terminate();
    assert.equal(status, 503);
    await run.waitFor(/"event":"rejected".*"status":503/);
  });

  it('a bare duration is seconds: --first-byte-timeout 0.3 closes a silent client after 300 ms', async (t) => {
    const run = startCli(['tcp', 'serve', '127.0.0.1:0', '--first-byte-timeout', '0.3', '--json']);
    t.after(() => run.abort());
    const [, address] = await run.waitFor(/"event":"listening","address":"([^"]+)"/);
    const opened = Date.now();
    const c = await dial(address!);
    t.after(() => c.destroy());
    await run.waitFor(/"event":"close".*"error":"NETKIT_TIMEOUT"/);
    const close = events(run.stdout()).find((e) => e.event === 'close')!;
    // Read as milliseconds, 0.3 would round to 0: no timeout at all.
    assert.ok(Date.now() - opened >= 280, `closed after ${Date.now() - opened} ms`);
    assert.ok((close.durationMs as number) >= 280);
  });

  it('mistakes exit 2 before anything is bound, naming the flag', async (t) => {
    const dir = await workDir(t);
    const cases: [string[], RegExp][] = [
      [['tcp', 'serve', '127.0.0.1:0', '--handshake-timeout', '2s'], /--handshake-timeout: .*--tls/],
      [
        ['ws', 'serve', '127.0.0.1:0', '--max-conns', '5', '--max-connections', '5'],
        /--max-connections: .*old name/,
      ],
      [['recv', '127.0.0.1:0', '--dir', dir, '--once', '--workers', '2'], /--once: .*--workers/],
      [['http', 'serve', '127.0.0.1:0', '--key', 'k.pem'], /--key: --cert and --key go together/],
      [['rpc', 'serve', '127.0.0.1:0', '--shutdown-timeout', 'soon'], /--shutdown-timeout.*not a duration/],
      [['tcp', 'serve', '127.0.0.1:0', '--workers', '0'], /--workers/],
    ];
    for (const [i, [argv, want]] of cases.entries()) {
      const r = await cli(argv);
      assert.equal(r.code, 2, `#${i}: ${r.stderr}`);
      assert.match(r.stderr, want, `#${i}`);
      assert.doesNotMatch(r.stdout, /listening/, `#${i}`);
    }
  });

  it('recv takes --handshake-timeout without TLS: it also bounds the hello', async (t) => {
    const dir = await workDir(t);
    const run = startCli(['recv', '127.0.0.1:0', '--dir', dir, '--handshake-timeout', '0.2', '--json']);
    t.after(() => run.abort());
    await run.waitFor(/"event":"listening"/);
    run.abort();
    assert.equal(await run.done, 0);
  });
});
