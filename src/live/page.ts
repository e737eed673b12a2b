import { escapeHtml, scriptPageCsp } from '../internal/html.js';

/**
 * The shell of a live page: one self-contained document (no external
 * resources, so it works offline), whose inline script and stylesheet are
 * constants allowed by hash in a strict Content-Security-Policy. Per-page
 * data travels in data- attributes, never spliced into the script.
 */

/** LivePageParts are what a live page is made of. */
export interface LivePageParts {
  /** title is the document's title (escaped). */
  title: string;
  /** style is the page's stylesheet, a constant. */
  style: string;
  /** script is the page's script, a constant: it must avoid backticks and `${`. */
  script: string;
  /** body is the page's static markup (no peer-supplied text in it). */
  body: string;
  /** data become data- attributes of <body> (escaped), read by the script. */
  data?: Record<string, string>;
}

/** LivePage is a rendered page and the policy to send with it. */
export interface LivePage {
  /** html is the whole document. */
  html: string;
  /** csp is the Content-Security-Policy to send with it. */
  csp: string;
}

/** liveCsp allows exactly the page's own script and style, requests to its own origin, and nothing else. */
export function liveCsp(script: string, style: string): string {
  return scriptPageCsp(script, style, "'self'");
}

/** renderLivePage returns the page's HTML and its Content-Security-Policy. */
export function renderLivePage(parts: LivePageParts): LivePage {
  const data = Object.entries(parts.data ?? {})
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(parts.title)}</title>
<link rel="icon" href="data:,">
<style>${parts.style}</style>
</head>
<body${data}>
${parts.body}
<script>${parts.script}</script>
</body>
</html>
`;
  return { html, csp: liveCsp(parts.script, parts.style) };
}
