// files.js: the Files tab: the virtual disk's partition table (drawn by
// partition-table.js) and the files of its partitions (the tree, here).
//
// The engine reads everything (parts, ls, file_plan, file_read: see
// PROTOCOL.md, "Inside the disk"); this module only shows it. The table
// lists the partitions with their type, GUIDs, LBA range, size and the file
// system their first sectors show, with a raw download and a jump to the
// hex view for each. Browse opens a tree of the partition's files: a
// WAI-ARIA tree whose items are one flat list of rows (aria-level gives
// the depth), so that a directory of 10,000 entries is one DocumentFragment
// inserted after its row, and moving through the tree is moving from row
// to row. Each directory is listed once, when first opened, and kept.
//
// Downloads of files: a file whose extents the file system gives (FAT,
// ext, uncompressed NTFS) is a Blob of slices of the image files
// (vhdxview.fileBlob), saved at once whatever its size; a file the engine
// must read (a compressed or resident NTFS stream) comes through the
// engine, whole if it is at most 16 MiB, else streamed 16 MiB at a time
// into a file the person picks or a temporary file (download.js,
// saveStreamed). Each download is a job of the page's download list
// (jobs.js): progress, Cancel, and what happened.

import { el, replace, clear, human, grouped, hexPlain, baseName, errorText } from './dom.js';
import { save, saveStreamed, saveRange, pickFile } from './download.js';
import { Preview } from './preview.js';
import { exportZip } from './zipexport.js';
import { listingTools } from './listing.js';
import { treeTools } from './treetools.js';
import { fsName, partitionFacts, partitionProblems, partitionRows, partitionTable } from './partition-table.js';

export { fsName }; // where it was, for modules that import it from here

// ID_NAMES says what an entry's id is on each file system.
const ID_NAMES = { ntfs: 'MFT record', ext2: 'Inode', ext3: 'Inode', ext4: 'Inode', fat12: 'First cluster', fat16: 'First cluster', fat32: 'First cluster' };

// shortTime gives an RFC 3339 time as "2025-03-12 14:03" (UTC, as given).
function shortTime(s) {
  if (!s) return '';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)/.exec(s);
  return m ? `${m[1]} ${m[2]}` : String(s);
}

// longTime gives an RFC 3339 time as "2025-03-12 14:03:07.25 UTC".
function longTime(s) {
  if (!s) return '—';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d(?:\.\d+)?)Z$/.exec(s);
  return m ? `${m[1]} ${m[2]} UTC` : String(s);
}

// problemFor explains why a partition's files cannot be listed: {title,
// where, next}. e is the FileSystemError (or another engine error) of ls.
export function problemFor(p, e) {
  const fs = e && typeof e.fs === 'string' ? e.fs : p.file_system || '';
  const off = e && Number.isSafeInteger(e.offset) ? e.offset : p.offset;
  const what = fsName(fs, fs === p.file_system ? p.file_system_name : '');
  const n = `partition ${p.index}`;
  let title;
  switch (e && e.name === 'FileSystemError' ? e.reason : e && e.name) {
    case 'unsupported':
      title = fs ? `The ${what} file system of ${n} cannot be read by vhdxview` : `No file system that vhdxview knows was found on ${n}`;
      break;
    case 'damaged':
      title = `The ${what ? `${what} file system` : 'file system'} of ${n} is damaged`;
      break;
    case 'not_found':
    case 'not_a_directory':
      title = `${e.path || 'That path'} is not on ${n} any more`;
      break;
    case 'BlockError':
      title = `A block of the virtual disk under ${n} cannot be read`;
      break;
    case 'MissingParentError':
      title = `${n[0].toUpperCase()}${n.slice(1)} lies in the parent disk, which is not open`;
      break;
    case 'ReadError':
      title = 'The browser could not read the image file';
      break;
    default:
      title = `The files of ${n} cannot be listed`;
  }
  return {
    title,
    where: `${what || 'Unrecognised volume'} at disk offset 0x${hexPlain(off)} (LBA ${grouped(p.first_lba)}), ${human(p.size)}`,
    next: 'Its raw bytes can still be downloaded (Download partition) or looked at in the hex view.',
  };
}

// ---- the panel ----------------------------------------------------------------------

// FilesPanel fills root (the Files tab). ctx: {api (vhdxview.js),
// current() -> {image, name} or null, unavailable() -> why there is no
// image to look into (or ''), showInHex(offset)}.
export class FilesPanel {
  constructor(root, ctx) {
    this.root = root;
    this.ctx = ctx;
    this.api = ctx.api;
    this.gen = 0;
    this.table = null;
    this.loading = null;
    this.rowNode = new WeakMap();
    this.typed = '';
    this.typedAt = 0;
    // Hooks of preview.js, zipexport.js and treetools.js: the file's
    // preview, and the nodes marked for a ZIP (Ctrl+click, Ctrl+Space).
    this.preview = new Preview({ api: this.api, showInHex: (o, opts) => this.ctx.showInHex(o, opts) });
    this.marked = new Set();
  }

  // reset forgets the last image (its partitions, tree and downloads).
  reset() {
    this.gen++;
    this.table = null;
    this.loading = null;
    this.cur = null;
    this.part = null;
    this.rootNode = null;
    this.active = null;
    this.preview.clear();
    this.marked.clear();
    clear(this.root);
  }

  // show is called when the tab is selected: it reads the partition table
  // the first time.
  show() {
    const cur = this.ctx.current();
    if (!cur) {
      if (!this.root.firstChild) {
        const why = this.ctx.unavailable() || 'Open an image to see its partitions and files.';
        replace(this.root, el('p', { class: 'muted', id: 'files-unavailable', text: why }));
      }
      return;
    }
    if (this.table || this.loading) return;
    this.load(cur);
  }

  async load(cur) {
    const gen = this.gen;
    replace(this.root, el('p', { class: 'muted', role: 'status', text: 'Reading the partition table…' }));
    this.loading = this.api.parts(cur.image);
    let tab;
    try {
      tab = await this.loading;
    } catch (e) {
      if (gen !== this.gen) return;
      this.loading = null;
      replace(this.root, el('div', { class: 'notice error', role: 'alert', id: 'parts-error' }, el('div', { class: 'body' },
        el('p', { class: 'title', text: 'The partition table cannot be read' }),
        el('p', { class: 'next', text: 'The disk\'s first sectors could not be read through the engine. The hex view still shows what is there.' }),
        el('p', { class: 'detail', text: errorText(e) }),
        el('div', { class: 'actions' }, el('button', { type: 'button', class: 'small', text: 'Try again', on: { click: () => { this.reset(); this.show(); } } })))));
      return;
    }
    if (gen !== this.gen) return;
    this.table = tab;
    this.cur = cur;
    this.render();
  }

  render() {
    const tab = this.table;
    this.browser = el('section', { class: 'fs-browser', id: 'fs-browser', 'aria-labelledby': 'fs-title', hidden: true });
    replace(this.root,
      el('section', { class: 'parts', id: 'parts', 'aria-labelledby': 'parts-title', data: { scheme: tab.scheme } },
        el('h3', { id: 'parts-title', text: 'Partition table' }),
        this.renderProblems(tab),
        this.renderFacts(tab),
        this.renderTable(tab)),
      this.browser);
  }

  // journalNotice: an ext volume that was not cleanly unmounted. Its
  // journal was replayed in memory (an info line), or could not be, and
  // then what is listed is stale (a warning).
  journalNotice(j) {
    return el('div', { class: `notice ${j.replayed && !j.warning ? 'info' : 'warn'} fs-journal`, id: 'fs-journal', role: j.replayed ? 'status' : 'alert', data: { replayed: String(!!j.replayed) } },
      el('div', { class: 'body' }, el('p', { text: j.note })));
  }

  // The partition table (partition-table.js).
  renderProblems(tab) { return partitionProblems(tab); }
  renderFacts(tab) { return partitionFacts(tab); }
  renderTable(tab) { return partitionTable(tab, this.partitionActions()); }
  partRows(p) { return partitionRows(p, this.partitionActions()); }
  partitionActions() {
    return { browse: (p) => this.browse(p), download: (p) => this.downloadPartition(p), showInHex: (off) => this.ctx.showInHex(off) };
  }

  // ---- downloads ------------------------------------------------------------------------

  // downloadPartition saves the partition's raw bytes (into a picked file
  // where the browser can, else as a Blob download; download.js).
  async downloadPartition(p) {
    const cur = this.cur;
    const name = `${baseName(cur.name)}-p${p.index}.raw`;
    let handle;
    try {
      handle = await pickFile(name);
    } catch {
      return; // no file chosen
    }
    return this.ctx.downloads.job(name, p.size, (signal, progress) => saveRange(this.api, cur.image, name, p.offset, p.size, handle, signal, progress));
  }

  downloadNode(node) {
    if (!canDownload(node)) return;
    const cur = this.cur;
    const part = this.part.index;
    const path = node.path;
    const name = node.kind === 'stream' ? `${node.parent.name}_${node.name}` : node.name;
    return this.ctx.downloads.job(name, node.entry.size, async (signal, progress) => {
      const blob = await this.api.fileBlob(cur.image, part, path, { signal, onProgress: progress });
      if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
      if (blob) {
        save(blob, name);
        return { bytes: blob.size, how: 'blob' };
      }
      return saveStreamed(name, (w) => this.api.saveFile(cur.image, part, path, w, { signal, onProgress: progress }), { signal });
    });
  }

  // downloadRecovered saves what a deleted file still has on the volume
  // (the engine's OpenDeleted: see PROTOCOL.md, file_plan's deleted).
  downloadRecovered(node) {
    const { image } = this.cur;
    const part = this.part.index;
    const opts = { deleted: true, id: node.entry.id };
    const name = `recovered-${node.name}`;
    return this.ctx.downloads.job(name, node.entry.size, async (signal, progress) => {
      const blob = await this.api.fileBlob(image, part, node.path, { ...opts, signal, onProgress: progress });
      if (blob) {
        save(blob, name);
        return { bytes: blob.size, how: 'blob' };
      }
      return saveStreamed(name, (w) => this.api.saveFile(image, part, node.path, w, { ...opts, signal, onProgress: progress }), { signal });
    });
  }

  // ---- the tree ---------------------------------------------------------------------------

  // browse lists the root of partition p (or says why it cannot).
  async browse(p) {
    this.part = p;
    this.active = null;
    this.fs = null;
    const gen = ++this.gen;
    const cur = this.cur;
    this.title = el('h3', { id: 'fs-title', text: `Partition ${p.index}${p.name ? ` “${p.name}”` : ''}` });
    this.fsLine = el('p', { class: 'fs-line muted', id: 'fs-line', text: `${fsName(p.file_system, p.file_system_name) || 'no file system found'} · ${human(p.size)} at 0x${hexPlain(p.offset)}` });
    this.tree = el('div', { class: 'ft', role: 'tree', id: 'fs-tree', 'aria-label': `Files of partition ${p.index}`, 'aria-busy': 'true' });
    this.details = el('div', { class: 'ft-details', id: 'fs-details' });
    const head = el('div', { class: 'ft-head', 'aria-hidden': 'true' },
      el('span', { class: 'ft-hname', text: 'Name' }), el('span', { class: 'ft-size', text: 'Size' }),
      el('span', { class: 'ft-time', text: 'Modified (UTC)' }), el('span', { class: 'ft-time ft-created', text: 'Created (UTC)' }), el('span', { class: 'ft-act' }));
    this.treeBox = el('div', { class: 'ft-box' }, head, this.tree);
    this.note = el('p', { class: 'note', id: 'fs-note', hidden: true });
    this.marked.clear();
    this.previewNode = null;
    const tools = el('div', { class: 'fs-tools', id: 'fs-tools' },
      treeTools(this),
      listingTools({ api: this.api, downloads: this.ctx.downloads, target: () => ({ image: cur.image, partition: p.index, path: '/', name: baseName(cur.name) }) }));
    replace(this.browser,
      el('div', { class: 'fs-head' }, this.title, this.fsLine),
      tools, this.note, this.treeBox, this.details);
    this.browser.hidden = false;
    this.browser.dataset.partition = p.index;
    this.browser.dataset.state = 'loading';
    this.tree.addEventListener('click', (e) => this.onClick(e));
    this.tree.addEventListener('keydown', (e) => this.onKey(e));

    const root = {
      name: '/', path: '/', kind: 'root', depth: 1, parent: null, children: null, expanded: false,
      entry: { name: '/', path: '/', type: 'dir', is_dir: true, size: 0 },
    };
    this.rootNode = root;
    root.row = this.makeRow(root, 1, 1);
    this.tree.append(root.row);
    this.select(root, false);
    const ok = await this.expand(root);
    if (gen !== this.gen || this.cur !== cur) return;
    this.tree.removeAttribute('aria-busy');
    if (!ok) {
      this.browser.dataset.state = 'error';
      this.showFSError(p, root.error);
      return;
    }
    this.browser.dataset.state = 'ready';
    root.row.focus();
  }

  showFSError(p, e) {
    const why = problemFor(p, e);
    this.treeBox.remove();
    this.details.remove();
    this.fsLine.textContent = why.where;
    const card = el('div', {
      class: 'notice error fs-error', id: 'fs-error', role: 'alert',
      data: { reason: (e && (e.reason || e.name)) || '', fs: (e && e.fs) || p.file_system || '', offset: (e && e.offset) ?? p.offset },
    }, el('div', { class: 'body' },
      el('p', { class: 'title', text: why.title }),
      el('p', { class: 'fs-where', text: why.where }),
      el('p', { class: 'next', text: why.next }),
      el('p', { class: 'detail', text: errorText(e) }),
      el('div', { class: 'actions' },
        el('button', { type: 'button', class: 'small primary', id: 'fs-error-download', text: 'Download partition', on: { click: () => this.downloadPartition(p) } }),
        el('button', { type: 'button', class: 'small', id: 'fs-error-hex', text: 'Show in hex', on: { click: () => this.ctx.showInHex(p.offset) } }))));
    this.browser.append(card);
    card.scrollIntoView({ block: 'nearest' });
  }

  // makeRow builds the treeitem of a node: a clone of a template row
  // (tpl, shared by the rows of one listing that have the same kind and
  // level), filled in (a directory may have thousands of entries, and
  // cloning is much cheaper than building each element). The row is flat:
  // its twisty is the row's ::before, the icon the label's ::before.
  makeRow(node, pos, count, tpl = rowTemplate(node, count)) {
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
    return this.sortKids ? this.sortKids(kids) : kids; // treetools.js
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
    node.row.dataset.count = node.children.length;
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

  // reveal lists partition index and selects path in its tree, opening the
  // directories on the way (a reload puts the tab back as it was); false
  // when the partition or a step of the path is not there any more.
  async reveal(index, path) {
    this.show();
    if (this.loading && !this.table) {
      try { await this.loading; } catch { return false; }
    }
    const p = this.table && (this.table.partitions || []).find((x) => x.index === index);
    if (!p || typeof path !== 'string' || !path.startsWith('/')) return false;
    await this.browse(p);
    const gen = this.gen;
    let node = this.rootNode;
    while (node && node.path !== path) {
      if (!(await this.expand(node)) || gen !== this.gen) return false;
      const inside = (c) => c.path === path || path.startsWith(`${c.path}/`) || path.startsWith(`${c.path}:`);
      node = (node.children || []).find(inside);
    }
    if (!node || !node.row || gen !== this.gen) return false;
    this.select(node, false);
    node.row.scrollIntoView({ block: 'nearest' });
    return true;
  }

  showDetails(node) {
    const e = node.entry;
    const fsType = this.fs && this.fs.type;
    const idName = ID_NAMES[fsType] || 'ID';
    const kindText = { root: 'root directory', dir: 'directory', file: 'file', symlink: 'symbolic link', other: 'special file', stream: `alternate data stream of ${node.parent && node.parent.name}` }[node.kind];
    const rows = [
      ['Path', node.path, 'mono'],
      ['Type', `${kindText}${e.deleted ? ' (deleted)' : ''}`],
      !e.is_dir && node.kind !== 'root' ? ['Size', e.size < 1024 ? `${grouped(e.size)} bytes` : `${grouped(e.size)} bytes (${human(e.size)})`] : null,
      node.children && (node.kind === 'root' || node.kind === 'dir') ? ['Entries', grouped(node.children.length)] : null,
      e.target !== undefined ? ['Target', e.target, 'mono'] : null,
      e.reparse ? ['Stored as', e.reparse] : null,
      e.mod_time ? ['Modified', longTime(e.mod_time)] : null,
      e.create_time ? ['Created', longTime(e.create_time)] : null,
      e.access_time ? ['Accessed', longTime(e.access_time)] : null,
      e.id ? [idName, String(e.id)] : null,
      e.streams && e.streams.length ? ['Streams', e.streams.map((s) => `${s.name} (${human(s.size)})`).join(', ')] : null,
      node.error ? ['Problem', errorText(node.error), 'error'] : null,
      node.incomplete ? ['Listing', `incomplete, some entries could not be read: ${node.incomplete}`, 'error'] : null,
    ].filter(Boolean);
    const actions = [];
    if (canDownload(node)) {
      actions.push(el('button', { type: 'button', class: 'small primary', id: 'fs-download', text: `Download ${node.kind === 'stream' ? 'stream' : 'file'}`, on: { click: () => this.downloadNode(node) } }));
    }
    if (e.deleted && e.recoverable && node.kind === 'file') {
      actions.push(el('button', { type: 'button', class: 'small', id: 'fs-recover', text: 'Download recovered bytes (may be overwritten)', on: { click: () => this.downloadRecovered(node) } }));
    }
    if (expandable(node)) {
      actions.push(el('button', { type: 'button', class: 'small', id: 'fs-toggle', text: node.expanded ? 'Close' : 'Open', on: { click: () => { this.toggle(node); this.showDetails(node); } } }));
    }
    if ((node.kind === 'dir' || node.kind === 'root') && !e.deleted) {
      actions.push(el('button', { type: 'button', class: 'small', id: 'fs-zip', text: 'Download as ZIP', title: 'This folder and everything in it, as one ZIP', on: { click: () => this.zipNodes([node]) } }));
    }
    if (this.marked.size) {
      actions.push(el('button', { type: 'button', class: 'small', id: 'fs-zip-marked', text: `Download ${this.marked.size} marked as ZIP`, on: { click: () => this.zipNodes([...this.marked]) } }));
    }
    // The preview (text, image) and Show in hex of a file, kept while the
    // same file stays selected.
    let pv = null;
    if (canDownload(node)) {
      if (this.previewNode !== node) {
        this.previewNode = node;
        this.previewBox = el('div', { class: 'ft-preview', id: 'fs-preview-box' });
        this.preview.show(this.previewBox, this.cur.image, this.part.index, node.path, node.entry);
      }
      pv = this.previewBox;
    } else if (this.previewNode) {
      this.previewNode = null;
      this.preview.clear();
    }
    replace(this.details,
      el('p', { class: 'ft-details-name' }, el('b', { text: node.kind === 'stream' ? `${node.parent.name}:${node.name}` : node.name })),
      e.deleted ? el('p', { class: 'ft-deleted-note', text: e.recoverable
        ? `Deleted: the file system still says where its bytes were, but they are free and may have been reused. ${e.recover_note || ''}`
        : `Deleted: its bytes cannot be recovered: ${e.recover_note || 'the file system no longer says where they were'}.` }) : null,
      el('dl', { class: 'kv' }, rows.map(([k, v, cls]) => [el('dt', { text: k }), el('dd', { text: v, class: cls || null })])),
      actions.length ? el('div', { class: 'ft-actions' }, actions) : null,
      pv);
  }

  // zipNodes downloads nodes (folders, files) as one ZIP (zipexport.js).
  zipNodes(nodes) {
    const one = nodes.length === 1 ? nodes[0] : null;
    const base = one ? (one.kind === 'root' ? `${baseName(this.cur.name)}-p${this.part.index}` : one.name) : `${baseName(this.cur.name)}-p${this.part.index}-files`;
    return exportZip({ api: this.api, downloads: this.ctx.downloads }, this.cur.image, this.part.index, nodes, `${base}.zip`);
  }

  // toggleMark marks or unmarks a node for a ZIP of several.
  toggleMark(node) {
    if (node.entry.deleted || node.kind === 'stream' || node.kind === 'symlink' || node.kind === 'other') return;
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

// A listing longer than CHUNK rows is shown in chunks of CHUNK rows; every
// row is ROW_PX high (style.css, .ft-row).
const CHUNK = 200;
const ROW_PX = 26;

// sizeChunk gives a chunk the height it takes when out of view.
function sizeChunk(box) {
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
function rowTemplate(node, count) {
  const r = baseRow(canDownload(node)).cloneNode(true);
  r.setAttribute('aria-level', node.depth);
  r.setAttribute('aria-setsize', count);
  r.setAttribute('data-kind', node.kind);
  if (expandable(node)) r.setAttribute('aria-expanded', String(node.expanded));
  // Indentation comes from aria-level in the stylesheet up to level 24.
  if (node.depth > 24) r.style.setProperty('--depth', node.depth - 1);
  return r;
}

function badge(kind, text) {
  const b = document.createElement('span');
  b.className = `badge ${kind}`;
  b.textContent = text;
  return b;
}

function expandable(node) {
  if (node.entry.deleted) return false;
  if (node.kind === 'root' || node.kind === 'dir') return true;
  return node.kind === 'file' && !!node.children && node.children.length > 0;
}

function canDownload(node) {
  return (node.kind === 'file' || node.kind === 'stream') && !node.entry.deleted;
}

function joinPath(dir, name) {
  return dir.endsWith('/') ? dir + name : `${dir}/${name}`;
}
