/**
 * The relay page's inline script, a constant the Content-Security-Policy
 * allows by hash. It keeps the page in step with /events (a snapshot, then
 * proxy, opened, bytes and closed events; not open and close, which
 * EventSource has names of its own for), fetches the selected connection's
 * traffic from /api/traffic/{key}, and changes faults through the
 * Toxiproxy API under /api/.
 *
 * Every string that came from a peer or the API (names, addresses, relayed
 * bytes, error messages) reaches the DOM through textContent only. The
 * source avoids backticks and the dollar-brace sequence so it can live in
 * a template literal.
 */
export const RELAY_PAGE_SCRIPT = `
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var ATTRS = JSON.parse(document.body.dataset.attributes || '{}');
  var token = new URLSearchParams(location.search).get('token');
  var proxiesEl = $('proxies');
  var noProxies = $('no-proxies');
  var connsBody = $('conns-body');
  var noConns = $('no-conns');
  var statusEl = $('status');
  var trafficEl = $('traffic');
  var trafficTitle = $('traffic-title');
  var trafficNote = $('traffic-note');
  // The page keeps no more than the server does: closed connections and chunks per connection.
  var MAX_CHUNKS = 1024;
  var maxClosed = 200;
  var proxies = new Map();
  var conns = new Map();
  var closedOrder = [];
  var selected = null;
  var mode = 'text';
  var trafficNext = 0;
  var trafficBusy = false;
  var trafficAgain = false;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // labelled makes a form control of \`tag\` with the given properties, inside a label with \`text\`, appended to \`parent\`.
  function labelled(parent, text, tag, props) {
    var label = el('label', null, text);
    var control = el(tag);
    Object.keys(props).forEach(function (k) { control[k] = props[k]; });
    label.appendChild(control);
    parent.appendChild(label);
    return control;
  }

  function bytes(n) {
    if (n < 1024) return n + ' B';
    var units = ['KiB', 'MiB', 'GiB', 'TiB'];
    var v = n;
    var i = -1;
    do { v /= 1024; i++; } while (v >= 1024 && i < units.length - 1);
    return (v < 10 ? v.toFixed(1) : Math.round(v)) + ' ' + units[i];
  }

  function duration(ms) {
    if (ms < 1000) return Math.max(0, Math.round(ms)) + 'ms';
    var s = ms / 1000;
    if (s < 60) return s.toFixed(1) + 's';
    var m = Math.floor(s / 60);
    if (m < 60) return m + 'm' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h' + String(m % 60).padStart(2, '0') + 'm';
  }

  function withToken(path) {
    return token ? path + (path.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token) : path;
  }

  function api(method, path, body) {
    var headers = { 'Content-Type': 'application/json' };
    if (token) headers['X-Netkit-Token'] = token;
    var init = { method: method, headers: headers, cache: 'no-store', credentials: 'same-origin' };
    if (body !== undefined) init.body = JSON.stringify(body);
    return fetch('api' + path, init).then(function (res) {
      if (res.status === 204) return null;
      return res.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (e) { data = null; }
        if (!res.ok) {
          throw new Error((data && typeof data.error === 'string') ? data.error : 'HTTP ' + res.status);
        }
        return data;
      });
    });
  }

  function seg(s) { return encodeURIComponent(s); }

  // ---- proxies and their faults ----

  function attrText(t) {
    var keys = Object.keys(t.attributes || {});
    var units = ATTRS[t.type] || {};
    return keys.map(function (k) {
      var u = units[k] ? ' ' + units[k].unit : '';
      return k + ' ' + t.attributes[k] + u;
    }).join(', ');
  }

  function attrInputs(form, type, values) {
    var box = form.querySelector('.attrs');
    box.textContent = '';
    var spec = ATTRS[type] || {};
    Object.keys(spec).forEach(function (k) {
      var a = spec[k];
      labelled(box, k + ' (' + a.unit + ')', 'input', {
        type: 'number',
        name: 'attr-' + k,
        min: String(a.min),
        step: 'any',
        required: true,
        value: String(values && values[k] !== undefined ? values[k] : a.default),
      });
    });
  }

  function setFormMode(card, fault) {
    var form = card.form;
    var f = card.inputs;
    form.dataset.editing = fault ? fault.name : '';
    form.querySelector('legend').textContent = fault ? 'Change fault ' + fault.name : 'Add a fault';
    f.submit.textContent = fault ? 'Change fault' : 'Add fault';
    f.cancel.hidden = !fault;
    // A fault keeps its type and name: changing them is removing it and adding another.
    f.type.disabled = !!fault;
    f.name.disabled = !!fault;
    if (fault) {
      f.type.value = fault.type;
      f.stream.value = fault.stream;
      f.tox.value = String(fault.toxicity);
      f.name.value = fault.name;
      attrInputs(form, fault.type, fault.attributes);
      f.stream.focus();
    } else {
      f.name.value = '';
      attrInputs(form, f.type.value);
    }
  }

  function showError(card, message) {
    card.error.textContent = message;
  }

  function makeForm(card) {
    var form = el('form', 'fault-form');
    var fs = el('fieldset');
    fs.appendChild(el('legend', null, 'Add a fault'));
    var grid = el('div', 'fields');
    var type = labelled(grid, 'type', 'select', { name: 'type' });
    Object.keys(ATTRS).forEach(function (k) {
      var o = el('option', null, k);
      o.value = k;
      type.appendChild(o);
    });
    var stream = labelled(grid, 'stream', 'select', { name: 'stream' });
    [['downstream', 'downstream (target \\u2192 client)'], ['upstream', 'upstream (client \\u2192 target)']].forEach(function (p) {
      var o = el('option', null, p[1]);
      o.value = p[0];
      stream.appendChild(o);
    });
    var tox = labelled(grid, 'toxicity (0\\u20131)', 'input', {
      type: 'number',
      name: 'toxicity',
      min: '0',
      max: '1',
      step: 'any',
      value: '1',
    });
    var name = labelled(grid, 'name', 'input', {
      type: 'text',
      name: 'name',
      placeholder: 'type_stream',
      autocomplete: 'off',
      spellcheck: false,
    });
    fs.appendChild(grid);
    fs.appendChild(el('div', 'attrs fields'));
    var buttons = el('div', 'buttons');
    var submit = el('button', 'submit', 'Add fault');
    submit.type = 'submit';
    var cancel = el('button', 'cancel', 'Cancel');
    cancel.type = 'button';
    cancel.hidden = true;
    buttons.appendChild(submit);
    buttons.appendChild(cancel);
    fs.appendChild(buttons);
    form.appendChild(fs);
    type.addEventListener('change', function () { attrInputs(form, type.value); });
    cancel.addEventListener('click', function () { setFormMode(card, null); });
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      var attributes = {};
      var inputs = form.querySelectorAll('.attrs input');
      for (var i = 0; i < inputs.length; i++) {
        attributes[inputs[i].name.slice(5)] = Number(inputs[i].value);
      }
      var body = { stream: stream.value, toxicity: Number(tox.value), attributes: attributes };
      var editing = form.dataset.editing;
      var p;
      if (editing) {
        p = api('POST', '/proxies/' + seg(card.name) + '/toxics/' + seg(editing), body);
      } else {
        body.type = type.value;
        if (name.value.trim() !== '') body.name = name.value.trim();
        p = api('POST', '/proxies/' + seg(card.name) + '/toxics', body);
      }
      submit.disabled = true;
      p.then(function () {
        showError(card, '');
        setFormMode(card, null);
      }, function (err) {
        showError(card, err.message);
      }).then(function () { submit.disabled = false; });
    });
    card.form = form;
    card.inputs = { type: type, stream: stream, tox: tox, name: name, submit: submit, cancel: cancel };
    attrInputs(form, type.value);
    return form;
  }

  function makeCard(name) {
    var card = { name: name, faults: [] };
    var root = el('article', 'proxy');
    root.dataset.proxy = name;
    var head = el('div', 'proxy-head');
    var h = el('h2');
    card.title = el('span', 'name', name);
    h.appendChild(card.title);
    card.state = el('span', 'badge');
    h.appendChild(card.state);
    head.appendChild(h);
    card.toggle = el('button', 'toggle');
    card.toggle.type = 'button';
    card.toggle.addEventListener('click', function () {
      var want = !card.enabled;
      api('POST', '/proxies/' + seg(card.name), { enabled: want }).then(function () {
        showError(card, '');
      }, function (err) { showError(card, err.message); });
    });
    head.appendChild(card.toggle);
    root.appendChild(head);
    card.route = el('p', 'route');
    root.appendChild(card.route);
    root.appendChild(el('h3', null, 'Faults'));
    card.faultsList = el('ul', 'faults');
    root.appendChild(card.faultsList);
    card.noFaults = el('p', 'empty', 'no faults');
    root.appendChild(card.noFaults);
    card.error = el('p', 'error');
    card.error.setAttribute('role', 'alert');
    root.appendChild(makeForm(card));
    root.appendChild(card.error);
    card.root = root;
    return card;
  }

  function renderFaults(card, toxics) {
    card.faults = toxics;
    card.faultsList.textContent = '';
    toxics.forEach(function (t) {
      var li = el('li');
      li.dataset.fault = t.name;
      var main = el('div', 'fault-main');
      main.appendChild(el('span', 'fault-name', t.name));
      main.appendChild(el('span', 'fault-type', t.type));
      main.appendChild(el('span', null, t.stream));
      main.appendChild(el('span', null, 'toxicity ' + t.toxicity));
      li.appendChild(main);
      li.appendChild(el('div', 'fault-attrs', attrText(t) || 'no attributes'));
      var actions = el('div', 'actions');
      var change = el('button', 'change', 'Change');
      change.type = 'button';
      change.setAttribute('aria-label', 'Change fault ' + t.name);
      change.addEventListener('click', function () { setFormMode(card, t); });
      var remove = el('button', 'remove', 'Remove');
      remove.type = 'button';
      remove.setAttribute('aria-label', 'Remove fault ' + t.name);
      remove.addEventListener('click', function () {
        api('DELETE', '/proxies/' + seg(card.name) + '/toxics/' + seg(t.name)).then(function () {
          showError(card, '');
          if (card.form.dataset.editing === t.name) setFormMode(card, null);
          // The fault and its buttons are gone: keep the keyboard in the proxy's form.
          card.inputs.type.focus();
        }, function (err) { showError(card, err.message); });
      });
      actions.appendChild(change);
      actions.appendChild(remove);
      li.appendChild(actions);
      card.faultsList.appendChild(li);
    });
    card.noFaults.hidden = toxics.length > 0;
    card.faultsList.hidden = toxics.length === 0;
  }

  function setProxy(p) {
    var card = proxies.get(p.name);
    if (!card) {
      card = makeCard(p.name);
      proxies.set(p.name, card);
      proxiesEl.appendChild(card.root);
    }
    card.enabled = p.enabled;
    card.state.textContent = p.enabled ? 'enabled' : 'disabled';
    card.state.dataset.on = p.enabled ? 'yes' : 'no';
    card.toggle.textContent = p.enabled ? 'Disable' : 'Enable';
    card.route.textContent = (p.listen || '(not bound)') + ' \\u2192 ' + p.upstream;
    renderFaults(card, p.toxics || []);
    noProxies.hidden = proxies.size > 0;
  }

  function removeProxy(name) {
    var card = proxies.get(name);
    if (!card) return;
    card.root.remove();
    proxies.delete(name);
    noProxies.hidden = proxies.size > 0;
  }

  // ---- connections ----

  function closedText(c) {
    var who = c.first === 'relay' ? 'relay' : c.first;
    var how = c.how === 'fin' ? 'FIN' : c.how === 'rst' ? 'RST' : 'error';
    return who + ' closed first (' + how + ')' + (c.reason ? ': ' + c.reason : '');
  }

  function makeRow(c) {
    var tr = el('tr');
    tr.dataset.key = String(c.key);
    var sel = el('button', 'select', '#' + c.id);
    sel.type = 'button';
    sel.setAttribute('aria-pressed', 'false');
    sel.setAttribute('aria-label', 'Show traffic of connection ' + c.id + ' of ' + c.proxy);
    sel.addEventListener('click', function () { select(c.key); });
    var td = el('td');
    td.appendChild(sel);
    tr.appendChild(td);
    var cells = {
      proxy: el('td', 'mono', c.proxy),
      client: el('td', 'mono', c.client),
      target: el('td', 'mono', c.target),
      up: el('td', 'num'),
      down: el('td', 'num'),
      age: el('td', 'num'),
      state: el('td', 'state')
    };
    Object.keys(cells).forEach(function (k) { cells[k].dataset.col = k; tr.appendChild(cells[k]); });
    return { tr: tr, cells: cells, button: sel };
  }

  function paintRow(c) {
    c.row.cells.up.textContent = bytes(c.up);
    c.row.cells.down.textContent = bytes(c.down);
    if (c.closed) {
      c.row.cells.age.textContent = duration(c.closed.ms);
      c.row.cells.state.textContent = closedText(c.closed);
      c.row.tr.dataset.state = c.closed.how;
    } else {
      c.row.cells.age.textContent = duration(Date.now() - c.start);
      c.row.cells.state.textContent = 'open';
      c.row.tr.dataset.state = 'open';
    }
  }

  function addConn(c) {
    c.start = Date.now() - c.age;
    c.row = makeRow(c);
    conns.set(c.key, c);
    // Newest first: keys grow with every connection.
    var before = null;
    for (var n = connsBody.firstChild; n; n = n.nextSibling) {
      if (Number(n.dataset.key) < c.key) { before = n; break; }
    }
    connsBody.insertBefore(c.row.tr, before);
    if (c.closed) noteClosed(c);
    paintRow(c);
    if (selected === c.key) markSelected();
    noConns.hidden = true;
  }

  function noteClosed(c) {
    closedOrder.push(c.key);
    while (closedOrder.length > maxClosed) {
      var old = conns.get(closedOrder.shift());
      if (!old) continue;
      old.row.tr.remove();
      conns.delete(old.key);
    }
    noConns.hidden = conns.size > 0;
  }

  function markSelected() {
    conns.forEach(function (c) {
      var on = c.key === selected;
      c.row.button.setAttribute('aria-pressed', on ? 'true' : 'false');
      if (on) c.row.tr.dataset.selected = 'yes';
      else delete c.row.tr.dataset.selected;
    });
  }

  function tick() {
    conns.forEach(function (c) {
      if (!c.closed) c.row.cells.age.textContent = duration(Date.now() - c.start);
    });
  }

  // ---- traffic of the selected connection ----

  function select(key) {
    selected = key;
    markSelected();
    trafficEl.textContent = '';
    trafficNote.textContent = '';
    trafficNext = 0;
    var c = conns.get(key);
    trafficTitle.textContent = c ? '#' + c.id + ' of ' + c.proxy + ': ' + c.client + ' \\u2192 ' + c.target : '';
    fetchTraffic();
  }

  function fetchTraffic() {
    if (selected === null) return;
    if (trafficBusy) { trafficAgain = true; return; }
    trafficBusy = true;
    var key = selected;
    var m = mode;
    api('GET', '/traffic/' + key + '?mode=' + m + '&after=' + trafficNext).then(function (v) {
      if (key !== selected || m !== mode) return;
      showTraffic(v);
    }, function (err) {
      if (key === selected) trafficNote.textContent = err.message;
    }).then(function () {
      trafficBusy = false;
      if (trafficAgain) { trafficAgain = false; fetchTraffic(); }
    });
  }

  function showTraffic(v) {
    var stick = trafficEl.scrollTop + trafficEl.clientHeight >= trafficEl.scrollHeight - 4;
    while (trafficEl.firstChild && Number(trafficEl.firstChild.dataset.seq) < v.first) {
      trafficEl.removeChild(trafficEl.firstChild);
    }
    v.chunks.forEach(function (k) {
      var box = el('div', 'chunk');
      box.dataset.seq = String(k.seq);
      box.dataset.stream = k.stream;
      box.appendChild(el('div', 'head', k.head));
      if (k.body) box.appendChild(el('pre', 'body', k.body));
      trafficEl.appendChild(box);
    });
    while (trafficEl.childElementCount > MAX_CHUNKS) trafficEl.removeChild(trafficEl.firstElementChild);
    trafficNext = v.next;
    var notes = [];
    if (v.first > 1) notes.push('earlier chunks are not kept');
    if (v.closed) notes.push('connection closed');
    if (trafficEl.childElementCount === 0 && !v.closed) notes.push('no bytes yet');
    trafficNote.textContent = notes.join('; ');
    if (stick) trafficEl.scrollTop = trafficEl.scrollHeight;
  }

  var modeInputs = document.querySelectorAll('input[name="mode"]');
  for (var i = 0; i < modeInputs.length; i++) {
    modeInputs[i].addEventListener('change', function (ev) {
      mode = ev.target.value;
      if (selected !== null) select(selected);
    });
  }

  // ---- the event stream ----

  function applySnapshot(s) {
    maxClosed = s.maxClosed;
    var names = new Set(s.proxies.map(function (p) { return p.name; }));
    Array.from(proxies.keys()).forEach(function (n) { if (!names.has(n)) removeProxy(n); });
    s.proxies.forEach(setProxy);
    connsBody.textContent = '';
    conns.clear();
    closedOrder = [];
    s.conns.slice().sort(function (a, b) { return a.key - b.key; }).forEach(addConn);
    noConns.hidden = conns.size > 0;
    noProxies.hidden = proxies.size > 0;
    if (selected !== null) {
      if (conns.has(selected)) fetchTraffic();
      else { selected = null; trafficTitle.textContent = 'select a connection'; }
    }
  }

  function on(es, name, fn) {
    es.addEventListener(name, function (ev) { fn(JSON.parse(ev.data)); });
  }

  function connect() {
    var es = new EventSource(withToken('events'));
    es.onopen = function () {
      statusEl.dataset.state = 'open';
      statusEl.textContent = 'live';
    };
    es.onerror = function () {
      statusEl.dataset.state = 'connecting';
      statusEl.textContent = 'reconnecting\\u2026';
    };
    on(es, 'snapshot', applySnapshot);
    on(es, 'proxy', setProxy);
    on(es, 'proxy-removed', function (d) { removeProxy(d.name); });
    on(es, 'opened', addConn);
    on(es, 'bytes', function (d) {
      d.conns.forEach(function (t) {
        var c = conns.get(t[0]);
        if (!c) return;
        c.up = t[1];
        c.down = t[2];
        paintRow(c);
        if (t[0] === selected) fetchTraffic();
      });
    });
    on(es, 'closed', function (d) {
      var c = conns.get(d.key);
      if (!c) return;
      c.up = d.up;
      c.down = d.down;
      c.closed = d.closed;
      paintRow(c);
      noteClosed(c);
      if (d.key === selected) fetchTraffic();
    });
  }

  setInterval(tick, 1000);
  connect();
})();
`;
