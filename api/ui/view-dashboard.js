// #/dashboard: figures of the calls in a time range (supervisors and
// admins), computed by the server from the index (GET /api/dashboard):
// calls per hour (per day over a week), the answered ratio, the MOS
// histogram, RTP loss by sending host and the top talkers. Charts are
// plain SVG; each has a table with the same numbers for screen readers.

import { get, query } from './api.js';
import { go } from './app.js';
import { h, s } from './dom.js';
import * as f from './format.js';

const W = 720; // chart width in SVG units; the SVG scales to its box
const H = 200;
const PAD = { l: 40, r: 8, t: 10, b: 28 };

// niceMax rounds n up to 1, 2 or 5 times a power of ten (at least 1).
function niceMax(n) {
  if (n <= 1) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (n <= m * p) return m * p;
  return 10 * p;
}

// bars draws a bar chart of items [{label, values: [a, b]}] where b is
// drawn over a (stacked), with every tick-th label under its bar.
function bars(id, title, items, { series, tick = 1 }) {
  const max = niceMax(Math.max(0, ...items.map((it) => it.values.reduce((x, y) => x + y, 0))));
  const iw = W - PAD.l - PAD.r, ih = H - PAD.t - PAD.b;
  const bw = iw / Math.max(1, items.length);
  const y = (v) => PAD.t + ih - (v / max) * ih;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', id, role: 'img', 'aria-labelledby': `${id}-title` },
    s('title', { id: `${id}-title` }, title));
  for (const v of [0, max / 2, max]) {
    svg.append(s('line', { class: 'grid', x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(Math.round(v * 10) / 10)));
  }
  items.forEach((it, i) => {
    let base = 0;
    it.values.forEach((v, k) => {
      if (v > 0) {
        svg.append(s('rect', {
          class: `bar bar-${k}`, x: PAD.l + i * bw + bw * 0.12, width: Math.max(1, bw * 0.76),
          y: y(base + v), height: y(base) - y(base + v),
        }, s('title', {}, `${it.label}: ${v} ${series[k]}`)));
      }
      base += v;
    });
    if (i % tick === 0) {
      svg.append(s('text', { class: 'axis', x: PAD.l + i * bw + bw / 2, y: H - 8, 'text-anchor': 'middle' }, it.short ?? it.label));
    }
  });
  return svg;
}

// dataTable is the accessible twin of a chart.
function dataTable(caption, head, rows) {
  return h('table', { class: 'sr-only' }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, String(c)))))));
}

function legend(series) {
  return h('ul', { class: 'legend' }, series.map((name, k) => h('li', {}, h('span', { class: `swatch bar-${k}`, 'aria-hidden': 'true' }), name)));
}

function card(label, value, id) {
  return h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), h('span', { class: 'stat-value', id }, value));
}

export async function showDashboard(ctx) {
  document.title = 'Dashboard · spanrec';
  const q = ctx.query;
  const asked = { from: q.get('from') || '', to: q.get('to') || '' };
  const d = await get(`/api/dashboard${query(asked)}`, ctx.signal);

  const fromIn = h('input', { id: 'dash-from', type: 'datetime-local', value: f.toLocalInput(asked.from || d.from) });
  const toIn = h('input', { id: 'dash-to', type: 'datetime-local', value: f.toLocalInput(asked.to || d.to) });
  const form = h('form', { class: 'audit-filters dash-range', 'aria-label': 'Time range' },
    h('div', { class: 'field' }, h('label', { for: 'dash-from' }, `From (${f.timezone()})`), fromIn),
    h('div', { class: 'field' }, h('label', { for: 'dash-to' }, `To (${f.timezone()})`), toIn),
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Show'),
      h('a', { class: 'btn', href: '#/dashboard' }, 'Default range')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go(`#/dashboard${query({ from: f.fromLocalInput(fromIn.value), to: f.fromLocalInput(toIn.value) })}`);
  });

  const rangeText = {
    asked: 'the range asked',
    'last-24h': 'the last 24 hours',
    data: 'the span of the recorded calls (the last 24 hours had none)',
  }[d.range] || d.range;
  const hourly = d.bucket_seconds === 3600;
  const buckets = d.buckets.map((b) => {
    const label = hourly ? f.dateTime(b.start).slice(0, 16) : f.dateTime(b.start).slice(0, 10);
    return { label, short: hourly ? label.slice(11, 13) : label.slice(5), values: [b.answered, b.calls - b.answered] };
  });
  const perCalls = bars('chart-calls', `Calls per ${hourly ? 'hour' : 'day'}`, buckets,
    { series: ['answered', 'not answered'], tick: Math.max(1, Math.ceil(buckets.length / 12)) });
  const mosItems = d.mos.map((m) => ({ label: `${m.low.toFixed(1)}–${m.high.toFixed(1)}`, values: [m.streams] }));
  const mosChart = bars('chart-mos', 'RTP streams by MOS', mosItems, { series: ['streams'] });

  // lossRows draws one loss table's rows; name gives a row's heading.
  const lossRows = (list, name) => {
    const maxLoss = Math.max(0, ...list.map((l) => l.loss_ratio));
    return list.map((l) => {
      const bar = h('span', { class: 'hbar', 'aria-hidden': 'true' });
      bar.style.width = `${maxLoss > 0 ? (100 * l.loss_ratio) / maxLoss : 0}%`;
      return h('tr', {},
        name(l),
        h('td', { class: 'num' }, String(l.streams)),
        h('td', { class: 'num' }, String(l.packets)),
        h('td', { class: 'num' }, String(l.lost)),
        h('td', { class: 'num loss-cell' }, h('span', { class: 'hbar-track' }, bar), f.percent(100 * l.loss_ratio)));
    });
  };
  const hostRows = lossRows(d.loss_by_host, (l) => h('th', { scope: 'row', class: 'mono' }, l.host));
  const sensorRows = lossRows(d.loss_by_sensor || [], (l) => h('th', { scope: 'row' },
    l.sensor ? h('a', { href: `#/calls${query({ sensor: l.sensor })}` }, l.sensor) : h('span', { class: 'muted' }, '(no sensor)')));
  const talkerRows = d.top_talkers.map((t) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: `#/calls${query({ number: t.number })}` }, t.number)),
    h('td', { class: 'num' }, String(t.calls)),
    h('td', { class: 'num' }, String(t.answered)),
    h('td', { class: 'num' }, f.duration(t.talk_seconds * 1000))));
  const empty = (cols, text) => h('tr', { class: 'empty' }, h('td', { colspan: String(cols) }, text));

  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Dashboard'),
      h('p', { class: 'muted', id: 'dash-range' }, `${f.dateTime(d.from)} – ${f.dateTime(d.to)} (${f.timezone()}): ${rangeText}`)),
    h('section', { class: 'panel panel-table', 'aria-label': 'Time range' }, form),
    h('section', { class: 'stats', 'aria-label': 'Totals' },
      card('Calls', String(d.calls), 'stat-calls'),
      card('Answered', String(d.answered), 'stat-answered'),
      card('Answered ratio', d.calls ? f.percent(100 * d.answered_ratio) : '–', 'stat-ratio'),
      card('Streams without MOS', String(d.streams_without_mos), 'stat-nomos')),
    h('div', { class: 'dash-grid' },
      h('section', { class: 'panel', 'aria-labelledby': 'calls-h' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'calls-h' }, `Calls per ${hourly ? 'hour' : 'day'}`), legend(['answered', 'not answered'])),
        perCalls,
        dataTable(`Calls per ${hourly ? 'hour' : 'day'}`, ['Start', 'Calls', 'Answered'], d.buckets.map((b, i) => [buckets[i].label, b.calls, b.answered]))),
      h('section', { class: 'panel', 'aria-labelledby': 'mos-h' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'mos-h' }, 'MOS distribution'), h('span', { class: 'muted' }, 'RTP streams, E-model')),
        mosChart,
        dataTable('RTP streams by MOS', ['MOS', 'Streams'], mosItems.map((m) => [m.label, m.values[0]]))),
      h('section', { class: 'panel panel-table', 'aria-labelledby': 'loss-h' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'loss-h' }, 'Packet loss by sending host')),
        h('div', { class: 'table-scroll' }, h('table', { class: 'calls', id: 'loss' },
          h('thead', {}, h('tr', {}, ['Host', 'Streams', 'Packets', 'Lost', 'Loss'].map((c) => h('th', { scope: 'col', class: c === 'Host' ? '' : 'num' }, c)))),
          h('tbody', {}, hostRows.length ? hostRows : empty(5, 'No RTP in this range.'))))),
      h('section', { class: 'panel panel-table', 'aria-labelledby': 'sensor-loss-h' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'sensor-loss-h' }, 'Packet loss by sensor')),
        h('div', { class: 'table-scroll' }, h('table', { class: 'calls', id: 'loss-sensor' },
          h('thead', {}, h('tr', {}, ['Sensor', 'Streams', 'Packets', 'Lost', 'Loss'].map((c) => h('th', { scope: 'col', class: c === 'Sensor' ? '' : 'num' }, c)))),
          h('tbody', {}, sensorRows.length ? sensorRows : empty(5, 'No RTP in this range.'))))),
      h('section', { class: 'panel panel-table', 'aria-labelledby': 'talk-h' },
        h('div', { class: 'panel-head' }, h('h2', { id: 'talk-h' }, 'Top talkers')),
        h('div', { class: 'table-scroll' }, h('table', { class: 'calls', id: 'talkers' },
          h('thead', {}, h('tr', {}, ['Number', 'Calls', 'Answered', 'Talk time'].map((c) => h('th', { scope: 'col', class: c === 'Number' ? '' : 'num' }, c)))),
          h('tbody', {}, talkerRows.length ? talkerRows : empty(4, 'No calls in this range.')))))));
}
