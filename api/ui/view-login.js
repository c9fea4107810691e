// #/login: the sign-in form.

import { APIError, post } from './api.js';
import { h } from './dom.js';

export function showLogin(ctx) {
  document.title = 'Sign in · spanrec';
  const err = h('p', { class: 'form-error', id: 'login-error', role: 'alert' });
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-wide' }, 'Sign in');
  const form = h('form', { class: 'login-form', 'aria-describedby': 'login-error', novalidate: true },
    h('div', { class: 'field' }, h('label', { for: 'login-user' }, 'User name'), user),
    h('div', { class: 'field' }, h('label', { for: 'login-password' }, 'Password'), pass),
    err, submit);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    if (!user.value || !pass.value) {
      err.textContent = 'Enter your user name and password.';
      (user.value ? pass : user).focus();
      return;
    }
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      const me = await post('/api/login', { user: user.value, password: pass.value });
      ctx.onSignIn(me);
    } catch (ex) {
      submit.disabled = false;
      submit.textContent = 'Sign in';
      if (ex instanceof APIError && ex.status === 401) err.textContent = 'Wrong user name or password.';
      else if (ex instanceof APIError && ex.status === 429) err.textContent = 'Too many attempts. Wait a minute, then try again.';
      else err.textContent = ex.message;
      pass.select();
      pass.focus();
    }
  });

  ctx.main.append(h('section', { class: 'login', 'aria-labelledby': 'login-title' },
    h('div', { class: 'login-card' },
      h('div', { class: 'login-brand' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'spanrec'),
      h('h1', { id: 'login-title' }, 'Sign in'),
      h('p', { class: 'muted' }, 'Call recordings are personal data. Every playback and download is logged.'),
      form)));
  user.focus();
}
