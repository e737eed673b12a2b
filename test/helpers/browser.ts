/**
 * Headless Chromium for the page tests: the system `chromium` (Debian's),
 * driven by playwright-core, which downloads no browser of its own.
 */
import { execFileSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import { requireTool } from './tools.js';

/**
 * launchChromium starts headless Chromium from PATH, closed when the test
 * ends; undefined when it is missing (the test skips, or fails under CI=true).
 */
export async function launchChromium(
  t: TestContext,
  args: readonly string[] = [],
): Promise<Browser | undefined> {
  if (!(await requireTool(t, 'chromium', 'chromium'))) return undefined;
  const executablePath = execFileSync('sh', ['-c', 'command -v chromium']).toString().trim();
  // --no-sandbox: the suite may run as root, where Chromium's sandbox refuses to start.
  const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', ...args] });
  t.after(() => browser.close());
  return browser;
}

/**
 * openWatchedPage opens a tab that records every console error and warning,
 * uncaught page error, dialog and Content-Security-Policy violation in
 * `problems`, for the test to assert there were none.
 */
export async function openWatchedPage(
  browser: Browser,
  viewport: { width: number; height: number } = { width: 1280, height: 900 },
): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  // Init scripts are injected by the browser itself, so the page's CSP does not block this one.
  await page.addInitScript(`document.addEventListener('securitypolicyviolation', (e) => {
    console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI);
  });`);
  return { page, problems };
}
