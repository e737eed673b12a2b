/**
 * The page `netkit relay --web` serves, driven in headless Chromium against
 * the real CLI: faults added and removed from the page change the round
 * trip a client measures through the relay, a connection's traffic shows
 * the bytes it carried as text (never HTML), and another site cannot use
 * the page's API. Uses the system Chromium; no browser is downloaded.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { launchChromium, openWatchedPage } from '../helpers/browser.js';
import { spawnNetkit } from '../helpers/cli.js';
import { connected, echoBackend, echoed } from '../helpers/relay.js';
import { ROOT } from '../helpers/tools.js';

const SCREENSHOT = path.join(ROOT, 'test-output', 'live', 'relay.png');

interface Relay {
  name: string;
  address: string;
  url: string;
}

/** startRelay runs `netkit relay 127.0.0.1:0 <target> --web --json` and returns its proxy name, address and page URL. */
async function startRelay(t: TestContext, target: string, web = '--web'): Promise<Relay> {
  const proc = spawnNetkit(['relay', '127.0.0.1:0', target, web, '--json']);
  t.after(() => proc.kill());
  await proc.waitFor(/"event":"live".*\n/);
  const lines = proc
    .stdout()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, string>);
  const listening = lines.find((l) => l.event === 'listening');
  const live = lines.find((l) => l.event === 'live');
  assert.ok(listening && live);
  return { name: listening.name as string, address: listening.address as string, url: live.url as string };
}

/** rtt is the median of three round trips of a short line. */
async function rtt(s: net.Socket): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const started = performance.now();
    await echoed(s, 'ping\n');
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[1]!;
}

/** post sends a JSON POST with the given Origin, as another site's page would. */
function post(url: string, origin: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: 'POST', headers: { origin, 'content-type': 'application/json' } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('relay --web: a latency fault added from the page slows the relay, and removing it restores it', {
  timeout: 60_000,
}, async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const relay = await startRelay(t, await echoBackend(t));
  assert.match(relay.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const { page, problems } = await openWatchedPage(browser);
  const res = await page.goto(relay.url);
  assert.equal(res?.status(), 200);
  assert.match(res.headers()['content-security-policy'] ?? '', /^default-src 'none'; script-src 'sha256-/);
  await page.waitForSelector('#status[data-state="open"]');
  const card = page.locator(`article.proxy[data-proxy="${relay.name}"]`);
  await card.waitFor();
  assert.match((await card.locator('.route').textContent()) ?? '', new RegExp(`^${relay.address} → `));

  const client = await connected(t, relay.address);
  const before = await rtt(client);
  assert.ok(before < 150, `round trip before any fault: ${before} ms`);

  await card.locator('select[name="type"]').selectOption('latency');
  await card.locator('select[name="stream"]').selectOption('downstream');
  await card.locator('input[name="attr-latency"]').fill('300');
  await card.locator('button.submit').click();
  await card.locator('li[data-fault="latency_downstream"]').waitFor();
  const slowed = await rtt(client);
  assert.ok(
    slowed - before >= 250,
    `round trip with a 300 ms latency fault: ${slowed} ms (before: ${before} ms)`,
  );

  // A second fault of the same name is refused by the API, and the page says why, as text.
  await card.locator('input[name="attr-latency"]').fill('10');
  await card.locator('button.submit').click();
  await card.locator('.error', { hasText: 'toxic already exists: latency_downstream' }).waitFor();

  // Changed from the keyboard: Enter on Change, new value, Enter in the form submits it.
  await card.locator('li[data-fault="latency_downstream"] button.change').focus();
  await page.keyboard.press('Enter');
  assert.equal(await card.locator('legend').textContent(), 'Change fault latency_downstream');
  await card.locator('input[name="attr-latency"]').fill('350');
  await card.locator('input[name="attr-latency"]').press('Enter');
  await card
    .locator('li[data-fault="latency_downstream"] .fault-attrs', { hasText: 'latency 350 ms' })
    .waitFor();
  assert.equal(await card.locator('.error').textContent(), '');

  await card.locator('li[data-fault="latency_downstream"] button.remove').click();
  await card.locator('li[data-fault]').first().waitFor({ state: 'detached' });
  const restored = await rtt(client);
  assert.ok(restored < 150, `round trip after the fault was removed: ${restored} ms`);
  // Chromium logs every 4xx answer to fetch; the one 409 asked for above is the only one allowed.
  const conflict = /^console error: Failed to load resource: .* 409 \(Conflict\)$/;
  assert.equal(problems.filter((p) => conflict.test(p)).length, 1);
  assert.deepEqual(
    problems.filter((p) => !conflict.test(p)),
    [],
  );
});

test("relay --web: a connection's traffic is shown as escaped text or hex, never as HTML", {
  timeout: 60_000,
}, async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const relay = await startRelay(t, await echoBackend(t));
  const { page, problems } = await openWatchedPage(browser);
  await page.goto(relay.url);
  await page.waitForSelector('#status[data-state="open"]');

  const client = await connected(t, relay.address);
  await echoed(client, Buffer.from('<b>hi</b>\u0001', 'latin1'));
  const row = page.locator('#conns-body tr').first();
  await row.locator('td[data-col="down"]', { hasText: '10 B' }).waitFor();
  assert.equal(await row.locator('td[data-col="client"]').textContent(), `127.0.0.1:${client.localPort}`);
  assert.equal(await row.locator('td[data-col="state"]').textContent(), 'open');

  await row.locator('button.select').click();
  const up = page.locator('#traffic .chunk[data-stream="upstream"] .body');
  await up.waitFor();
  assert.equal(await up.textContent(), '  <b>hi</b>\\x01');
  await page.locator('#traffic .chunk[data-stream="downstream"] .body').waitFor();
  assert.equal(await page.locator('#traffic b').count(), 0, 'no <b> element in the traffic view');
  const html = (await page.evaluate('document.body.innerHTML')) as string;
  assert.ok(!html.includes('<b>'), 'no raw <b> in the page');
  assert.ok(html.includes('&lt;b&gt;hi&lt;/b&gt;'));

  // More bytes reach the open view without a reload; hex shows the same bytes.
  await echoed(client, 'more\n');
  await page.locator('#traffic .chunk[data-stream="upstream"] .body', { hasText: 'more\\n' }).waitFor();
  await page.locator('input[name="mode"][value="hex"]').check();
  await page
    .locator('#traffic .chunk[data-stream="upstream"] .body', { hasText: '3c62 3e68 693c 2f62 3e01' })
    .waitFor();

  // Closed by the client with a FIN: the row says so.
  client.end();
  await row.locator('td[data-col="state"]', { hasText: 'client closed first (FIN)' }).waitFor();

  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  t.diagnostic(`screenshot: ${SCREENSHOT}`);
  await page.setViewportSize({ width: 390, height: 844 });
  const wide = (await page.evaluate('document.documentElement.scrollWidth')) as number;
  assert.ok(wide <= 390, `the page fits a phone's width (${wide} px)`);
  await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-phone.png'), fullPage: true });
  assert.deepEqual(problems, []);
});

test("relay --web: another site cannot change faults through the page's API", {
  timeout: 60_000,
}, async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const relay = await startRelay(t, await echoBackend(t));
  const toxics = `${relay.url}api/proxies/${encodeURIComponent(relay.name)}/toxics`;
  const body = JSON.stringify({ type: 'latency', attributes: { latency: 1000 } });

  assert.equal(await post(toxics, 'http://evil.example', body), 403);

  // A page on another origin (another port of the same host: no private-network rule stops it)
  // sends what a browser lets it send without asking first: a "simple" POST.
  const other = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other site</title>');
  });
  other.listen(0, '127.0.0.1');
  await once(other, 'listening');
  t.after(() => other.close());
  const evil = await browser.newPage();
  await evil.goto(`http://127.0.0.1:${(other.address() as net.AddressInfo).port}/`);
  const sent = await evil.evaluate(
    ([url, data]) =>
      fetch(url as string, { method: 'POST', mode: 'no-cors', body: data as string }).then(
        () => 'sent',
        (e: Error) => `failed: ${e.message}`,
      ),
    [toxics, body],
  );
  assert.equal(sent, 'sent', 'the request reached the server');

  const { page } = await openWatchedPage(browser);
  await page.goto(relay.url);
  const card = page.locator(`article.proxy[data-proxy="${relay.name}"]`);
  await card.waitFor();
  assert.equal(await card.locator('li[data-fault]').count(), 0, 'no fault was added');
  const list = await page.evaluate(() => fetch('api/proxies').then((r) => r.json()));
  assert.deepEqual((list as Record<string, { toxics: unknown[] }>)[relay.name]?.toxics, []);
});

test('relay --web beyond loopback: the page opened with its token streams and changes faults', {
  timeout: 60_000,
}, async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const relay = await startRelay(t, await echoBackend(t), '--web=0.0.0.0:0');
  const m = /^http:\/\/0\.0\.0\.0:(\d+)\/\?token=([\w-]+)$/.exec(relay.url);
  assert.ok(m, relay.url);
  const { page, problems } = await openWatchedPage(browser);
  assert.equal((await page.goto(`http://127.0.0.1:${m[1]}/`))?.status(), 401);
  await page.goto(`http://127.0.0.1:${m[1]}/?token=${m[2]}`);
  await page.waitForSelector('#status[data-state="open"]');
  const card = page.locator(`article.proxy[data-proxy="${relay.name}"]`);
  await card.locator('select[name="type"]').selectOption('bandwidth');
  await card.locator('input[name="attr-rate"]').fill('64');
  await card.locator('button.submit').click();
  await card.locator('li[data-fault="bandwidth_downstream"]').waitFor();
  await connected(t, relay.address);
  await page.locator('#conns-body tr td[data-col="state"]', { hasText: 'open' }).waitFor();
  // Disabled from the page: the listener closes and the open connection is dropped by the relay.
  await card.locator('button.toggle', { hasText: 'Disable' }).click();
  await card.locator('.badge', { hasText: 'disabled' }).waitFor();
  await page.locator('#conns-body tr td[data-col="state"]', { hasText: 'relay closed first' }).waitFor();
  await card.locator('button.toggle', { hasText: 'Enable' }).click();
  await card.locator('.badge', { hasText: 'enabled' }).waitFor();
  await connected(t, relay.address);
  // The 401 of the first visit is the one expected console error.
  assert.deepEqual(
    problems.filter((p) => !/401 \(Unauthorized\)$/.test(p)),
    [],
  );
});
