// The waveform of a recording: one <canvas> lane per party (left channel =
// caller, right = callee; levels on a decibel scale), marks on the timeline (DTMF digits, the answer),
// a time axis and a playhead. Clicking a lane seeks; the lanes are one
// keyboard slider (arrows, Page Up/Down, Home, End).

import { h } from './dom.js';
import * as f from './format.js';

const TICKS = [0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

/**
 * Waveform draws peaks ([[min,max]...] per channel, values in -1..1) of a
 * recording durationSec long. lanes: [{label, kind}] per channel; marks:
 * [{at (s), text, title, kind, lane}]; spans: [{from, to (s), lane}] shaded
 * (a side on hold by SDP); onSeek(sec) is called on clicks and keys.
 */
export class Waveform {
  constructor({ peaks, durationSec, lanes, marks = [], spans = [], onSeek }) {
    this.peaks = peaks;
    this.spans = spans;
    this.duration = durationSec > 0 ? durationSec : 1;
    this.lanes = lanes;
    this.marks = marks;
    this.onSeek = onSeek;
    this.time = 0;
    this.drawnX = -1;
    this.peak = loudest(peaks);

    this.canvases = lanes.map((l) => h('canvas', { class: 'lane-canvas', 'aria-hidden': 'true' }));
    this.playhead = h('div', { class: 'playhead', 'aria-hidden': 'true' });
    this.hover = h('div', { class: 'wave-hover', 'aria-hidden': 'true', hidden: true });
    this.markRow = h('div', { class: 'wave-marks' });
    this.axis = h('div', { class: 'wave-axis', 'aria-hidden': 'true' });
    this.slider = h('div', {
      class: 'wave-lanes', tabindex: '0', role: 'slider', 'aria-label': 'Playback position',
      'aria-valuemin': '0', 'aria-valuemax': this.duration.toFixed(1), 'aria-valuenow': '0',
      'aria-keyshortcuts': 'Space ArrowLeft ArrowRight Home End',
    },
    lanes.map((l, i) => h('div', { class: ['lane', `lane-${l.kind}`] },
      h('span', { class: 'lane-label' }, l.label), this.canvases[i])),
    this.playhead, this.hover);
    this.el = h('div', { class: 'wave' }, this.markRow, this.slider, this.axis);

    this.slider.addEventListener('click', (e) => this.onSeek(this.timeAt(e.clientX)));
    this.slider.addEventListener('mousemove', (e) => this.showHover(e.clientX));
    this.slider.addEventListener('mouseleave', () => { this.hover.hidden = true; });
    this.slider.addEventListener('keydown', (e) => this.key(e));
    this.resize = new ResizeObserver(() => this.layout());
    this.resize.observe(this.slider);
    this.setTime(0);
  }

  /**
   * setSpectrogram shows spec (from /api/calls/{id}/spectrogram) in the
   * lanes instead of the peaks, or the peaks again with null.
   */
  setSpectrogram(spec) {
    this.spec = null;
    if (spec && spec.columns > 0 && spec.bins > 0) {
      // One small image per channel, a pixel per column and band (low
      // bands at the bottom), scaled to the lane when drawn.
      this.spec = (spec.levels || []).map((b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const img = new ImageData(spec.columns, spec.bins);
        for (let x = 0; x < spec.columns; x++) {
          for (let k = 0; k < spec.bins; k++) {
            const [r, g, b] = heat(bytes[x * spec.bins + k]);
            const o = ((spec.bins - 1 - k) * spec.columns + x) * 4;
            img.data[o] = r; img.data[o + 1] = g; img.data[o + 2] = b; img.data[o + 3] = 255;
          }
        }
        const c = document.createElement('canvas');
        c.width = spec.columns;
        c.height = spec.bins;
        c.getContext('2d').putImageData(img, 0, 0);
        return c;
      });
      this.specMaxHz = spec.max_hz;
    }
    this.el.classList.toggle('wave-spectrogram', !!this.spec);
    this.draw();
  }

  /** destroy stops watching the element's size. */
  destroy() {
    this.resize.disconnect();
  }

  timeAt(clientX) {
    const r = this.slider.getBoundingClientRect();
    const x = Math.min(Math.max(clientX - r.left, 0), r.width);
    return (x / (r.width || 1)) * this.duration;
  }

  showHover(clientX) {
    const r = this.slider.getBoundingClientRect();
    const t = this.timeAt(clientX);
    this.hover.hidden = false;
    this.hover.style.left = `${clientX - r.left}px`;
    this.hover.dataset.time = f.position(t);
    this.hover.textContent = f.position(t);
  }

  key(e) {
    const step = { ArrowLeft: -1, ArrowRight: 1, ArrowDown: -1, ArrowUp: 1, PageDown: -10, PageUp: 10 }[e.key];
    let t = null;
    if (step !== undefined) t = this.time + step * (e.shiftKey ? 5 : 1);
    else if (e.key === 'Home') t = 0;
    else if (e.key === 'End') t = this.duration;
    if (t === null) return;
    e.preventDefault();
    this.onSeek(Math.min(Math.max(t, 0), this.duration));
  }

  /** setTime moves the playhead to sec. */
  setTime(sec) {
    this.time = Math.min(Math.max(sec || 0, 0), this.duration);
    const frac = this.time / this.duration;
    this.playhead.style.left = `${(frac * 100).toFixed(3)}%`;
    this.slider.setAttribute('aria-valuenow', this.time.toFixed(1));
    this.slider.setAttribute('aria-valuetext', `${f.position(this.time)} of ${f.position(this.duration)}`);
    const w = this.canvases[0] ? this.canvases[0].width : 0;
    const x = Math.round(frac * w);
    if (x !== this.drawnX) this.draw();
  }

  layout() {
    const dpr = window.devicePixelRatio || 1;
    for (const c of this.canvases) {
      const r = c.getBoundingClientRect();
      c.width = Math.max(1, Math.round(r.width * dpr));
      c.height = Math.max(1, Math.round(r.height * dpr));
    }
    this.placeMarks();
    this.placeTicks();
    this.draw();
  }

  placeMarks() {
    const width = this.slider.clientWidth || 1;
    this.markRow.replaceChildren();
    const rowEnd = []; // right edge of the last flag in each row
    for (const m of this.marks) {
      const x = (m.at / this.duration) * width;
      const b = h('button', {
        type: 'button', class: ['mark', `mark-${m.kind}`],
        title: m.title, 'aria-label': `${m.title}. Jump there.`,
        onclick: () => this.onSeek(m.at),
      }, m.text);
      this.markRow.append(b);
      // Keep the flag inside the row; its arrow still points at x. Flags
      // that would overlap go up a row (at most three rows).
      const w = b.offsetWidth;
      const left = Math.min(Math.max(x - w / 2, 0), Math.max(0, width - w));
      let row = 0;
      while (row < 2 && rowEnd[row] !== undefined && left < rowEnd[row] + 3) row++;
      rowEnd[row] = left + w;
      if (row) b.classList.add(`mark-row${row}`);
      b.style.left = `${left}px`;
      b.style.setProperty('--arrow', `${x - left}px`);
    }
    this.markRow.classList.toggle('rows-2', rowEnd.length === 2);
    this.markRow.classList.toggle('rows-3', rowEnd.length === 3);
  }

  placeTicks() {
    const width = this.slider.clientWidth || 1;
    const every = TICKS.find((t) => (t / this.duration) * width >= 70) || 3600;
    this.axis.replaceChildren();
    for (let t = 0; t <= this.duration + 1e-9; t += every) {
      const last = (this.duration - t) / this.duration * width < 30;
      const tick = h('span', { class: ['tick', last && t > 0 ? 'tick-last' : null] }, every < 1 ? f.position(t) : f.duration(t * 1000));
      tick.style.left = `${(t / this.duration) * 100}%`;
      this.axis.append(tick);
    }
  }

  /** drawMarks draws the dashed lines of the marks of lane ch. */
  drawMarks(g, ch, W, H) {
    g.fillStyle = getComputedStyle(this.el).getPropertyValue('--wave-mark').trim() || '#b45309';
    const dpr = window.devicePixelRatio || 1;
    for (const m of this.marks) {
      if (m.lane !== undefined && m.lane !== ch) continue;
      const x = Math.round((m.at / this.duration) * W);
      for (let y = 0; y < H; y += 6 * dpr) g.fillRect(x, y, Math.max(1, dpr), 3 * dpr);
    }
  }

  draw() {
    const css = getComputedStyle(this.el);
    const colors = [
      [css.getPropertyValue('--wave-played').trim() || '#1f5fd1', css.getPropertyValue('--wave-rest').trim() || '#a9bde3'],
      [css.getPropertyValue('--wave-played-2').trim() || '#0d7a6f', css.getPropertyValue('--wave-rest-2').trim() || '#9fd3cb'],
    ];
    const mid = css.getPropertyValue('--wave-mid').trim() || '#d5dbe6';
    const holdColor = css.getPropertyValue('--wave-hold').trim() || 'rgba(120, 120, 140, 0.16)';
    this.canvases.forEach((c, ch) => {
      const g = c.getContext('2d');
      const W = c.width, H = c.height;
      const px = Math.round((this.time / this.duration) * W);
      g.clearRect(0, 0, W, H);
      g.fillStyle = holdColor;
      for (const s of this.spans) {
        if (s.lane !== ch) continue;
        const x0 = Math.max(0, Math.round((s.from / this.duration) * W));
        const x1 = Math.min(W, Math.round((s.to / this.duration) * W));
        if (x1 > x0) g.fillRect(x0, 0, x1 - x0, H);
      }
      if (this.spec && this.spec[ch]) {
        g.imageSmoothingEnabled = true;
        g.drawImage(this.spec[ch], 0, 0, W, H);
        // The part not played yet is dimmed, as the peaks are.
        g.fillStyle = 'rgba(255, 255, 255, 0.15)';
        g.fillRect(px, 0, W - px, H);
        this.drawMarks(g, ch, W, H);
        return;
      }
      g.fillStyle = mid;
      g.fillRect(0, Math.floor(H / 2), W, 1);
      const data = this.peaks[ch] || [];
      const n = data.length;
      const [played, rest] = colors[ch % 2];
      if (n > 0) {
        const half = H / 2 - 2;
        for (let x = 0; x < W; x++) {
          const a = Math.floor((x * n) / W);
          const b = Math.max(a + 1, Math.floor(((x + 1) * n) / W));
          let lo = 0, hi = 0;
          for (let i = a; i < b && i < n; i++) {
            const p = data[i];
            if (p[0] < lo) lo = p[0];
            if (p[1] > hi) hi = p[1];
          }
          const top = H / 2 - level(hi, this.peak) * half;
          const bot = H / 2 + level(-lo, this.peak) * half;
          g.fillStyle = x < px ? played : rest;
          g.fillRect(x, top, 1, Math.max(1, bot - top));
        }
      }
      this.drawMarks(g, ch, W, H);
    });
    this.drawnX = Math.round((this.time / this.duration) * (this.canvases[0] ? this.canvases[0].width : 0));
  }
}

// heat maps a level (0 quiet .. 255 loud) to a colour: dark blue through
// purple and orange to pale yellow.
function heat(v) {
  const stops = [[0, [12, 16, 40]], [70, [40, 30, 110]], [130, [150, 40, 120]], [190, [235, 110, 40]], [255, [255, 245, 190]]];
  for (let i = 1; i < stops.length; i++) {
    const [v1, c1] = stops[i];
    if (v <= v1) {
      const [v0, c0] = stops[i - 1];
      const t = (v - v0) / (v1 - v0);
      return c0.map((a, j) => Math.round(a + (c1[j] - a) * t));
    }
  }
  return stops[stops.length - 1][1];
}

// RANGE_DB is the dynamic range the lanes show: a sample this far below
// the loudest one of the recording is drawn as a flat line.
const RANGE_DB = 48;

// level maps an amplitude (0..1) to a bar height (0..1) on a decibel scale
// relative to peak, so quiet speech stays visible next to a loud party.
function level(v, peak) {
  if (!(v > 0) || !(peak > 0)) return 0;
  const db = 20 * Math.log10(v / peak);
  return Math.min(1, Math.max(0, (db + RANGE_DB) / RANGE_DB));
}

// loudest is the largest amplitude over both channels.
function loudest(peaks) {
  let max = 0;
  for (const ch of peaks) for (const p of ch) max = Math.max(max, Math.abs(p[0]), Math.abs(p[1]));
  return max;
}
