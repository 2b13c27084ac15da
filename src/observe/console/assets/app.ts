/**
 * The console page's script (served as /app.js): plain JS, no framework, no network beyond its
 * own origin. Loads /api/session and the drawn statecharts once, then applies `status` and
 * `live` events from /events. Text is written with textContent (no HTML from data); the SVG
 * diagrams are our own markup, parsed as SVG and imported (no script can be in them: CSP).
 */
export const APP_JS = String.raw`'use strict';
(function () {
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var session = { signIn: false, operator: null, actions: {}, diagrams: [] };
  var diagrams = new Map(); // machine -> { svg, states: Map(id -> g), edges: [g] }
  var lastLive = null;
  var lastStatus = null;
  var replay = null; // { history, index }
  var pending = null; // the action waiting for confirmation

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function pad(n) { return (n < 10 ? '0' : '') + n; }

  /** UTC offset of a local date, as +02:00. */
  function offsetOf(d) {
    var m = -d.getTimezoneOffset();
    var s = m < 0 ? '-' : '+';
    m = Math.abs(m);
    return s + pad(Math.floor(m / 60)) + ':' + pad(m % 60);
  }

  /** 2026-03-01 14:03:05 +01:00 (this browser's time zone, said explicitly). */
  function fmtTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + ' ' + offsetOf(d);
  }

  /** Started today: 14:03:05 +01:00; earlier: 03-01 14:03 +01:00 (the full time in the title). */
  function fmtShort(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    var today = new Date();
    var day = d.toDateString() === today.toDateString() ? '' : pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ';
    return day + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + ' ' + offsetOf(d);
  }

  function fmtDuration(ms) {
    if (typeof ms !== 'number' || ms < 0) return '';
    if (ms < 1000) return Math.round(ms) + ' ms';
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + pad(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + pad(Math.floor(s / 60) % 60) + ' min';
  }

  function fmtBytes(n) {
    n = n || 0;
    if (n < 10240) return String(n);
    if (n < 10485760) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }

  function since(iso) {
    var t = Date.parse(iso);
    return isNaN(t) ? '' : fmtDuration(Date.now() - t);
  }

  function toast(text, bad) {
    var t = document.getElementById('toast');
    t.textContent = text;
    t.className = bad ? 'bad' : 'good';
  }

  // --- actions: confirmed in the page, then POSTed (same origin, JSON) ---
  var WHAT = {
    'hangup': function (t) { return 'Hang up call ' + t + '?'; },
    'line-out-of-service': function (t) { return 'Take line ' + t + ' out of service? It stops answering; calls in progress go on.'; },
    'line-in-service': function (t) { return 'Put line ' + t + ' back in service?'; },
    'unlock': function (t) { return 'Unlock account ' + t + '?'; },
    'clear-penalty': function (t) { return 'Clear the penalty of ' + t + '?'; }
  };

  function ask(action, target) {
    pending = { action: action, target: target };
    document.getElementById('confirm-text').textContent = WHAT[action](target) + (session.operator ? ' (logged as ' + session.operator + ')' : '');
    document.getElementById('confirm').showModal();
  }

  function confirmed() {
    var p = pending;
    pending = null;
    document.getElementById('confirm').close();
    if (!p) return;
    fetch('/api/actions', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ action: p.action, target: p.target, confirmed: true }), cache: 'no-store' })
      .then(function (r) { return r.json().catch(function () { return { ok: false, error: 'HTTP ' + r.status }; }); })
      .then(function (o) { toast(o.ok ? p.action + ' ' + p.target + ': done' + (o.detail ? ' (' + o.detail + ')' : '') : p.action + ' ' + p.target + ': ' + o.error, !o.ok); })
      .catch(function (e) { toast(p.action + ' ' + p.target + ': ' + e, true); });
  }

  function actionButton(action, target, label) {
    if (!session.actions[action]) return null;
    var b = el('button', 'act' + (action === 'line-in-service' ? '' : ' danger'), label);
    b.type = 'button';
    b.dataset.action = action;
    b.dataset.target = target;
    return b;
  }

  // --- tables ---
  function row(cells) {
    var tr = el('tr');
    cells.forEach(function (c) {
      var td = el('td', c.cls || '', c.node ? undefined : c.text);
      if (c.node) td.appendChild(c.node);
      if (c.since) td.dataset.since = c.since;
      if (c.title) td.title = c.title;
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(id, rows, columns, emptyText) {
    var body = document.querySelector('#' + id + ' tbody');
    var frag = document.createDocumentFragment();
    if (!rows.length) {
      var tr = el('tr');
      var td = el('td', 'empty', emptyText);
      td.colSpan = columns;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    rows.forEach(function (r) { frag.appendChild(r); });
    body.replaceChildren(frag);
  }

  function who(c) { return c.user ? (c.domain ? c.domain + '\\' + c.user : c.user) : ''; }

  function lineState(l) {
    if (l.kind === 'tcp') return l.listening ? 'listening' : 'not listening (' + l.state + ')';
    return l.state;
  }

  function onStatus(s) {
    lastStatus = s;
    var rows = [];
    (s.lines || []).forEach(function (l) {
      var calls = l.calls || [];
      var service = l.outOfService ? actionButton('line-in-service', l.id, 'back in service') : actionButton('line-out-of-service', l.id, 'take out');
      var first = calls[0];
      var cells = [
        { text: l.id, cls: 'line-id' }, { text: l.address || l.kind || '', cls: 'muted small addr', title: l.kind || '' },
        { text: lineState(l), cls: 'state state-' + l.state + (l.listening ? ' listening' : '') },
        { text: l.outOfService ? 'OUT OF SERVICE' : '', cls: l.outOfService ? 'oos' : '' }
      ];
      var callCells = function (c) {
        var hang = actionButton('hangup', c.call, 'hang up');
        return [
          { text: c.call }, { text: who(c) }, { text: (c.callerName ? c.callerName + ' ' : '') + (c.peer || '') },
          { text: c.startedAt ? fmtShort(c.startedAt) : '', title: c.startedAt ? fmtTime(c.startedAt) : '' }, { text: c.state || '' },
          { text: c.since ? since(c.since) : '', cls: 'num', since: c.since },
          { text: fmtBytes(c.bytesIn) + ' / ' + fmtBytes(c.bytesOut), cls: 'num' }
        ].concat([{ text: '' }, { node: hang }]);
      };
      var tr;
      if (first) tr = row(cells.concat(callCells(first)));
      else tr = row(cells.concat([{ text: l.activeCalls ? l.activeCalls + ' calls' : '', cls: 'muted' }, { text: '' }, { text: '' }, { text: '' }, { text: '' }, { text: '' }, { text: '' }, { text: '' }, { text: '' }]));
      // Last error and the service button belong to the line: on its first row.
      tr.children[11].textContent = l.lastError || '';
      tr.children[11].className = 'err';
      tr.children[11].title = l.lastError || '';
      tr.children[12].replaceChildren();
      if (first) { var h = actionButton('hangup', first.call, 'hang up'); if (h) tr.children[12].appendChild(h); }
      if (service) tr.children[12].appendChild(service);
      tr.dataset.line = l.id;
      if (l.outOfService) tr.classList.add('out');
      rows.push(tr);
      calls.slice(1).forEach(function (c) {
        var more = row([{ text: '' }, { text: '' }, { text: '' }, { text: '' }].concat(callCells(c)));
        more.className = 'more';
        more.dataset.line = l.id;
        rows.push(more);
      });
    });
    fill('lines', rows, 13, 'no lines');

    var m = s.metrics || {};
    var lb = s.liveBytes || { in: 0, out: 0 };
    document.getElementById('started').textContent = m.startedAt ? 'running since ' + fmtTime(m.startedAt) : '';
    var now = new Date();
    document.getElementById('tz').textContent = 'times in this browser\'s zone (UTC' + offsetOf(now) + ')' + (s.timeZone ? '; gateway: ' + s.timeZone.name + ' (UTC' + s.timeZone.offset + ')' : '');
    var dl = document.getElementById('counters');
    var frag = document.createDocumentFragment();
    var pairs = [
      ['Active calls', m.callsActive], ['Calls started', m.callsStarted], ['Logins accepted', m.loginsAccepted],
      ['Logins refused', m.loginsRefused], ['Authority errors', m.authorityErrors], ['Crashes contained', m.crashes],
      ['Bytes in / out', fmtBytes((m.bytesIn || 0) + lb.in) + ' / ' + fmtBytes((m.bytesOut || 0) + lb.out)]
    ];
    var byOutcome = m.callsByOutcome || {};
    Object.keys(byOutcome).sort().forEach(function (k) { pairs.push(['Ended ' + k, byOutcome[k]]); });
    pairs.forEach(function (p) { var d = el('div'); d.appendChild(el('dt', '', p[0])); d.appendChild(el('dd', '', p[1] === undefined ? '' : p[1])); frag.appendChild(d); });
    dl.replaceChildren(frag);

    fill('recent', (s.recent || []).map(function (c) {
      var result = c.outcome + (typeof c.rasError === 'number' ? ' (' + c.rasError + ')' : '') + (c.detail ? '; ' + c.detail : '');
      var b = el('button', 'act', 'replay');
      b.type = 'button';
      b.dataset.replay = c.call;
      return row([{ text: fmtTime(c.endedAt) }, { text: c.line }, { text: c.call }, { text: c.peer || '' }, { text: who(c) },
        { text: result, cls: 'outcome-' + c.outcome }, { text: fmtDuration(c.durationMs), cls: 'num' }, { text: fmtBytes(c.bytesIn) + ' / ' + fmtBytes(c.bytesOut), cls: 'num' }, { node: b }]);
    }), 9, 'no calls yet');

    var g = s.guard;
    fill('lockouts', g ? g.lockouts.map(function (x) { return row([{ text: x.name }, { text: x.failures === undefined ? '' : x.failures, cls: 'num' }, { text: x.until ? fmtTime(x.until) : '' }, { node: actionButton('unlock', x.name, 'unlock') }]); }) : [], 4, g ? 'no account locked' : 'not reported by this gateway');
    fill('penalties', g ? g.penalties.map(function (x) { return row([{ text: x.source }, { text: x.failures === undefined ? '' : x.failures, cls: 'num' }, { text: x.until ? fmtTime(x.until) : '' }, { node: actionButton('clear-penalty', x.source, 'clear') }]); }) : [], 4, g ? 'no source under penalty' : 'not reported by this gateway');
  }

  function onLive(live) {
    lastLive = live;
    var actors = live.actors || [];
    fill('actors', actors.slice().reverse().map(function (a) {
      return row([{ text: a.machine }, { text: a.line || '' }, { text: a.call || '' }, { text: a.state }, { text: since(a.since), cls: 'num', since: a.since }]);
    }), 5, 'no live machine actors');
    if (!replay) paintLive();
  }

  // --- diagrams ---
  function clearMarks() {
    diagrams.forEach(function (d) {
      d.states.forEach(function (g) { g.classList.remove('active', 'replay'); setBadge(g, ''); });
      d.edges.forEach(function (g) { g.classList.remove('taken'); });
      d.tally.textContent = '';
    });
  }

  function setBadge(g, text) {
    var b = g.querySelector(':scope > .badge');
    if (!b) return;
    b.querySelector('text').textContent = text;
  }

  function paintLive() {
    clearMarks();
    if (!lastLive) return;
    var perMachine = {};
    (lastLive.actors || []).forEach(function (a) { perMachine[a.machine] = (perMachine[a.machine] || 0) + 1; });
    diagrams.forEach(function (d, name) {
      var n = perMachine[name] || 0;
      d.tally.textContent = n ? n + ' live' : 'none live';
      d.tally.className = 'tally' + (n ? ' hot' : '');
    });
    (lastLive.counts || []).forEach(function (c) {
      var machine = c.state.split('.')[0];
      var d = diagrams.get(machine);
      var g = d && d.states.get(c.state);
      if (!g) return;
      g.classList.add('active');
      setBadge(g, String(c.count));
    });
  }

  function paintStep() {
    clearMarks();
    var h = replay.history;
    var step = h.steps[replay.index];
    var label = document.getElementById('replay-step');
    if (!step) { label.textContent = 'no steps'; return; }
    label.textContent = 'step ' + (replay.index + 1) + ' of ' + h.steps.length + (h.truncated ? ' (oldest dropped)' : '') + ': ' + step.machine + ' ' + (step.from || '(start)') + ' \u2192 ' + step.to + ' on ' + step.event + ' at ' + fmtTime(step.at);
    var d = diagrams.get(step.machine);
    if (!d) return;
    d.tally.textContent = 'replaying ' + h.call;
    d.tally.className = 'tally replaying';
    step.nodes.forEach(function (id) { var g = d.states.get(id); if (g) g.classList.add('replay'); });
    takenEdges(d, h.steps, replay.index).forEach(function (g) { g.classList.add('taken'); });
    var leaf = d.states.get(step.nodes[step.nodes.length - 1]);
    if (leaf && leaf.scrollIntoView) leaf.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  /**
   * The arrows a step took: its event's arrows out of the states the machine was in before, then
   * the eventless ones (always) those led through, as long as they end in a state entered now.
   */
  function takenEdges(d, steps, index) {
    var step = steps[index];
    var before = new Set();
    for (var i = index - 1; i >= 0; i--) if (steps[i].machine === step.machine) { steps[i].nodes.forEach(function (n) { before.add(n); }); break; }
    var entered = new Set(step.nodes);
    var has = function (g, ev) { return (g.dataset.events || '').split('|').indexOf(ev) >= 0; };
    var first = d.edges.filter(function (g) {
      return has(g, step.event) && (before.has(g.dataset.source) || /#any$/.test(g.dataset.source) || (before.size === 0 && /#initial$/.test(g.dataset.source)));
    });
    var taken = [];
    var reach = function (g, depth) {
      if (entered.has(g.dataset.target)) return [g];
      if (depth > 4) return null;
      for (var j = 0; j < d.edges.length; j++) {
        var next = d.edges[j];
        if (next.dataset.source !== g.dataset.target || !has(next, 'always')) continue;
        var path = reach(next, depth + 1);
        if (path) return [g].concat(path);
      }
      return null;
    };
    first.forEach(function (g) { var path = reach(g, 0); if (path) taken = taken.concat(path); });
    return taken;
  }

  function startReplay(call) {
    fetch('/api/calls/' + encodeURIComponent(call), { cache: 'no-store' }).then(function (r) {
      if (!r.ok) throw new Error('no history kept for ' + call);
      return r.json();
    }).then(function (h) {
      replay = { history: h, index: 0 };
      document.getElementById('replay-call').value = call;
      paintStep();
    }).catch(function (e) { toast(String(e.message || e), true); });
  }

  function stopReplay() {
    replay = null;
    document.getElementById('replay-step').textContent = '';
    document.getElementById('replay-call').value = '';
    paintLive();
  }

  function stepTo(i) {
    if (!replay) return;
    replay.index = Math.max(0, Math.min(replay.history.steps.length - 1, i));
    paintStep();
  }

  function refreshCalls() {
    fetch('/api/calls', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (o) {
      var sel = document.getElementById('replay-call');
      var keep = sel.value;
      var frag = document.createDocumentFragment();
      frag.appendChild(el('option', '', 'choose a call'));
      frag.firstChild.value = '';
      (o.calls || []).forEach(function (c) {
        var opt = el('option', '', c.call + (c.line ? ' on ' + c.line : '') + ' (' + c.steps + ' steps, ' + fmtTime(c.first) + ')');
        opt.value = c.call;
        frag.appendChild(opt);
      });
      sel.replaceChildren(frag);
      sel.value = keep;
    }).catch(function () {});
  }

  function loadDiagram(name, into) {
    return fetch('/diagrams/' + encodeURIComponent(name) + '.svg', { cache: 'no-store' }).then(function (r) { return r.text(); }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      var root = doc.documentElement;
      if (root.namespaceURI !== SVG_NS) throw new Error('not SVG');
      var svg = document.importNode(root, true);
      into.appendChild(svg);
      var states = new Map();
      svg.querySelectorAll('g.state').forEach(function (g) { states.set(g.dataset.state, g); });
      var d = diagrams.get(name);
      d.svg = svg;
      d.states = states;
      d.edges = Array.prototype.slice.call(svg.querySelectorAll('g.edge'));
    });
  }

  function renderCharts(names) {
    var root = document.getElementById('charts');
    var loads = names.map(function (name) {
      var sec = el('details', 'chart');
      sec.open = name !== 'line' && name !== 'gateway';
      sec.dataset.machine = name;
      var sum = el('summary');
      sum.appendChild(el('span', 'mname', name));
      var tally = el('span', 'tally', '');
      sum.appendChild(tally);
      sec.appendChild(sum);
      var box = el('div', 'diagram');
      sec.appendChild(box);
      root.appendChild(sec);
      diagrams.set(name, { svg: null, states: new Map(), edges: [], tally: tally });
      return loadDiagram(name, box).catch(function (e) { box.textContent = 'could not draw ' + name + ': ' + e; });
    });
    return Promise.all(loads).then(function () { if (replay) paintStep(); else paintLive(); });
  }

  // --- tabs ---
  function showTab() {
    var name = (location.hash || '#lines').slice(1);
    if (!document.getElementById('tab-' + name)) name = 'lines';
    document.querySelectorAll('section.tab').forEach(function (s) { s.hidden = s.id !== 'tab-' + name; });
    document.querySelectorAll('#tabs a').forEach(function (a) { a.classList.toggle('on', a.dataset.tab === name); });
    if (name === 'charts') refreshCalls();
  }

  function setConn(on) {
    var c = document.getElementById('conn');
    c.textContent = on ? 'live' : 'disconnected (retrying)';
    c.className = 'conn ' + (on ? 'on' : 'off');
  }

  function parse(ev, fn) {
    try { fn(JSON.parse(ev.data)); } catch (e) { console.error('console: bad event', e); }
  }

  function start() {
    window.addEventListener('hashchange', showTab);
    showTab();
    document.addEventListener('click', function (e) {
      var t = e.target.closest ? e.target.closest('button') : null;
      if (!t) return;
      if (t.dataset.action) ask(t.dataset.action, t.dataset.target);
      else if (t.dataset.replay) { location.hash = '#charts'; startReplay(t.dataset.replay); }
    });
    document.getElementById('confirm-ok').addEventListener('click', confirmed);
    document.getElementById('confirm-cancel').addEventListener('click', function () { pending = null; document.getElementById('confirm').close(); });
    document.getElementById('by-name').addEventListener('submit', function (e) { e.preventDefault(); var v = document.getElementById('unlock-name').value.trim(); if (v) ask('unlock', v); });
    document.getElementById('by-source').addEventListener('submit', function (e) { e.preventDefault(); var v = document.getElementById('clear-source').value.trim(); if (v) ask('clear-penalty', v); });
    document.getElementById('replay-call').addEventListener('change', function (e) { if (e.target.value) startReplay(e.target.value); else stopReplay(); });
    document.getElementById('replay-first').addEventListener('click', function () { stepTo(0); });
    document.getElementById('replay-prev').addEventListener('click', function () { if (replay) stepTo(replay.index - 1); });
    document.getElementById('replay-next').addEventListener('click', function () { if (replay) stepTo(replay.index + 1); });
    document.getElementById('replay-last').addEventListener('click', function () { if (replay) stepTo(replay.history.steps.length - 1); });
    document.getElementById('replay-stop').addEventListener('click', stopReplay);
    // Times in state move on between events.
    setInterval(function () {
      document.querySelectorAll('td[data-since]').forEach(function (td) { td.textContent = since(td.dataset.since); });
    }, 1000);

    fetch('/api/session', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (s) {
      session = s;
      document.getElementById('operator').textContent = s.operator ? 'signed in as ' + s.operator : (s.signIn ? '' : 'read-only (no sign-in)');
      document.querySelectorAll('.inline-form').forEach(function (f) { f.hidden = !(s.actions.unlock || s.actions['clear-penalty']); });
      document.getElementById('by-name').hidden = !s.actions.unlock;
      document.getElementById('by-source').hidden = !s.actions['clear-penalty'];
      if (lastStatus) onStatus(lastStatus);
      return renderCharts(s.diagrams || []);
    }).catch(function (e) { document.getElementById('charts').textContent = 'could not load the statecharts: ' + e; });
    var es = new EventSource('/events');
    es.onopen = function () { setConn(true); };
    es.onerror = function () { setConn(false); };
    es.addEventListener('status', function (ev) { parse(ev, onStatus); });
    es.addEventListener('live', function (ev) { setConn(true); parse(ev, onLive); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
