/**
 * The console page's script (served as /app.js): vanilla JS, no framework, no network beyond its
 * own origin. Renders /api/machines once, then applies `status` and `live` events from /events.
 * Everything is written with textContent (no HTML from data).
 */
export const APP_JS = String.raw`'use strict';
(function () {
  var chartNodes = new Map();
  var chartTallies = new Map();
  var lastLive = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function fmtDuration(ms) {
    if (typeof ms !== 'number') return '';
    if (ms < 1000) return Math.round(ms) + ' ms';
    var s = ms / 1000;
    if (s < 60) return s.toFixed(1) + ' s';
    return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  }

  function fmtTime(iso) {
    var d = new Date(iso);
    if (isNaN(d.getTime())) return '';
    return d.toLocaleTimeString();
  }

  function fillTable(id, rows, columns, emptyText) {
    var body = document.querySelector('#' + id + ' tbody');
    var frag = document.createDocumentFragment();
    if (!rows.length) {
      var tr = el('tr');
      var td = el('td', 'empty', emptyText);
      td.colSpan = columns;
      tr.appendChild(td);
      frag.appendChild(tr);
    }
    rows.forEach(function (cells) {
      var tr = el('tr');
      cells.forEach(function (c) { tr.appendChild(el('td', c.cls || '', c.text)); });
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
  }

  function onStatus(s) {
    fillTable('lines', (s.lines || []).map(function (l) {
      return [{ text: l.id }, { text: l.state }, { text: l.activeCalls, cls: 'num' }, { text: l.lastError || '' }];
    }), 4, 'no lines');
    var m = s.metrics || {};
    document.getElementById('started').textContent = m.startedAt ? 'running since ' + new Date(m.startedAt).toLocaleString() : '';
    var dl = document.getElementById('counters');
    var frag = document.createDocumentFragment();
    var pairs = [
      ['Active calls', m.callsActive], ['Calls started', m.callsStarted], ['Logins accepted', m.loginsAccepted],
      ['Logins refused', m.loginsRefused], ['Authority errors', m.authorityErrors], ['Crashes contained', m.crashes],
      ['Transitions', m.transitions], ['Bytes in / out', (m.bytesIn || 0) + ' / ' + (m.bytesOut || 0)]
    ];
    var byOutcome = m.callsByOutcome || {};
    Object.keys(byOutcome).sort().forEach(function (k) { pairs.push(['Calls ended: ' + k, byOutcome[k]]); });
    pairs.forEach(function (p) { frag.appendChild(el('dt', '', p[0])); frag.appendChild(el('dd', '', p[1] === undefined ? '' : p[1])); });
    dl.replaceChildren(frag);
    fillTable('recent', (s.recent || []).map(function (c) {
      var user = c.user ? (c.domain ? c.domain + '\\' + c.user : c.user) : '';
      var result = c.outcome + (typeof c.rasError === 'number' ? ' (' + c.rasError + ')' : '');
      return [{ text: fmtTime(c.endedAt) }, { text: c.line }, { text: c.peer || '' }, { text: user },
        { text: result, cls: 'outcome-' + c.outcome }, { text: fmtDuration(c.durationMs), cls: 'num' }];
    }), 6, 'no calls yet');
  }

  function onLive(live) {
    lastLive = live;
    var actors = live.actors || [];
    document.getElementById('actor-count').textContent = '(' + actors.length + ')';
    fillTable('actors', actors.slice().reverse().map(function (a) {
      return [{ text: a.machine }, { text: a.line || '' }, { text: a.call || '' }, { text: a.state }];
    }), 4, 'no live machine actors');
    chartNodes.forEach(function (n) {
      n.box.classList.remove('active');
      n.badge.textContent = '';
    });
    var perMachine = {};
    actors.forEach(function (a) { perMachine[a.machine] = (perMachine[a.machine] || 0) + 1; });
    chartTallies.forEach(function (span, name) {
      var n = perMachine[name] || 0;
      span.textContent = n ? n + ' live' : 'none live';
      span.className = 'tally' + (n ? ' hot' : '');
    });
    (live.counts || []).forEach(function (c) {
      var n = chartNodes.get(c.state);
      if (!n) return;
      n.box.classList.add('active');
      n.badge.textContent = String(c.count);
      n.box.title = c.count + ' live actor' + (c.count === 1 ? '' : 's') + ' here';
    });
  }

  function shortTarget(id) {
    var parts = id.split('.');
    return parts.slice(1).join('.') || id;
  }

  function renderState(node, parent) {
    var box = el('div', 'state ' + node.type);
    box.dataset.state = node.id;
    var head = el('div', 'head');
    var name = el('span', parent && parent.initial === node.id ? 'initial' : '', node.name);
    var badge = el('span', 'badge');
    head.appendChild(name);
    head.appendChild(badge);
    box.appendChild(head);
    if (node.invoke && node.invoke.length) box.appendChild(el('div', 'invoke', 'invoke ' + node.invoke.join(', ')));
    if (node.transitions && node.transitions.length) {
      var ul = el('ul');
      node.transitions.forEach(function (t) {
        var li = el('li');
        li.appendChild(el('span', 'ev', t.event));
        var rest = (t.guard ? ' [' + t.guard + ']' : '') + ' \u2192 ' + (t.targets.length ? t.targets.map(shortTarget).join(', ') : '(stays)');
        li.appendChild(document.createTextNode(rest));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (node.states && node.states.length) {
      var kids = el('div', 'children');
      node.states.forEach(function (c) { kids.appendChild(renderState(c, node)); });
      box.appendChild(kids);
    }
    chartNodes.set(node.id, { box: box, badge: badge });
    return box;
  }

  function renderCharts(data) {
    var root = document.getElementById('charts');
    var frag = document.createDocumentFragment();
    (data.machines || []).forEach(function (m) {
      // <details>: an operator can fold the big line chart away.
      var sec = el('details', 'chart');
      sec.open = true;
      sec.dataset.machine = m.name;
      var sum = el('summary');
      sum.appendChild(el('span', 'mname', m.name));
      var tally = el('span', 'tally', 'none live');
      sum.appendChild(tally);
      chartTallies.set(m.name, tally);
      sec.appendChild(sum);
      sec.appendChild(renderState(m.chart, null));
      frag.appendChild(sec);
    });
    root.replaceChildren(frag);
    if (lastLive) onLive(lastLive);
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
    fetch('/api/machines', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(renderCharts)
      .catch(function (e) { document.getElementById('charts').textContent = 'could not load the statecharts: ' + e; });
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
