// files.js: the Files tab: the virtual disk's partition table (drawn by
// partition-table.js) and the files of its partitions (the tree of
// file-tree.js, its rows from file-rows.js, the details pane of
// file-details.js); this module is the glue between them, the partition
// chosen and the downloads.
//
// The engine reads everything (parts, ls, file_plan, file_read: see
// PROTOCOL.md, "Inside the disk"); this module only shows it. The table
// lists the partitions with their type, GUIDs, LBA range, size and the file
// system their first sectors show, with a raw download and a jump to the
// hex view for each. Browse opens the tree of the partition's files.
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
import { FileTree } from './file-tree.js';
import { canDownload } from './file-rows.js';
import { renderDetails } from './file-details.js';
import { exportZip } from './zipexport.js';
import { listingTools } from './listing.js';
import { treeTools } from './treetools.js';
import { fsName, partitionFacts, partitionProblems, partitionRows, partitionTable } from './partition-table.js';

export { fsName }; // where it was, for modules that import it from here

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
export class FilesPanel extends FileTree {
  constructor(root, ctx) {
    super();
    this.root = root;
    this.ctx = ctx;
    this.api = ctx.api;
    this.gen = 0;
    this.table = null;
    this.loading = null;
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

  // reveal lists partition index and selects path in its tree, opening the
  // directories on the way (a reload puts the tab back as it was); false
  // when the partition or a step of the path is not there any more. The
  // NTFS metadata group has no path of its own: it is on the way when one
  // of its entries is.
  async reveal(index, path) {
    this.show();
    if (this.loading && !this.table) {
      try { await this.loading; } catch { return false; }
    }
    const p = this.table && (this.table.partitions || []).find((x) => x.index === index);
    if (!p || typeof path !== 'string' || !path.startsWith('/')) return false;
    await this.browse(p);
    const gen = this.gen;
    const inside = (c) => (c.kind === 'group' ? (c.children || []).some(inside)
      : c.path === path || path.startsWith(`${c.path}/`) || path.startsWith(`${c.path}:`));
    let node = this.rootNode;
    while (node && node.path !== path) {
      if (!(await this.expand(node)) || gen !== this.gen) return false;
      node = (node.children || []).find(inside);
    }
    if (!node || !node.row || gen !== this.gen) return false;
    this.select(node, false);
    node.row.scrollIntoView({ block: 'nearest' });
    return true;
  }

  // showDetails fills the details pane for node (file-details.js).
  showDetails(node) {
    renderDetails(this, node);
  }

  // zipNodes downloads nodes (folders, files) as one ZIP (zipexport.js).
  zipNodes(nodes) {
    const one = nodes.length === 1 ? nodes[0] : null;
    const base = one ? (one.kind === 'root' ? `${baseName(this.cur.name)}-p${this.part.index}` : one.name) : `${baseName(this.cur.name)}-p${this.part.index}-files`;
    return exportZip({ api: this.api, downloads: this.ctx.downloads }, this.cur.image, this.part.index, nodes, `${base}.zip`);
  }
}
