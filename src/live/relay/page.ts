/**
 * The page `netkit relay --web` serves: its static markup, with the
 * script and stylesheet, rendered once under the live pages' CSP. The
 * fault types and their attributes travel in a data- attribute, so the
 * fault forms offer exactly what the relay checks.
 */
import { ATTRIBUTES } from '../../relay/faults/spec.js';
import { type LivePage, renderLivePage } from '../page.js';
import { RELAY_PAGE_SCRIPT } from './script.js';
import { RELAY_PAGE_STYLE } from './style.js';

const BODY = `<header>
<h1>netkit relay <small>live</small></h1>
<div id="status" role="status" data-state="connecting">connecting…</div>
</header>
<main>
<section id="proxies-section" aria-labelledby="proxies-h">
<h2 id="proxies-h">Proxies and their faults</h2>
<p id="no-proxies" class="empty">no proxies</p>
<div id="proxies"></div>
</section>
<section aria-labelledby="conns-h">
<h2 id="conns-h">Connections</h2>
<p id="no-conns" class="empty">no connections yet</p>
<div class="table-wrap">
<table id="conns">
<thead><tr><th>#</th><th>proxy</th><th>client</th><th class="col-target">target</th><th>↑ up</th><th>↓ down</th><th>age</th><th>state</th></tr></thead>
<tbody id="conns-body"></tbody>
</table>
</div>
</section>
<section aria-labelledby="traffic-h">
<h2 id="traffic-h">Traffic</h2>
<div class="traffic-bar">
<span id="traffic-title">select a connection</span>
<fieldset class="mode"><legend>show</legend>
<label><input type="radio" name="mode" value="text" checked> text</label>
<label><input type="radio" name="mode" value="hex"> hex</label>
</fieldset>
</div>
<p id="traffic-note" role="status"></p>
<div id="traffic" tabindex="0" role="log" aria-label="traffic of the selected connection"></div>
</section>
</main>`;

/** renderRelayPage returns the relay page and its Content-Security-Policy. */
export function renderRelayPage(): LivePage {
  return renderLivePage({
    title: 'netkit relay',
    style: RELAY_PAGE_STYLE,
    script: RELAY_PAGE_SCRIPT,
    body: BODY,
    data: { attributes: JSON.stringify(ATTRIBUTES) },
  });
}
