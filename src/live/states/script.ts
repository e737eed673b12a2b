/**
 * The script of `netkit states --web`, kept constant so the
 * Content-Security-Policy can allow it by hash: the state explanations
 * come from a data- attribute on <body>, the sockets from /events.
 *
 * Addresses and command names come from the kernel and from whatever
 * process owns a socket (a process names itself), so every one of them
 * reaches the DOM through textContent only, never as markup. The source
 * avoids backticks and `${` so it can live in a template literal.
 */
export const STATES_SCRIPT = `
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var help = JSON.parse(document.body.dataset.help || '{}');
  // The DOM keeps as much history as the server does, and no more.
  var MAX_TIMELINE = 500;
  var ORDER = ['LISTEN', 'SYN_SENT', 'SYN_RECV', 'NEW_SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2',
    'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT', 'CLOSE'];
  var KINDS = { appeared: '+ appeared', changed: '~ changed', vanished: '- vanished' };
  var statusEl = $('status');
  var filterEl = $('filter');
  var warningsEl = $('warnings');
  var rowsEl = $('socket-rows');
  var totalEl = $('total');
  var moreEl = $('more');
  var timelineEl = $('timeline');
  var explainEl = $('explain');
  var boxes = Array.prototype.slice.call(document.querySelectorAll('#diagram .state'));
  var token = new URLSearchParams(location.search).get('token');
  var interval = 0;
  var selected = null;
  var current = { at: 0, sockets: [], total: 0, counts: {}, warnings: [] };

  function pad(n, width) {
    var s = String(n);
    while (s.length < width) s = '0' + s;
    return s;
  }

  function clock(ms) {
    var d = new Date(ms);
    return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' + pad(d.getSeconds(), 2) + '.' +
      pad(d.getMilliseconds(), 3);
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function plural(n, word) {
    return n + ' ' + word + (n === 1 ? '' : 's');
  }

  function displayName(state) {
    return state === 'CLOSE' ? 'CLOSED' : state;
  }

  // Linux keeps NEW_SYN_RECV requests outside the socket table; should one show up, it is a SYN_RECV.
  function boxState(state) {
    return state === 'NEW_SYN_RECV' ? 'SYN_RECV' : state;
  }

  function owner(s) {
    return s.pid === undefined ? '-' : (s.command || '?') + '/' + s.pid;
  }

  function timer(s) {
    return s.timer === 'off' ? '-' : s.timer + ' ' + (s.timerMs / 1000).toFixed(1) + 's';
  }

  function leaks() {
    var byPort = {};
    current.warnings.forEach(function (w) { byPort[w.port] = w; });
    return byPort;
  }

  function describeFilter(f) {
    var parts = [];
    if (f.port !== undefined) parts.push('port ' + f.port);
    if (f.pid !== undefined) parts.push('pid ' + f.pid);
    if (f.states && f.states.length) parts.push(f.states.join(', '));
    return parts.length ? 'sockets with ' + parts.join(' \\u00b7 ') : 'all TCP sockets';
  }

  function setStatus(state, text) {
    statusEl.dataset.state = state;
    statusEl.textContent = text;
  }

  function sampled() {
    var every = interval >= 1000 ? (interval / 1000) + 's' : interval + 'ms';
    setStatus('live', 'live, every ' + every + (current.at ? ', sampled ' + clock(current.at) : ', sampling\\u2026'));
  }

  function renderCounts() {
    var counts = {};
    Object.keys(current.counts).forEach(function (k) {
      var b = boxState(k);
      counts[b] = (counts[b] || 0) + current.counts[k];
    });
    var leaking = current.warnings.length > 0;
    boxes.forEach(function (g) {
      var state = g.dataset.state;
      var n = counts[state] || 0;
      var leak = state === 'CLOSE_WAIT' && leaking;
      g.querySelector('.count').textContent = String(n);
      g.classList.toggle('active', n > 0);
      g.classList.toggle('leak', leak);
      g.classList.toggle('selected', state === selected);
      g.setAttribute('aria-label', displayName(state) + ': ' + plural(n, 'socket') + (leak ? ', leak warning' : ''));
    });
  }

  function warningText(w) {
    var who = w.pid !== undefined ? ' held by ' + (w.command || '?') + '/' + w.pid : '';
    var why = w.reason === 'growing' ? 'and growing' :
      'the oldest for ' + (Math.max(0, current.at - w.since) / 1000).toFixed(1) + 's';
    return 'CLOSE_WAIT leak: ' + plural(w.count, 'socket') + ' in CLOSE_WAIT on port ' + w.port + who + ', ' +
      why + ': the process is not closing connections its peers closed';
  }

  function renderWarnings() {
    warningsEl.replaceChildren();
    current.warnings.forEach(function (w) {
      var li = el('li', 'warning', warningText(w));
      li.dataset.port = String(w.port);
      warningsEl.appendChild(li);
    });
  }

  function rank(state) {
    var i = ORDER.indexOf(state);
    return i < 0 ? ORDER.length : i;
  }

  function renderSockets() {
    var byPort = leaks();
    var list = current.sockets.slice().sort(function (a, b) {
      return rank(a.state) - rank(b.state) || a.localPort - b.localPort || a.remotePort - b.remotePort;
    });
    var rows = list.map(function (s) {
      var tr = el('tr', 'socket');
      tr.dataset.state = s.state;
      tr.dataset.localPort = String(s.localPort);
      tr.dataset.remotePort = String(s.remotePort);
      var leak = s.state === 'CLOSE_WAIT' ? byPort[s.localPort] : undefined;
      if (leak) tr.classList.add('leak');
      if (selected && boxState(s.state) === selected) tr.classList.add('selected');
      tr.appendChild(el('td', 'state', s.state));
      tr.appendChild(el('td', 'local', s.local));
      tr.appendChild(el('td', 'remote', s.remote));
      var who = el('td', 'owner', owner(s));
      if (leak) {
        var badge = el('span', 'badge', '\\u26a0 leak');
        badge.title = warningText(leak);
        who.appendChild(badge);
      }
      tr.appendChild(who);
      tr.appendChild(el('td', 'num', s.recvQueue));
      tr.appendChild(el('td', 'num', s.sendQueue));
      tr.appendChild(el('td', 'timer', timer(s)));
      return tr;
    });
    if (rows.length === 0) {
      var td = el('td', 'empty', current.at ? 'no sockets match' : 'waiting for the first sample');
      td.colSpan = 7;
      var tr = el('tr');
      tr.appendChild(td);
      rows.push(tr);
    }
    rowsEl.replaceChildren.apply(rowsEl, rows);
    totalEl.textContent = '(' + current.total + ')';
    moreEl.textContent = current.total > current.sockets.length ?
      'showing ' + current.sockets.length + ' of ' + current.total + '; narrow with --port, --pid or --state' : '';
  }

  function addTransitions(list) {
    list.forEach(function (t) {
      var li = el('li');
      li.dataset.kind = t.kind;
      li.dataset.state = t.state;
      li.appendChild(el('span', 'time', clock(t.at)));
      li.appendChild(el('span', 'kind', KINDS[t.kind] || t.kind));
      li.appendChild(el('span', 'states', t.from ? t.from + ' \\u2192 ' + t.state : t.state));
      li.appendChild(el('span', 'addr', t.local + ' \\u21c4 ' + t.remote));
      if (t.pid !== undefined) li.appendChild(el('span', 'owner', (t.command || '?') + '/' + t.pid));
      timelineEl.insertBefore(li, timelineEl.firstChild);
    });
    while (timelineEl.childElementCount > MAX_TIMELINE) timelineEl.removeChild(timelineEl.lastElementChild);
  }

  function render() {
    renderCounts();
    renderWarnings();
    renderSockets();
    sampled();
  }

  function explain(state) {
    selected = state;
    var name = el('h3', 'name', displayName(state));
    var text = el('p', 'text', help[state] || '');
    explainEl.replaceChildren(name, text);
    render();
  }

  boxes.forEach(function (g) {
    g.addEventListener('click', function () { explain(g.dataset.state); });
    g.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        explain(g.dataset.state);
      }
    });
  });

  var url = '/events' + (token ? '?token=' + encodeURIComponent(token) : '');
  var events = new EventSource(url);
  events.addEventListener('snapshot', function (ev) {
    var s = JSON.parse(ev.data);
    interval = s.interval;
    filterEl.textContent = describeFilter(s.filter || {});
    current = s;
    timelineEl.replaceChildren();
    addTransitions(s.transitions || []);
    render();
    if (s.error) setStatus('error', 'cannot sample: ' + s.error);
  });
  events.addEventListener('sample', function (ev) {
    var s = JSON.parse(ev.data);
    current.at = s.at;
    current.sockets = s.sockets;
    current.total = s.total;
    current.counts = s.counts;
    current.warnings = s.warnings;
    addTransitions(s.transitions || []);
    render();
  });
  events.addEventListener('problem', function (ev) {
    var p = JSON.parse(ev.data);
    setStatus('error', 'cannot sample: ' + p.message);
  });
  events.addEventListener('open', sampled);
  // EventSource reconnects by itself; the snapshot it gets then replaces what the page shows.
  events.addEventListener('error', function () { setStatus('error', 'disconnected; reconnecting\\u2026'); });
  render();
  setStatus('connecting', 'connecting\\u2026');
})();
`;
