// Small charts under the waveform: each direction's jitter, loss and MOS
// per interval of the call (measured by the recorder), with what the
// endpoints' RTCP reports said marked as dots. They share the waveform's
// time axis; clicking one seeks there.

import { h, s } from './dom.js';
import * as f from './format.js';

const W = 1000; // viewBox width; the SVG stretches to the waveform's width

const metrics = [
  {
    key: 'jitter', label: 'Jitter', unit: 'ms', title: 'Mean interarrival jitter per interval (RFC 3550), ms',
    value: (iv) => (iv.jitter_samples > 0 ? iv.mean_jitter_ms : null),
    rtcp: (r) => (r.block && r.block.jitter_ms !== undefined ? r.block.jitter_ms : null),
    rtcpText: (r, v) => `RTCP ${r.kind.toUpperCase()}: jitter ${v.toFixed(1)} ms as the receiver measured it`,
    scale: (max) => Math.max(5, niceCeil(max)),
  },
  {
    key: 'loss', label: 'Loss', unit: '%', title: 'Packets lost per interval, % of those expected',
    value: (iv) => (iv.expected > 0 ? (100 * iv.lost) / iv.expected : null),
    rtcp: (r) => (r.block ? 100 * r.block.fraction_lost : r.voip ? 100 * r.voip.loss_rate : null),
    rtcpText: (r, v) => `RTCP ${r.kind === 'xr-voip' ? 'XR VoIP metrics' : r.kind.toUpperCase()}: ${v.toFixed(1)} % lost as the receiver counted`,
    scale: (max) => Math.max(2, niceCeil(max)),
  },
  {
    key: 'mos', label: 'MOS', unit: '', title: 'E-model MOS estimate per interval (1–4.5)',
    value: (iv) => (iv.packets > 0 && iv.mos > 0 ? iv.mos : null),
    rtcp: (r) => (r.voip && r.voip.mos_lq ? r.voip.mos_lq : null),
    rtcpText: (r, v) => `RTCP XR: MOS-LQ ${v.toFixed(1)} by the receiver`,
    scale: () => 4.5, floor: 1,
  },
];

function niceCeil(v) {
  if (!(v > 0)) return 0;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/**
 * qualityCharts returns the charts element for the streams of
 * /api/calls/{id}/quality over a recording that starts at audioStart (a
 * Date) and lasts durationSec, or null if nothing was measured. onSeek(sec)
 * is called on clicks.
 */
export function qualityCharts(streams, audioStart, durationSec, onSeek) {
  // Each stream that was measured, at most four (the ones with the most
  // packets), coloured by the side that sent it.
  const dirs = streams.filter((x) => x.quality && (x.quality.intervals || []).length)
    .map((x) => ({ side: x.side === 'callee' ? 'callee' : 'caller', stream: x, q: x.quality }))
    .sort((a, b) => sum(b.q.intervals, 'packets') - sum(a.q.intervals, 'packets'))
    .slice(0, 4);
  if (!dirs.length || !(durationSec > 0)) return null;
  const x = (date) => ((f.date(date) - audioStart) / 1000 / durationSec) * W;
  const box = h('div', { class: 'qcharts', id: 'quality-charts', role: 'group', 'aria-label': 'Quality over time' });
  const legend = h('div', { class: 'qchart-legend' },
    [...new Set(dirs.map((d) => d.side))].map((side) => h('span', { class: ['qkey', `qkey-${side}`] }, side === 'caller' ? 'Caller → callee' : 'Callee → caller')),
    h('span', { class: 'qkey qkey-rtcp' }, 'RTCP report'),
    h('span', { class: 'muted' }, ` · ${(dirs[0].q.interval_ms / 1000).toFixed(0)} s intervals`));
  box.append(legend);
  for (const m of metrics) {
    let max = 0;
    for (const d of dirs) {
      for (const iv of d.q.intervals) { const v = m.value(iv); if (v !== null) max = Math.max(max, v); }
      for (const r of d.q.rtcp || []) { const v = m.rtcp(r); if (v !== null) max = Math.max(max, v); }
    }
    const top = m.scale(max), bottom = m.floor || 0;
    const H = 60;
    const y = (v) => H - 4 - ((Math.min(v, top) - bottom) / (top - bottom || 1)) * (H - 8);
    const svg = s('svg', { class: 'qchart', viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', 'aria-hidden': 'true', 'data-metric': m.key });
    svg.append(s('line', { class: 'qgrid', x1: 0, x2: W, y1: y(top), y2: y(top), 'vector-effect': 'non-scaling-stroke' }),
      s('line', { class: 'qgrid', x1: 0, x2: W, y1: y(bottom), y2: y(bottom), 'vector-effect': 'non-scaling-stroke' }));
    let worst = null;
    for (const d of dirs) {
      const w = ((d.q.interval_ms / 1000) / durationSec) * W;
      let path = '', open = false;
      for (const iv of d.q.intervals) {
        const v = m.value(iv);
        const x0 = Math.max(0, x(iv.start)), x1 = Math.min(W, x(iv.start) + w);
        if (v === null || x1 <= 0 || x0 >= W) { open = false; continue; }
        const yv = y(v).toFixed(1);
        path += `${open ? 'L' : 'M'}${x0.toFixed(1)},${yv}L${x1.toFixed(1)},${yv}`;
        open = true;
        const bad = m.key === 'mos' ? -v : v;
        if (!worst || bad > worst.bad) worst = { bad, v, iv, side: d.side };
      }
      svg.append(s('path', { class: ['qline', `q-${d.side}`], d: path || 'M0,0', 'vector-effect': 'non-scaling-stroke' }));
    }
    const dots = h('div', { class: 'qdots' });
    for (const d of dirs) {
      for (const r of d.q.rtcp || []) {
        const v = m.rtcp(r);
        if (v === null) continue;
        const xr = x(r.at);
        if (xr < 0 || xr > W) continue;
        const dot = h('span', { class: ['qdot', `q-${d.side}`], title: `${f.position(xr / W * durationSec)} · ${m.rtcpText(r, v)}` });
        dot.style.left = `${(xr / W) * 100}%`;
        dot.style.top = `${(y(v) / H) * 100}%`;
        dots.append(dot);
      }
    }
    const unit = m.unit ? ` ${m.unit}` : '';
    const summary = worst ? `worst ${m.key === 'mos' ? worst.v.toFixed(2) : worst.v.toFixed(1)}${unit} at ${f.position(Math.max(0, (f.date(worst.iv.start) - audioStart) / 1000))}` : 'no figures';
    const chart = h('div', { class: 'qchart-row', 'data-metric': m.key },
      h('div', { class: 'qchart-plot', title: `${m.title}: ${summary}` }, svg, dots,
        h('span', { class: 'qchart-label', 'aria-hidden': 'true' }, m.label, h('span', { class: 'qchart-scale' }, ` ${m.key === 'mos' ? `${bottom}–${top.toFixed(1)}` : `0–${top}`}${unit}`))),
      h('span', { class: 'sr-only' }, `${m.label}: ${summary}.`));
    chart.querySelector('.qchart-plot').addEventListener('click', (e) => {
      const rect = e.currentTarget.getBoundingClientRect();
      onSeek(Math.min(Math.max((e.clientX - rect.left) / (rect.width || 1), 0), 1) * durationSec);
    });
    box.append(chart);
  }
  return box;
}

function sum(list, k) {
  return list.reduce((a, x) => a + (x[k] || 0), 0);
}
