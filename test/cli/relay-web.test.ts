/**
 * `netkit relay --web` from the command line, in-process: the page's URL
 * printed (a `live` event with --json), the page and its /api beside the
 * relay and beside --api, a token beyond loopback, the command line's
 * lines unchanged by the page, and bad combinations refused (exit 2).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cli, startedCli } from '../helpers/cli.js';
import { echoBackend, roundTrip } from '../helpers/relay.js';

test('--web prints the page URL; the page lists the relay and the lines stay as without it', {
  timeout: 20_000,
}, async (t) => {
  const target = await echoBackend(t);
  const run = startedCli(t, ['relay', '127.0.0.1:0', target, '--web', '--name', 'echo']);
  const [, url] = (await run.waitFor(/^live page (http:\/\/127\.0\.0\.1:\d+\/)$/m)) as RegExpMatchArray;
  const [, address] = (await run.waitFor(/relaying (\S+) /)) as RegExpMatchArray;
  const page = await fetch(url as string);
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'sha256-/);
  const proxies = (await (await fetch(`${url}api/proxies`)).json()) as Record<string, { listen: string }>;
  assert.equal(proxies.echo?.listen, address);
  await roundTrip(address as string, Buffer.from('hi\n'));
  // Without --api the lines (on stderr) carry no [name] prefix, as without --web.
  const deadline = Date.now() + 5000;
  while (!/^#1 127\.0\.0\.1:\d+ → 127\.0\.0\.1:\d+\n/m.test(run.stderr())) {
    assert.ok(Date.now() < deadline, `no open line in:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
});

test('--web with --json: a live event with the URL; with --api both serve the same proxies', {
  timeout: 20_000,
}, async (t) => {
  const target = await echoBackend(t);
  const run = startedCli(t, ['relay', '127.0.0.1:0', target, '--api', '127.0.0.1:0', '--web', '--json']);
  const [line] = (await run.waitFor(/^\{"event":"live".*$/m)) as RegExpMatchArray;
  const live = JSON.parse(line as string) as { address: string; url: string };
  assert.equal(live.url, `http://${live.address}/`);
  const [, api] = (await run.waitFor(/"event":"api","address":"([^"]+)"/)) as RegExpMatchArray;
  const add = await fetch(`http://${api}/proxies`, {
    method: 'POST',
    body: JSON.stringify({ name: 'second', upstream: target }),
  });
  assert.equal(add.status, 201);
  const proxies = (await (await fetch(`${live.url}api/proxies`)).json()) as Record<string, unknown>;
  assert.deepEqual(Object.keys(proxies).sort(), ['127.0.0.1:0', 'second']);
});

test('--web beyond loopback: a token in the URL, needed on every request', { timeout: 20_000 }, async (t) => {
  const target = await echoBackend(t);
  const run = startedCli(t, ['relay', '127.0.0.1:0', target, '--web=0.0.0.0:0']);
  const [, port, token] = (await run.waitFor(
    /^live page http:\/\/0\.0\.0\.0:(\d+)\/\?token=([\w-]{22})$/m,
  )) as RegExpMatchArray;
  const base = `http://127.0.0.1:${port}`;
  assert.equal((await fetch(`${base}/`)).status, 401);
  assert.equal((await fetch(`${base}/api/proxies`)).status, 401);
  assert.equal((await fetch(`${base}/?token=${token}`)).status, 200);
  assert.equal(
    (await fetch(`${base}/api/proxies`, { headers: { 'x-netkit-token': token as string } })).status,
    200,
  );
});

test('--web: bad combinations are exit 2 with the reason', { timeout: 20_000 }, async () => {
  const alone = await cli(['relay', '--web']);
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--web.*listen endpoint/);
  const udp = await cli(['relay', 'udp:127.0.0.1:0', 'udp:127.0.0.1:9', '--web']);
  assert.equal(udp.code, 2);
  assert.match(udp.stderr, /--web.*udp/);
  const stdio = await cli(['relay', '-', '127.0.0.1:9', '--web']);
  assert.equal(stdio.code, 2);
  assert.match(stdio.stderr, /--web.*- endpoint/);
});
