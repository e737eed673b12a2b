/**
 * The page `netkit states --web` serves, driven in headless Chromium
 * against the real CLI: connections appear and move on without a reload,
 * a CLOSE_WAIT leak is shown where it happens, states explain themselves,
 * and a process that names itself with markup is shown as text. Uses the
 * system Chromium; no browser is downloaded.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { STATE_HELP } from '../../src/tcpstate/index.js';
import { launchChromium, openWatchedPage } from '../helpers/browser.js';
import { spawnNetkit, spawnProc } from '../helpers/cli.js';
import { ROOT } from '../helpers/tools.js';

// Functions passed to page.evaluate run in the page; the test's types have no DOM, so what they use is declared here.
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  getAttribute(name: string): string | null;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  body: { innerHTML: string };
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number; marker?: number };

const SCREENSHOT = path.join(ROOT, 'test-output', 'live', 'states.png');
const INTERVAL = '100ms';

interface Listening {
  event: string;
  address: string;
  url: string;
}

/** serveStates starts `netkit states --web --port P --json ...` and returns its listening event. */
async function serveStates(t: TestContext, port: number, args: string[] = []): Promise<Listening> {
  const proc = spawnNetkit([
    'states',
    '--web',
    '--port',
    String(port),
    '--json',
    '--interval',
    INTERVAL,
    ...args,
  ]);
  t.after(() => proc.kill());
  const [line] = await proc.waitFor(/^.*\n/);
  const ev = JSON.parse(line) as Listening;
  assert.equal(ev.event, 'live', line);
  return ev;
}

function connect(t: TestContext, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1', () => resolve(c));
    c.on('error', reject);
    t.after(() => c.destroy());
  });
}

/** rowState is the state of the page's row for the socket whose remote port is `peer`, or null when none is listed. */
function rowState(page: Page, peer: number): Promise<string | null> {
  return page.evaluate((p) => {
    const rows = [...document.querySelectorAll('#socket-rows tr.socket')];
    const row = rows.find((r) => r.dataset.remotePort === String(p));
    return row ? (row.dataset.state ?? null) : null;
  }, peer);
}

/** count is the number shown on a state's box in the diagram. */
async function count(page: Page, state: string): Promise<number> {
  return Number(await page.textContent(`#diagram .state[data-state="${state}"] .count`));
}

test('states --web: three connections appear ESTABLISHED with their peer ports, then move on without a reload', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  // The server closes its side as soon as the client does: the clients end in TIME_WAIT.
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('end', () => s.end());
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const live = await serveStates(t, port);
  const { page, problems } = await openWatchedPage(browser);

  const res = await page.goto(live.url);
  assert.equal(res?.status(), 200);
  assert.match(res.headers()['content-security-policy'] ?? '', /^default-src 'none'/);
  await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live');
  assert.match((await page.textContent('#filter')) ?? '', new RegExp(`port ${port}`));
  await page.waitForFunction(
    () => document.querySelector('#diagram .state[data-state="LISTEN"] .count')?.textContent === '1',
  );
  // The page stays the same document throughout: a reload would lose this.
  await page.evaluate(() => {
    window.marker = 42;
  });

  const clients = [await connect(t, port), await connect(t, port), await connect(t, port)];
  const peers = clients.map((c) => c.localPort as number);
  await page.waitForFunction(
    (ps) =>
      ps.every((p) =>
        [...document.querySelectorAll('#socket-rows tr.socket')].some(
          (r) => r.dataset.remotePort === String(p) && r.dataset.state === 'ESTABLISHED',
        ),
      ),
    peers,
  );
  for (const p of peers) {
    const remote = await page
      .locator(`#socket-rows tr.socket[data-remote-port="${p}"] td.remote`)
      .textContent();
    assert.equal(remote, `127.0.0.1:${p}`);
  }
  // Both ends of each connection are ESTABLISHED.
  assert.equal(await count(page, 'ESTABLISHED'), 6);
  assert.ok(
    await page
      .locator('#diagram .state[data-state="ESTABLISHED"]')
      .evaluate((g) => g.classList.contains('active')),
  );
  for (const p of peers) {
    await page
      .locator('#timeline li[data-kind="appeared"] .addr')
      .filter({ hasText: `127.0.0.1:${p} \u21c4 127.0.0.1:${port}` })
      .first()
      .waitFor();
  }

  for (const c of clients) c.end();
  // The clients closed first: their sockets move to TIME_WAIT (or, on a busy machine, are gone already).
  await page.waitForFunction(
    (ps) =>
      ps.every((p) => {
        const rows = [...document.querySelectorAll('#socket-rows tr.socket')];
        const client = rows.find((r) => r.dataset.localPort === String(p));
        const server = rows.find((r) => r.dataset.remotePort === String(p));
        return (client === undefined || client.dataset.state === 'TIME_WAIT') && server === undefined;
      }),
    peers,
  );
  for (const p of peers)
    assert.equal(await rowState(page, p), null, `the server's end for peer ${p} is gone`);
  assert.equal(await count(page, 'ESTABLISHED'), 0);
  assert.equal(await page.evaluate(() => window.marker), 42, 'no reload');
  const changed = await page.locator('#timeline li[data-kind="changed"] .states').allTextContents();
  assert.ok(
    changed.some((s) => /^ESTABLISHED \u2192 (FIN_WAIT\d|TIME_WAIT)$/.test(s)),
    `a change out of ESTABLISHED in the timeline: ${changed.join(' | ')}`,
  );
  await page.locator('#timeline li[data-kind="vanished"]').first().waitFor();

  // A state explains itself on a click, and from the keyboard.
  await page.click('#diagram .state[data-state="ESTABLISHED"]');
  assert.equal(await page.textContent('#explain .name'), 'ESTABLISHED');
  assert.equal(await page.textContent('#explain .text'), STATE_HELP.ESTABLISHED);
  await page.focus('#diagram .state[data-state="TIME_WAIT"]');
  await page.keyboard.press('Enter');
  assert.equal(await page.textContent('#explain .name'), 'TIME_WAIT');
  assert.equal(await page.textContent('#explain .text'), STATE_HELP.TIME_WAIT);
  // Tab order follows the diagram's boxes: back from TIME_WAIT is LAST_ACK.
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press(' ');
  assert.equal(await page.textContent('#explain .name'), 'LAST_ACK');

  assert.deepEqual(problems, []);
});

test('states --web: a CLOSE_WAIT leak is shown on the state, the socket and its owner, whose name stays text', async (t) => {
  const browser = await launchChromium(t);
  if (!browser) return;
  // A server process that names itself with markup, accepts, and never closes what its peers closed.
  const leak = spawnProc(process.execPath, [
    '-e',
    `process.title = 'leak<b>';
     const held = [];
     const s = require('node:net').createServer({ allowHalfOpen: true }, (c) => held.push(c));
     s.listen(0, '127.0.0.1', () => console.log(s.address().port));`,
  ]);
  t.after(() => leak.kill());
  const port = Number((await leak.waitFor(/^(\d+)\n/))[1]);
  const pid = leak.child.pid as number;
  const live = await serveStates(t, port, ['--warn-after', '300ms']);
  // A phone-sized screen: the page must still be usable there.
  const { page, problems } = await openWatchedPage(browser, { width: 390, height: 844 });
  await page.goto(live.url);
  await page.waitForFunction(() => document.querySelector('#status')?.getAttribute('data-state') === 'live');

  const clients = [await connect(t, port), await connect(t, port)];
  const open = await connect(t, port); // one stays open, so ESTABLISHED has a count too
  for (const c of clients) c.end();
  const peers = clients.map((c) => c.localPort as number);

  await page.locator('#warnings .warning').first().waitFor();
  const warning = (await page.textContent('#warnings .warning')) ?? '';
  assert.match(warning, new RegExp(`2 sockets in CLOSE_WAIT on port ${port} held by leak<b>/${pid}`));
  assert.ok(
    await page
      .locator('#diagram .state[data-state="CLOSE_WAIT"]')
      .evaluate((g) => g.classList.contains('leak')),
    'the CLOSE_WAIT state is marked',
  );
  assert.equal(await count(page, 'CLOSE_WAIT'), 2);
  assert.equal(await count(page, 'ESTABLISHED'), 2);
  for (const p of peers) {
    const row = page.locator(`#socket-rows tr.socket[data-remote-port="${p}"]`);
    assert.equal(await row.getAttribute('data-state'), 'CLOSE_WAIT');
    assert.equal(await row.getAttribute('class'), 'socket leak');
    assert.equal(await row.locator('td.owner').textContent(), `leak<b>/${pid}\u26a0 leak`);
  }
  const openRow = page.locator(`#socket-rows tr.socket[data-remote-port="${open.localPort}"] td.owner`);
  assert.equal(await openRow.textContent(), `leak<b>/${pid}`);

  // The process's name is text everywhere: no element was made from it.
  const html = await page.evaluate(() => document.body.innerHTML);
  assert.ok(!html.includes('<b>'), 'no raw <b> in the page');
  assert.ok(html.includes('leak&lt;b&gt;'), 'the name is there, escaped');
  assert.equal(await page.locator('b').count(), 0);

  await page.click('#diagram .state[data-state="CLOSE_WAIT"]');
  assert.equal(await page.textContent('#explain .text'), STATE_HELP.CLOSE_WAIT);
  // The page fits a phone's width: nothing but the sockets' own scroller is wider than the screen.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);

  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  const { page: wide, problems: wideProblems } = await openWatchedPage(browser);
  await wide.goto(live.url);
  await wide.locator('#warnings .warning').first().waitFor();
  await wide.click('#diagram .state[data-state="CLOSE_WAIT"]');
  await wide.screenshot({ path: SCREENSHOT, fullPage: true });
  t.diagnostic(`screenshot: ${SCREENSHOT}`);
  assert.deepEqual([...problems, ...wideProblems], []);
});
