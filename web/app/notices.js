// notices.js: the message cards above the views (errors, warnings, news),
// with a diagnostic report for bugs.

import { $, el, errorText, replace } from './dom.js';
import { S } from './state.js';
import * as api from '../vhdxview.js';

// notify shows a message card: {kind: error|warn|info, title, detail,
// next (what to do), actions: [{label, fn}], id, error}. detail defaults
// to error's message. Errors never go only to the console. A bug (an
// engine InternalError, or bug: true for the page's own) gets a "Copy
// diagnostic report" button.
export function notify({ kind = 'error', title, detail, next, actions = [], id, error, bug = false }) {
  const box = $('#messages');
  if (id) for (const old of box.querySelectorAll(`[data-id="${id}"]`)) old.remove();
  if (detail === undefined && error !== undefined) detail = errorText(error);
  bug = bug || (!!error && error.name === 'InternalError');
  const card = el('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status', data: { id: id || '' } });
  const close = el('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', title: 'Dismiss', text: '✕', on: { click: () => card.remove() } });
  const body = el('div', { class: 'body' },
    el('p', { class: 'title', text: title }),
    next ? el('p', { class: 'next', text: next }) : null,
    detail ? el('p', { class: 'detail', text: detail }) : null,
    actions.length ? el('div', { class: 'actions' }, actions.map((a) => el('button', {
      type: 'button', class: a.primary ? 'primary small' : 'small', text: a.label,
      on: { click: () => { card.remove(); a.fn(); } },
    }))) : null);
  if (bug) body.append(bugReport(error));
  card.append(body, close);
  box.append(card);
  return card;
}


// diagnosticReport is the text a person can send with a bug report: what
// failed and where in the code, never file contents (nor file names but
// those in the message the notice shows).
export function diagnosticReport(error) {
  const about = api.engineInfo();
  const e = error && typeof error === 'object' ? error : { message: String(error) };
  return [
    'vhdxview diagnostic report',
    `engine: ${about && about.version ? about.version : 'not started'}${S.pageBuild ? ` (build ${S.pageBuild.slice(0, 12)})` : ''}`,
    `browser: ${navigator.userAgent}`,
    `op: ${e.request || '(the page)'}`,
    `error: ${e.name || 'Error'}: ${e.message || ''}`,
    'stack:',
    String(e.stack || '(none)'),
  ].join('\n');
}

// bugReport is the part of a bug's notice that offers the report: a
// button that copies it, or shows it to copy by hand where the clipboard
// is refused.
export function bugReport(error) {
  const status = el('span', { class: 'muted', role: 'status' });
  const button = el('button', {
    type: 'button', class: 'small', text: 'Copy diagnostic report',
    on: {
      click: async () => {
        const text = diagnosticReport(error);
        try {
          await navigator.clipboard.writeText(text);
          status.textContent = 'Copied. Paste it into your report.';
        } catch {
          const area = el('textarea', { class: 'report mono', readonly: true, rows: 8, 'aria-label': 'Diagnostic report' });
          area.value = text;
          area.style.width = '100%';
          status.replaceWith(area);
          area.select();
        }
      },
    },
  });
  return el('div', { class: 'bug' },
    el('p', { class: 'next', text: 'This is a bug in vhdxview. Please report it with the diagnostic report (it holds no file contents).' }),
    el('div', { class: 'actions' }, button, status));
}

export function clearMessages() { replace($('#messages')); }
