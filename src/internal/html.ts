/**
 * HTML for the pages netkit serves (the request inspector, directory
 * listings, the rpc debug page, the WebSocket page). Every value that came
 * from outside — a path, a header, a file or service name — goes through
 * escapeHtml, so a name cannot inject markup into a page.
 */

import { createHash } from 'node:crypto';

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** escapeHtml escapes `& < > " '` so any text is safe in HTML content and quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * htmlPage wraps `body` (already escaped HTML) in the page every netkit HTML
 * view uses; `title` is plain text and is escaped here. `css` adds rules.
 */
export function htmlPage(title: string, css: string, body: string): string {
  const t = escapeHtml(title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${t}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em; }
table { border-collapse: collapse; }
${css}
</style>
</head>
<body>
<h1>${t}</h1>
${body}
</body>
</html>
`;
}

/** sourceHash is the CSP source that allows exactly this inline script or stylesheet: `'sha256-…'`. */
function sourceHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * scriptPageCsp is the Content-Security-Policy of a page made of one inline
 * script and one inline stylesheet, both constants allowed by their hash (so
 * nothing injected can run or restyle the page), that may send requests only
 * to `connect`; everything else (frames, forms, plugins, a base URL) is off.
 */
export function scriptPageCsp(script: string, style: string, connect: string): string {
  return [
    "default-src 'none'",
    `script-src ${sourceHash(script)}`,
    `style-src ${sourceHash(style)}`,
    `connect-src ${connect}`,
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}
