// hexview.js: the hex view, over the virtual disk or over the raw file.
//
// It is virtually scrolled: only the visible rows exist, and bytes are read
// in 4 KiB pages through the source's read(offset, length) (for the disk,
// the worker's read op; for the file, File.slice), kept in a small LRU. A
// browser caps an element's height (Chromium near 33 M px), so the scroller
// is at most MAX_PX tall and its position maps onto the row number; the
// row number, not scrollTop, is the view's state, so a 64 TiB disk scrolls
// row by row with the wheel and the keyboard and jumps with the scrollbar.
//
// The cursor is a caret before a byte, as in a text editor: a selection
// runs from the anchor to the cursor, end exclusive, so Shift+→ n times
// selects n bytes, and the cursor may sit at the end of the source (just
// after the last byte) only as the end of a selection.

import { el, clear, hexPlain, grouped } from './dom.js';
import { copyFormat, nextCopyFormat } from './copyformats.js';

const PAGE = 4096;
const MAX_READ = 64 * 1024;
const CACHE_PAGES = 512; // 2 MiB
const MAX_PX = 8_000_000;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const ASCII = Array.from({ length: 256 }, (_, i) => (i >= 0x20 && i < 0x7f ? String.fromCharCode(i) : '.'));

export class HexView {
  // opts.onChange(view) is called when the cursor or selection moves;
  // opts.describe(offset, source) returns a short text for the status bar;
  // opts.onCopyFormat(id) when Ctrl+Shift+C changes the copy format.
  constructor(root, opts = {}) {
    this.root = root;
    this.opts = opts;
    this.src = null;
    this.top = 0; // first visible row
    this.cursor = 0; // the caret: before byte cursor (0..size)
    this.anchor = null; // where the selection started, or null for none
    this.copyFormat = 'hex'; // what Ctrl+C copies as (copyformats.js)
    this.gen = 0;
    this.cache = new Map(); // page index -> {data, err}
    this.pending = new Set();
    this.rowH = 20;
    this.cols = 16;
    this.rows = [];
    this.wheelRest = 0;
    this.expectScroll = -1;
    this.build();
  }

  build() {
    this.head = el('div', { class: 'hex-head', 'aria-hidden': 'true' });
    this.spacer = el('div', { class: 'hex-spacer' });
    this.layer = el('div', { class: 'hex-rows' });
    this.scroller = el('div', {
      class: 'hex-scroller', tabindex: '0', role: 'region', 'aria-label': 'Hex view (arrows move, Shift selects, Ctrl+A selects all, Ctrl+C copies, Ctrl+Shift+C copies as the next format)',
      'aria-describedby': 'hex-status',
    }, this.layer, this.spacer);
    this.error = el('div', { class: 'hex-error', role: 'alert', hidden: true });
    // Not a live region: it changes with every move of the cursor, and a
    // screen reader would read each one; the scroller refers to it instead.
    this.status = el('div', { class: 'hex-status', id: 'hex-status' });
    this.root.append(this.head, this.scroller, this.error, this.status);

    this.scroller.addEventListener('scroll', () => this.onScroll());
    this.scroller.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    this.scroller.addEventListener('keydown', (e) => this.onKey(e));
    this.layer.addEventListener('pointerdown', (e) => this.onPointer(e, 'down'));
    this.layer.addEventListener('pointermove', (e) => this.onPointer(e, 'move'));
    window.addEventListener('pointerup', () => { this.dragging = false; });
    new ResizeObserver(() => requestAnimationFrame(() => this.layout())).observe(this.scroller);
  }

  // setSource shows another source: {kind: 'disk'|'file', name, size,
  // sectorSize, blockSize, read(offset, length) -> Promise<Uint8Array>}.
  setSource(src, { offset = 0, select = null } = {}) {
    this.src = src;
    this.marks = null;
    this.gen++;
    this.cache.clear();
    this.pending.clear();
    this.hideError();
    this.digits = Math.max(8, Math.max(0, src.size - 1).toString(16).length);
    this.root.dataset.kind = src.kind;
    this.natural = 0;
    this.renderHead();
    this.rows = [];
    clear(this.layer);
    this.layout();
    this.goto(offset, { select });
  }

  renderHead() {
    const src = this.src;
    this.head.textContent = '';
    this.head.append(
      el('span', { class: 'off', text: (src.kind === 'file' ? 'File offset' : 'Offset').padEnd(this.digits) }),
      el('span', { class: 'hexes' }, ...HEX.slice(0, this.cols).map((h) => el('span', { class: 'b', text: h.toUpperCase() }))),
      el('span', { class: 'asc', text: 'ASCII' }),
    );
  }

  // fitColumns shows 16 bytes a row when they fit the width, else 8.
  fitColumns() {
    if (!this.natural) {
      const save = this.cols;
      this.cols = 16;
      const r = this.makeRow();
      r.firstChild.textContent = '0'.repeat(this.digits);
      r.classList.add('probe');
      this.layer.append(r);
      this.natural = Math.ceil(r.getBoundingClientRect().width);
      r.remove();
      this.cols = save;
    }
    const want = this.natural <= this.scroller.clientWidth || !this.scroller.clientWidth ? 16 : 8;
    if (want === this.cols) return;
    const first = this.top * this.cols;
    this.cols = want;
    this.top = Math.floor(first / want);
    this.rows = [];
    clear(this.layer);
    this.renderHead();
  }

  get size() { return this.src ? this.src.size : 0; }
  get totalRows() { return Math.ceil(this.size / this.cols); }

  layout() {
    if (!this.src) return;
    this.fitColumns();
    if (!this.rows.length) {
      const r = this.makeRow();
      this.rows.push(r);
      this.layer.append(r);
    }
    const h = this.rows[0].getBoundingClientRect().height;
    if (h > 0) this.rowH = h;
    const vh = this.scroller.clientHeight;
    this.vis = Math.max(1, Math.floor(vh / this.rowH));
    const full = this.totalRows * this.rowH;
    this.scaled = full > MAX_PX;
    const H = Math.min(full, MAX_PX);
    this.layer.style.height = `${vh}px`;
    this.spacer.style.height = `${Math.max(0, H - vh)}px`;
    const want = Math.max(1, Math.min(this.vis + 1, this.totalRows));
    while (this.rows.length < want) {
      const r = this.makeRow();
      this.rows.push(r);
      this.layer.append(r);
    }
    while (this.rows.length > want) this.rows.pop().remove();
    this.setTop(this.top);
  }

  makeRow() {
    const off = el('span', { class: 'off' });
    const hexes = el('span', { class: 'hexes' });
    const asc = el('span', { class: 'asc' });
    for (let i = 0; i < this.cols; i++) {
      hexes.append(el('span', { class: 'b', data: { i } }));
      asc.append(el('span', { class: 'a', data: { i } }));
    }
    return el('div', { class: 'hex-row' }, off, hexes, asc);
  }

  get maxTop() { return Math.max(0, this.totalRows - this.vis); }

  setTop(row) {
    this.top = Math.max(0, Math.min(this.maxTop, Math.floor(row)));
    const vh = this.scroller.clientHeight;
    const range = Math.min(this.totalRows * this.rowH, MAX_PX) - vh;
    const st = this.scaled ? (this.maxTop ? (this.top / this.maxTop) * range : 0) : this.top * this.rowH;
    if (Math.abs(this.scroller.scrollTop - st) >= 1) {
      this.expectScroll = Math.round(st);
      this.scroller.scrollTop = st;
    }
    this.render();
  }

  onScroll() {
    const st = this.scroller.scrollTop;
    if (this.expectScroll >= 0 && Math.abs(st - this.expectScroll) <= 1) {
      this.expectScroll = -1;
      return;
    }
    this.expectScroll = -1;
    const vh = this.scroller.clientHeight;
    const range = Math.min(this.totalRows * this.rowH, MAX_PX) - vh;
    const top = this.scaled ? Math.round((st / Math.max(1, range)) * this.maxTop) : Math.round(st / this.rowH);
    this.top = Math.max(0, Math.min(this.maxTop, top));
    this.render();
  }

  onWheel(e) {
    if (!this.src || e.ctrlKey) return;
    e.preventDefault();
    const px = e.deltaMode === 1 ? e.deltaY * this.rowH : e.deltaMode === 2 ? e.deltaY * this.vis * this.rowH : e.deltaY;
    this.wheelRest += px / this.rowH;
    const n = Math.trunc(this.wheelRest);
    if (n) {
      this.wheelRest -= n;
      this.setTop(this.top + n);
    }
  }

  onKey(e) {
    if (!this.src) return;
    const page = this.vis * this.cols;
    const extend = e.shiftKey;
    const rowStart = this.cursor - (this.cursor % this.cols);
    let to = null;
    switch (e.key) {
      case 'ArrowLeft': to = this.cursor - 1; break;
      case 'ArrowRight': to = this.cursor + 1; break;
      case 'ArrowUp': to = this.cursor - this.cols; break;
      case 'ArrowDown': to = this.cursor + this.cols; break;
      case 'PageUp': to = this.cursor - page; break;
      case 'PageDown': to = this.cursor + page; break;
      case 'Home': to = e.ctrlKey || e.metaKey ? 0 : rowStart; break;
      // End puts the cursor on the row's last byte; Shift+End selects
      // through it (the caret after it), as a text editor's does.
      case 'End':
        if (e.ctrlKey || e.metaKey) to = extend ? this.size : this.size - 1;
        else to = rowStart + this.cols - (extend ? 0 : 1);
        break;
      case 'Escape': this.anchor = null; this.render(); this.changed(); return;
      case 'c': case 'C':
        if ((e.ctrlKey || e.metaKey) && !e.altKey) {
          e.preventDefault();
          if (e.shiftKey) this.setCopyFormat(nextCopyFormat(this.copyFormat).id, true);
          this.copy();
        }
        return;
      case 'a': case 'A':
        // Select all of the source (as hex editors do), not the page's
        // text; the view stays where it is.
        if ((e.ctrlKey || e.metaKey) && !e.altKey && this.size > 0) {
          e.preventDefault();
          this.anchor = 0;
          this.cursor = this.size;
          this.render();
          this.changed();
        }
        return;
      default: return;
    }
    e.preventDefault();
    if (to < 0) to = e.key === 'PageUp' || e.key === 'ArrowUp' ? this.cursor % this.cols : 0;
    // Only a selection's end may be the caret after the last byte.
    const last = extend ? this.size : this.size - 1;
    if (to > last) to = last;
    this.moveCursor(to, extend);
  }

  // moveCursor puts the caret at to; extend keeps (or starts) a selection
  // from the anchor, else there is none.
  moveCursor(to, extend) {
    if (extend) {
      if (this.anchor === null) this.anchor = this.cursor;
    } else {
      this.anchor = null;
      to = Math.min(to, this.size - 1);
    }
    this.cursor = to;
    this.reveal(Math.min(to, this.size - 1));
    this.changed();
  }

  // place sets the cursor and the anchor as they were (a reload's
  // restore), within the source, and shows the cursor.
  place(cursor, anchor = null) {
    if (!this.src || !this.size) return;
    const clamp = (v) => Math.max(0, Math.min(this.size, Math.floor(v)));
    this.anchor = anchor === null || !Number.isFinite(anchor) ? null : clamp(anchor);
    this.cursor = clamp(cursor);
    if (this.anchor === null && this.cursor >= this.size) this.cursor = this.size - 1;
    const at = Math.min(this.cursor, this.size - 1);
    const row = Math.floor(at / this.cols);
    this.setTop(row - (row > 0 ? 1 : 0));
    this.changed();
  }

  // setCopyFormat chooses what Ctrl+C copies as; by a key, the page is
  // told (its menu shows the choice).
  setCopyFormat(id, byKey = false) {
    this.copyFormat = copyFormat(id).id;
    if (byKey && this.opts.onCopyFormat) this.opts.onCopyFormat(this.copyFormat);
  }

  // reveal scrolls the least needed to show offset.
  reveal(offset) {
    const row = Math.floor(offset / this.cols);
    if (row < this.top) this.setTop(row);
    else if (row >= this.top + this.vis) this.setTop(row - this.vis + 1);
    else this.render();
  }

  onPointer(e, kind) {
    const b = e.target.closest('[data-i]');
    const row = e.target.closest('.hex-row');
    if (!b || !row || row.dataset.offset === undefined) return;
    const off = Number(row.dataset.offset) + Number(b.dataset.i);
    if (off >= this.size) return;
    if (kind === 'down') {
      if (e.button !== 0) return;
      e.preventDefault();
      this.scroller.focus({ preventScroll: true });
      this.dragging = true;
      if (e.shiftKey) {
        // Extend from the anchor (a caret) through the byte clicked.
        if (this.anchor === null) this.anchor = this.cursor;
        this.drag = { from: this.anchor, caret: true };
        this.cursor = off >= this.anchor ? off + 1 : off;
      } else {
        this.drag = { from: off, caret: false };
        this.anchor = null;
        this.cursor = off;
      }
    } else {
      if (!this.dragging || !this.drag) return;
      // A drag selects the byte under the pointer and the one it started
      // on (or, from Shift+click, from the anchor), whichever way it goes.
      const { from, caret } = this.drag;
      const [anchor, cursor] = off >= from ? [from, off + 1] : [caret ? from : from + 1, off];
      if (anchor === this.anchor && cursor === this.cursor) return;
      this.anchor = anchor;
      this.cursor = cursor;
    }
    this.render();
    this.changed();
  }

  // goto puts offset at the top (a row of context above it) and the cursor
  // on it; select: [start, end) selects a range (e.g. a structure) with
  // the cursor on its first byte, so that the status line names what
  // starts there and the range's start shows.
  goto(offset, { select = null } = {}) {
    if (!this.src) return;
    offset = Math.max(0, Math.min(this.size - 1, Math.floor(offset)));
    this.cursor = offset;
    this.anchor = null;
    if (select && select[1] > select[0] && select[0] < this.size) {
      this.cursor = Math.max(0, Math.floor(select[0]));
      this.anchor = Math.min(this.size, Math.floor(select[1]));
      offset = this.cursor;
    }
    this.setTop(Math.floor(offset / this.cols) - (offset >= this.cols ? 1 : 0));
    this.changed();
  }

  // setMarks marks byte ranges ([{start, end}], end exclusive; null for
  // none), e.g. the pieces of a file; they stay until the next setMarks or
  // setSource.
  setMarks(ranges) {
    this.marks = ranges && ranges.length ? [...ranges].sort((a, b) => a.start - b.start) : null;
    this.root.dataset.marks = this.marks ? String(this.marks.length) : '0';
    this.render();
  }

  // marked says whether off is in a marked range (binary search).
  marked(off) {
    const m = this.marks;
    let lo = 0;
    let hi = m.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (off < m[mid].start) hi = mid - 1;
      else if (off >= m[mid].end) lo = mid + 1;
      else return true;
    }
    return false;
  }

  // selection returns {start, end} (end exclusive) or null.
  selection() {
    if (this.anchor === null || this.anchor === this.cursor) return null;
    return { start: Math.min(this.anchor, this.cursor), end: Math.max(this.anchor, this.cursor) };
  }

  changed() {
    this.renderStatus();
    if (this.opts.onChange) this.opts.onChange(this);
  }

  // render fills the visible rows from the cache and asks for what is missing.
  render() {
    if (!this.src) return;
    const sel = this.selection();
    const need = [];
    this.root.dataset.top = String(this.top * this.cols);
    for (let r = 0; r < this.rows.length; r++) {
      const rowEl = this.rows[r];
      const rowNo = this.top + r;
      const base = rowNo * this.cols;
      if (rowNo >= this.totalRows) {
        rowEl.hidden = true;
        delete rowEl.dataset.offset;
        continue;
      }
      rowEl.hidden = false;
      rowEl.dataset.offset = String(base);
      rowEl.firstChild.textContent = hexPlain(base, this.digits);
      const hexes = rowEl.children[1].children;
      const asc = rowEl.children[2].children;
      for (let i = 0; i < this.cols; i++) {
        const off = base + i;
        const hb = hexes[i];
        const ab = asc[i];
        let cls = 'b';
        let acls = 'a';
        if (off >= this.size) {
          hb.textContent = '  ';
          ab.textContent = ' ';
          hb.className = 'b none';
          ab.className = 'a none';
          continue;
        }
        const p = this.cache.get(Math.floor(off / PAGE));
        if (p && p.data) {
          const v = p.data[off % PAGE];
          hb.textContent = HEX[v];
          ab.textContent = ASCII[v];
          if (v === 0) { cls += ' z'; acls += ' z'; } else if (v < 0x20 || v >= 0x7f) acls += ' z';
        } else if (p && p.err) {
          hb.textContent = '??';
          ab.textContent = '?';
          cls += ' err';
          acls += ' err';
        } else {
          hb.textContent = '··';
          ab.textContent = ' ';
          cls += ' wait';
          need.push(Math.floor(off / PAGE));
        }
        if (this.marks && this.marked(off)) { cls += ' mark'; acls += ' mark'; }
        if (sel && off >= sel.start && off < sel.end) { cls += ' sel'; acls += ' sel'; }
        if (off === this.cursor) { cls += ' cur'; acls += ' cur'; }
        hb.className = cls;
        ab.className = acls;
      }
    }
    if (need.length) this.fetch(need);
  }

  // fetch reads the missing pages around the visible ones, coalesced.
  fetch(pages) {
    const first = Math.max(0, Math.min(...pages) - 1);
    const last = Math.min(Math.floor((this.size - 1) / PAGE), Math.max(...pages) + 1);
    let run = null;
    const runs = [];
    for (let p = first; p <= last; p++) {
      const missing = !this.cache.has(p) && !this.pending.has(p);
      if (missing && run && (p - run.first + 1) * PAGE <= MAX_READ) run.count++;
      else if (missing) runs.push((run = { first: p, count: 1 }));
      else run = null;
    }
    for (const r of runs) this.read(r.first, r.count, true);
  }

  async read(first, count, split) {
    const gen = this.gen;
    const src = this.src;
    for (let p = first; p < first + count; p++) this.pending.add(p);
    const off = first * PAGE;
    const len = Math.min(count * PAGE, this.size - off);
    let data = null;
    let err = null;
    try {
      data = await src.read(off, len);
      if (!(data instanceof Uint8Array)) data = new Uint8Array(data);
    } catch (e) {
      err = e;
    }
    if (gen !== this.gen) return;
    for (let p = first; p < first + count; p++) this.pending.delete(p);
    if (err && split && count > 1) {
      // Find which pages fail.
      for (let p = first; p < first + count; p++) this.read(p, 1, false);
      return;
    }
    for (let p = first; p < first + count; p++) {
      const entry = err ? { err } : { data: data.subarray((p - first) * PAGE, (p - first + 1) * PAGE) };
      this.cache.set(p, entry);
    }
    if (err) this.showError(off, len, err);
    while (this.cache.size > CACHE_PAGES) this.cache.delete(this.cache.keys().next().value);
    this.render();
    this.renderStatus();
  }

  showError(off, len, err) {
    this.error.hidden = false;
    this.error.textContent = `Cannot read ${this.src.kind === 'file' ? 'file' : 'disk'} bytes 0x${hexPlain(off)}–0x${hexPlain(off + len - 1)}: ${err.message || err}`;
  }

  hideError() {
    this.error.hidden = true;
    this.error.textContent = '';
  }

  // byteAt returns a cached byte or undefined.
  byteAt(off) {
    const p = this.cache.get(Math.floor(off / PAGE));
    return p && p.data ? p.data[off % PAGE] : undefined;
  }

  renderStatus() {
    if (!this.src) return;
    const c = this.cursor;
    const parts = [];
    parts.push(el('span', {}, el('b', { text: this.src.kind === 'file' ? 'File offset ' : 'Offset ' }), `0x${hexPlain(c)} (${grouped(c)})`));
    if (c >= this.size) {
      // The caret after the last byte (a selection to the end).
      parts.push(el('span', { text: 'the end' }));
    } else if (this.src.kind === 'disk' && this.src.sectorSize) {
      parts.push(el('span', {}, el('b', { text: 'LBA ' }), `${grouped(Math.floor(c / this.src.sectorSize))} +${c % this.src.sectorSize}`));
    }
    const d = this.opts.describe && c < this.size ? this.opts.describe(c, this.src) : '';
    if (d) parts.push(el('span', { text: d }));
    const v = [];
    for (let i = 0; i < 8; i++) v.push(this.byteAt(c + i));
    if (v[0] !== undefined) {
      const le = (n) => {
        if (v.slice(0, n).some((x) => x === undefined)) return null;
        let r = 0n;
        for (let i = n - 1; i >= 0; i--) r = (r << 8n) | BigInt(v[i]);
        return r;
      };
      const ints = [['u8', 1], ['u16', 2], ['u32', 4], ['u64', 8]]
        .map(([n, k]) => [n, le(k)]).filter(([, x]) => x !== null)
        .map(([n, x]) => `${n} ${x.toString()}`);
      parts.push(el('span', { class: 'ints', title: 'little-endian values at the cursor', text: ints.join(' · ') }));
    }
    const sel = this.selection();
    if (sel) {
      parts.push(el('span', { class: 'selinfo' }, el('b', { text: 'Selection ' }),
        `0x${hexPlain(sel.start)}–0x${hexPlain(sel.end - 1)} (${grouped(sel.end - sel.start)} bytes)`));
    }
    this.status.textContent = '';
    this.status.append(...parts);
  }

  // copy puts the selection (or the byte at the cursor) on the clipboard in
  // the copy format (copyformats.js), up to 1 MiB.
  async copy() {
    if (!this.src) return;
    const sel = this.selection() || (this.cursor < this.size ? { start: this.cursor, end: this.cursor + 1 } : null);
    if (!sel) return;
    const n = sel.end - sel.start;
    if (n > 1 << 20) {
      this.note(`Copy takes at most 1 MiB; use Download selection for ${grouped(n)} bytes.`);
      return;
    }
    const f = copyFormat(this.copyFormat);
    try {
      const b = await this.src.read(sel.start, n);
      await navigator.clipboard.writeText(f.format(b, sel.start));
      this.note(`Copied ${grouped(n)} ${n === 1 ? 'byte' : 'bytes'} as ${f.noun} (Ctrl+Shift+C: as the next format).`);
    } catch (e) {
      this.note(`Cannot copy: ${e.message || e}`);
    }
  }

  note(text) {
    this.renderStatus();
    this.status.append(el('span', { class: 'note', text }));
  }

  // visibleBytes returns the rows on screen as {offset, bytes: "hex…"} (a
  // hook for tests and for copying).
  visibleText() {
    return this.rows.filter((r) => !r.hidden).map((r) => ({
      offset: Number(r.dataset.offset),
      hex: Array.from(r.children[1].children, (b) => b.textContent).join(''),
    }));
  }

  focus() { this.scroller.focus(); }
}
