/**
 * The page `netkit ws serve --page` serves, driven in headless Chromium: it
 * must run under its own Content-Security-Policy, talk to the server, show
 * messages from other clients as text (never HTML), and connect to any server
 * given in `?url=`. Uses the system Chromium; no browser is downloaded.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import WebSocket from 'ws';
import { PAGE_CSP, renderPage } from '../../src/ws/page.js';
import { launchChromium, openWatchedPage } from '../helpers/browser.js';
import { spawnNetkit } from '../helpers/cli.js';
import { ROOT } from '../helpers/tools.js';

const SCREENSHOT = path.join(ROOT, 'test-output', 'ws', 'page.png');

interface Listening {
  event: string;
  address: string;
  url: string;
}

/** serve starts `netkit ws serve 127.0.0.1:0 ... --json` and returns its listening event. */
async function serve(t: TestContext, args: string[]): Promise<Listening> {
  const proc = spawnNetkit(['ws', 'serve', '127.0.0.1:0', ...args, '--json']);
  t.after(() => proc.kill());
  const [line] = await proc.waitFor(/^.*\n/);
  const ev = JSON.parse(line) as Listening;
  assert.equal(ev.event, 'listening');
  return ev;
}

/** entry waits for the log entry in direction `dir` whose text is exactly `text`. */
async function entry(page: Page, dir: string, text: string): Promise<void> {
  const exact = new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  await page.locator(`#log .entry[data-dir="${dir}"] .text`).filter({ hasText: exact }).first().waitFor();
}

/** nodeClient opens a `ws` client and resolves once it is open. */
async function nodeClient(t: TestContext, url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  t.after(() => ws.terminate());
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

test('the page from ws serve --page chats with the server and shows other clients as text', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const server = await serve(t, ['--page', '--mode', 'broadcast']);
  const { page, problems } = await openWatchedPage(browser, { width: 900, height: 640 });

  const res = await page.goto(`http://${server.address}/`);
  assert.equal(res?.status(), 200);
  assert.match(res.headers()['content-type'] ?? '', /^text\/html/);
  assert.equal(res.headers()['content-security-policy'], PAGE_CSP);
  assert.equal(await page.inputValue('#url'), server.url);
  assert.equal(await page.getAttribute('#state', 'data-state'), 'closed');

  await page.click('#connect');
  await page.waitForSelector('#state[data-state="open"]');

  // Enter sends; a broadcast comes back to its sender too.
  await page.fill('#message', 'hello');
  await page.press('#message', 'Enter');
  await entry(page, 'out', 'hello');
  await entry(page, 'in', 'hello');
  assert.equal(await page.inputValue('#message'), '');
  const time = await page.locator('#log .entry[data-dir="out"] .time').first().textContent();
  assert.match(time ?? '', /^\d\d:\d\d:\d\d\.\d{3}$/);

  const other = await nodeClient(t, server.url);
  other.send('from node');
  await entry(page, 'in', 'from node');
  other.send('<b>x</b>');
  await entry(page, 'in', '<b>x</b>');
  assert.equal(await page.locator('#log b').count(), 0, 'no <b> element in the log');
  other.send(Buffer.from([0, 1, 2, 0xff]), { binary: true });
  await entry(page, 'in', '<binary 4 bytes> 00 01 02 ff');

  // The Send button works as well as Enter.
  await page.fill('#message', 'clicked');
  await page.click('#send');
  await entry(page, 'in', 'clicked');

  await page.click('#disconnect');
  await page.waitForSelector('#state[data-state="closed"]');
  assert.match((await page.textContent('#state')) ?? '', /closed 1000\b/);
  assert.equal(await page.isDisabled('#send'), true);
  await entry(page, 'info', 'closed 1000 (normal closure): bye');

  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  t.diagnostic(`screenshot: ${SCREENSHOT}`);
  assert.deepEqual(problems, []);
});

test('the page connects to the server given in ?url=, not only its own', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const pageServer = await serve(t, ['--page', '--mode', 'broadcast', '-q']);
  const echo = await serve(t, ['--mode', 'echo', '-q']);
  const { page, problems } = await openWatchedPage(browser, { width: 900, height: 640 });

  await page.goto(`http://${pageServer.address}/?url=${encodeURIComponent(echo.url)}`);
  assert.equal(await page.inputValue('#url'), echo.url);
  await page.click('#connect');
  await page.waitForSelector('#state[data-state="open"]');
  await page.fill('#message', 'echo me');
  await page.press('#message', 'Enter');
  await entry(page, 'in', 'echo me');
  await entry(page, 'info', `connected to ${echo.url}`);
  assert.deepEqual(problems, []);
});

test('a refused connection shows an error and the close code', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const pageServer = await serve(t, ['--page', '-q']);
  // A port that was just free: nothing listens there any more.
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((r) => probe.close(r));
  const { page } = await openWatchedPage(browser, { width: 900, height: 640 });

  const dead = `ws://127.0.0.1:${port}/echo`;
  await page.goto(`http://${pageServer.address}/?url=${encodeURIComponent(dead)}`);
  await page.click('#connect');
  await page.waitForSelector('#state[data-state="closed"]:not(:has-text("not connected"))');
  assert.match((await page.textContent('#state')) ?? '', /closed 1006 \(abnormal closure\)/);
  await entry(page, 'error', 'closed 1006 (abnormal closure)');
  assert.equal(await page.isEnabled('#connect'), true);
});

test('a hostile default path neither runs script nor breaks the page under its CSP', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  const evil = '/x</script><script>alert(1)</script>"><img src=x onerror=alert(2)>';
  const { page, problems } = await openWatchedPage(browser, { width: 900, height: 640 });
  // Served from an intercepted origin: the request never reaches the network.
  await page.route('http://page.test/**', (route) =>
    route.fulfill({
      status: 200,
      contentType: 'text/html; charset=utf-8',
      headers: { 'content-security-policy': PAGE_CSP },
      body: renderPage(evil),
    }),
  );
  await page.goto('http://page.test/');
  assert.equal(await page.inputValue('#url'), `ws://page.test${evil}`);
  assert.equal(await page.locator('script').count(), 1);
  assert.equal(await page.locator('img').count(), 0);
  assert.deepEqual(problems, []);
});
