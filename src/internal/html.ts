/**
 * HTML for the pages netkit serves (the request inspector, directory
 * listings, the rpc debug page, the WebSocket page). Every value that came
 * from outside — a path, a header, a file or service name — goes through
 * escapeHtml, so a name cannot inject markup into a page.
 */

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
