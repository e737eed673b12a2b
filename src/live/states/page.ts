/**
 * The page of `netkit states --web`: the TCP state diagram with a live
 * count on every state, the selected sockets, a timeline of transitions
 * and the CLOSE_WAIT leak warning. Static markup only; what the kernel
 * says arrives over /events and is filled in by the script as text.
 */
import { STATE_HELP } from '../../tcpstate/index.js';
import { type LivePage, renderLivePage } from '../page.js';
import { DIAGRAM_SVG } from './diagram.js';
import { STATES_SCRIPT } from './script.js';
import { STATES_STYLE } from './style.js';

const BODY = `<header>
<h1>netkit states</h1>
<span id="filter"></span>
<span id="status" role="status" data-state="connecting">connecting</span>
</header>
<ul id="warnings" role="alert"></ul>
<main class="grid">
<section class="panel diagram-panel" aria-labelledby="diagram-title">
<h2 id="diagram-title">State diagram <small>select a state to explain it</small></h2>
${DIAGRAM_SVG}
<div id="explain" aria-live="polite"><p class="hint">Click a state, or focus it and press Enter, to see what it means.</p></div>
</section>
<section class="panel" aria-labelledby="sockets-title">
<h2 id="sockets-title">Sockets <small id="total"></small></h2>
<div class="table-wrap">
<table id="sockets">
<thead><tr><th>State</th><th>Local</th><th>Remote</th><th>Process</th><th class="num">Recv-Q</th><th class="num">Send-Q</th><th>Timer</th></tr></thead>
<tbody id="socket-rows"></tbody>
</table>
</div>
<p id="more"></p>
</section>
<section class="panel" aria-labelledby="timeline-title">
<h2 id="timeline-title">Timeline <small>newest first</small></h2>
<ol id="timeline" aria-live="off"></ol>
</section>
</main>`;

/** renderStatesPage returns the page with its Content-Security-Policy. */
export function renderStatesPage(): LivePage {
  return renderLivePage({
    title: 'netkit states',
    style: STATES_STYLE,
    script: STATES_SCRIPT,
    body: BODY,
    // The same text as `netkit states --explain`, per state.
    data: { help: JSON.stringify(STATE_HELP) },
  });
}
