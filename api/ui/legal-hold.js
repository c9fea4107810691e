// Legal hold on the call page: while a call is held, no retention rule,
// disk guard or admin deletes it. Supervisors and admins see that a call
// is held (the API tells agents nothing); admins put it under hold (with a
// reason) and release it. Both are audited.

import { APIError, callURL, del, post } from './api.js';
import { toast } from './app.js';
import { h } from './dom.js';
import * as f from './format.js';

/** legalHold returns the hold badge and, for admins, its button; it draws
 * itself again after each change. onChange gets the call as it is then. */
export function legalHold(call, ctx, onChange) {
  const box = h('span', { class: 'legal-hold', id: 'legal-hold' });
  const admin = ctx.session.role === 'admin';
  const draw = (c) => {
    const hold = c.legal_hold;
    box.replaceChildren(...[
      hold ? h('span', {
        class: 'pill hold-badge', id: 'hold-badge',
        title: `By ${hold.by} on ${f.dateTime(hold.at)}${hold.reason ? `: ${hold.reason}` : ''}`,
      }, '⚖ Legal hold', hold.reason ? ` · ${hold.reason}` : '') : null,
      admin ? h('button', {
        type: 'button', class: 'btn', id: 'hold-toggle',
        onclick: () => (hold ? release(c) : confirmHold(c)),
      }, hold ? 'Release hold…' : 'Legal hold…') : null].filter(Boolean)); // replaceChildren writes a null as "null"
    if (onChange) onChange(c);
  };
  const apply = async (p, done) => {
    try {
      const c = await p;
      toast(done);
      draw(c);
    } catch (err) {
      toast(err instanceof APIError ? `Legal hold not changed: ${err.message}` : String(err), 'error');
    }
  };
  const confirmHold = (c) => {
    const reason = h('input', { id: 'hold-reason', maxlength: '1000', autocomplete: 'off', 'aria-label': 'Reason' });
    dialog('Put this call under legal hold?',
      'No retention rule, no disk guard and no admin can delete it until the hold is released. The hold is written to the audit log.',
      h('label', { class: 'field' }, 'Reason (case, ticket)', reason), 'Hold call', 'btn-primary',
      () => apply(post(callURL(c.id, 'legal-hold'), { reason: reason.value.trim() }), 'The call is under legal hold.'));
  };
  const release = (c) => dialog('Release the legal hold?',
    'Retention rules and the disk guard may delete the call again. The release is written to the audit log.',
    null, 'Release hold', 'btn-danger-solid',
    () => apply(del(callURL(c.id, 'legal-hold')), 'The legal hold was released.'));
  draw(call);
  return box;
}

function dialog(title, text, field, ok, okClass, onOK) {
  const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': 'hold-title' },
    h('form', { method: 'dialog' },
      h('h2', { id: 'hold-title' }, title),
      h('p', {}, text),
      field,
      h('div', { class: 'dialog-actions' },
        h('button', { value: 'cancel', class: 'btn' }, 'Cancel'),
        h('button', { value: 'ok', class: ['btn', okClass], id: 'hold-ok' }, ok))));
  document.body.append(dlg);
  dlg.addEventListener('close', () => {
    dlg.remove();
    if (dlg.returnValue === 'ok') onOK();
  });
  dlg.showModal();
}
