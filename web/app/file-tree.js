// file-tree.js: the tree of a partition's files in the Files tab: a
// WAI-ARIA tree whose items are one flat list of rows (aria-level gives
// the depth), so that a directory of 10,000 entries is one
// DocumentFragment inserted after its row, and moving through the tree is
// moving from row to row. Each directory is listed once, when first
// opened, and kept. FilesPanel (files.js) extends it with the partition
// table, downloads and the details pane.

import { errorText, grouped, hexPlain, human } from './dom.js';
import { fsName } from './partition-table.js';
import { CHUNK, ROW_PX, badge, buildRow, canDownload, expandable, joinPath, rowTemplate, sizeChunk } from './file-rows.js';

export class FileTree {
  constructor() {
    this.rowNode = new WeakMap();
    this.typed = '';
    this.typedAt = 0;
  }

  // makeRow builds the treeitem of a node (file-rows.js) and remembers
  // which node it shows.
  makeRow(node, pos, count, tpl) {
    const row = buildRow(node, pos, count, tpl);
    this.rowNode.set(row, node);
    return row;
  }

  // childrenOf makes the nodes of a listing: directories first, then the
  // rest, each in the engine's (name) order; a file's streams follow it.
  childrenOf(node, entries) {
    const dirs = [];
    const rest = [];
    for (const e of entries) (e.is_dir ? dirs : rest).push(e);
    const kids = [];
    for (const e of dirs.concat(rest)) {
      const kind = e.is_dir ? 'dir' : e.type === 'symlink' ? 'symlink' : e.type === 'other' ? 'other' : 'file';
      const c = { name: e.name, path: e.path || joinPath(node.path, e.name), kind, depth: node.depth + 1, parent: node, entry: e, children: null, expanded: false };
      if (e.streams && e.streams.length && !e.deleted) {
        c.expanded = true;
        c.children = e.streams.map((s) => ({
          name: s.name, path: `${c.path}:${s.name}`, kind: 'stream', depth: c.depth + 1, parent: c,
          entry: { name: s.name, type: 'stream', is_dir: false, size: s.size }, children: null, expanded: false,
        }));
      }
      kids.push(c);
    }
    const sorted = this.sortKids ? this.sortKids(kids) : kids; // treetools.js
    return node.kind === 'root' ? groupMetadata(node, sorted) : sorted;
  }

  // appendRows adds the rows of node's children (and of their open
  // children) to parent. A long listing goes in chunks of CHUNK rows, each
  // with content-visibility: auto, so that the browser styles and lays out
  // only the chunks in view.
  appendRows(node, parent) {
    const kids = node.children;
    const n = kids.length;
    const chunked = n > CHUNK;
    const tpls = new Map(); // row templates of this listing
    let box = parent;
    for (let i = 0; i < n; i++) {
      if (chunked && i % CHUNK === 0) {
        if (box !== parent) sizeChunk(box);
        box = document.createElement('div');
        box.className = 'ft-chunk';
        box.setAttribute('role', 'none');
        parent.appendChild(box);
      }
      const c = kids[i];
      if (!c.row) {
        const key = `${c.kind}|${canDownload(c)}|${expandable(c) && c.expanded}`;
        let tpl = tpls.get(key);
        if (!tpl) tpls.set(key, tpl = rowTemplate(c, n));
        c.row = this.makeRow(c, i + 1, n, tpl);
      }
      box.appendChild(c.row);
      if (c.expanded && c.children) this.appendRows(c, box);
    }
    if (box !== parent) sizeChunk(box);
  }

  // rows walks the rows in the order shown, from row.
  rows(row) {
    const w = document.createTreeWalker(this.tree, NodeFilter.SHOW_ELEMENT, {
      acceptNode: (x) => (x.classList.contains('ft-row') ? (x.classList.contains('filtered-out') ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT)
        : x.classList.contains('ft-chunk') ? NodeFilter.FILTER_SKIP : NodeFilter.FILTER_REJECT),
    });
    w.currentNode = row;
    return w;
  }

  lastRow() {
    const all = this.tree.getElementsByClassName('ft-row');
    return all[all.length - 1] || null;
  }

  // expand opens a directory (listing it the first time); it resolves to
  // false when the listing failed.
  async expand(node) {
    if (!expandable(node) || node.expanded) return true;
    if (!node.children) {
      if (!node.loading) node.loading = this.list(node);
      if (!(await node.loading)) return false;
      if (node.expanded) return true;
    }
    node.expanded = true;
    node.row.setAttribute('aria-expanded', 'true');
    if (node.row.isConnected) {
      const frag = document.createDocumentFragment();
      this.appendRows(node, frag);
      node.row.after(frag);
    }
    return true;
  }

  async list(node) {
    const gen = this.gen;
    const cur = this.cur;
    node.row.setAttribute('aria-busy', 'true');
    node.row.classList.add('loading');
    let res;
    try {
      res = await this.api.ls(cur.image, this.part.index, node.path);
    } catch (e) {
      if (gen !== this.gen) return false;
      node.error = e;
      node.loading = null;
      node.row.removeAttribute('aria-busy');
      node.row.classList.remove('loading');
      if (node.kind !== 'root') {
        node.row.classList.add('error');
        const msg = document.createElement('span');
        msg.className = 'ft-error';
        msg.textContent = `cannot be listed: ${errorText(e)}`;
        node.row.querySelector('.ft-label').after(msg);
        if (this.active === node) this.showDetails(node);
      }
      return false;
    }
    if (gen !== this.gen) return false;
    node.row.removeAttribute('aria-busy');
    node.row.classList.remove('loading');
    if (node.kind === 'root') {
      this.fs = res.fs || null;
      if (this.fs) {
        this.fsLine.textContent = `${fsName(this.fs.type, this.fs.name)}${this.fs.label ? ` · label “${this.fs.label}”` : ''} · ${human(this.part.size)} at 0x${hexPlain(this.part.offset)}`;
        this.browser.dataset.fs = this.fs.type;
        this.browser.dataset.label = this.fs.label || '';
        node.row.querySelector('.ft-label').after(badge('muted', `${fsName(this.fs.type, this.fs.name)}${this.fs.label ? ` “${this.fs.label}”` : ''}`));
        if (this.fs.journal) this.treeBox.before(this.journalNotice(this.fs.journal));
      }
      if (this.active === node) this.showDetails(node);
    }
    node.children = this.childrenOf(node, res.entries || []);
    node.count = (res.entries || []).length;
    node.row.dataset.count = node.count;
    if (res.truncated) {
      node.row.dataset.truncated = 'true';
      this.note.hidden = false;
      this.note.textContent = `${node.path} has more entries than can be listed; the first ${grouped((res.entries || []).length)} are shown.`;
    }
    if (res.incomplete) {
      // Part of the directory could not be read (a damaged index): what
      // is shown is not all of it, and the row says so.
      node.incomplete = res.incomplete;
      node.row.dataset.incomplete = 'true';
      const b = badge('warn', 'incomplete listing');
      b.title = res.incomplete;
      node.row.querySelector('.ft-label').after(b);
      if (this.active === node) this.showDetails(node);
    }
    return true;
  }

  collapse(node) {
    if (!node.expanded) return;
    let last = node;
    while (last.expanded && last.children && last.children.length) last = last.children[last.children.length - 1];
    node.expanded = false;
    node.row.setAttribute('aria-expanded', 'false');
    if (last === node || !node.row.isConnected) return;
    for (let a = this.active; a; a = a.parent) {
      if (a.parent === node) {
        this.select(node);
        break;
      }
    }
    const r = document.createRange();
    r.setStartAfter(node.row);
    r.setEndAfter(last.row);
    r.deleteContents();
    for (const c of this.tree.querySelectorAll('.ft-chunk:empty')) c.remove();
  }

  toggle(node) {
    if (node.expanded) this.collapse(node);
    else this.expand(node);
  }

  select(node, focus = true) {
    if (this.active && this.active.row) {
      this.active.row.tabIndex = -1;
      this.active.row.setAttribute('aria-selected', 'false');
    }
    this.active = node;
    node.row.tabIndex = 0;
    node.row.setAttribute('aria-selected', 'true');
    if (focus) node.row.focus();
    this.showDetails(node);
  }

  // toggleMark marks or unmarks a node for a ZIP of several.
  toggleMark(node) {
    if (node.entry.deleted || node.kind === 'stream' || node.kind === 'symlink' || node.kind === 'other' || node.kind === 'group') return;
    if (this.marked.has(node)) this.marked.delete(node);
    else this.marked.add(node);
    node.row.classList.toggle('marked', this.marked.has(node));
    node.row.dataset.marked = String(this.marked.has(node));
    this.showDetails(this.active || node);
  }

  onClick(ev) {
    const row = ev.target.closest('.ft-row');
    const node = row && this.rowNode.get(row);
    if (!node) return;
    if (ev.target.closest('.ft-dl')) {
      this.select(node);
      this.downloadNode(node);
      return;
    }
    if (ev.ctrlKey || ev.metaKey) {
      this.select(node);
      this.toggleMark(node);
      return;
    }
    this.select(node);
    // The twisty is the row's ::before, left of the label.
    const onTwisty = ev.target === row && ev.clientX < row.firstChild.getBoundingClientRect().left;
    if (expandable(node) && (node.kind !== 'file' || onTwisty)) {
      this.toggle(node);
      this.showDetails(node);
    }
  }

  onKey(ev) {
    const node = this.active;
    if (node && ev.ctrlKey && ev.key === ' ') {
      ev.preventDefault();
      this.toggleMark(node);
      return;
    }
    if (!node || ev.altKey || ev.ctrlKey || ev.metaKey) return;
    const row = node.row;
    let to = null;
    switch (ev.key) {
      case 'ArrowDown': to = this.rows(row).nextNode(); break;
      case 'ArrowUp': to = this.rows(row).previousNode(); break;
      case 'Home': to = this.rootNode.row; break;
      case 'End': to = this.lastRow(); break;
      case 'PageDown':
      case 'PageUp': {
        const step = Math.max(1, Math.floor(this.tree.clientHeight / ROW_PX) - 1);
        const w = this.rows(row);
        for (let i = 0; i < step; i++) {
          const n = ev.key === 'PageDown' ? w.nextNode() : w.previousNode();
          if (!n) break;
          to = n;
        }
        break;
      }
      case 'ArrowRight':
        if (expandable(node) && !node.expanded) this.expand(node).then(() => this.showDetails(node));
        else if (node.expanded && node.children && node.children.length) to = node.children[0].row;
        break;
      case 'ArrowLeft':
        if (node.expanded) {
          this.collapse(node);
          this.showDetails(node);
        } else if (node.parent) to = node.parent.row;
        break;
      case 'Enter':
      case ' ':
        if (expandable(node) && (ev.key === ' ' || node.kind !== 'file' || !canDownload(node))) {
          this.toggle(node);
          this.showDetails(node);
        } else if (ev.key === 'Enter') this.downloadNode(node);
        break;
      default:
        if (ev.key.length === 1 && ev.key !== ' ') {
          this.typeAhead(ev.key);
          break;
        }
        return;
    }
    ev.preventDefault();
    if (to) this.select(this.rowNode.get(to));
  }

  // typeAhead moves to the next row whose name starts with what was typed.
  typeAhead(ch) {
    const now = performance.now();
    this.typed = now - this.typedAt < 700 ? this.typed + ch.toLowerCase() : ch.toLowerCase();
    this.typedAt = now;
    const from = this.active.row;
    const w = this.rows(from);
    let r = this.typed.length > 1 ? from : w.nextNode();
    for (let wrapped = false; ; r = w.nextNode()) {
      if (!r) {
        if (wrapped) return;
        wrapped = true;
        r = this.rootNode.row;
        w.currentNode = r;
      }
      const n = this.rowNode.get(r);
      if (n && n.name.toLowerCase().startsWith(this.typed)) {
        this.select(n);
        return;
      }
      if (wrapped && r === from) return;
    }
  }
}

// METADATA_NAME is the name of the node holding NTFS's own files.
const METADATA_NAME = 'NTFS metadata';

// groupMetadata moves the root's entries the engine marks as NTFS
// metadata (ls's metadata: MFT records below 16 and $Extend) under one
// closed "NTFS metadata" node, first among the root's children, so that
// the user's files are not lost among $MFT, $LogFile and the rest.
function groupMetadata(root, kids) {
  const meta = kids.filter((c) => c.entry.metadata);
  if (!meta.length) return kids;
  const group = {
    name: METADATA_NAME, path: '', kind: 'group', depth: root.depth + 1, parent: root, children: meta, expanded: false,
    entry: { name: METADATA_NAME, type: 'group', is_dir: true, size: 0 },
  };
  const deepen = (n, parent) => {
    n.parent = parent;
    n.depth = parent.depth + 1;
    if (n.children) n.children.forEach((c) => deepen(c, n));
  };
  meta.forEach((c) => deepen(c, group));
  return [group, ...kids.filter((c) => !c.entry.metadata)];
}
