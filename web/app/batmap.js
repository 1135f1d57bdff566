// batmap.js: a picture of the block allocation table, one cell per payload
// block (or per run of blocks on large disks), coloured by state.
//
// States come from the worker's map op in pages of PAGE_BLOCKS, so a disk
// of 10^7 blocks fills in progressively and no call is large. Up to
// RAW_LIMIT blocks the raw state of every block is kept (one byte each);
// beyond that, per-bucket counts of each category are kept instead, so
// memory stays under ~16 MiB whatever the disk. When there are more blocks
// than fit as cells of at least 3 px, each cell stands for several blocks
// and is drawn as bands in proportion to the states inside it (every state
// present keeps at least a pixel); hovering it gives the exact counts. An
// axis on the left gives the virtual offset where rows start, and
// findAllocated steps from one block holding data to the next.

import { el, hexPlain, grouped, human } from './dom.js';

const PAGE_BLOCKS = 1 << 16;
const RAW_LIMIT = 1 << 24;
const MAX_H = 150; // css px
const AXIS_GAP = 24; // css px between the axis's labels
const UNKNOWN = 255;

// Categories, in drawing and legend order.
export const CATEGORIES = [
  { key: 'present', label: 'present', help: 'FULLY_PRESENT: the block\'s data is in this file' },
  { key: 'partial', label: 'partial', help: 'PARTIALLY_PRESENT: some sectors here, the rest from the parent (sector bitmap)' },
  { key: 'parent', label: 'from parent', help: 'NOT_PRESENT, UNDEFINED or UNMAPPED in a differencing disk: read from the parent' },
  { key: 'zero', label: 'zero', help: 'ZERO: reads as zeros, no space used' },
  { key: 'unmapped', label: 'unmapped', help: 'UNMAPPED: trimmed; reads as zeros' },
  { key: 'undefined', label: 'undefined', help: 'UNDEFINED: never written; reads as zeros' },
  { key: 'absent', label: 'not present', help: 'NOT_PRESENT: never written; reads as zeros' },
  { key: 'invalid', label: 'invalid', help: 'a state value the specification does not define' },
  { key: 'loading', label: 'loading', help: 'not read yet' },
];
const CAT = Object.fromEntries(CATEGORIES.map((c, i) => [c.key, i]));
const NCAT = CATEGORIES.length;

export const STATE_NAMES = { 0: 'NOT_PRESENT', 1: 'UNDEFINED', 2: 'ZERO', 3: 'UNMAPPED', 6: 'FULLY_PRESENT', 7: 'PARTIALLY_PRESENT' };

// category gives the category index of a payload block state.
export function category(state, differencing) {
  switch (state) {
    case 6: return CAT.present;
    case 7: return CAT.partial;
    case 2: return CAT.zero;
    case 0: return differencing ? CAT.parent : CAT.absent;
    case 1: return differencing ? CAT.parent : CAT.undefined;
    case 3: return differencing ? CAT.parent : CAT.unmapped;
    case UNKNOWN: return CAT.loading;
    default: return CAT.invalid;
  }
}

// Which categories keep a band when a cell is too small for all of them.
const INTEREST = ['invalid', 'present', 'partial', 'zero', 'unmapped', 'undefined', 'parent', 'absent', 'loading'].map((k) => CAT[k]);

// bands splits a cell of h pixels among the categories in it, in proportion
// to their counts, but with at least one pixel for every category present
// (a single ZERO block among a million NOT_PRESENT ones stays visible).
// It returns [[category, pixels]], the most common first.
export function bands(counts, h) {
  let cats = counts.map((n, c) => [c, n]).filter(([, n]) => n > 0);
  if (cats.length > h) cats = INTEREST.filter((c) => counts[c] > 0).slice(0, h).map((c) => [c, counts[c]]);
  const total = cats.reduce((a, [, n]) => a + n, 0);
  cats.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
  const px = cats.map(([, n]) => Math.max(1, Math.round((n / total) * h)));
  let sum = px.reduce((a, b) => a + b, 0);
  while (sum > h) {
    const k = px.indexOf(Math.max(...px));
    px[k]--;
    sum--;
  }
  if (sum < h) px[0] += h - sum;
  return cats.map(([c], k) => [c, px[k]]);
}

export class BatMap {
  // opts: {blocks, blockSize, virtualSize, differencing, fetch(first, count)
  // -> Promise<Uint8Array>, onPick(block), describe(block) -> Promise<string>}
  constructor(root, opts) {
    this.root = root;
    // The element outlives the map of the image before: its "loaded" and
    // "error" marks were that map's.
    delete root.dataset.loaded;
    delete root.dataset.error;
    this.o = opts;
    this.n = opts.blocks;
    this.raw = this.n <= RAW_LIMIT;
    this.bucket = this.raw ? 1 : Math.ceil(this.n / (1 << 21));
    if (this.raw) this.states = new Uint8Array(this.n).fill(UNKNOWN);
    else this.counts = new Uint8Array(Math.ceil(this.n / this.bucket) * NCAT);
    this.loaded = 0;
    this.totals = new Array(NCAT).fill(0);
    this.focusCell = -1;
    this.marker = -1;
    this.build();
    this.readColors();
    this.layout();
    this.load();
  }

  build() {
    // The canvas takes focus and arrow keys that move through the cells,
    // so it is a slider over the cells (not an image): its value text says
    // what the cell holds; Enter shows it in hex.
    this.canvas = el('canvas', {
      class: 'batmap-canvas', tabindex: '0', role: 'slider', 'aria-roledescription': 'block map',
      'aria-label': `Block allocation map: ${grouped(this.n)} blocks (arrows move, Enter shows the block in hex)`,
      'aria-valuemin': '0', 'aria-valuenow': '0',
    });
    // The tip shows what the value text says: not announced again.
    this.tip = el('div', { class: 'batmap-tip', 'aria-hidden': 'true', hidden: true });
    this.progress = el('div', { class: 'batmap-progress' });
    this.legend = el('ul', { class: 'legend' });
    this.wrap = el('div', { class: 'batmap-wrap' }, this.canvas, this.tip);
    // The axis: the virtual offset where rows start, in human units (the
    // cells' own ranges are in the tip and the slider's value text).
    this.axis = el('div', { class: 'batmap-axis', 'aria-hidden': 'true' });
    this.root.append(el('div', { class: 'batmap-body' }, this.axis, this.wrap), el('div', { class: 'batmap-foot' }, this.legend, this.progress));
    this.canvas.addEventListener('mousemove', (e) => this.hover(this.cellFromEvent(e)));
    this.canvas.addEventListener('mouseleave', () => { if (document.activeElement !== this.canvas) this.hideTip(); });
    this.canvas.addEventListener('click', (e) => {
      const c = this.cellFromEvent(e);
      if (c >= 0) this.pick(c);
    });
    this.canvas.addEventListener('keydown', (e) => this.onKey(e));
    this.canvas.addEventListener('focus', () => this.hover(Math.max(0, this.focusCell)));
    this.canvas.addEventListener('blur', () => this.hideTip());
    this.ro = new ResizeObserver(() => requestAnimationFrame(() => {
      if (!this.dead && this.wrap.clientWidth !== this.lastW) this.layout();
    }));
    this.ro.observe(this.wrap);
    this.mq = window.matchMedia('(prefers-color-scheme: dark)');
    this.onScheme = () => { this.readColors(); this.draw(); this.renderLegend(); };
    this.mq.addEventListener('change', this.onScheme);
  }

  destroy() {
    this.dead = true;
    this.ro.disconnect();
    this.mq.removeEventListener('change', this.onScheme);
  }

  readColors() {
    const cs = getComputedStyle(this.root);
    this.colors = CATEGORIES.map((c) => cs.getPropertyValue(`--bat-${c.key}`).trim() || '#888');
    this.markColor = cs.getPropertyValue('--bat-mark').trim() || '#000';
  }

  // layout chooses the cell size and blocks per cell for the width.
  layout() {
    const W = Math.max(100, this.wrap.clientWidth);
    this.lastW = this.wrap.clientWidth;
    const n = this.n;
    let best = null;
    for (const c of [28, 24, 20, 16, 14, 12, 10, 8, 7, 6, 5, 4, 3]) {
      const gap = c >= 6 ? 1 : 0;
      const cols = Math.max(1, Math.floor((W + gap) / (c + gap)));
      const rows = Math.ceil(n / cols);
      if (rows * (c + gap) - gap <= MAX_H) {
        best = { c, gap, cols, rows, per: 1 };
        break;
      }
    }
    if (!best) {
      const c = 3;
      const cols = Math.floor(W / c);
      const maxRows = Math.floor(MAX_H / c);
      let per = Math.ceil(n / (cols * maxRows));
      per = Math.ceil(per / this.bucket) * this.bucket;
      const cells = Math.ceil(n / per);
      best = { c, gap: 0, cols, rows: Math.ceil(cells / cols), per };
    }
    Object.assign(this, best);
    this.cells = Math.ceil(n / this.per);
    this.canvas.setAttribute('aria-valuemax', String(Math.max(0, this.cells - 1)));
    if (this.cols > this.cells) this.cols = this.cells;
    const cssW = this.cols * (this.c + this.gap) - this.gap;
    const cssH = this.rows * (this.c + this.gap) - this.gap;
    const dpr = window.devicePixelRatio || 1;
    this.dpr = dpr;
    this.canvas.width = Math.round(cssW * dpr);
    this.canvas.height = Math.round(cssH * dpr);
    this.canvas.style.width = `${cssW}px`;
    this.canvas.style.height = `${cssH}px`;
    const d = this.canvas.dataset;
    d.blocks = String(n);
    d.cells = String(this.cells);
    d.perCell = String(this.per);
    d.cols = String(this.cols);
    d.cell = String(this.c);
    d.gap = String(this.gap);
    this.drawAxis(cssH);
    this.draw();
  }

  // drawAxis labels the start of every few rows with its virtual offset,
  // at least AXIS_GAP px apart, and the disk's end below the last row.
  drawAxis(cssH) {
    this.axis.textContent = '';
    this.axis.style.height = `${cssH}px`;
    const rowPx = this.c + this.gap;
    const step = Math.max(1, Math.ceil(AXIS_GAP / rowPx));
    const rowBytes = this.cols * this.per * this.o.blockSize;
    const tick = (top, offset, end = false) => {
      const t = el('span', { class: `batmap-tick${end ? ' end' : ''}`, text: offset === 0 ? '0' : human(offset), data: { offset: String(offset), row: end ? 'end' : String(top / rowPx) } });
      t.style.top = `${top}px`;
      this.axis.append(t);
    };
    const rows = Math.ceil(this.cells / this.cols);
    for (let r = 0; r < rows && (r === 0 || r * rowPx + AXIS_GAP <= cssH); r += step) tick(r * rowPx, r * rowBytes);
    tick(cssH, this.o.virtualSize, true);
  }

  // cellRect gives a cell's box in css px within the canvas.
  cellRect(i) {
    const s = this.c + this.gap;
    return { x: (i % this.cols) * s, y: Math.floor(i / this.cols) * s, w: this.c, h: this.c };
  }

  cellFromEvent(e) {
    const r = this.canvas.getBoundingClientRect();
    const s = this.c + this.gap;
    const col = Math.floor((e.clientX - r.left) / s);
    const row = Math.floor((e.clientY - r.top) / s);
    if (col < 0 || col >= this.cols || row < 0) return -1;
    const i = row * this.cols + col;
    return i < this.cells ? i : -1;
  }

  // cellCounts gives the number of blocks of each category in cell i.
  cellCounts(i) {
    const out = new Array(NCAT).fill(0);
    const first = i * this.per;
    const end = Math.min(this.n, first + this.per);
    if (this.raw) {
      for (let b = first; b < end; b++) out[category(this.states[b], this.o.differencing)]++;
    } else {
      for (let k = first / this.bucket; k < Math.ceil(end / this.bucket); k++) {
        let seen = 0;
        for (let c = 0; c < NCAT; c++) { out[c] += this.counts[k * NCAT + c]; seen += this.counts[k * NCAT + c]; }
        const size = Math.min(this.bucket, this.n - k * this.bucket);
        out[CAT.loading] += size - seen;
      }
    }
    return out;
  }

  draw(firstCell = 0, lastCell = this.cells - 1) {
    const ctx = this.canvas.getContext('2d');
    const dpr = this.dpr;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    for (let i = firstCell; i <= lastCell; i++) {
      const { x, y, w, h } = this.cellRect(i);
      ctx.clearRect(x, y, w, h);
      if (this.per === 1 && this.raw) {
        ctx.fillStyle = this.colors[category(this.states[i], this.o.differencing)];
        ctx.fillRect(x, y, w, h);
        continue;
      }
      const counts = this.cellCounts(i);
      let y0 = y;
      for (const [c, px] of bands(counts, h)) {
        ctx.fillStyle = this.colors[c];
        ctx.fillRect(x, y0, w, px);
        y0 += px;
      }
    }
    this.drawMarks();
  }

  drawMarks() {
    const ctx = this.canvas.getContext('2d');
    for (const [i, dash] of [[this.marker, []], [this.focusCell, [2, 2]]]) {
      if (i < 0 || i >= this.cells) continue;
      const { x, y, w, h } = this.cellRect(i);
      ctx.save();
      ctx.strokeStyle = this.markColor;
      ctx.lineWidth = 2;
      ctx.setLineDash(dash);
      ctx.strokeRect(x + 1, y + 1, w - 2, h - 2);
      ctx.restore();
    }
  }

  // setMarker outlines the cell holding block (where the hex view is).
  setMarker(block) {
    const cell = block >= 0 && block < this.n ? Math.floor(block / this.per) : -1;
    if (cell === this.marker) return;
    const old = this.marker;
    this.marker = cell;
    if (old >= 0) this.draw(old, old);
    if (cell >= 0) this.draw(cell, cell);
  }

  async load() {
    for (let first = 0; first < this.n && !this.dead; first += PAGE_BLOCKS) {
      const count = Math.min(PAGE_BLOCKS, this.n - first);
      let st;
      try {
        st = await this.o.fetch(first, count);
      } catch (e) {
        if (this.dead) return;
        this.progress.textContent = `Could not read the BAT at block ${grouped(first)}: ${e.message || e}`;
        this.progress.classList.add('error');
        this.root.dataset.error = e.message || String(e);
        return;
      }
      if (this.dead) return;
      for (let i = 0; i < st.length; i++) {
        const b = first + i;
        this.totals[category(st[i], this.o.differencing)]++;
        if (this.raw) this.states[b] = st[i];
        else this.counts[Math.floor(b / this.bucket) * NCAT + category(st[i], this.o.differencing)]++;
      }
      this.loaded = first + st.length;
      this.draw(Math.floor(first / this.per), Math.min(this.cells - 1, Math.floor((this.loaded - 1) / this.per)));
      this.renderLegend();
      this.progress.textContent = this.loaded < this.n ? `Reading the BAT… ${Math.floor((this.loaded / this.n) * 100)}%` : '';
    }
    if (!this.dead) {
      this.root.dataset.loaded = 'true';
      this.renderLegend();
      if (this.o.onLoaded) this.o.onLoaded(this);
    }
  }

  // findAllocated gives the first block after `from` (dir 1) or before it
  // (dir -1) whose data is in this file (present or partial), -1 if there
  // is none among the blocks read so far. Beyond RAW_LIMIT blocks the map
  // keeps counts per bucket: the first bucket with such a block is read
  // again from the engine to find which.
  async findAllocated(from, dir) {
    const alloc = (st) => {
      const c = category(st, this.o.differencing);
      return c === CAT.present || c === CAT.partial;
    };
    const inRange = (b) => b >= 0 && b < this.n;
    if (this.raw) {
      for (let b = from + dir; inRange(b); b += dir) if (alloc(this.states[b])) return b;
      return -1;
    }
    const bs = this.bucket;
    for (let k = Math.floor((from + dir) / bs); k >= 0 && k * bs < this.n; k += dir) {
      if (!(this.counts[k * NCAT + CAT.present] + this.counts[k * NCAT + CAT.partial])) continue;
      const first = k * bs;
      const st = await this.o.fetch(first, Math.min(bs, this.n - first));
      for (let i = dir > 0 ? 0 : st.length - 1; i >= 0 && i < st.length; i += dir) {
        const b = first + i;
        if ((dir > 0 ? b > from : b < from) && alloc(st[i])) return b;
      }
    }
    return -1;
  }

  // state returns a block's raw state when known (raw mode), else undefined.
  state(block) {
    if (!this.raw || block < 0 || block >= this.n) return undefined;
    const s = this.states[block];
    return s === UNKNOWN ? undefined : s;
  }

  renderLegend() {
    this.legend.textContent = '';
    const cs = this.totals;
    CATEGORIES.forEach((c, i) => {
      if (c.key === 'loading' && this.loaded >= this.n) return;
      const n = c.key === 'loading' ? this.n - this.loaded : cs[i];
      const always = ['present', 'zero', 'absent'].includes(c.key) || (['parent', 'partial'].includes(c.key) && this.o.differencing);
      if (!n && !always) return;
      const sw = el('span', { class: 'swatch', data: { cat: c.key } });
      sw.style.background = this.colors[i];
      this.legend.append(el('li', { title: c.help, data: { cat: c.key, count: n } }, sw, `${c.label} `, el('span', { class: 'count', text: grouped(n) })));
    });
  }

  // hover shows what cell i holds.
  hover(i) {
    if (i < 0) { this.hideTip(); return; }
    const first = i * this.per;
    const last = Math.min(this.n, first + this.per) - 1;
    const bs = this.o.blockSize;
    const from = first * bs;
    const to = Math.min(this.o.virtualSize, (last + 1) * bs) - 1;
    const lines = [];
    if (first === last) {
      const s = this.state(first);
      lines.push(`Block ${grouped(first)}`);
      lines.push(`disk 0x${hexPlain(from)}–0x${hexPlain(to)} (${human(to - from + 1)})`);
      const cat = s === undefined ? null : CATEGORIES[category(s, this.o.differencing)];
      lines.push(s === undefined ? 'state: loading' : `${(this.o.stateNames || STATE_NAMES)[s] || `invalid state ${s}`}${cat.key === 'parent' ? ' · read from the parent' : ''}`);
    } else {
      lines.push(`Blocks ${grouped(first)}–${grouped(last)}`);
      lines.push(`disk 0x${hexPlain(from)}–0x${hexPlain(to)} (${human(to - from + 1)})`);
      const counts = this.cellCounts(i);
      lines.push(counts.map((n, c) => [n, c]).filter(([n]) => n).map(([n, c]) => `${grouped(n)} ${CATEGORIES[c].label}`).join(', '));
    }
    lines.push('click to show in hex');
    this.showTip(i, lines);
    if (first === last && this.o.describe) {
      const token = (this.tipToken = {});
      this.o.describe(first).then((extra) => {
        if (this.tipToken === token && extra) this.showTip(i, [...lines.slice(0, -1), extra, lines[lines.length - 1]]);
      }, () => {});
    }
  }

  showTip(i, lines) {
    if (i === this.focusCell) this.canvas.setAttribute('aria-valuetext', lines.slice(0, -1).join(', '));
    this.tip.textContent = '';
    lines.forEach((l, k) => this.tip.append(k ? el('div', { text: l }) : el('b', { text: l })));
    this.tip.hidden = false;
    const r = this.cellRect(i);
    const wrapW = this.wrap.clientWidth;
    const tw = this.tip.offsetWidth;
    let left = r.x + r.w + 8;
    if (left + tw > wrapW) left = Math.max(0, r.x - tw - 8);
    this.tip.style.left = `${left}px`;
    this.tip.style.top = `${r.y}px`;
  }

  hideTip() {
    this.tip.hidden = true;
    this.tipToken = null;
  }

  pick(i) {
    this.focusCell = i;
    if (this.o.onPick) this.o.onPick(i * this.per);
  }

  onKey(e) {
    let i = Math.max(0, this.focusCell);
    switch (e.key) {
      case 'ArrowLeft': i--; break;
      case 'ArrowRight': i++; break;
      case 'ArrowUp': i -= this.cols; break;
      case 'ArrowDown': i += this.cols; break;
      case 'Home': i = 0; break;
      case 'End': i = this.cells - 1; break;
      case 'Enter': case ' ': e.preventDefault(); this.pick(i); return;
      default: return;
    }
    e.preventDefault();
    i = Math.max(0, Math.min(this.cells - 1, i));
    const old = this.focusCell;
    this.focusCell = i;
    this.canvas.setAttribute('aria-valuenow', String(i));
    if (old >= 0) this.draw(old, old);
    this.draw(i, i);
    this.hover(i);
  }
}
