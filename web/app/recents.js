// recents.js: the images remembered in IndexedDB, listed on the start
// screen: name, size, when, verdict, whether the bytes are stored (reopen
// works offline) or only a file handle is (reopen asks for permission to
// read the file again), with reopen, forget and clear all, and the
// storage used against the quota.
//
// The engine keeps the records and the stored bytes (recent, reopen,
// forget). File handles, which only a page can use (requestPermission needs
// a click), are kept here, in a small store of their own keyed by the same
// fingerprint.

import { el, replace, human, grouped, when, errorText } from './dom.js';

const HANDLE_DB = 'vhdxview-handles';

function idb(mode, fn) {
  return new Promise((resolve, reject) => {
    if (!('indexedDB' in self)) { reject(new Error('no IndexedDB')); return; }
    const open = indexedDB.open(HANDLE_DB, 1);
    open.onupgradeneeded = () => open.result.createObjectStore('handles');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('handles', mode);
      const req = fn(tx.objectStore('handles'));
      tx.oncomplete = () => { db.close(); resolve(req && req.result); };
      tx.onerror = () => { db.close(); reject(tx.error); };
      tx.onabort = () => { db.close(); reject(tx.error); };
    };
  });
}

// Handles: the FileSystemFileHandle of each dropped file, by key.
export const handles = {
  put: (key, h) => idb('readwrite', (s) => s.put(h, key)).catch(() => {}),
  get: (key) => idb('readonly', (s) => s.get(key)).catch(() => undefined),
  all: () => idb('readonly', (s) => s.getAllKeys()).catch(() => []),
  delete: (key) => idb('readwrite', (s) => s.delete(key)).catch(() => {}),
  clear: () => idb('readwrite', (s) => s.clear()).catch(() => {}),
};

// fileFromHandle asks for permission to read when needed (this must run in
// a click) and returns the File.
export async function fileFromHandle(h) {
  const opts = { mode: 'read' };
  if (h.queryPermission && (await h.queryPermission(opts)) !== 'granted') {
    if (!h.requestPermission || (await h.requestPermission(opts)) !== 'granted') {
      throw new Error(`permission to read ${h.name} was not given`);
    }
  }
  return h.getFile();
}

// renderRecents fills root. data: {records, usage} from vhdxview.recent(),
// or {error}; handleKeys: keys with a stored file handle; actions:
// {reopen(rec), forget(rec), clear(), keepCopies (the user's choice, see
// keeping.js), setKeepCopies(on)}.
export function renderRecents(root, data, handleKeys, actions) {
  if (data.error) {
    replace(root, el('p', { class: 'notice warn', text: `Recent images are not available: ${errorText(data.error)}` }));
    return;
  }
  const recs = (data.records || []).filter((r) => isTopLevel(r, data.records));
  const hk = new Set(handleKeys || []);
  const head = el('div', { class: 'recents-head' },
    el('h2', { text: 'Recent images' }),
    usageText(data.usage),
    recs.length ? el('button', { type: 'button', class: 'small', id: 'recents-clear', text: 'Clear all', on: { click: actions.clear } }) : null);
  const keep = el('label', { class: 'keep-copies' },
    el('input', { type: 'checkbox', id: 'keep-copies', checked: actions.keepCopies || undefined, on: { change: (e) => actions.setKeepCopies(e.target.checked) } }),
    ' Keep copies of the images I open in this browser, to reopen them offline');
  if (!recs.length) {
    replace(root, head, keep, el('p', { class: 'muted empty', text: actions.keepCopies
      ? 'Images you open are remembered here (in this browser only), with a copy, so you can reopen them with one click, also offline.'
      : 'Images you open are listed here (in this browser only): name, size, summary and check verdict, not their contents.' }));
    return;
  }
  const list = el('ul', { class: 'recents-list', id: 'recents-list' });
  for (const r of recs) {
    const s = r.summary || {};
    const stored = r.has_bytes;
    const handle = hk.has(r.key);
    const how = stored ? badge('ok', 'stored', 'the bytes are kept in this browser: reopens offline')
      : handle ? badge('muted', 'handle only', 'only a link to the file is kept: reopening asks to read it again')
        : badge('muted', 'not stored', 'only the summary is kept (no copy), or the copy was too large for the quota: open the file again');
    const v = r.verify;
    const verdict = v ? (v.verdict === 'clean' ? badge('ok', 'clean') : badge(v.errors ? 'bad' : 'warn', v.errors ? `${v.errors} ${v.errors === 1 ? 'error' : 'errors'}` : `${v.warnings} ${v.warnings === 1 ? 'warning' : 'warnings'}`))
      : badge('muted', 'not checked');
    const chain = s.chain && s.chain.length > 1 ? ` · chain of ${s.chain.length}` : '';
    const open = el('button', {
      type: 'button', class: 'recent-open', disabled: !stored && !handle || undefined,
      title: stored || handle ? `Reopen ${r.name}` : 'The bytes were not kept; open the file again',
      on: { click: () => actions.reopen(r, { stored, handle }) },
    },
    el('span', { class: 'recent-name', text: r.name }),
    el('span', { class: 'recent-meta', text: `${s.type || 'vhdx'} · ${human(s.virtual_size || 0)} disk · ${human(r.size)} file${chain} · ${when(r.last_used || r.opened_at)}` }));
    list.append(el('li', { class: 'recent', data: { key: r.key, name: r.name } },
      open,
      el('span', { class: 'recent-badges' }, verdict, how, r.pinned ? badge('ok', 'pinned', 'a copy is kept whatever the setting, and never evicted for others') : null),
      el('button', { type: 'button', class: 'icon-button forget', title: `Forget ${r.name}`, 'aria-label': `Forget ${r.name}`, text: '✕', on: { click: () => actions.forget(r) } })));
  }
  replace(root, head, keep, list);
}

// isTopLevel hides files that are listed as a parent in another record's
// chain: reopening the child reopens them with it.
function isTopLevel(r, all) {
  return !all.some((o) => o !== r && o.summary && o.summary.chain &&
    o.summary.chain.some((l) => l.level > 0 && l.key === r.key));
}

function usageText(u) {
  if (!u) return null;
  const parts = [`${grouped(u.records)} remembered, ${human(u.stored_bytes)} stored`];
  if (u.estimated && u.quota) parts.push(`storage used ${human(u.usage)} of ${human(u.quota)}`);
  return el('span', { class: 'recents-usage muted', id: 'recents-usage', text: parts.join(' · ') });
}

function badge(kind, text, title) {
  return el('span', { class: `badge ${kind}`, text, title });
}
