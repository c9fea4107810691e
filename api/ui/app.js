// spanrec web UI: the session, the hash router and the page shell. Each view
// lives in its own module and renders into <main>; a view gets a context
// with an AbortSignal that fires when the user navigates away, and may
// return a cleanup function (to close an EventSource, stop audio...).

import { APIError, get, post, setCSRF } from './api.js';
import { h, clear } from './dom.js';
import { showLogin } from './view-login.js';
import { showCalls } from './view-calls.js';
import { showCall } from './view-call.js';
import { showLive } from './view-live.js';
import { showAudit } from './view-audit.js';
import { showAdmin } from './view-admin.js';
import { showDashboard } from './view-dashboard.js';
import { installKeys } from './keys.js';
import { setUTC, utc } from './format.js';

const main = document.getElementById('main');

/** session is the signed-in user: {user, role, extensions} or null. */
let session = null;

const routes = [
  { re: /^#\/login$/, view: showLogin, open: true },
  { re: /^#\/calls\/([^/?]+)(?:\?(.*))?$/, view: showCall, nav: 'calls' },
  { re: /^#\/calls(?:\?(.*))?$/, view: showCalls, nav: 'calls' },
  { re: /^#\/live$/, view: showLive, nav: 'live' },
  { re: /^#\/audit(?:\?(.*))?$/, view: showAudit, nav: 'audit' },
  { re: /^#\/admin$/, view: showAdmin, nav: 'admin' },
  { re: /^#\/dashboard(?:\?(.*))?$/, view: showDashboard, nav: 'dashboard' },
];

let current = null; // {abort: AbortController, cleanup: function|undefined}

function leave() {
  if (!current) return;
  current.abort.abort();
  if (typeof current.cleanup === 'function') {
    try { current.cleanup(); } catch (err) { console.error(err); }
  }
  current = null;
}

/** go navigates to hash (replacing the history entry when replace is set). */
export function go(hash, replace = false) {
  if (location.hash === hash) { route(); return; }
  if (replace) { history.replaceState(null, '', hash); route(); }
  else location.hash = hash;
}

/** toast shows a short message at the bottom of the screen. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: ['toast', `toast-${kind}`] }, message);
  box.append(t);
  setTimeout(() => t.remove(), 6000);
}

/** failed renders an error page for err (401 goes to the login page). */
export function failed(err, ctx) {
  if (err && err.name === 'AbortError') return;
  if (err instanceof APIError && err.status === 401) {
    signedOut();
    return;
  }
  console.error(err);
  let title = 'Something went wrong';
  let text = err && err.message ? err.message : String(err);
  if (err instanceof APIError) {
    if (err.status === 403) { title = 'Access denied'; text = 'You are not allowed to see this. Agents can only open their own calls.'; }
    else if (err.status === 404) { title = 'Not found'; text = 'There is no such call or page. It may have been deleted.'; }
    else if (err.status === 429) { title = 'Too many requests'; text = 'Wait a moment and try again.'; }
  }
  const code = err instanceof APIError && err.status ? err.status : '';
  clear(main).append(h('section', { class: 'panel error-page', 'aria-labelledby': 'err-title' },
    h('p', { class: 'error-code', 'data-status': code }, code ? `Error ${code}` : 'Error'),
    h('h1', { id: 'err-title', tabindex: '-1' }, title),
    h('p', {}, text),
    h('p', {}, h('a', { class: 'btn', href: '#/calls' }, 'Back to calls'))));
  document.title = `${title} · spanrec`;
  if (ctx) main.querySelector('h1').focus();
}

function signedOut() {
  session = null;
  setCSRF('');
  const back = location.hash && !location.hash.startsWith('#/login') ? location.hash : '';
  sessionStorage.setItem('spanrec.after-login', back);
  go('#/login', true);
}

function shell() {
  const bar = document.getElementById('topbar');
  bar.hidden = !session;
  if (!session) return;
  document.getElementById('who').replaceChildren(
    h('span', { class: 'who-name' }, session.user),
    h('span', { class: ['role', `role-${session.role}`] }, session.role));
  document.getElementById('nav-audit').hidden = session.role !== 'admin';
  document.getElementById('nav-admin').hidden = session.role !== 'admin';
  document.getElementById('nav-dashboard').hidden = session.role === 'agent';
}

function markNav(name) {
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

async function route() {
  leave();
  const hash = location.hash || '#/calls';
  const r = routes.find((x) => x.re.test(hash));
  if (!r) { go('#/calls', true); return; }
  if (!r.open && !session) { signedOut(); return; }
  if (r.open && session) { go('#/calls', true); return; }
  shell();
  markNav(r.nav || '');
  const m = hash.match(r.re);
  const abort = new AbortController();
  const ctx = {
    session,
    signal: abort.signal,
    param: m[1] ? decodeURIComponent(m[1]) : '',
    query: new URLSearchParams((hash.split('?')[1]) || ''),
    main,
    onSignIn,
  };
  current = { abort };
  clear(main);
  try {
    const cleanup = await r.view(ctx);
    if (abort.signal.aborted) { if (typeof cleanup === 'function') cleanup(); return; }
    current.cleanup = cleanup;
    // Move focus to the new page (for screen readers and keyboard users)
    // unless the view put it somewhere itself.
    if (!main.contains(document.activeElement)) {
      const h1 = main.querySelector('h1');
      if (h1) h1.focus({ preventScroll: true });
    }
  } catch (err) {
    if (!abort.signal.aborted) failed(err, ctx);
  }
}

function onSignIn(me) {
  document.getElementById('toasts').replaceChildren();
  session = { user: me.user, role: me.role, extensions: me.extensions || [] };
  setCSRF(me.csrf);
  const back = sessionStorage.getItem('spanrec.after-login') || '#/calls';
  sessionStorage.removeItem('spanrec.after-login');
  if (me.extensions === undefined) {
    // /api/login does not say which extensions an agent has; /api/me does.
    get('/api/me').then((full) => { session.extensions = full.extensions || []; }).catch(() => {});
  }
  go(back, true);
}

async function logout() {
  try { await post('/api/logout'); } catch (err) { /* the session is gone either way */ }
  session = null;
  setCSRF('');
  leave();
  go('#/login', true);
  toast('Signed out.');
}

async function boot() {
  document.getElementById('logout').addEventListener('click', logout);
  installKeys();
  const utcBox = document.getElementById('utc');
  utcBox.checked = utc();
  utcBox.addEventListener('change', () => { setUTC(utcBox.checked); route(); });
  try {
    const me = await get('/api/me');
    session = { user: me.user, role: me.role, extensions: me.extensions || [] };
    setCSRF(me.csrf);
  } catch (err) {
    if (!(err instanceof APIError && err.status === 401)) {
      document.getElementById('boot').textContent = `The server cannot be reached: ${err.message}`;
      return;
    }
  }
  window.addEventListener('hashchange', route);
  route();
}

boot();
