// file-rows.js: the rows of the Files tab's tree (file-tree.js): one
// treeitem per node, cloned from a template row and filled in, and what a
// node's kind allows (opening, downloading). Kinds: root, dir, file,
// symlink, other, stream (an NTFS alternate data stream, under its file)
// and group (the "NTFS metadata" node that holds NTFS's own files).

import { human } from './dom.js';

// shortTime gives an RFC 3339 time as "2025-03-12 14:03" (UTC, as given).
export function shortTime(s) {
  if (!s) return '';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(s);
  return m ? `${m[1]} ${m[2]}` : String(s);
}

// longTime gives an RFC 3339 time as "2025-03-12 14:03:07.25 UTC".
export function longTime(s) {
  if (!s) return '—';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)Z$/.exec(s);
  return m ? `${m[1]} ${m[2]} UTC` : String(s);
}

// makeRow builds the treeitem of a node: a clone of a template row
// (tpl, shared by the rows of one listing that have the same kind and
// level), filled in (a directory may have thousands of entries, and
// cloning is much cheaper than building each element). The row is flat:
// its twisty is the row's ::before, the icon the label's ::before.
export function buildRow(node, pos, count, tpl = rowTemplate(node, count)) {
  const e = node.entry;
  const row = tpl.cloneNode(true);
  row.setAttribute('aria-posinset', pos);
  row.setAttribute('data-path', node.path);
  row.setAttribute('data-size', e.size);
  const label = row.firstChild;
  label.firstChild.data = node.kind === 'stream' ? `:${node.name}` : node.name;
  let at = label;
  const add = (x) => { at.after(x); at = x; };
  if (node.kind === 'symlink' && e.target !== undefined) {
    const t = document.createElement('span');
    t.className = 'ft-target';
    t.textContent = `→ ${e.target}`;
    add(t);
  }
  if (e.deleted) {
    row.setAttribute('data-deleted', 'true');
    row.classList.add('deleted');
    add(badge('bad', 'deleted'));
  }
  if (node.kind === 'stream') add(badge('muted', 'stream'));
  const size = at.nextSibling;
  const mod = size.nextSibling;
  const made = mod.nextSibling;
  if (!e.is_dir && node.kind !== 'root') size.firstChild.data = human(e.size);
  if (e.mod_time) mod.firstChild.data = shortTime(e.mod_time);
  if (e.create_time) made.firstChild.data = shortTime(e.create_time);
  if (canDownload(node)) {
    const b = made.nextSibling;
    b.title = `Download ${node.name}`;
    b.setAttribute('aria-label', `Download ${node.name}`);
  }
  return row;
}

// A listing longer than CHUNK rows is shown in chunks of CHUNK rows; every
// row is ROW_PX high (style.css, .ft-row).
export const CHUNK = 200;
export const ROW_PX = 26;

// sizeChunk gives a chunk the height it takes when out of view.
export function sizeChunk(box) {
  box.style.containIntrinsicSize = `auto ${box.childElementCount * ROW_PX}px`;
}

// BASE holds the two blank rows (with and without a download button),
// built once: label, size, modified, created, action, each holding an
// empty text node to fill.
const BASE = new Map();

function baseRow(dl) {
  let r = BASE.get(dl);
  if (r) return r;
  const span = (cls) => {
    const x = document.createElement('span');
    x.className = cls;
    x.append('');
    return x;
  };
  r = document.createElement('div');
  r.className = 'ft-row';
  r.setAttribute('role', 'treeitem');
  r.setAttribute('aria-selected', 'false');
  r.tabIndex = -1;
  let act = document.createElement('span');
  act.className = 'ft-act';
  if (dl) {
    act = document.createElement('button');
    act.type = 'button';
    act.className = 'ft-act ft-dl icon-button';
    act.tabIndex = -1; // the row takes Enter; the details pane has the button
    act.textContent = '↓';
  }
  r.append(span('ft-label'), span('ft-size'), span('ft-time'), span('ft-time ft-created'), act);
  BASE.set(dl, r);
  return r;
}

// rowTemplate gives a blank row for node with what it shares with the
// rows around it: level, set size, kind, expanded.
export function rowTemplate(node, count) {
  const r = baseRow(canDownload(node)).cloneNode(true);
  r.setAttribute('aria-level', node.depth);
  r.setAttribute('aria-setsize', count);
  r.setAttribute('data-kind', node.kind);
  if (expandable(node)) r.setAttribute('aria-expanded', String(node.expanded));
  // Indentation comes from aria-level in the stylesheet up to level 24.
  if (node.depth > 24) r.style.setProperty('--depth', node.depth - 1);
  return r;
}

export function badge(kind, text) {
  const b = document.createElement('span');
  b.className = `badge ${kind}`;
  b.textContent = text;
  return b;
}

export function expandable(node) {
  if (node.entry.deleted) return false;
  if (node.kind === 'root' || node.kind === 'dir' || node.kind === 'group') return true;
  return node.kind === 'file' && !!node.children && node.children.length > 0;
}

export function canDownload(node) {
  return (node.kind === 'file' || node.kind === 'stream') && !node.entry.deleted;
}

export function joinPath(dir, name) {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
