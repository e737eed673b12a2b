import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml, htmlPage } from '../../src/internal/html.js';

test('escapeHtml escapes the five HTML metacharacters and nothing else', () => {
  const cases: [string, string][] = [
    [`<a href="x" title='y'>&</a>`, '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;'],
    ['&amp;', '&amp;amp;'],
    ['plain text, ünïcode', 'plain text, ünïcode'],
    ['', ''],
    ['"><script>alert(1)</script>', '&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;'],
  ];
  for (const [i, [text, want]] of cases.entries()) assert.equal(escapeHtml(text), want, `#${i}: ${text}`);
});

test('htmlPage escapes the title and keeps the body as it is', () => {
  const page = htmlPage('a <b> & c', 'td { color: red; }', '<p>body</p>');
  assert.match(page, /<title>a &lt;b&gt; &amp; c<\/title>/);
  assert.match(page, /<h1>a &lt;b&gt; &amp; c<\/h1>/);
  assert.match(page, /td \{ color: red; \}/);
  assert.match(page, /<p>body<\/p>/);
});
