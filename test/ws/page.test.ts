import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { PAGE_CSP, renderPage } from '../../src/ws/page.js';

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

function only(html: string, tag: string): string {
  const all = [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))];
  assert.equal(all.length, 1, `one <${tag}> element`);
  assert.equal(html.split(`<${tag}`).length, 2, `no other <${tag} tag`);
  return all[0]![1]!;
}

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((d) => {
      const [name, ...values] = d.trim().split(/\s+/);
      return [name!, values];
    }),
  );
}

function unescapeHtml(s: string): string {
  return s
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&');
}

test('the page loads nothing from outside: no external URL, no src, only a data: icon', () => {
  const html = renderPage('/echo');
  assert.doesNotMatch(html, /https?:\/\//);
  assert.doesNotMatch(html, /\ssrc\s*=/i);
  assert.doesNotMatch(html, /@import|\burl\(/i);
  const hrefs = [...html.matchAll(/\shref\s*=\s*"([^"]*)"/gi)].map((m) => m[1]);
  assert.deepEqual(hrefs, ['data:,']);
});

test('PAGE_CSP allows the inline script and stylesheet by hash and nothing else', () => {
  const html = renderPage('/chat');
  const d = directives(PAGE_CSP);
  assert.deepEqual(d.get('default-src'), ["'none'"]);
  assert.deepEqual(d.get('script-src'), [hash(only(html, 'script'))]);
  assert.deepEqual(d.get('style-src'), [hash(only(html, 'style'))]);
  assert.deepEqual(d.get('connect-src'), ['ws:', 'wss:']);
  assert.deepEqual(d.get('base-uri'), ["'none'"]);
  assert.deepEqual(d.get('form-action'), ["'none'"]);
  assert.doesNotMatch(PAGE_CSP, /unsafe/);
});

test('the script is valid JavaScript and never turns data into HTML', () => {
  const script = only(renderPage('/echo'), 'script');
  assert.doesNotThrow(() => new Function(script));
  assert.doesNotMatch(script, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(/);
  assert.match(script, /textContent/);
});

test('the page has the ids and state attributes the browser tests rely on', () => {
  const html = renderPage('/echo');
  for (const id of ['url', 'connect', 'disconnect', 'state', 'message', 'send', 'log']) {
    assert.match(html, new RegExp(`\\sid="${id}"`), id);
  }
  assert.match(html, /id="state"[^>]*data-state="closed"/);
});

test('a hostile defaultPath stays inside its attribute and does not change the script', () => {
  const clean = renderPage('/echo');
  for (const evil of [
    '/x</script><script>alert(1)</script>',
    '/x"><img src=x onerror=alert(1)>',
    "/x' onload='alert(1)",
    '/x&amp;\u2028\u2029<!--',
  ]) {
    const html = renderPage(evil);
    assert.ok(!html.includes(evil), evil);
    // Same markup skeleton as a clean page: one script, one style, same hashes.
    assert.equal(only(html, 'script'), only(clean, 'script'));
    assert.equal(only(html, 'style'), only(clean, 'style'));
    const markup = html.replace(/<script>[\s\S]*<\/script>/, '');
    assert.doesNotMatch(markup, /<img|<!--/);
    const attr = html.match(/<body data-default-path="([^"]*)">/);
    assert.ok(attr, `body attribute intact for ${evil}`);
    assert.equal(unescapeHtml(attr[1]!), evil);
  }
});
