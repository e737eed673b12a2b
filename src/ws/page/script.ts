/**
 * The page's inline script, kept constant so the Content-Security-Policy can
 * allow it by hash: per-page data (the default path) comes from a data-
 * attribute on <body>, never from text spliced into the script.
 *
 * Everything that came over the network or from the URL reaches the DOM only
 * through textContent / createTextNode, so a message is always shown as text.
 * The source avoids backticks and `${` so it can live in a template literal.
 */
export const PAGE_SCRIPT = `
'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var urlInput = $('url');
  var connectBtn = $('connect');
  var disconnectBtn = $('disconnect');
  var stateEl = $('state');
  var messageInput = $('message');
  var sendBtn = $('send');
  var clearBtn = $('clear');
  var log = $('log');
  // A long session must not grow the DOM without bound.
  var MAX_ENTRIES = 1000;
  var HEX_PREVIEW = 32;
  var CLOSE_NAMES = {
    1000: 'normal closure', 1001: 'going away', 1002: 'protocol error',
    1003: 'unsupported data', 1005: 'no status', 1006: 'abnormal closure',
    1007: 'invalid payload', 1008: 'policy violation', 1009: 'message too big',
    1010: 'missing extension', 1011: 'internal error', 1012: 'service restart',
    1013: 'try again later', 1015: 'TLS handshake failed'
  };
  var ws = null;

  function defaultUrl() {
    var preset = new URLSearchParams(location.search).get('url');
    if (preset) return preset;
    var scheme = location.protocol === 'https:' ? 'wss://' : 'ws://';
    return scheme + location.host + (document.body.dataset.defaultPath || '/');
  }

  function pad(n, width) {
    var s = String(n);
    while (s.length < width) s = '0' + s;
    return s;
  }

  function clock() {
    var d = new Date();
    return pad(d.getHours(), 2) + ':' + pad(d.getMinutes(), 2) + ':' +
      pad(d.getSeconds(), 2) + '.' + pad(d.getMilliseconds(), 3);
  }

  var ARROWS = { in: '\\u2190', out: '\\u2192', error: '!', info: '\\u00b7' };

  function span(cls, text) {
    var el = document.createElement('span');
    el.className = cls;
    el.textContent = text;
    return el;
  }

  function addEntry(dir, text) {
    var stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    var entry = document.createElement('div');
    entry.className = 'entry';
    entry.dataset.dir = dir;
    entry.appendChild(span('time', clock()));
    entry.appendChild(span('dir', ARROWS[dir]));
    entry.appendChild(span('text', text));
    log.appendChild(entry);
    while (log.childElementCount > MAX_ENTRIES) log.removeChild(log.firstElementChild);
    if (stick) log.scrollTop = log.scrollHeight;
  }

  function describeBinary(buf) {
    var bytes = new Uint8Array(buf);
    var hex = [];
    for (var i = 0; i < bytes.length && i < HEX_PREVIEW; i++) hex.push(pad(bytes[i].toString(16), 2));
    var more = bytes.length > HEX_PREVIEW ? ' \\u2026' : '';
    return '<binary ' + bytes.length + ' bytes>' + (hex.length ? ' ' + hex.join(' ') + more : '');
  }

  function describeClose(ev) {
    var name = CLOSE_NAMES[ev.code];
    var s = 'closed ' + ev.code + (name ? ' (' + name + ')' : '');
    return ev.reason ? s + ': ' + ev.reason : s;
  }

  function setState(state, detail) {
    stateEl.dataset.state = state;
    stateEl.textContent = detail || state;
    var idle = state === 'closed';
    connectBtn.disabled = !idle;
    urlInput.disabled = !idle;
    disconnectBtn.disabled = idle || state === 'closing';
    sendBtn.disabled = state !== 'open';
  }

  function connect() {
    var url = urlInput.value.trim();
    var sock;
    try {
      sock = new WebSocket(url);
    } catch (err) {
      addEntry('error', 'cannot connect to ' + url + ': ' + (err && err.message ? err.message : err));
      return;
    }
    sock.binaryType = 'arraybuffer';
    ws = sock;
    setState('connecting', 'connecting to ' + url);
    // Handlers ignore events from a socket that has since been replaced.
    sock.onopen = function () {
      if (ws !== sock) return;
      setState('open', 'open ' + url + (sock.protocol ? ' (' + sock.protocol + ')' : ''));
      addEntry('info', 'connected to ' + url);
      messageInput.focus();
    };
    sock.onmessage = function (ev) {
      if (ws !== sock) return;
      addEntry('in', typeof ev.data === 'string' ? ev.data : describeBinary(ev.data));
    };
    sock.onerror = function () {
      // Browsers hide the cause of WebSocket errors from scripts on purpose.
      if (ws === sock) addEntry('error', 'connection error (see the close code)');
    };
    sock.onclose = function (ev) {
      if (ws !== sock) return;
      ws = null;
      var text = describeClose(ev);
      addEntry(ev.code === 1000 || ev.code === 1005 ? 'info' : 'error', text);
      setState('closed', text);
    };
  }

  function disconnect() {
    if (!ws) return;
    setState('closing');
    ws.close(1000, 'bye');
  }

  function send() {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    var text = messageInput.value;
    try {
      ws.send(text);
    } catch (err) {
      addEntry('error', 'send failed: ' + (err && err.message ? err.message : err));
      return;
    }
    addEntry('out', text);
    messageInput.value = '';
    messageInput.focus();
  }

  connectBtn.addEventListener('click', connect);
  disconnectBtn.addEventListener('click', disconnect);
  sendBtn.addEventListener('click', send);
  clearBtn.addEventListener('click', function () { log.replaceChildren(); });
  messageInput.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !ev.isComposing) {
      ev.preventDefault();
      send();
    }
  });
  urlInput.addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter' && !connectBtn.disabled) connect();
  });

  urlInput.value = defaultUrl();
  setState('closed', 'not connected');
})();
`;
