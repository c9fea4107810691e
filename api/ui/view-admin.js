// #/admin: users and API tokens (admins). Add a user (an agent needs an
// extension), set a password, disable or enable, delete; create a token
// (shown once) and revoke one. Every change is in the audit log.

import { APIError, del, get, post, request } from './api.js';
import { toast } from './app.js';
import { h } from './dom.js';
import * as f from './format.js';

const ROLES = ['agent', 'supervisor', 'admin'];

// ask shows a modal dialog with the given body and buttons, and resolves
// to the form's values (a Map) when the button named ok is pressed, or null.
function ask({ title, body = [], ok, okClass = 'btn-primary', cancel = 'Cancel' }) {
  return new Promise((resolve) => {
    const form = h('form', { method: 'dialog' },
      h('h2', { id: 'ask-title' }, title),
      body,
      h('div', { class: 'dialog-actions' },
        cancel ? h('button', { value: 'cancel', class: 'btn', formnovalidate: true }, cancel) : null,
        h('button', { value: 'ok', class: ['btn', okClass] }, ok)));
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'ask-title' }, form);
    document.body.append(dlg);
    dlg.addEventListener('close', () => {
      const values = new Map(new FormData(form));
      dlg.remove();
      resolve(dlg.returnValue === 'ok' ? values : null);
    });
    dlg.showModal();
    const first = form.querySelector('input');
    if (first) first.focus();
  });
}

// showSecret shows a password or token once, with a copy button.
async function showSecret(title, what, secret) {
  const out = h('input', { id: 'secret-value', class: 'mono secret', readonly: true, value: secret, 'aria-describedby': 'secret-note' });
  const copy = h('button', { type: 'button', class: 'btn btn-small' }, 'Copy');
  copy.addEventListener('click', async () => {
    out.select();
    try { await navigator.clipboard.writeText(secret); copy.textContent = 'Copied'; } catch { copy.textContent = 'Select and copy'; }
  });
  await ask({
    title,
    body: [
      h('p', { id: 'secret-note' }, `This ${what} is shown only now: copy it and hand it over safely. spanrec keeps only its hash.`),
      h('div', { class: 'field' }, h('label', { for: 'secret-value' }, what[0].toUpperCase() + what.slice(1)), h('div', { class: 'secret-row' }, out, copy)),
    ],
    ok: 'Done',
    cancel: '',
  });
}

function failedToast(prefix, err) {
  toast(`${prefix}: ${err instanceof APIError ? err.message : String(err)}`, 'error');
}

export async function showAdmin(ctx) {
  document.title = 'Users and tokens · spanrec';
  // The data first: a non-admin gets the API's 403 as the error page.
  let [users, tokens] = await Promise.all([get('/api/users', ctx.signal), get('/api/tokens', ctx.signal)]);

  const userBody = h('tbody');
  const tokenBody = h('tbody');
  const userCount = h('p', { class: 'result-count', 'aria-live': 'polite' });
  const tokenCount = h('p', { class: 'result-count', 'aria-live': 'polite' });
  const tokenUser = h('select', { id: 'token-user', name: 'user', required: true });

  const reload = async () => {
    [users, tokens] = await Promise.all([get('/api/users', ctx.signal), get('/api/tokens', ctx.signal)]);
    render();
  };

  const render = () => {
    userCount.textContent = `${users.length} user${users.length === 1 ? '' : 's'}`;
    userBody.replaceChildren(...users.map(userRow));
    tokenCount.textContent = tokens.length ? `${tokens.length} token${tokens.length === 1 ? '' : 's'}` : 'No API tokens.';
    tokenBody.replaceChildren(...(tokens.length ? tokens.map(tokenRow)
      : [h('tr', { class: 'empty' }, h('td', { colspan: '6' }, 'No API tokens yet.'))]));
    const keep = tokenUser.value;
    tokenUser.replaceChildren(...users.map((u) => h('option', { value: u.name, selected: u.name === keep }, u.name)));
  };

  const userRow = (u) => {
    const self = u.name === ctx.session.user;
    const pw = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Set the password of ${u.name}` }, 'Password…');
    pw.addEventListener('click', async () => {
      const v = await ask({
        title: `New password for ${u.name}`,
        body: [
          h('p', {}, 'The user\'s sessions end. Leave the field empty to generate a password.'),
          h('div', { class: 'field' }, h('label', { for: 'new-password' }, 'Password (10 characters or more)'),
            h('input', { id: 'new-password', name: 'password', type: 'password', autocomplete: 'new-password', minlength: '10' })),
        ],
        ok: 'Set password',
      });
      if (!v) return;
      try {
        const res = await request('PUT', `/api/users/${encodeURIComponent(u.name)}/password`, { password: v.get('password') || '' });
        if (res && res.password) await showSecret(`Password of ${u.name}`, 'password', res.password);
        else toast(`The password of ${u.name} was changed.`);
      } catch (err) { failedToast('Password not changed', err); }
    });
    const able = h('button', {
      type: 'button', class: ['btn', 'btn-small', u.disabled ? '' : 'btn-danger'], disabled: self && !u.disabled,
      'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.name}`, title: self ? 'You cannot disable yourself' : undefined,
    }, u.disabled ? 'Enable' : 'Disable');
    able.addEventListener('click', async () => {
      try {
        await request('PATCH', `/api/users/${encodeURIComponent(u.name)}`, { disabled: !u.disabled });
        toast(`${u.name} is ${u.disabled ? 'enabled' : 'disabled'}.`);
        await reload();
      } catch (err) { failedToast('Not changed', err); }
    });
    const rm = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Delete ${u.name}` }, 'Delete');
    rm.addEventListener('click', async () => {
      const v = await ask({
        title: `Delete ${u.name}?`,
        body: [h('p', {}, 'The user, the user\'s sessions and API tokens are removed. The audit log keeps what the user did.')],
        ok: 'Delete user', okClass: 'btn-danger-solid',
      });
      if (!v) return;
      try {
        await del(`/api/users/${encodeURIComponent(u.name)}`);
        toast(`${u.name} was deleted.`);
        await reload();
      } catch (err) { failedToast('Not deleted', err); }
    });
    return h('tr', { 'data-user': u.name, class: u.disabled ? 'is-disabled' : '' },
      h('th', { scope: 'row' }, u.name, self ? h('span', { class: 'muted' }, ' (you)') : null),
      h('td', {}, h('span', { class: ['role', `role-${u.role}`] }, u.role)),
      h('td', { class: 'mono' }, (u.extensions || []).join(', ') || '–'),
      h('td', { class: 'time', title: u.created }, f.dateTime(u.created)),
      h('td', {}, u.disabled ? h('span', { class: 'pill st-failed' }, 'Disabled') : h('span', { class: 'pill st-answered' }, 'Active')),
      h('td', { class: 'row-actions' }, pw, able, rm));
  };

  const tokenRow = (t) => {
    const rm = h('button', { type: 'button', class: 'btn btn-small btn-danger', 'aria-label': `Revoke token ${t.id} (${t.name || 'no label'})` }, 'Revoke');
    rm.addEventListener('click', async () => {
      const v = await ask({
        title: `Revoke token ${t.id}?`,
        body: [h('p', {}, `Programs using the token “${t.name || t.id}” of ${t.user} lose access at once.`)],
        ok: 'Revoke token', okClass: 'btn-danger-solid',
      });
      if (!v) return;
      try {
        await del(`/api/tokens/${t.id}`);
        toast(`Token ${t.id} was revoked.`);
        await reload();
      } catch (err) { failedToast('Not revoked', err); }
    });
    return h('tr', { 'data-token': String(t.id) },
      h('td', { class: 'num' }, String(t.id)),
      h('td', {}, t.user),
      h('td', {}, t.name || h('span', { class: 'muted' }, 'no label')),
      h('td', { class: 'time', title: t.created }, f.dateTime(t.created)),
      h('td', { class: 'time', title: t.last_used || '' }, t.last_used ? f.dateTime(t.last_used) : 'never'),
      h('td', { class: 'row-actions' }, rm));
  };

  // Add a user.
  const nameIn = h('input', { id: 'new-name', name: 'name', required: true, autocomplete: 'off', maxlength: '64' });
  const roleIn = h('select', { id: 'new-role', name: 'role' }, ROLES.map((r) => h('option', { value: r }, r)));
  const extIn = h('input', { id: 'new-ext', name: 'extensions', autocomplete: 'off', placeholder: '201, 202', 'aria-describedby': 'new-ext-hint' });
  const extHint = h('span', { class: 'hint', id: 'new-ext-hint' }, 'Required for agents: they see only these numbers\' calls.');
  const passIn = h('input', { id: 'new-pass', name: 'password', type: 'password', autocomplete: 'new-password', minlength: '10', placeholder: 'empty: generate one' });
  const addErr = h('p', { class: 'form-error', id: 'add-error', role: 'alert' });
  const addForm = h('form', { class: 'admin-form', 'aria-labelledby': 'add-title', 'aria-describedby': 'add-error', novalidate: true },
    h('h3', { id: 'add-title' }, 'Add a user'),
    h('div', { class: 'field' }, h('label', { for: 'new-name' }, 'User name'), nameIn),
    h('div', { class: 'field' }, h('label', { for: 'new-role' }, 'Role'), roleIn),
    h('div', { class: 'field' }, h('label', { for: 'new-ext' }, 'Extensions'), extIn, extHint),
    h('div', { class: 'field' }, h('label', { for: 'new-pass' }, 'Password'), passIn),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add user')),
    addErr);
  addForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    addErr.textContent = '';
    const exts = extIn.value.split(/[\s,]+/).filter(Boolean);
    if (!nameIn.value.trim()) { addErr.textContent = 'Enter a user name.'; nameIn.focus(); return; }
    if (roleIn.value === 'agent' && exts.length === 0) {
      addErr.textContent = 'An agent needs at least one extension.';
      extIn.setAttribute('aria-invalid', 'true');
      extIn.focus();
      return;
    }
    extIn.removeAttribute('aria-invalid');
    try {
      const u = await post('/api/users', { name: nameIn.value.trim(), role: roleIn.value, extensions: exts, password: passIn.value });
      addForm.reset();
      await reload();
      if (u.password) await showSecret(`Password of ${u.name}`, 'password', u.password);
      else toast(`${u.name} was added.`);
    } catch (err) {
      addErr.textContent = err instanceof APIError ? err.message : String(err);
    }
  });

  // Create a token.
  const labelIn = h('input', { id: 'token-name', name: 'name', maxlength: '100', autocomplete: 'off', placeholder: 'e.g. crm-export' });
  const tokErr = h('p', { class: 'form-error', id: 'token-error', role: 'alert' });
  const tokForm = h('form', { class: 'admin-form', 'aria-labelledby': 'token-title', 'aria-describedby': 'token-error', novalidate: true },
    h('h3', { id: 'token-title' }, 'Create an API token'),
    h('div', { class: 'field' }, h('label', { for: 'token-user' }, 'For user'), tokenUser),
    h('div', { class: 'field' }, h('label', { for: 'token-name' }, 'Label'), labelIn),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create token')),
    tokErr);
  tokForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    tokErr.textContent = '';
    try {
      const t = await post('/api/tokens', { user: tokenUser.value, name: labelIn.value.trim() });
      labelIn.value = '';
      await reload();
      await showSecret(`Token ${t.id} for ${t.user}`, 'token', t.token);
    } catch (err) {
      tokErr.textContent = err instanceof APIError ? err.message : String(err);
    }
  });

  ctx.main.append(
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Users and API tokens'), h('p', { class: 'muted' }, `Times in ${f.timezone()}`)),
    h('section', { class: 'panel panel-table', 'aria-labelledby': 'users-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'users-title' }, 'Users'), userCount),
      h('div', { class: 'table-scroll' }, h('table', { class: 'calls admin-table', id: 'users' },
        h('thead', {}, h('tr', {}, ['Name', 'Role', 'Extensions', 'Created', 'Status', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        userBody)),
      addForm),
    h('section', { class: 'panel panel-table', 'aria-labelledby': 'tokens-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'tokens-title' }, 'API tokens'), tokenCount),
      h('div', { class: 'table-scroll' }, h('table', { class: 'calls admin-table', id: 'tokens' },
        h('thead', {}, h('tr', {}, ['ID', 'User', 'Label', 'Created', 'Last used', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
        tokenBody)),
      tokForm));
  render();
}
