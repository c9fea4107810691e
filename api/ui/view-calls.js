// #/calls?filters: the searchable, paged list of recorded calls. The
// filters live in the URL hash (the same names as the API's query
// parameters), so back/forward and bookmarks keep a search.

import { get, query } from './api.js';
import { go } from './app.js';
import { h } from './dom.js';
import * as f from './format.js';
import { callTools } from './calls-tools.js';

const FILTERS = ['number', 'from', 'to', 'direction', 'status', 'codec', 'min_duration', 'max_duration', 'has_loss', 'group', 'interaction', 'sort', 'limit', 'offset'];
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
    select('group', 'Legs', [['', 'Every leg'], ['interaction', 'Per conversation']], val('group')),
    val('interaction') ? h('input', { type: 'hidden', name: 'interaction', value: val('interaction') }) : null,
    select('sort', 'Order', [['-start', 'Newest first'], ['start', 'Oldest first'], ['-duration', 'Longest first'], ['duration', 'Shortest first']], val('sort') || '-start'),
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
  const body = h('tbody');
  const table = h('table', { class: 'calls', id: 'calls', 'aria-describedby': 'result-count' },
    h('caption', { class: 'sr-only' }, 'Recorded calls. Press Enter on a row to open the call.'),
    h('thead', {}, h('tr', {},
      ['Time', 'Caller', 'Callee', 'Direction', 'Talk time', 'Status', 'Codec', 'Legs', 'Quality'].map((c, i) =>
        h('th', { scope: 'col', class: i === 4 ? 'num' : undefined }, c)))),
    body);
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });

  ctx.main.append(
    h('div', { class: 'page-head' },
      h('h1', { tabindex: '-1' }, 'Calls'),
      h('p', { class: 'muted' }, `Times in ${f.timezone()}`)),
    h('section', { class: 'panel panel-filters' }, form),
    h('section', { class: 'panel panel-table' },
      h('div', { class: 'table-head' }, status),
      h('div', { class: 'table-scroll' }, table),
      pager));

  const res = await get(`/api/calls${query(params)}`, ctx.signal);
  const calls = res.calls || [];
  const total = res.total ?? calls.length;
  if (calls.length === 0) {
    status.textContent = total > 0 ? 'No calls on this page.' : 'No calls match these filters.';
    body.append(h('tr', { class: 'empty' }, h('td', { colspan: '9' }, 'No calls found. Try a wider time range or fewer filters.')));
  } else {
    status.textContent = `${offset + 1}–${offset + calls.length} of ${total} call${total === 1 ? '' : 's'}`;
  }
  for (const c of calls) body.append(row(c));
  callTools(ctx, params, table, status.parentElement);
  pagerButtons(pager, q, offset, limit, total);

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

function row(c) {
  const mos = f.worstMOS(c);
  const grade = f.mosGrade(mos);
  const loss = f.lossPercent(c.streams);
  const quality = h('td', { class: 'quality' },
    h('span', { class: ['mos', `mos-${grade}`], title: mos > 0 ? `MOS ${mos.toFixed(2)} (${f.mosText[grade]})` : 'No RTP in this call' }, mos > 0 ? mos.toFixed(1) : '–'),
    c.capture_loss || loss > 0
      ? h('span', { class: 'loss-flag', title: 'RTP packets were lost' }, h('span', { 'aria-hidden': 'true' }, '⚠ '), `${f.percent(loss)} loss`)
      : null,
    (c.notes || []).length ? h('span', { class: 'note-flag', title: c.notes.join('\n') }, h('span', { 'aria-hidden': 'true' }, '!'), h('span', { class: 'sr-only' }, c.notes.join('; '))) : null);
  const statusText = f.statusLabel[c.status] || c.status;
  return h('tr', {
    tabindex: '0', 'data-id': c.id,
    'aria-label': `${f.dateTime(c.start)}, ${f.party(c.caller, c.caller_name)} to ${f.party(c.callee, c.callee_name)}, ${statusText}`,
  },
  h('td', { class: 'time', title: c.start }, h('a', { href: `#/calls/${encodeURIComponent(c.id)}`, tabindex: '-1' }, f.dateTime(c.start))),
  h('td', {}, partyCell(c.caller, c.caller_name)),
  h('td', {}, partyCell(c.callee, c.callee_name)),
  h('td', { class: ['dir', `dir-${c.direction}`] }, h('span', { class: 'dir-icon', 'aria-hidden': 'true' }, f.directionIcon[c.direction] || ''), f.directionLabel[c.direction] || c.direction),
  h('td', { class: 'num' }, c.duration_ms > 0 ? f.duration(c.duration_ms) : '–'),
  h('td', {}, h('span', { class: ['pill', `st-${c.status}`], title: c.status_code ? `SIP ${c.status_code}` : undefined }, statusText)),
  h('td', { class: 'codec' }, (c.codecs || []).join(', ') || '–'),
  h('td', { class: 'legs' }, (c.legs || []).length
    ? h('a', { href: `#/calls?interaction=${encodeURIComponent(c.interaction)}`, title: 'The legs of this conversation (B2BUA, PBX, transfer)' }, `${c.legs.length + 1} legs`)
    : '–'),
  quality);
}

function partyCell(number, name) {
  return h('span', { class: 'party party-inline' },
    h('span', { class: 'party-number' }, number || 'unknown'),
    name ? h('span', { class: 'party-name' }, name) : null);
}

function pagerButtons(nav, q, offset, limit, total) {
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
  if (offset + limit >= total) disable(next);
  const size = h('select', { id: 'page-size', 'aria-label': 'Calls per page' },
    PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === limit }, `${n} per page`)));
  size.addEventListener('change', () => go(at(0, Number(size.value))));
  nav.append(prev, h('span', { class: 'page-no' }, `Page ${page} of ${pages}`), next, size);
}

function disable(a) {
  a.removeAttribute('href');
  a.setAttribute('aria-disabled', 'true');
  a.classList.add('disabled');
}
