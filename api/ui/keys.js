// Keyboard shortcuts of the whole UI and their help overlay (press ?).
// A shortcut never fires while the user types in a field. Space (play or
// pause) belongs to the call page, which handles it itself; it is listed
// here so that the help tells all.

import { h } from './dom.js';

const LIST_KEY = 'spanrec.list';

export const SHORTCUTS = [
  ['/', 'Search: focus the page\'s search field'],
  ['j', 'Next call (in a list, or the next call of the last list on a call page)'],
  ['k', 'Previous call'],
  ['Enter', 'Open the selected call'],
  ['Space', 'Play or pause the recording (call page)'],
  ['←  →', 'Seek 5 s back or forward (waveform focused)'],
  ['?', 'Show or hide this help'],
  ['Esc', 'Close this help or a dialog'],
];

// typing tells whether a key belongs to a field the user types in.
function typing(t) {
  return t instanceof Element && !!t.closest('input, textarea, select, [contenteditable="true"]');
}

function rows() {
  return [...document.querySelectorAll('main tr[data-id]')];
}

// remember keeps the IDs of the call list on screen, so that j and k on a
// call page opened from it go to its next and previous calls.
function remember() {
  const ids = [...document.querySelectorAll('#calls tr[data-id]')].map((tr) => tr.dataset.id);
  if (ids.length === 0) return;
  try { sessionStorage.setItem(LIST_KEY, JSON.stringify(ids)); } catch { /* not kept */ }
}

function step(delta) {
  const list = rows();
  if (list.length > 0) {
    const at = list.indexOf(document.activeElement?.closest('tr[data-id]'));
    const next = at < 0 ? (delta > 0 ? 0 : list.length - 1) : Math.min(list.length - 1, Math.max(0, at + delta));
    // Rows that are not in the Tab order (the live view's) can still take
    // focus from the shortcut.
    if (list[next].tabIndex < 0 && !list[next].hasAttribute('tabindex')) list[next].tabIndex = -1;
    list[next].focus();
    list[next].scrollIntoView({ block: 'nearest' });
    return;
  }
  const m = location.hash.match(/^#\/calls\/([^/?]+)$/);
  if (!m) return;
  let ids = [];
  try { ids = JSON.parse(sessionStorage.getItem(LIST_KEY) || '[]'); } catch { ids = []; }
  const at = ids.indexOf(decodeURIComponent(m[1]));
  const id = at < 0 ? undefined : ids[at + delta];
  if (id) location.hash = `#/calls/${encodeURIComponent(id)}`;
}

let dialog = null;

/** toggleHelp opens the shortcut overlay, or closes it when open. */
export function toggleHelp() {
  if (!dialog) {
    dialog = h('dialog', { class: 'dialog help', id: 'help-dialog', 'aria-labelledby': 'help-title' },
      h('h2', { id: 'help-title' }, 'Keyboard shortcuts'),
      h('table', { class: 'shortcuts' },
        h('caption', { class: 'sr-only' }, 'Keyboard shortcuts'),
        h('tbody', {}, SHORTCUTS.map(([k, what]) => h('tr', {},
          h('th', { scope: 'row' }, k.split('  ').map((x) => h('kbd', {}, x))), h('td', {}, what))))),
      h('p', { class: 'muted' }, 'Times are shown in this browser\'s time zone; tick UTC in the top bar to show them in UTC.'),
      h('form', { method: 'dialog', class: 'dialog-actions' }, h('button', { class: 'btn btn-primary', value: 'close' }, 'Close')));
    document.body.append(dialog);
  }
  if (dialog.open) dialog.close();
  else dialog.showModal();
}

function onKey(e) {
  if (e.ctrlKey || e.altKey || e.metaKey || e.defaultPrevented) return;
  if (e.key === '?' && !typing(e.target)) {
    e.preventDefault();
    toggleHelp();
    return;
  }
  if (typing(e.target) || document.querySelector('dialog[open]')) return;
  if (e.key === '/') {
    const field = document.querySelector('main [role="search"] input:not([type="hidden"])');
    if (field) { e.preventDefault(); field.focus(); field.select?.(); }
  } else if (e.key === 'j' || e.key === 'k') {
    e.preventDefault();
    step(e.key === 'j' ? 1 : -1);
  }
}

/** installKeys wires the shortcuts; call it once, before the router's hashchange listener. */
export function installKeys() {
  window.addEventListener('hashchange', remember);
  document.addEventListener('keydown', onKey);
  document.getElementById('help')?.addEventListener('click', toggleHelp);
}
