/**
 * RELIABILITY 39 in a real browser: links that shape the inspector's
 * response (`?header=Content-Type:…&body=<script>…`) must never run script
 * in headless Chromium, whatever they ask for. A script that ran would set
 * document.title, call an exposed binding, or open a dialog. Uses the system
 * Chromium; no browser is downloaded.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { type TestContext, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { SHAPED_CSP } from '../../src/http/server/handler.js';
import { serveHttp } from '../../src/http/server/index.js';
import { requireTool } from '../helpers/tools.js';

async function launch(t: TestContext): Promise<Browser | undefined> {
  if (!(await requireTool(t, 'chromium', 'chromium'))) return undefined;
  const executablePath = execFileSync('sh', ['-c', 'command -v chromium']).toString().trim();
  // --no-sandbox: the suite may run as root, where Chromium's sandbox refuses to start.
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
  t.after(() => browser.close());
  return browser;
}

/** PAYLOAD runs in every way a page can run script, and reports through all three channels. */
const PAYLOAD =
  '<html><head><title>inert</title></head><body>' +
  '<script>document.title="pwned";window.pwned&&window.pwned();alert(1)</script>' +
  '<img src=x onerror="document.title=\'pwned\';window.pwned&&window.pwned()">' +
  '<svg xmlns="http://www.w3.org/2000/svg" onload="document.title=\'pwned\'"></svg>' +
  '</body></html>';

/** openPage opens a tab whose `ran()` says whether any script of the page ran. */
async function openPage(browser: Browser): Promise<{ page: Page; ran: () => Promise<boolean> }> {
  const page = await browser.newPage();
  let called = false;
  await page.exposeBinding('pwned', () => {
    called = true;
  });
  page.on('dialog', (d) => {
    called = true;
    void d.dismiss();
  });
  return {
    page,
    ran: async () => called || (await page.title()) === 'pwned',
  };
}

test('RELIABILITY 39: no shaping link makes Chromium run script from the inspector', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  const server = await serveHttp('127.0.0.1:0');
  t.after(() => server.close());
  const body = encodeURIComponent(PAYLOAD);
  const cases: [string, number][] = [
    [`/?header=Content-Type:text/html&body=${body}`, 400],
    [`/?header=Content-Type:text/html;charset=utf-8&body=${body}`, 400],
    [`/?header=content-type:%20TEXT/HTML&body=${body}`, 400],
    [`/?header=Content-Type:image/svg%2Bxml&body=${body}`, 400],
    [`/?header=Content-Type:application/xhtml%2Bxml&body=${body}`, 400],
    [`/?header=Content-Type:text/xml&body=${body}`, 400],
    [`/?header=Content-Type:multipart/x-mixed-replace;boundary=x&body=${body}`, 400],
    [`/?header=Content-Security-Policy:script-src%20*&body=${body}`, 400],
    [`/?header=X-Content-Type-Options:sniff&body=${body}`, 400],
    [`/?header=Content-Type:text/plain&body=${body}`, 200],
    [`/?header=Content-Type:application/json&body=${body}`, 200],
    [`/?body=${body}`, 200],
    [`/?status=500&body=${body}`, 500],
    // The inspector page itself, with the payload in every value it shows.
    [`/${body}?q=${body}&header=X-Evil:${encodeURIComponent('<script>alert(1)</script>')}`, 200],
  ];
  for (const [url, status] of cases) {
    const { page, ran } = await openPage(browser);
    const res = await page.goto(`${server.url.slice(0, -1)}${url}`);
    await page.waitForLoadState('load');
    assert.equal(await ran(), false, `script ran for ${url}`);
    assert.equal(res?.status(), status, url);
    assert.match(res.headers()['content-security-policy'] ?? '', /(^|; )sandbox(;|$)/, url);
    assert.equal(res.headers()['x-content-type-options'], 'nosniff', url);
    await page.close();
  }
});

test('RELIABILITY 39: the sandbox CSP alone stops HTML a type check might miss', async (t) => {
  const browser = await launch(t);
  if (!browser) return;
  // The control: the same page without the policy runs its script, so the check above can fail.
  for (const [csp, expected] of [
    [undefined, true],
    [SHAPED_CSP, false],
  ] as const) {
    const { page, ran } = await openPage(browser);
    await page.route('http://shaped.test/**', (route) =>
      route.fulfill({
        status: 200,
        contentType: 'text/html; charset=utf-8',
        headers: csp === undefined ? {} : { 'content-security-policy': csp },
        body: PAYLOAD,
      }),
    );
    await page.goto('http://shaped.test/');
    await page.waitForLoadState('load');
    assert.equal(await ran(), expected, `CSP ${csp}`);
    await page.close();
  }
});
