// #/audit: the audit log (admins): who played, downloaded or deleted which
// call, who signed in, newest first. Filters by time range, user and
// action; the filtered log downloads as CSV (GET /api/audit.csv).

import { get, query } from './api.js';
import { go } from './app.js';
import { h } from './dom.js';
import * as f from './format.js';

const LIMIT = 50;
const ACTIONS = ['play', 'download', 'download_pcap', 'waveform', 'spectrogram', 'listen', 'access_denied', 'delete', 'login', 'login_failed',
  'login_blocked', 'logout', 'user_add', 'user_delete', 'user_password', 'user_disable', 'user_enable',
  'token_create', 'token_revoke', 'keys_add', 'audit_export', 'export', 'tag_add', 'tag_remove', 'note_add', 'note_delete',
  'legal_hold', 'legal_hold_release', 'sensor_delete'];

export async function showAudit(ctx) {
  document.title = 'Audit log · spanrec';
  const q = ctx.query;
  const offset = Math.max(0, Number(q.get('offset')) || 0);
  const user = q.get('user') || '';
  const action = q.get('action') || '';
  const from = q.get('from') || '';
  const to = q.get('to') || '';
  const status = h('p', { class: 'result-count', 'aria-live': 'polite' }, 'Loading…');
  const body = h('tbody');
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages' });
  const userIn = h('input', { id: 'audit-user', type: 'search', value: user, autocomplete: 'off', placeholder: 'any user' });
  const actionIn = h('select', { id: 'audit-action' },
    h('option', { value: '' }, 'Any action'),
    ACTIONS.map((a) => h('option', { value: a, selected: a === action }, a.replaceAll('_', ' '))));
  const fromIn = h('input', { id: 'audit-from', type: 'datetime-local', value: f.toLocalInput(from) });
  const toIn = h('input', { id: 'audit-to', type: 'datetime-local', value: f.toLocalInput(to) });
  const filters = { user, action, from, to };
  const csv = h('a', { class: 'btn', id: 'audit-csv', href: `/api/audit.csv${query(filters)}`, download: '' }, 'Export CSV');
  const form = h('form', { class: 'audit-filters', role: 'search', 'aria-label': 'Filter the audit log' },
    h('div', { class: 'field' }, h('label', { for: 'audit-from' }, `From (${f.timezone()})`), fromIn),
    h('div', { class: 'field' }, h('label', { for: 'audit-to' }, `To (${f.timezone()})`), toIn),
    h('div', { class: 'field' }, h('label', { for: 'audit-user' }, 'User'), userIn),
    h('div', { class: 'field' }, h('label', { for: 'audit-action' }, 'Action'), actionIn),
    h('div', { class: 'filter-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Filter'), csv));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go(`#/audit${query({ user: userIn.value.trim(), action: actionIn.value, from: f.fromLocalInput(fromIn.value), to: f.fromLocalInput(toIn.value) })}`);
  });

  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Audit log'), h('p', { class: 'muted' }, `Times in ${f.timezone()}`)),
    h('section', { class: 'panel panel-table' },
      form,
      h('div', { class: 'table-head' }, status),
      h('div', { class: 'table-scroll' }, h('table', { class: 'calls audit', id: 'audit' },
        h('thead', {}, h('tr', {}, ['Time', 'User', 'Action', 'Call', 'From', 'Detail'].map((c) => h('th', { scope: 'col' }, c)))),
        body)),
      pager));

  const res = await get(`/api/audit${query({ limit: LIMIT, offset, ...filters })}`, ctx.signal);
  const entries = res.entries || [];
  const total = res.total ?? entries.length;
  status.textContent = entries.length ? `${offset + 1}–${offset + entries.length} of ${total} entries` : 'No entries.';
  for (const e of entries) {
    body.append(h('tr', { 'data-action': e.action },
      h('td', { class: 'time', title: e.at }, f.dateTime(e.at)),
      h('td', {}, e.user || '–'),
      h('td', {}, h('span', { class: ['pill', 'action', `action-${String(e.action || '').replace(/[^a-z0-9_-]/gi, '')}`] }, (e.action || '').replaceAll('_', ' '))),
      h('td', { class: 'mono' }, e.call_id ? h('a', { href: `#/calls/${encodeURIComponent(e.call_id)}` }, e.call_id) : '–'),
      h('td', { class: 'mono' }, e.remote || ''),
      h('td', { class: 'detail' }, e.detail || '')));
  }
  const at = (o) => `#/audit${query({ ...filters, offset: o > 0 ? o : '' })}`;
  const prev = h('a', { class: 'btn btn-small', href: at(Math.max(0, offset - LIMIT)) }, '← Newer');
  const next = h('a', { class: 'btn btn-small', href: at(offset + LIMIT) }, 'Older →');
  for (const [a, off] of [[prev, offset <= 0], [next, offset + LIMIT >= total]]) {
    if (off) { a.removeAttribute('href'); a.setAttribute('aria-disabled', 'true'); a.classList.add('disabled'); }
  }
  pager.append(prev, h('span', { class: 'page-no' }, `Page ${Math.floor(offset / LIMIT) + 1} of ${Math.max(1, Math.ceil(total / LIMIT))}`), next);
}
