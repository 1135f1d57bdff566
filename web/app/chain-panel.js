// chain-panel.js: the "parent disk needed" screen: what the child names
// as its parent, and adding parent files to it.

import { $, el, replace } from './dom.js';
import { handles } from './recents.js';
import { openFiles, skippedLine } from './opening.js';
import { leaveImage, showScreen } from './screens.js';
import { S } from './state.js';

export function showParentNeeded(files, fileHandles, e) {
  S.pending = { files, handles: fileHandles, error: e };
  const child = e.child || files[0].name;
  const paths = (e.paths || []).filter((p) => p && p.key);
  if (!paths.some((p) => p.key === 'parent_linkage')) {
    for (const l of e.linkages || []) paths.unshift({ key: 'parent_linkage', value: `{${l}}` });
  }
  const fileName = e.parent_name || ''; // the engine's reading of the locator
  const input = parentInput('parent-input', (list) => addParents(list));
  const skipped = Array.isArray(e.skipped) ? e.skipped : [];
  replace($('#parent-needed'),
    el('h1', { id: 'parent-title', text: 'Parent disk needed' }),
    el('p', {}, el('b', { text: child }), ` is a differencing disk: it holds only the changes made over a parent disk, which was not among the ${files.length === 1 ? 'file' : 'files'} you opened.`),
    // A grandchild's parent was found (it is the disk named now): say so,
    // so that the file just added is not taken for the wrong one.
    e.level > 0 ? el('p', { class: 'chain-found', id: 'chain-found', text: `The files so far form a chain of ${e.level + 1} disks, and ${child} is the last of them: the parent it names, chain level ${e.parent_level}, is the one missing.` }) : null,
    el('p', { text: fileName ? `Add its parent, ${fileName}. The child names it as:` : 'Add its parent. The child names it as:' }),
    el('dl', { class: 'locator', id: 'parent-locator' },
      paths.length ? paths.map((p) => el('div', { data: { key: p.key } }, el('dt', { text: p.key }), el('dd', { text: p.value })))
        : el('div', {}, el('dt', { text: 'locator' }), el('dd', { text: '(no parent locator entries)' }))),
    el('div', { class: 'parent-drop' },
      el('button', { type: 'button', class: 'primary', id: 'parent-add', text: 'Add parent file…', on: { click: () => input.click() } }),
      el('span', { class: 'muted', text: 'or drop it anywhere on this page' }),
      input),
    el('p', { class: 'parent-files' }, `Files so far: ${files.map((f) => f.name).join(', ')}`),
    skipped.length ? el('div', { class: 'notice warn skipped', id: 'parent-skipped' }, el('div', { class: 'body' },
      el('p', { class: 'title', text: 'Files given that are not part of this disk:' }),
      el('ul', {}, skipped.map((sk) => el('li', { class: 'mono small', text: skippedLine(sk) }))))) : null,
    (e.tried || []).length ? el('div', { class: 'notice warn tried' }, el('div', { class: 'body' },
      el('p', { class: 'title', text: `Files given that are not the parent of ${child}:` }),
      el('ul', {}, e.tried.map((x) => el('li', { class: 'mono small', text: String(x) }))))) : null,
    el('div', { class: 'hero-actions' },
      el('button', { type: 'button', id: 'parent-skip', text: 'Open without the parent', title: 'Show the child alone: its structures and its own blocks; ranges in the parent cannot be read', on: { click: () => openFiles(files, fileHandles, { partial: true }) } }),
      el('button', { type: 'button', text: 'Cancel', on: { click: leaveImage } })),
  );
  showScreen('parent');
  $('#parent-add').focus();
}

// parentInput is a hidden file input for parent files (the Add parent
// file… buttons click it); onFiles gets the files picked.
export function parentInput(id, onFiles) {
  const input = el('input', { type: 'file', id, multiple: true, accept: '.vhdx,.avhdx,.vhd,.avhd', hidden: true });
  input.addEventListener('change', () => {
    if (input.files.length) onFiles(Array.from(input.files));
    input.value = '';
  });
  return input;
}

export function addParents(more, moreHandles = new Map()) {
  const p = S.pending;
  const h = new Map([...p.handles, ...moreHandles]);
  openFiles([...p.files, ...more], h);
}
