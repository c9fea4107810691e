// #/calls?filters: the searchable, paged list of recorded calls. The
// filters live in the URL hash (the same names as the API's query
// parameters), so back/forward and bookmarks keep a search.

import { get, query } from './api.js';
import { go } from './app.js';
import { h, s } from './dom.js';
import * as f from './format.js';
import { callTools } from './calls-tools.js';

const FILTERS = ['number', 'from', 'to', 'direction', 'status', 'codec', 'min_duration', 'max_duration', 'has_loss', 'hangup_by', 'min_pdd', 'max_pdd', 'group', 'interaction', 'sensor', 'sort', 'limit', 'offset',
  'header', 'ua', 'call_id', 'ip']; // the last four: calls-tools.js adds their fields

// The columns of the list: id, header, the API's sort key (none: not
// sortable), whether shown unless the user chose otherwise, numeric
// (right-aligned), and the cell. The column chooser keeps the user's
// choice in localStorage under COLUMNS_KEY.
const COLUMNS_KEY = 'spanrec.calls.columns';
const COLUMNS = [
  { id: 'time', label: 'Time', sort: 'start', fixed: true, cell: timeCell },
  { id: 'caller', label: 'Caller', sort: 'caller', cell: (c) => partyCell(c.caller, c.caller_name) },
  { id: 'callee', label: 'Callee', sort: 'callee', cell: (c) => partyCell(c.callee, c.callee_name) },
  { id: 'direction', label: 'Direction', sort: 'direction', cell: directionCell },
  { id: 'talk', label: 'Talk time', sort: 'duration', num: true, cell: (c) => (c.duration_ms > 0 ? f.duration(c.duration_ms) : '–') },
  { id: 'status', label: 'Status', sort: 'status', cell: statusCell },
  { id: 'answer', label: 'SIP answer', sort: 'status_code', hidden: true, cell: answerCell },
  { id: 'hangup', label: 'Hung up by', sort: 'hangup_by', cell: hangupCell },
  { id: 'pdd', label: 'PDD', sort: 'pdd', num: true, title: 'Post-dial delay: from the INVITE to the first 18x (or the 2xx)', cell: (c) => delay(c.pdd_ms) },
  { id: 'ring', label: 'Ring time', sort: 'ring', num: true, hidden: true, title: 'From the first 18x to the answer, the CANCEL or the end', cell: (c) => delay(c.ring_ms) },
  { id: 'codec', label: 'Codec', sort: 'codec', cell: (c) => (c.codecs || []).join(', ') || '–' },
  { id: 'legs', label: 'Legs', sort: 'legs', cls: 'legs', cell: legsCell },
  { id: 'quality', label: 'Quality', sort: 'mos', cell: qualityCell },
  // Flags has no sort key: a call has several at once (recording, DTMF,
  // encryption, loss, notes, tags), so there is no one order; its header
  // says so and offers no sort button.
  { id: 'flags', label: 'Flags', title: 'Recording, DTMF, encryption, loss, notes and tags: several per call, so the list is not sorted by them', cell: flagsCell },
  { id: 'sensor', label: 'Sensor', sort: 'sensor', hidden: true, title: 'The recorder that recorded the call', cell: (c) => c.sensor || '–' },
];

const hangupLabel = { caller: 'Caller', callee: 'Callee', system: 'Network' };

/** shownColumns returns the IDs of the columns to show: the stored choice, else the defaults. */
function shownColumns() {
  let ids = null;
  try { ids = JSON.parse(localStorage.getItem(COLUMNS_KEY) || 'null'); } catch { ids = null; }
  if (!Array.isArray(ids)) ids = COLUMNS.filter((col) => !col.hidden).map((col) => col.id);
  return new Set([...ids, ...COLUMNS.filter((col) => col.fixed).map((col) => col.id)]);
}

function saveColumns(ids) {
  try { localStorage.setItem(COLUMNS_KEY, JSON.stringify([...ids])); } catch { /* private mode: the choice lasts this page only */ }
}

// The orders the filter form offers (the headers sort by any column, and
// narrow screens, where the headers fold away, keep this menu).
const ORDERS = [
  ['-start', 'Newest first'], ['start', 'Oldest first'], ['-duration', 'Longest first'], ['duration', 'Shortest first'],
  ['mos', 'Worst quality first'], ['-pdd', 'Longest post-dial delay'], ['-ring', 'Longest ring time'],
  ['caller', 'Caller'], ['callee', 'Callee'], ['status', 'Status'], ['hangup_by', 'Hung up by'], ['sensor', 'Sensor'],
];
const PAGE_SIZES = [25, 50, 100, 200];
const CODECS = ['PCMU', 'PCMA', 'G722', 'G729', 'L16', 'OPUS', 'GSM', 'ILBC', 'SPEEX', 'G726-32'];

function options(list, selected) {
  return list.map(([value, label]) => h('option', { value, selected: value === selected }, label));
}

function select(id, label, list, value) {
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('select', { id, name: id }, options(list, value)));
}

function input(id, label, props, cls) {
  return h('div', { class: ['field', cls] }, h('label', { for: id }, label), h('input', { id, name: id, ...props }));
}

export async function showCalls(ctx) {
  document.title = 'Calls · spanrec';
  const q = ctx.query;
  const val = (k) => q.get(k) || '';
  const limit = Number(val('limit')) || 50;
  const offset = Math.max(0, Number(val('offset')) || 0);

  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Search calls' },
    input('number', 'Number', { type: 'search', value: val('number'), placeholder: 'caller or callee number contains…', autocomplete: 'off' }, 'field-number'),
    input('from', 'From', { type: 'datetime-local', value: f.toLocalInput(val('from')) }),
    input('to', 'To', { type: 'datetime-local', value: f.toLocalInput(val('to')) }),
    select('direction', 'Direction', [['', 'Any'], ['inbound', 'Inbound'], ['outbound', 'Outbound'], ['internal', 'Internal'], ['unknown', 'Unknown']], val('direction')),
    select('status', 'Status', [['', 'Any'], ['answered', 'Answered'], ['no-answer', 'No answer'], ['busy', 'Busy'], ['cancelled', 'Cancelled'], ['failed', 'Failed']], val('status')),
    select('codec', 'Codec', [['', 'Any'], ...CODECS.map((c) => [c, c])], val('codec')),
    h('fieldset', { class: 'field field-range' },
      h('legend', {}, 'Talk time (s)'),
      h('div', { class: 'range' },
        h('input', { id: 'min_duration', name: 'min_duration', type: 'number', min: '0', step: '1', value: val('min_duration'), placeholder: 'min', 'aria-label': 'Minimum talk time in seconds' }),
        h('span', { 'aria-hidden': 'true' }, '–'),
        h('input', { id: 'max_duration', name: 'max_duration', type: 'number', min: '0', step: '1', value: val('max_duration'), placeholder: 'max', 'aria-label': 'Maximum talk time in seconds' }))),
    select('has_loss', 'Packet loss', [['', 'Any'], ['true', 'With loss'], ['false', 'Without loss']], val('has_loss')),
    select('hangup_by', 'Hung up by', [['', 'Anyone'], ['caller', 'Caller'], ['callee', 'Callee'], ['system', 'Network'], ['unknown', 'Not known']], val('hangup_by')),
    h('fieldset', { class: 'field field-range' },
      h('legend', {}, 'Post-dial delay (s)'),
      h('div', { class: 'range' },
        h('input', { id: 'min_pdd', name: 'min_pdd', type: 'number', min: '0', step: '0.1', value: val('min_pdd'), placeholder: 'min', 'aria-label': 'Minimum post-dial delay in seconds' }),
        h('span', { 'aria-hidden': 'true' }, '–'),
        h('input', { id: 'max_pdd', name: 'max_pdd', type: 'number', min: '0', step: '0.1', value: val('max_pdd'), placeholder: 'max', 'aria-label': 'Maximum post-dial delay in seconds' }))),
    input('sensor', 'Sensor', { type: 'search', value: val('sensor'), placeholder: 'recorder name', autocomplete: 'off', maxlength: '64' }),
    select('group', 'Legs', [['', 'Every leg'], ['interaction', 'Per conversation']], val('group')),
    val('interaction') ? h('input', { type: 'hidden', name: 'interaction', value: val('interaction') }) : null,
    select('sort', 'Order', orderOptions(val('sort') || '-start'), val('sort') || '-start'),
    h('div', { class: 'filter-actions' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'),
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: () => go('#/calls') }, 'Reset')));

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const p = {};
    for (const k of FILTERS) {
      const el = form.elements.namedItem(k);
      if (!el) continue;
      let v = el.value.trim();
      if (k === 'from' || k === 'to') v = f.fromLocalInput(v);
      if (k === 'sort' && v === '-start') v = '';
      p[k] = v;
    }
    if (limit !== 50) p.limit = limit;
    go(`#/calls${query(p)}`);
  });

  const params = {};
  for (const k of FILTERS) params[k] = val(k);
  params.limit = limit;
  params.offset = offset;
  if (!params.sort) params.sort = '-start';

  const status = h('p', { class: 'result-count', id: 'result-count', 'aria-live': 'polite' }, 'Searching…');
  // search-stopped: a search no index serves examined only the newest
  // calls (GET /api/calls search_stopped); hidden otherwise.
  const stopped = h('p', { class: 'search-stopped', id: 'search-stopped', role: 'status', hidden: '' });
  const body = h('tbody');
  const head = h('thead');
  const table = h('table', { class: 'calls', id: 'calls', 'aria-describedby': 'result-count' },
    h('caption', { class: 'sr-only' }, 'Recorded calls. Press Enter on a row to open the call.'),
    head, body);
  const scroll = h('div', { class: 'table-scroll' }, table);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  let shown = shownColumns();
  let calls = [];

  // The table folds each row into a card when its columns do not fit the
  // width (a narrow window, a phone, many columns chosen): never a
  // sideways scroll that hides talk time, status or quality.
  const fit = () => {
    table.classList.remove('cards');
    if (table.scrollWidth > scroll.clientWidth + 1) table.classList.add('cards');
  };
  // Every column is built once; the chooser hides the cells of those not
  // shown, so that what others add to the rows (selection) stays.
  const render = () => {
    head.replaceChildren(h('tr', {}, COLUMNS.map((col) => headerCell(col, params.sort, q))));
    body.replaceChildren();
    if (calls.length === 0) {
      body.append(h('tr', { class: 'empty' }, h('td', { colspan: String(shown.size) }, 'No calls found. Try a wider time range or fewer filters.')));
    }
    for (const c of calls) body.append(row(c, COLUMNS));
    show();
  };
  const show = () => {
    table.dataset.columns = COLUMNS.filter((col) => shown.has(col.id)).map((col) => col.id).join(' ');
    for (const col of COLUMNS) {
      for (const cell of table.querySelectorAll(`.col-${col.id}`)) cell.hidden = !shown.has(col.id);
    }
    fit();
  };

  const chooser = columnChooser(shown, (ids) => { shown = ids; saveColumns(ids); show(); });

  ctx.main.append(
    h('div', { class: 'page-head' },
      h('h1', { tabindex: '-1' }, 'Calls'),
      h('p', { class: 'muted' }, `Times in ${f.timezone()}`)),
    h('section', { class: 'panel panel-filters' }, form),
    h('section', { class: 'panel panel-table' },
      h('div', { class: 'table-head' }, status, chooser),
      stopped,
      scroll,
      pager));

  const res = await get(`/api/calls${query(params)}`, ctx.signal);
  calls = res.calls || [];
  const total = res.total ?? calls.length;
  // total_more: the server stopped counting at total (GET /api/calls
  // counts at most 10,000 matching calls); more than that match.
  const more = res.total_more === true;
  const stop = res.search_stopped;
  const among = stop ? ` among the newest ${stop.examined.toLocaleString('en-US')}` : '';
  if (stop) {
    stopped.textContent = `Searched only the newest ${stop.examined.toLocaleString('en-US')} calls: ${stop.reason} — type more or narrow the time range.`;
    stopped.hidden = false;
  }
  if (calls.length === 0) {
    status.textContent = total > 0 || more ? 'No calls on this page.' : `No calls match these filters${among}.`;
  } else if (stop && !more) {
    status.textContent = `${offset + 1}–${offset + calls.length} of ${total} call${total === 1 ? '' : 's'}${among}`;
  } else if (more) {
    status.textContent = `${offset + 1}–${offset + calls.length} of more than ${total.toLocaleString('en-US')} calls`;
  } else {
    status.textContent = `${offset + 1}–${offset + calls.length} of ${total} call${total === 1 ? '' : 's'}`;
  }
  render();
  callTools(ctx, params, table, status.parentElement);
  fit(); // the selection column takes room too
  pagerButtons(pager, q, offset, limit, total, more, calls.length);
  if (typeof ResizeObserver === 'function') {
    // Only a change of width can change the fit; folding rows changes
    // the height, which must not refit (a loop).
    let width = scroll.clientWidth;
    const ro = new ResizeObserver(() => {
      if (scroll.clientWidth !== width) { width = scroll.clientWidth; fit(); }
    });
    ro.observe(scroll);
    ctx.signal?.addEventListener('abort', () => ro.disconnect());
  }

  // Keyboard: arrows move between rows, Enter opens one.
  body.addEventListener('keydown', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (!tr) return;
    if (e.key === 'Enter') { e.preventDefault(); go(`#/calls/${encodeURIComponent(tr.dataset.id)}`); }
    else if (e.key === 'ArrowDown' && tr.nextElementSibling) { e.preventDefault(); tr.nextElementSibling.focus(); }
    else if (e.key === 'ArrowUp' && tr.previousElementSibling) { e.preventDefault(); tr.previousElementSibling.focus(); }
  });
  body.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-id]');
    if (tr && !e.target.closest('a')) go(`#/calls/${encodeURIComponent(tr.dataset.id)}`);
  });
}

/** orderOptions lists the form's orders, with the current one when a header chose another. */
function orderOptions(current) {
  const list = [...ORDERS];
  if (!list.some(([v]) => v === current)) {
    const key = current.replace(/^-/, '');
    const col = COLUMNS.find((c) => c.sort === key);
    list.push([current, `${col ? col.label : key} ${current.startsWith('-') ? '(descending)' : '(ascending)'}`]);
  }
  return list;
}

/**
 * headerCell is a column header; a sortable one holds a button that sorts
 * by its column (ascending first, then the other way), and the sorted one
 * says so with aria-sort.
 */
function headerCell(col, sort, q) {
  const th = h('th', { scope: 'col', class: [col.num ? 'num' : undefined, `col-${col.id}`], title: col.title });
  if (!col.sort) { th.append(col.label); return th; }
  const key = sort.replace(/^-/, '');
  const desc = sort.startsWith('-');
  const active = key === col.sort;
  if (active) th.setAttribute('aria-sort', desc ? 'descending' : 'ascending');
  const next = active && !desc ? `-${col.sort}` : col.sort;
  const btn = h('button', {
    type: 'button', class: 'sort', 'data-sort': col.sort,
    'aria-label': `${col.label}: sort ${next.startsWith('-') ? 'descending' : 'ascending'}`,
    onclick: () => {
      const p = new URLSearchParams(q);
      p.delete('offset');
      if (next === '-start') p.delete('sort'); else p.set('sort', next);
      const s = p.toString();
      go(`#/calls${s ? `?${s}` : ''}`);
    },
  }, col.label, h('span', { class: 'sort-mark', 'aria-hidden': 'true' }, active ? (desc ? '▼' : '▲') : '↕'));
  th.append(btn);
  return th;
}

/** columnChooser is the "Columns" menu: a checkbox per column that may be hidden. */
function columnChooser(shown, changed) {
  const boxes = COLUMNS.filter((col) => !col.fixed).map((col) => {
    const box = h('input', { type: 'checkbox', id: `col-${col.id}`, name: col.id, checked: shown.has(col.id) });
    box.addEventListener('change', () => {
      const ids = new Set(COLUMNS.filter((c) => c.fixed || (c.id === col.id ? box.checked : shown.has(c.id))).map((c) => c.id));
      shown = ids;
      changed(ids);
    });
    return h('label', { class: 'col-choice', for: `col-${col.id}` }, box, col.label);
  });
  const reset = h('button', {
    type: 'button', class: 'btn btn-small btn-ghost',
    onclick: () => {
      const ids = new Set(COLUMNS.filter((c) => !c.hidden).map((c) => c.id));
      for (const box of boxes) box.querySelector('input').checked = ids.has(box.querySelector('input').name);
      shown = ids;
      changed(ids);
    },
  }, 'Default columns');
  return h('details', { class: 'col-chooser', id: 'columns' },
    h('summary', { class: 'btn btn-small' }, 'Columns'),
    h('fieldset', { class: 'col-menu' }, h('legend', { class: 'sr-only' }, 'Columns to show'), boxes, reset));
}

function row(c, cols) {
  const statusText = f.statusLabel[c.status] || c.status;
  return h('tr', {
    tabindex: '0', 'data-id': c.id,
    'aria-label': `${f.dateTime(c.start)}, ${f.party(c.caller, c.caller_name)} to ${f.party(c.callee, c.callee_name)}, ${statusText}`,
  }, cols.map((col) => h('td', { class: [`col-${col.id}`, col.cls, col.num ? 'num' : undefined], 'data-label': col.label }, col.cell(c))));
}

function timeCell(c) {
  return h('a', { href: `#/calls/${encodeURIComponent(c.id)}`, tabindex: '-1', title: c.start }, f.dateTime(c.start));
}

function directionCell(c) {
  return h('span', { class: ['dir', `dir-${c.direction}`] }, h('span', { class: 'dir-icon', 'aria-hidden': 'true' }, f.directionIcon[c.direction] || ''), f.directionLabel[c.direction] || c.direction);
}

function statusCell(c) {
  const code = c.status_code ? `SIP ${c.status_code}${c.status_reason ? ` ${c.status_reason}` : ''}` : undefined;
  return h('span', { class: ['pill', `st-${c.status}`], title: code }, f.statusLabel[c.status] || c.status);
}

function answerCell(c) {
  if (!c.status_code) return '–';
  return h('span', { class: 'sip-answer' }, h('span', { class: 'sip-code' }, String(c.status_code)), c.status_reason ? ` ${c.status_reason}` : '');
}

function hangupCell(c) {
  if (!c.hangup_by) return h('span', { class: 'muted', title: 'No BYE, CANCEL or final answer was captured' }, '–');
  const why = {
    caller: 'The caller sent the BYE or CANCEL',
    callee: c.status === 'answered' ? 'The callee sent the BYE' : 'The callee was busy or declined',
    system: 'The network or PBX ended it (final answer other than busy or decline)',
  }[c.hangup_by];
  return h('span', { class: ['hangup', `hangup-${c.hangup_by}`], title: why }, hangupLabel[c.hangup_by] || c.hangup_by);
}

/** delay formats a PDD or ring time in ms: "0.35 s", "12.4 s"; "–" when not measured. */
function delay(ms) {
  if (ms === null || ms === undefined) return '–';
  return ms < 10000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

function legsCell(c) {
  return (c.legs || []).length
    ? h('a', { href: `#/calls?interaction=${encodeURIComponent(c.interaction)}`, title: 'The legs of this conversation (B2BUA, PBX, transfer)' }, `${c.legs.length + 1} legs`)
    : '–';
}

function qualityCell(c) {
  const mos = f.worstMOS(c);
  const grade = f.mosGrade(mos);
  return h('span', { class: ['mos', `mos-${grade}`], title: mos > 0 ? `MOS ${mos.toFixed(2)} (${f.mosText[grade]})` : 'No RTP in this call' }, mos > 0 ? mos.toFixed(1) : '–');
}

// Flag icons (24×24 paths); each flag also has its text, for screen
// readers (aria-label) and as a tooltip (title).
const FLAG_ICONS = {
  audio: 'M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.5 4.5 0 0 0 2.5-4zM14 3.2v2.1a7 7 0 0 1 0 13.4v2.1a9 9 0 0 0 0-17.6z',
  dtmf: 'M5 4h4v4H5zm5 0h4v4h-4zm5 0h4v4h-4zM5 10h4v4H5zm5 0h4v4h-4zm5 0h4v4h-4zM5 16h4v4H5zm5 0h4v4h-4zm5 0h4v4h-4z',
  encrypted: 'M12 2a5 5 0 0 0-5 5v3H5v12h14V10h-2V7a5 5 0 0 0-5-5zm-3 8V7a3 3 0 0 1 6 0v3H9z',
  loss: 'M12 2 1 21h22L12 2zm-1 7h2v6h-2V9zm0 8h2v2h-2v-2z',
  notes: 'M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-1 5h2v2h-2V7zm0 4h2v6h-2v-6z',
  tags: 'M3 3h8l10 10-8 8L3 11V3zm4 2.5a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z',
};

function flag(kind, text, extra) {
  return h('span', { class: ['flag', `flag-${kind}`], role: 'img', 'aria-label': text, title: text, 'data-flag': kind },
    s('svg', { viewBox: '0 0 24 24', 'aria-hidden': 'true', class: 'icon' }, s('path', { d: FLAG_ICONS[kind] })),
    extra ? h('span', { class: 'flag-text', 'aria-hidden': 'true' }, extra) : null);
}

/** flagsCell shows what a call has or lacks at a glance: recording, DTMF, encryption, loss, the recorder's notes, tags. */
function flagsCell(c) {
  const flags = [];
  if (c.audio && c.audio_ms > 0) flags.push(flag('audio', `Recording: ${f.duration(c.audio_ms)}`));
  if ((c.dtmf || []).length) flags.push(flag('dtmf', `DTMF: ${c.dtmf.map((d) => d.digit).join(' ')}`));
  const enc = (c.streams || []).filter((st) => st.encryption);
  if (enc.length) {
    const kinds = [...new Set(enc.map((st) => st.encryption.toUpperCase()))].join(', ');
    const all = enc.every((st) => st.decoded);
    flags.push(flag('encrypted', `Encrypted media (${kinds}): ${all ? 'decrypted' : 'not decrypted'}`));
  }
  const loss = f.lossPercent(c.streams);
  if (c.capture_loss || loss > 0) flags.push(flag('loss', `RTP packets lost: ${f.percent(loss)}`, f.percent(loss)));
  if ((c.notes || []).length) flags.push(flag('notes', `Notes: ${c.notes.join('; ')}`));
  if ((c.tags || []).length) flags.push(flag('tags', `Tags: ${c.tags.join(', ')}`));
  return flags.length ? h('span', { class: 'flags' }, flags) : '–';
}

function partyCell(number, name) {
  return h('span', { class: 'party party-inline' },
    h('span', { class: 'party-number' }, number || 'unknown'),
    name ? h('span', { class: 'party-name' }, name) : null);
}

// pagerButtons fills the pager. When the total is a lower bound (more),
// the last page is unknown: "next" stays on while pages come back full.
function pagerButtons(nav, q, offset, limit, total, more, shown) {
  const at = (o, l = limit) => {
    const p = new URLSearchParams(q);
    if (o > 0) p.set('offset', String(o)); else p.delete('offset');
    if (l !== 50) p.set('limit', String(l)); else p.delete('limit');
    const s = p.toString();
    return `#/calls${s ? `?${s}` : ''}`;
  };
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const prev = h('a', { class: 'btn btn-small', href: at(Math.max(0, offset - limit)), rel: 'prev' }, '← Newer');
  const next = h('a', { class: 'btn btn-small', href: at(offset + limit), rel: 'next' }, 'Older →');
  const sort = q.get('sort') || '-start';
  if (sort !== '-start') { prev.textContent = '← Previous'; next.textContent = 'Next →'; }
  if (offset <= 0) disable(prev);
  if (more ? shown < limit : offset + limit >= total) disable(next);
  const size = h('select', { id: 'page-size', 'aria-label': 'Calls per page' },
    PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === limit }, `${n} per page`)));
  size.addEventListener('change', () => go(at(0, Number(size.value))));
  let label = `Page ${page} of ${pages}`;
  if (more) label = page > pages ? `Page ${page}` : `Page ${page} of more than ${pages}`;
  nav.append(prev, h('span', { class: 'page-no' }, label), next, size);
}

function disable(a) {
  a.removeAttribute('href');
  a.setAttribute('aria-disabled', 'true');
  a.classList.add('disabled');
}
