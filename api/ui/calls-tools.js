// Tools of the call list (export feature): "Export CSV" of the current
// search, a checkbox per row and "Download selected" (the recordings, and
// optionally the captures, of the checked calls as one ZIP), and the
// user's saved searches. view-calls.js calls callTools once the rows are
// in the table.

import { getCSRF, query } from './api.js';
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

  head.append(h('div', { class: 'list-tools' },
    count,
    h('label', { class: 'sel-pcap', for: 'sel-pcap' }, withPcap, ' with captures'),
    dl, csv));
  update();
}
