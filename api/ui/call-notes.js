// The tags and notes people put on a call: a panel on the call page. Anyone
// who may see the call may tag it and write notes; a note can be deleted by
// its author or an admin. Every change is written to the audit log.

import { APIError, callURL, del, get, post, request } from './api.js';
import { toast } from './app.js';
import { h } from './dom.js';
import * as f from './format.js';

/** annotations returns the panel of call's tags and notes. */
export function annotations(call, ctx) {
  let tags = [...(call.tags || [])];
  const tagList = h('ul', { class: 'tag-list', id: 'tags', 'aria-label': 'Tags' });
  const tagInput = h('input', {
    id: 'tag-input', maxlength: '40', placeholder: 'Add a tag', 'aria-label': 'New tag',
    pattern: '[\\p{L}\\p{N}._:/\\-]+', autocomplete: 'off',
  });
  const noteList = h('ol', { class: 'note-list', id: 'user-notes', 'aria-label': 'Notes' });
  const noteInput = h('textarea', { id: 'note-input', rows: '2', maxlength: '2000', placeholder: 'Write a note…', 'aria-label': 'New note' });
  const canDelete = (n) => n.user === ctx.session.user || ctx.session.role === 'admin';

  const drawTags = () => {
    tagList.replaceChildren(...tags.map((t) => h('li', { class: 'tag', 'data-tag': t },
      h('a', { href: `#/calls?tag=${encodeURIComponent(t)}`, title: `All calls tagged ${t}` }, t),
      h('button', {
        type: 'button', class: 'tag-remove', 'aria-label': `Remove tag ${t}`, title: 'Remove',
        onclick: async () => {
          try {
            await del(callURL(call.id, `tags/${encodeURIComponent(t)}`));
            tags = tags.filter((x) => x !== t);
            drawTags();
          } catch (err) { toast(`The tag was not removed: ${err.message}`, 'error'); }
        },
      }, '×'))));
    if (tags.length === 0) tagList.append(h('li', { class: 'muted no-tags' }, 'No tags'));
  };
  const drawNotes = (notes) => {
    noteList.replaceChildren(...notes.map((n) => h('li', { class: 'user-note', 'data-id': String(n.id) },
      h('div', { class: 'note-meta' },
        h('strong', {}, n.user), ' ', h('time', { datetime: n.at, class: 'muted' }, f.dateTime(n.at)),
        canDelete(n) ? h('button', {
          type: 'button', class: 'btn-link note-delete', 'aria-label': `Delete the note by ${n.user}`,
          onclick: async () => {
            try {
              await del(callURL(call.id, `notes/${n.id}`));
              load();
            } catch (err) { toast(`The note was not deleted: ${err.message}`, 'error'); }
          },
        }, 'Delete') : null),
      h('p', { class: 'note-text' }, n.text))));
    if (notes.length === 0) noteList.append(h('li', { class: 'muted no-notes' }, 'No notes yet.'));
  };
  const load = () => get(callURL(call.id, 'notes'), ctx.signal)
    .then((r) => drawNotes(r.notes || []))
    .catch((err) => { if (err.name !== 'AbortError') noteList.replaceChildren(h('li', { class: 'error-text' }, `Notes are not available: ${err.message}`)); });

  const tagForm = h('form', {
    class: 'tag-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const t = tagInput.value.trim().toLowerCase();
      if (!t) return;
      try {
        await request('PUT', callURL(call.id, `tags/${encodeURIComponent(t)}`));
        if (!tags.includes(t)) tags = [...tags, t].sort();
        tagInput.value = '';
        drawTags();
      } catch (err) { toast(err instanceof APIError ? `The tag was not added: ${err.message}` : String(err), 'error'); }
    },
  }, tagInput, h('button', { type: 'submit', class: 'btn', id: 'tag-add' }, 'Add'));
  const noteForm = h('form', {
    class: 'note-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const text = noteInput.value.trim();
      if (!text) return;
      try {
        await post(callURL(call.id, 'notes'), { text });
        noteInput.value = '';
        load();
      } catch (err) { toast(err instanceof APIError ? `The note was not saved: ${err.message}` : String(err), 'error'); }
    },
  }, noteInput, h('button', { type: 'submit', class: 'btn btn-primary', id: 'note-add' }, 'Save note'));

  drawTags();
  load();
  return h('section', { class: 'panel annotations', 'aria-labelledby': 'annotations-title' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'annotations-title' }, 'Tags and notes'),
      h('span', { class: 'muted' }, 'Changes are written to the audit log')),
    tagList, tagForm, noteList, noteForm);
}
