// #/live: calls in progress, from the server-sent events of /api/live.
// The stream begins with a "snapshot" event (the calls in progress when
// the page connected, or reconnected), then events start | answer |
// update | end | failed (data: the call). Ended calls go to the top of
// the "recently ended" list (filled with the latest recorded calls at
// each snapshot), which links to their recordings.

import { get } from './api.js';
import { h } from './dom.js';
import * as f from './format.js';

const KEEP_ENDED = 15;

export function showLive(ctx) {
  document.title = 'Live · spanrec';
  const active = new Map(); // id → call
  const ended = [];
  const conn = h('span', { class: 'conn conn-wait', id: 'live-conn', role: 'status' }, 'Connecting…');
  const activeBody = h('tbody');
  const endedBody = h('tbody');
  const count = h('span', { class: 'count', id: 'live-count' }, '0');

  const head = (cols) => h('thead', {}, h('tr', {}, cols.map(([c, cls]) => h('th', { scope: 'col', class: cls }, c))));
  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Live'), conn),
    h('section', { class: 'panel panel-table', 'aria-labelledby': 'active-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'active-title' }, 'Calls in progress ', count)),
      h('div', { class: 'table-scroll' }, h('table', { class: 'calls live', id: 'live-active' },
        head([['Started'], ['Caller'], ['Callee'], ['Direction'], ['State'], ['Elapsed', 'num'], ['Codec']]),
        activeBody))),
    h('section', { class: 'panel panel-table', 'aria-labelledby': 'ended-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'ended-title' }, 'Recently ended'), h('span', { class: 'muted' }, 'newest first; new calls appear at the top as they end')),
      h('div', { class: 'table-scroll' }, h('table', { class: 'calls', id: 'live-ended' },
        head([['Ended'], ['Caller'], ['Callee'], ['Direction'], ['Status'], ['Talk time', 'num'], ['']]),
        endedBody))));

  const party = (n, name) => h('span', { class: 'party party-inline' }, h('span', { class: 'party-number' }, n || 'unknown'), name ? h('span', { class: 'party-name' }, name) : null);
  const dir = (c) => h('td', { class: ['dir', `dir-${c.direction}`] }, h('span', { class: 'dir-icon', 'aria-hidden': 'true' }, f.directionIcon[c.direction] || ''), f.directionLabel[c.direction] || c.direction);

  // Call times are capture times. skew is how far this browser's clock is
  // ahead of the capture's, taken from the latest event (about 0 for a live
  // capture; large when a capture file is replayed), so elapsed times stay
  // right either way.
  let skew = 0;
  function elapsed(c) {
    const from = f.date(c.answer) || f.date(c.start);
    return from ? Math.max(0, Date.now() - skew - from.getTime()) : 0;
  }

  function render() {
    count.textContent = String(active.size);
    const calls = [...active.values()].sort((a, b) => (a.start < b.start ? 1 : -1));
    activeBody.replaceChildren(...(calls.length ? calls.map((c) => h('tr', { 'data-id': c.id },
      h('td', { class: 'time', title: c.start }, f.dateTime(c.start)),
      h('td', {}, party(c.caller, c.caller_name)),
      h('td', {}, party(c.callee, c.callee_name)),
      dir(c),
      h('td', {}, c.answer
        ? h('span', { class: 'pill st-talking' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), 'Talking')
        : h('span', { class: 'pill st-ringing' }, h('span', { class: 'dot', 'aria-hidden': 'true' }), 'Ringing')),
      h('td', { class: 'num elapsed', 'data-id': c.id }, f.duration(elapsed(c))),
      h('td', { class: 'codec' }, (c.codecs || []).join(', ') || '–')))
      : [h('tr', { class: 'empty' }, h('td', { colspan: '7' }, 'No calls in progress.'))]));
    endedBody.replaceChildren(...(ended.length ? ended.map((c) => h('tr', {},
      h('td', { class: 'time', title: c.end }, f.dateTime(c.end || c.start)),
      h('td', {}, party(c.caller, c.caller_name)),
      h('td', {}, party(c.callee, c.callee_name)),
      dir(c),
      h('td', {}, h('span', { class: ['pill', `st-${c.status}`] }, f.statusLabel[c.status] || c.status)),
      h('td', { class: 'num' }, c.duration_ms > 0 ? f.duration(c.duration_ms) : '–'),
      h('td', {}, h('a', { href: `#/calls/${encodeURIComponent(c.id)}` }, 'Open'))))
      : [h('tr', { class: 'empty' }, h('td', { colspan: '7' }, 'No recorded calls yet.'))]));
  }

  function onSnapshot(ev) {
    let snap;
    try { snap = JSON.parse(ev.data); } catch { return; }
    if (!snap || !Array.isArray(snap.calls)) return;
    // The server's clock: capture time for a live capture.
    const now = f.date(snap.now);
    if (now) skew = Date.now() - now.getTime();
    active.clear();
    for (const c of snap.calls) if (c && c.id) active.set(c.id, c);
    render();
    loadEnded();
  }

  function onEvent(kind, ev) {
    let c;
    try { c = JSON.parse(ev.data); } catch { return; }
    if (!c || !c.id) return;
    const at = f.date({ end: c.end, answer: c.answer, start: c.start }[kind]);
    if (at) skew = Date.now() - at.getTime();
    if (kind === 'failed') {
      active.delete(c.id); // not recorded: nothing to open
    } else if (kind === 'end') {
      active.delete(c.id);
      const i = ended.findIndex((x) => x.id === c.id);
      if (i >= 0) ended.splice(i, 1);
      ended.unshift(c);
      ended.length = Math.min(ended.length, KEEP_ENDED);
    } else {
      active.set(c.id, { ...active.get(c.id), ...c });
    }
    render();
  }

  function loadEnded() {
    get('/api/calls?limit=10&sort=-start', ctx.signal).then((res) => {
      for (const c of res.calls || []) {
        if (!ended.some((x) => x.id === c.id)) ended.push(c);
      }
      const endOf = (c) => (f.date(c.end) || f.date(c.start) || new Date(0)).getTime();
      ended.sort((a, b) => endOf(b) - endOf(a));
      ended.length = Math.min(ended.length, KEEP_ENDED);
      render();
    }).catch(() => { /* the list is a convenience; the stream still works */ });
  }

  render();
  const es = new EventSource('/api/live');
  es.addEventListener('open', () => { conn.className = 'conn conn-ok'; conn.textContent = 'Connected'; });
  es.addEventListener('error', () => {
    conn.className = 'conn conn-wait';
    conn.textContent = es.readyState === EventSource.CLOSED ? 'Disconnected — reload the page' : 'Reconnecting…';
  });
  es.addEventListener('snapshot', onSnapshot);
  for (const k of ['start', 'answer', 'update', 'end', 'failed']) es.addEventListener(k, (ev) => onEvent(k, ev));

  const timer = setInterval(() => {
    for (const td of activeBody.querySelectorAll('td.elapsed')) {
      const c = active.get(td.dataset.id);
      if (c) td.textContent = f.duration(elapsed(c));
    }
  }, 1000);

  return () => {
    es.close();
    clearInterval(timer);
  };
}
