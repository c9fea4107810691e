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

  // Admins and supervisors may listen to a call in progress (audited).
  const mayListen = ctx.session && (ctx.session.role === 'admin' || ctx.session.role === 'supervisor');
  const player = new LivePlayer();

  const head = (cols) => h('thead', {}, h('tr', {}, cols.map(([c, cls]) => h('th', { scope: 'col', class: cls }, c))));
  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Live'), conn),
    player.el,
    h('section', { class: 'panel panel-table', 'aria-labelledby': 'active-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'active-title' }, 'Calls in progress ', count)),
      h('div', { class: 'table-scroll' }, h('table', { class: 'calls live', id: 'live-active' },
        head([['Started'], ['Caller'], ['Callee'], ['Direction'], ['State'], ['Elapsed', 'num'], ['Codec'], ...(mayListen ? [['']] : [])]),
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
      h('td', { class: 'codec' }, (c.codecs || []).join(', ') || '–'),
      mayListen ? h('td', {}, h('button', {
        type: 'button', class: ['btn', 'btn-small', 'listen'], 'data-id': c.id,
        'aria-pressed': player.id === c.id ? 'true' : 'false',
        title: 'Listen to this call, a few seconds behind (recorded in the audit log)',
        onclick: () => (player.id === c.id ? player.stop() : player.start(c)),
      }, player.id === c.id ? 'Stop' : 'Listen')) : null))
      : [h('tr', { class: 'empty' }, h('td', { colspan: mayListen ? '8' : '7' }, 'No calls in progress.'))]));
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

  player.onchange = render;

  return () => {
    es.close();
    clearInterval(timer);
    player.stop();
  };
}

// LivePlayer plays GET /api/live/calls/{id}/audio: a WAV stream of 16-bit
// stereo PCM (caller left, callee right) a few seconds behind the call,
// read with fetch and scheduled on Web Audio, so that a refusal's reason
// (encrypted media, no audio yet, not allowed) can be shown as the server
// words it. Two level bars show who is talking.
class LivePlayer {
  constructor() {
    this.id = null;
    this.onchange = () => {};
    this.title = h('span', { class: 'listen-title' });
    this.state = h('span', { class: 'listen-state', id: 'listen-state', role: 'status' });
    this.bars = ['Caller', 'Callee'].map((name) => {
      const fill = h('span', { class: 'level-fill' });
      return { name, fill, el: h('span', { class: 'level', title: `${name} level` }, h('span', { class: 'level-name' }, name), h('span', { class: 'level-bar' }, fill)) };
    });
    this.el = h('section', { class: 'panel listen-panel', id: 'live-listen', hidden: true, 'aria-label': 'Listening' },
      this.title, h('span', { class: 'levels' }, this.bars.map((b) => b.el)), this.state,
      h('button', { type: 'button', class: 'btn btn-small', onclick: () => this.stop() }, 'Stop'));
    this.el.dataset.seconds = '0';
  }

  async start(c) {
    this.stop();
    const id = c.id;
    this.id = id;
    this.abort = new AbortController();
    this.el.hidden = false;
    this.el.dataset.seconds = '0';
    this.title.textContent = `${c.caller || 'unknown'} → ${c.callee || 'unknown'}`;
    this.setState('Connecting…', 'wait');
    this.onchange();
    // Created in the click's task, so the browser lets it play.
    const ac = new AudioContext();
    this.ac = ac;
    let res;
    try {
      res = await fetch(`/api/live/calls/${encodeURIComponent(id)}/audio`, { credentials: 'same-origin', signal: this.abort.signal });
    } catch (err) {
      if (this.id === id) this.fail('The server cannot be reached.');
      return;
    }
    if (this.id !== id) return;
    if (!res.ok) {
      const data = await res.json().catch(() => null);
      this.fail((data && data.error) || `${res.status} ${res.statusText}`);
      return;
    }
    this.setState('Listening, a few seconds behind the call', 'ok');
    const reader = res.body.getReader();
    let pending = new Uint8Array(0);
    let rate = 0;
    let next = 0;
    let frames = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (this.id !== id) return;
        if (done) break;
        const buf = new Uint8Array(pending.length + value.length);
        buf.set(pending);
        buf.set(value, pending.length);
        let off = 0;
        if (!rate) {
          if (buf.length < 44) { pending = buf; continue; }
          const dv = new DataView(buf.buffer, 0, 44);
          rate = dv.getUint32(24, true);
          off = 44;
        }
        const n = Math.floor((buf.length - off) / 4);
        pending = buf.slice(off + 4 * n);
        if (n === 0) continue;
        const ab = ac.createBuffer(2, n, rate);
        const l = ab.getChannelData(0), r = ab.getChannelData(1);
        const dv = new DataView(buf.buffer, off, 4 * n);
        let pl = 0, pr = 0;
        for (let i = 0; i < n; i++) {
          l[i] = dv.getInt16(4 * i, true) / 32768;
          r[i] = dv.getInt16(4 * i + 2, true) / 32768;
          pl = Math.max(pl, Math.abs(l[i]));
          pr = Math.max(pr, Math.abs(r[i]));
        }
        const src = ac.createBufferSource();
        src.buffer = ab;
        src.connect(ac.destination);
        // A little slack so that the chunks play back to back.
        next = Math.max(next, ac.currentTime + 0.25);
        src.start(next);
        next += ab.duration;
        frames += n;
        this.el.dataset.seconds = (frames / rate).toFixed(1);
        this.level(0, pl);
        this.level(1, pr);
      }
      this.end('The call ended.');
    } catch (err) {
      if (this.id === id && err.name !== 'AbortError') this.fail('The stream broke off.');
    }
  }

  level(i, peak) {
    const b = this.bars[i];
    const pct = Math.min(100, Math.round(100 * peak));
    b.fill.style.width = `${pct}%`;
    b.el.dataset.peak = String(pct);
  }

  setState(text, kind) {
    this.state.textContent = text;
    this.state.className = `listen-state listen-${kind}`;
  }

  fail(msg) {
    this.end(msg);
    this.setState(msg, 'error');
  }

  // end stops the stream but keeps the panel with its last word.
  end(msg) {
    if (this.abort) this.abort.abort();
    if (this.ac) this.ac.close().catch(() => {});
    this.abort = this.ac = null;
    this.id = null;
    this.setState(msg, 'wait');
    this.onchange();
  }

  stop() {
    if (!this.id && this.el.hidden) return;
    this.end('');
    this.el.hidden = true;
    this.onchange();
  }
}
