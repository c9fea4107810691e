// Tools of the call list (export feature): "Export CSV" of the current
// search, a checkbox per row and "Download selected" (the recordings, and
// optionally the captures, of the checked calls as one ZIP), and the
// user's saved searches. view-calls.js calls callTools once the rows are
// in the table.

import { APIError, del, get, getCSRF, post, query } from './api.js';
import { go, toast } from './app.js';
import { h } from './dom.js';

/** The most calls one ZIP download may hold (the API's bound). */
const MAX_ZIP = 100;

/**
 * callTools adds the export and selection tools to the list: params are
 * the search's API parameters, table the calls table (rows tr[data-id]),
 * head the element above it that holds the result count.
 */
export function callTools(ctx, params, table, head) {
  const search = { ...params };
  delete search.limit; // the export has every matching call, not one page
  delete search.offset;
  if (search.sort === '-start') delete search.sort;
  const csv = h('a', {
    class: 'btn btn-small', id: 'export-csv', href: `/api/calls.csv${query(search)}`, download: '',
    title: 'Every call that matches these filters, as a spreadsheet (CSV)',
  }, 'Export CSV');

  const count = h('span', { class: 'sel-count', id: 'sel-count', 'aria-live': 'polite' }, '');
  const withPcap = h('input', { type: 'checkbox', id: 'sel-pcap' });
  const dl = h('button', { type: 'button', class: 'btn btn-small btn-primary', id: 'download-selected', disabled: true }, 'Download selected');
  const boxes = [];
  const update = () => {
    const n = boxes.filter((b) => b.checked).length;
    dl.disabled = n === 0 || n > MAX_ZIP;
    count.textContent = n === 0 ? '' : n > MAX_ZIP ? `${n} selected (at most ${MAX_ZIP})` : `${n} selected`;
    all.checked = n > 0 && n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
  };
  const all = h('input', { type: 'checkbox', id: 'sel-all', 'aria-label': 'Select every call on this page' });
  all.addEventListener('change', () => { for (const b of boxes) b.checked = all.checked; update(); });

  const headRow = table.tHead && table.tHead.rows[0];
  if (headRow) headRow.prepend(h('th', { scope: 'col', class: 'sel' }, all));
  for (const tr of table.tBodies[0].rows) {
    if (!tr.dataset.id) {
      const td = tr.cells[0];
      if (td) td.colSpan += 1;
      continue;
    }
    const box = h('input', { type: 'checkbox', class: 'sel-box', value: tr.dataset.id, 'aria-label': `Select ${tr.getAttribute('aria-label') || tr.dataset.id}` });
    box.addEventListener('change', update);
    boxes.push(box);
    const td = h('td', { class: 'sel' }, box);
    // The row opens the call on click and Enter: not from its checkbox.
    td.addEventListener('click', (e) => { e.stopPropagation(); if (e.target === td) { box.checked = !box.checked; update(); } });
    td.addEventListener('keydown', (e) => e.stopPropagation());
    tr.prepend(td);
  }

  dl.addEventListener('click', () => {
    const ids = boxes.filter((b) => b.checked).map((b) => b.value);
    if (ids.length === 0 || ids.length > MAX_ZIP) return;
    // A form, not fetch: the browser saves the archive as it streams in,
    // whatever its size. The CSRF token travels as a field.
    const form = h('form', { method: 'POST', action: '/api/calls/download.zip', class: 'sr-only' },
      ids.map((id) => h('input', { type: 'hidden', name: 'id', value: id })),
      withPcap.checked ? h('input', { type: 'hidden', name: 'pcap', value: '1' }) : null,
      h('input', { type: 'hidden', name: 'csrf_token', value: getCSRF() }));
    document.body.append(form);
    form.submit();
    form.remove();
  });

  const panel = ctx.main.querySelector('.panel-filters');
  if (panel) {
    sipFields(panel.querySelector('form'), params);
    panel.append(savedSearches(ctx, search));
  }

  head.append(h('div', { class: 'list-tools' },
    count,
    h('label', { class: 'sel-pcap', for: 'sel-pcap' }, withPcap, ' with captures'),
    dl, csv));
  update();
}

/**
 * savedSearches is the bar of the user's saved searches: choosing one
 * applies it, "Save" keeps the current filters under a name, "Delete"
 * removes the chosen one.
 */
function savedSearches(ctx, search) {
  const current = query(search).slice(1);
  const pick = h('select', { id: 'saved-search', 'aria-label': 'Saved searches' }, h('option', { value: '' }, 'Saved searches…'));
  const name = h('input', { id: 'saved-name', type: 'text', maxlength: '64', placeholder: 'name these filters', 'aria-label': 'Name of the search to save', autocomplete: 'off' });
  const save = h('button', { type: 'button', class: 'btn btn-small', id: 'saved-save' }, 'Save search');
  const remove = h('button', { type: 'button', class: 'btn btn-small btn-ghost', id: 'saved-delete', disabled: true }, 'Delete');
  const bar = h('div', { class: 'saved-searches', role: 'group', 'aria-label': 'Saved searches' }, pick, remove, name, save);
  let searches = [];

  const fill = async () => {
    const res = await get('/api/searches', ctx.signal);
    searches = res.searches || [];
    pick.replaceChildren(h('option', { value: '' }, searches.length ? 'Saved searches…' : 'No saved searches'),
      ...searches.map((s) => h('option', { value: String(s.id), selected: s.query === current }, s.name)));
    remove.disabled = !pick.value;
  };
  const failed = (err) => {
    if (err.name !== 'AbortError') toast(err instanceof APIError ? err.message : 'The saved searches could not be read.', 'error');
  };
  pick.addEventListener('change', () => {
    const s = searches.find((x) => String(x.id) === pick.value);
    remove.disabled = !s;
    if (s) go(`#/calls${s.query ? `?${s.query}` : ''}`);
  });
  save.addEventListener('click', async () => {
    const n = name.value.trim();
    if (!n) { name.focus(); return; }
    try {
      await post('/api/searches', { name: n, query: current }, ctx.signal);
      name.value = '';
      toast(`Search "${n}" saved.`);
      await fill();
    } catch (err) { failed(err); }
  });
  name.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); save.click(); } });
  remove.addEventListener('click', async () => {
    const s = searches.find((x) => String(x.id) === pick.value);
    if (!s) return;
    try {
      await del(`/api/searches/${encodeURIComponent(s.id)}`, ctx.signal);
      toast(`Search "${s.name}" deleted.`);
      await fill();
    } catch (err) { failed(err); }
  });
  fill().catch(failed);
  return bar;
}

/**
 * sipFields adds the SIP search fields (header, user agent, Call-ID,
 * address) to the filter form, before its buttons, filled from params.
 */
function sipFields(form, params) {
  if (!form || form.elements.namedItem('header')) return;
  const field = (id, label, placeholder) => h('div', { class: 'field field-sip' },
    h('label', { for: id }, label),
    h('input', { id, name: id, type: 'search', value: params[id] || '', placeholder, autocomplete: 'off', spellcheck: 'false' }));
  const row = h('div', { class: 'sip-fields' },
    field('header', 'SIP header', 'Name:value, e.g. X-Ticket:4711'),
    field('ua', 'User agent', 'contains…'),
    field('call_id', 'Call-ID', 'exact SIP Call-ID'),
    field('ip', 'IP address', 'signalling or media'));
  const actions = form.querySelector('.filter-actions');
  if (actions) actions.before(row); else form.append(row);
}
