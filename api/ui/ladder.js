// The SIP ladder diagram: one column per signalling address, one arrow per
// message in capture order. A message is selected by click, Enter or Space;
// Up/Down move between messages. onSelect(message) shows its raw text.

import { h, s } from './dom.js';
import * as f from './format.js';

const GUTTER = 92; // time labels
const GUTTER_NARROW = 64; // time labels on a phone
const MIN_COL = 118; // the narrowest column: an IPv4 host fits on its line
const LINE = 15; // a column header's line
const ROW = 30;

// host is the address part of "ip:port" or "[ipv6]:port".
function host(endpoint) {
  if (!endpoint) return '';
  if (endpoint.startsWith('[')) return endpoint.slice(1, endpoint.indexOf(']'));
  const parts = endpoint.split(':');
  return parts.length === 2 ? parts[0] : endpoint;
}

/** kind classifies a message for colouring. */
export function kind(m) {
  if (m.status >= 300) return 'err';
  if (m.status >= 200) return 'ok';
  if (m.status >= 100) return 'prov';
  if (/^(BYE|CANCEL)$/i.test(m.method || '')) return 'end';
  return 'req';
}

// hasSDP tells whether a message carries an SDP body (RFC 3261 §20.15, the
// compact form "c" included).
function hasSDP(raw) {
  return /\n\s*(content-type|c)\s*:\s*application\/sdp/i.test(raw || '');
}

/** label is the text on a message's arrow. */
export function label(m) {
  if (m.label) return m.label;
  if (m.method) return m.method;
  return m.status ? String(m.status) : '?';
}

/**
 * columns orders the endpoints: the caller's addresses first, then others
 * (proxies, gateways) in order of appearance, the callee's last.
 */
function columns(messages, call) {
  const seen = [];
  for (const m of messages) for (const e of [m.src, m.dst]) if (e && !seen.includes(e)) seen.push(e);
  const rank = (e) => (host(e) === call.caller_addr ? 0 : host(e) === call.callee_addr ? 2 : 1);
  return seen.map((e, i) => ({ e, i })).sort((a, b) => rank(a.e) - rank(b.e) || a.i - b.i).map((x) => x.e);
}

/** role names the party at endpoint e: ['Caller', 'number (name)'], or none. */
function role(e, call) {
  const ip = host(e);
  if (ip && ip === call.caller_addr) return ['Caller', f.party(call.caller, call.caller_name)];
  if (ip && ip === call.callee_addr) return ['Callee', f.party(call.callee, call.callee_name)];
  return null;
}

/**
 * headLines fits a column's header into lines no wider than max px (as
 * the measure function reports a text of a class): the address on one
 * line, else host and port on two, the host cut with an ellipsis only
 * when it alone is wider; the role on one line ("Caller · 201"), else on
 * two, each cut if need be. Returns [class, text] pairs.
 */
function headLines(e, r, max, measure) {
  const fit = (cls, text) => {
    if (measure(cls, text) <= max) return text;
    let lo = 0, hi = text.length; // the longest prefix that fits with "…"
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (measure(cls, `${text.slice(0, mid)}…`) <= max) lo = mid; else hi = mid - 1;
    }
    return `${text.slice(0, lo)}…`;
  };
  const lines = [];
  const port = /^(.*)(:\d+)$/.exec(e);
  if (measure('col-addr', e) <= max || !port) lines.push(['col-addr', fit('col-addr', e)]);
  else lines.push(['col-addr', fit('col-addr', port[1])], ['col-addr', port[2]]);
  if (r) {
    const one = `${r[0]} · ${r[1]}`;
    if (measure('col-role', one) <= max) lines.push(['col-role', one]);
    else lines.push(['col-role', fit('col-role', r[0])], ['col-role', fit('col-role', r[1])]);
  }
  return lines;
}

/** Ladder renders messages of call into an SVG that fits its container. */
export class Ladder {
  constructor(messages, call, onSelect) {
    this.messages = messages;
    this.call = call;
    this.onSelect = onSelect;
    this.cols = columns(messages, call);
    this.selected = -1;
    this.el = h('div', { class: 'ladder' });
    this.resize = new ResizeObserver(() => {
      const w = this.el.clientWidth;
      if (w && w !== this.width) this.render(w);
    });
    this.resize.observe(this.el);
  }

  destroy() {
    this.resize.disconnect();
  }

  /**
   * render draws the ladder for a container width px wide. Columns are
   * never narrower than MIN_COL: on a phone with many addresses the
   * ladder scrolls sideways in its box (the page does not). Each column's
   * header is fitted into lines that stay inside its column (measured in
   * the page, so fonts count), the whole text in its title.
   */
  render(width) {
    this.width = width;
    const n = Math.max(this.cols.length, 2);
    const gutter = width < 480 ? GUTTER_NARROW : GUTTER;
    const colW = Math.max((width - gutter) / n, MIN_COL);
    const svgW = Math.ceil(gutter + colW * n);
    const xOf = (e) => gutter + colW * (this.cols.indexOf(e) + 0.5);
    const t0 = f.date(this.messages[0] && this.messages[0].time);

    const svg = s('svg', {
      class: 'ladder-svg', width: svgW, height: 0,
      role: 'group', 'aria-label': `SIP ladder: ${this.messages.length} messages between ${this.cols.length} addresses`,
    });
    // Header texts are measured in the page, with the ladder's styles.
    this.el.replaceChildren(svg);
    const probe = s('text', { x: 0, y: 0 });
    svg.append(probe);
    const measure = (cls, text) => {
      probe.setAttribute('class', cls);
      probe.textContent = text;
      return probe.getComputedTextLength();
    };
    const heads = s('g', { class: 'heads' });
    const lines = this.cols.map((e) => headLines(e, role(e, this.call), colW - 10, measure));
    probe.remove();
    const head = 12 + LINE * Math.max(2, ...lines.map((l) => l.length)); // column headers
    const height = head + ROW * this.messages.length + 16;
    svg.setAttribute('height', height);
    svg.setAttribute('viewBox', `0 0 ${svgW} ${height}`);
    this.cols.forEach((e, i) => {
      const x = gutter + colW * (i + 0.5);
      const r = role(e, this.call);
      heads.append(
        s('g', { class: 'col-head', 'data-endpoint': e },
          s('title', {}, r ? `${e} — ${r[0]} · ${r[1]}` : e),
          lines[i].map(([cls, text], k) => s('text', { x, y: 16 + LINE * k, class: cls, 'text-anchor': 'middle' }, text))),
        s('line', { x1: x, x2: x, y1: head - 8, y2: height - 6, class: 'lifeline' }));
    });
    svg.append(heads, s('text', { x: 8, y: 16, class: 'col-addr col-time' }, 'time (s)'));

    this.rows = this.messages.map((m, i) => {
      const y = head + ROW * i;
      const mid = y + ROW - 9;
      const x1 = xOf(m.src), x2 = xOf(m.dst);
      const t = f.date(m.time);
      const rel = t && t0 ? `+${((t - t0) / 1000).toFixed(3)}` : '';
      const g = s('g', {
        class: ['msg', `msg-${kind(m)}`], tabindex: i === 0 ? '0' : '-1', role: 'button', 'aria-pressed': 'false',
        'aria-label': `${label(m)}${m.status && m.method ? ` to ${m.method}` : ''}, from ${m.src} to ${m.dst}, at ${rel || m.time} seconds`,
        'data-index': i,
      });
      g.append(s('rect', { class: 'hit', x: 0, y: y + 1, width: svgW, height: ROW - 2, rx: 4 }));
      g.append(s('text', { class: 'msg-time', x: 8, y: mid + 4 }, rel, s('title', {}, t ? f.clock(t, true) : m.time)));
      const dir = x2 >= x1 ? 1 : -1;
      if (m.src === m.dst) {
        g.append(s('path', { class: 'arrow', d: `M${x1} ${mid - 6} h24 v12 h-18`, fill: 'none' }),
          s('path', { class: 'head', d: `M${x1} ${mid + 6} l8 -4 v8 z` }));
      } else {
        g.append(s('line', { class: 'arrow', x1, y1: mid, x2: x2 - dir * 8, y2: mid }),
          s('path', { class: 'head', d: `M${x2} ${mid} l${-dir * 9} -4.5 v9 z` }));
      }
      const tx = m.src === m.dst ? x1 + 30 : (x1 + x2) / 2;
      const extra = [];
      if (m.status && m.method) extra.push(s('tspan', { class: 'msg-extra' }, ` (${m.method})`));
      if (hasSDP(m.raw)) extra.push(s('tspan', { class: 'msg-sdp' }, ' SDP'));
      if (m.transport && m.transport.toLowerCase() !== 'udp') extra.push(s('tspan', { class: 'msg-extra' }, ` ${m.transport.toUpperCase()}`));
      g.append(s('text', { class: 'msg-label', x: tx, y: mid - 5, 'text-anchor': m.src === m.dst ? 'start' : 'middle' }, label(m), extra));
      g.addEventListener('click', () => this.select(i, true));
      g.addEventListener('keydown', (e) => this.key(e, i));
      svg.append(g);
      return g;
    });
    if (this.selected >= 0) this.mark(this.selected);
  }

  key(e, i) {
    let j = null;
    if (e.key === 'ArrowDown') j = Math.min(i + 1, this.messages.length - 1);
    else if (e.key === 'ArrowUp') j = Math.max(i - 1, 0);
    else if (e.key === 'Home') j = 0;
    else if (e.key === 'End') j = this.messages.length - 1;
    else if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.select(i, true); return; }
    if (j === null) return;
    e.preventDefault();
    this.select(j, true);
  }

  mark(i) {
    (this.rows || []).forEach((g, k) => {
      g.setAttribute('aria-pressed', String(k === i));
      g.setAttribute('tabindex', k === i ? '0' : '-1');
      g.classList.toggle('selected', k === i);
    });
  }

  /** select highlights message i and reports it; focus moves to it when asked. */
  select(i, focus) {
    this.selected = i;
    this.mark(i);
    if (focus && this.rows && this.rows[i]) this.rows[i].focus();
    this.onSelect(this.messages[i], i);
  }
}
