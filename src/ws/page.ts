/**
 * The browser page `netkit ws serve --page` serves at `/`: connect to any
 * WebSocket URL, send text, and watch a timed log of what goes each way.
 * The page is one self-contained document (no external resources), so it
 * works offline and under a strict Content-Security-Policy.
 */
import { escapeHtml, scriptPageCsp } from '../internal/html.js';
import { PAGE_SCRIPT } from './page/script.js';
import { PAGE_STYLE } from './page/style.js';

/**
 * PAGE_CSP is the Content-Security-Policy to send with the page. The inline
 * script and stylesheet are allowed by hash (they never change; per-page data
 * travels in a data- attribute), connect-src allows any ws:/wss: server because
 * the page may be pointed at another one, and everything else is off.
 */
export const PAGE_CSP = scriptPageCsp(PAGE_SCRIPT, PAGE_STYLE, 'ws: wss:');

/**
 * renderPage returns the page's HTML. `defaultPath` (e.g. `/echo`) is the
 * WebSocket path the URL field starts with, on the host the page was loaded
 * from; it is HTML-escaped into an attribute, so no path can inject markup.
 */
export function renderPage(defaultPath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>netkit ws</title>
<link rel="icon" href="data:,">
<style>${PAGE_STYLE}</style>
</head>
<body data-default-path="${escapeHtml(defaultPath)}">
<h1>netkit ws <small>WebSocket client</small></h1>
<div class="row">
  <input id="url" type="text" aria-label="WebSocket URL" spellcheck="false" autocomplete="off">
  <button id="connect" type="button">Connect</button>
  <button id="disconnect" type="button" disabled>Disconnect</button>
</div>
<div id="state" role="status" data-state="closed">not connected</div>
<div class="row">
  <input id="message" type="text" aria-label="Message" placeholder="Message (Enter sends)" autocomplete="off">
  <button id="send" type="button" disabled>Send</button>
  <button id="clear" type="button">Clear log</button>
</div>
<div id="log" role="log" aria-live="polite"></div>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}
