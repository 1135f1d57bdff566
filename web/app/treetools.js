// treetools.js: sort and filter the Files tab's tree (files.js).
//
// Sort orders every listed folder's entries by name, size or modification
// time, either way, folders before files as the engine lists them;
// folders opened later come sorted too (the panel's sortKids hook). The
// filter hides the rows of files (and links) whose name does not contain
// the text, that are smaller than the size, or modified before the date;
// folders stay, so the way to a match is always there. Both work on what
// has been listed: nothing is read for them.

import { el, parseNumber } from './dom.js';

const KEYS = {
  name: (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  size: (a, b) => (a.entry.size || 0) - (b.entry.size || 0),
  time: (a, b) => (Date.parse(a.entry.mod_time || 0) || 0) - (Date.parse(b.entry.mod_time || 0) || 0),
};

// sorter gives a function that sorts a listing's nodes in place.
export function sorter(key, desc) {
  const cmp = KEYS[key] || KEYS.name;
  return (kids) => {
    const dir = (n) => (n.kind === 'group' ? -1 : n.kind === 'dir' ? 0 : 1); // the NTFS metadata group stays first
    kids.sort((a, b) => dir(a) - dir(b) || (desc ? -cmp(a, b) : cmp(a, b)) || KEYS.name(a, b));
    kids.forEach((k, i) => k.row && k.row.setAttribute('aria-posinset', i + 1));
    return kids;
  };
}

// treeTools gives the sort and filter controls of panel (a FilesPanel).
export function treeTools(panel) {
  const key = el('select', { id: 'fs-sort', 'aria-label': 'Sort by' },
    el('option', { value: 'name', text: 'Name' }), el('option', { value: 'size', text: 'Size' }), el('option', { value: 'time', text: 'Modified' }));
  const order = el('select', { id: 'fs-sort-order', 'aria-label': 'Sort order' },
    el('option', { value: 'asc', text: 'ascending' }), el('option', { value: 'desc', text: 'descending' }));
  const name = el('input', { type: 'search', id: 'fs-filter', placeholder: 'name contains', 'aria-label': 'Show files whose name contains', spellcheck: 'false', autocomplete: 'off' });
  const size = el('input', { type: 'text', id: 'fs-filter-size', placeholder: 'min size, e.g. 1M', 'aria-label': 'Show files at least this size', size: '10', spellcheck: 'false', autocomplete: 'off' });
  const since = el('input', { type: 'date', id: 'fs-filter-since', 'aria-label': 'Show files modified on or after' });
  const count = el('span', { class: 'muted', id: 'fs-filter-count', role: 'status' });

  const resort = () => {
    const sort = sorter(key.value, order.value === 'desc');
    panel.sortKids = key.value === 'name' && order.value === 'asc' ? null : sort;
    const walk = (n) => {
      if (!n.children || n.kind === 'file') return;
      sort(n.children);
      n.children.forEach(walk);
    };
    if (!panel.rootNode) return;
    walk(panel.rootNode);
    // Rows again, in the new order: the open folders' rows after the root's.
    const root = panel.rootNode;
    for (const r of [...panel.tree.children]) if (r !== root.row) r.remove();
    if (root.expanded && root.children) {
      const frag = document.createDocumentFragment();
      panel.appendRows(root, frag);
      root.row.after(frag);
    }
    refilter();
  };

  const refilter = () => {
    const text = name.value.trim().toLowerCase();
    const min = size.value.trim() === '' ? 0 : parseNumber(size.value);
    size.setCustomValidity(Number.isNaN(min) ? 'not a size' : '');
    const after = since.value ? Date.parse(`${since.value}T00:00:00Z`) : 0;
    const on = text !== '' || min > 0 || after > 0;
    let shown = 0;
    let hidden = 0;
    for (const row of panel.tree.getElementsByClassName('ft-row')) {
      const n = panel.rowNode.get(row);
      if (!n || n.kind === 'dir' || n.kind === 'root' || n.kind === 'group') continue;
      const e = n.entry;
      const out = on && ((text && !n.name.toLowerCase().includes(text))
        || (min > 0 && !((e.size || 0) >= min))
        || (after > 0 && !(Date.parse(e.mod_time || 0) >= after)));
      row.classList.toggle('filtered-out', !!out);
      if (out) hidden++;
      else shown++;
    }
    count.textContent = on ? `${shown.toLocaleString('en-US')} shown, ${hidden.toLocaleString('en-US')} hidden` : '';
    panel.tree.dataset.filtered = String(on);
  };

  key.addEventListener('change', resort);
  order.addEventListener('change', resort);
  for (const x of [name, size, since]) x.addEventListener('input', refilter);
  // Rows listed after the filter was set are filtered too.
  queueMicrotask(() => {
    if (panel.tree) new MutationObserver(() => { if (panel.tree.dataset.filtered === 'true') refilter(); }).observe(panel.tree, { childList: true, subtree: true });
  });
  return el('div', { class: 'fs-sortfilter', role: 'group', 'aria-label': 'Sort and filter' },
    el('label', {}, 'Sort', key), order, name, size, el('label', {}, 'since', since), count);
}
