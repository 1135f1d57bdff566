// search.js: the search box of the hex toolbar. It finds hex bytes or
// text (ASCII/UTF-8, or UTF-16LE) in the virtual disk with vhdxview.search
// in the worker, a page of hits at a time, and steps through them with
// Next / Previous (Enter / Shift+Enter), each hit selected in the hex view.

import { el, replace, grouped, hexPlain, errorText } from './dom.js';
import * as api from '../vhdxview.js';

const PAGE_HITS = 1000;

// patternOf turns what was typed into bytes: {bytes} or {error}.
export function patternOf(mode, text) {
  if (mode === 'hex') {
    const h = text.replace(/0x/gi, '').replace(/[\s:,-]/g, '');
    if (!h.length || h.length % 2 || /[^0-9a-f]/i.test(h)) return { error: 'Type hex bytes, like "4e 54 46 53" or 0x55aa.' };
    return { bytes: Uint8Array.from(h.match(/../g), (b) => parseInt(b, 16)) };
  }
  if (!text.length) return { error: 'Type the text to find.' };
  if (mode === 'utf16') {
    const b = new Uint8Array(text.length * 2);
    for (let i = 0; i < text.length; i++) {
      const u = text.charCodeAt(i);
      b[2 * i] = u & 0xff;
      b[2 * i + 1] = u >> 8;
    }
    return { bytes: b };
  }
  return { bytes: new TextEncoder().encode(text) };
}

export class SearchBar {
  // ctx() gives {image, hex} or null when the hex view does not show the
  // disk; notify(text) reports.
  constructor(root, ctx) {
    this.ctx = ctx;
    this.mode = el('select', { id: 'search-mode', 'aria-label': 'Search for', title: 'What the search text is' },
      el('option', { value: 'text', text: 'Text' }),
      el('option', { value: 'utf16', text: 'UTF-16' }),
      el('option', { value: 'hex', text: 'Hex' }));
    this.input = el('input', { type: 'search', id: 'search-input', spellcheck: 'false', autocomplete: 'off', placeholder: 'Find…',
      'aria-label': 'Find in the disk (Enter: next, Shift+Enter: previous)', title: 'Enter: next hit, Shift+Enter: previous' });
    this.prev = el('button', { type: 'button', id: 'search-prev', class: 'small', text: '◀', 'aria-label': 'Previous hit', title: 'Previous hit (Shift+Enter)' });
    this.next = el('button', { type: 'button', id: 'search-next', class: 'small', text: '▶', 'aria-label': 'Next hit', title: 'Next hit (Enter)' });
    this.stopB = el('button', { type: 'button', id: 'search-cancel', class: 'small', text: 'Cancel', hidden: true });
    this.status = el('span', { class: 'search-status', id: 'search-status', role: 'status', 'aria-live': 'polite' });
    replace(root, this.mode, this.input, this.prev, this.next, this.stopB, this.status);
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); this.step(e.shiftKey ? -1 : 1); }
      if (e.key === 'Escape' && this.ac) { e.preventDefault(); this.stop(); }
    });
    this.prev.addEventListener('click', () => this.step(-1));
    this.next.addEventListener('click', () => this.step(1));
    this.stopB.addEventListener('click', () => this.stop());
    this.mode.addEventListener('change', () => this.reset());
    this.input.addEventListener('input', () => this.reset());
    this.reset();
  }

  // reset forgets the hits (a new pattern, a new image).
  reset() {
    this.stop();
    this.key = null;
    this.hits = [];
    this.more = 0; // where the next page starts, or null when the disk is done
    this.index = -1;
    this.status.textContent = '';
  }

  stop() {
    if (this.ac) this.ac.abort();
  }

  // loadPage fetches the next page of hits; false when there is none.
  async loadPage(c) {
    if (this.more === null) return false;
    this.ac = new AbortController();
    this.stopB.hidden = false;
    try {
      const r = await api.search(c.image, this.bytes, {
        offset: this.more, limit: PAGE_HITS, signal: this.ac.signal,
        onProgress: (p) => { this.status.textContent = `Searching… ${p.total ? Math.floor((100 * p.done) / p.total) : 100}%`; },
      });
      this.hits.push(...r.hits);
      this.more = r.next;
      return r.hits.length > 0;
    } finally {
      this.ac = null;
      this.stopB.hidden = true;
    }
  }

  async step(dir) {
    const c = this.ctx();
    if (!c) { this.status.textContent = 'Search works on the virtual disk.'; return; }
    if (this.ac) return;
    const p = patternOf(this.mode.value, this.input.value);
    if (p.error) { this.status.textContent = p.error; return; }
    const key = `${c.image}:${this.mode.value}:${this.input.value}`;
    if (key !== this.key) {
      this.reset();
      this.key = key;
      this.bytes = p.bytes;
    }
    try {
      // From the hit shown, if the hex view still selects it; else from
      // a selection's start (what is selected, e.g. an earlier search's
      // hit, is not the next hit); else from the cursor (a hit at the
      // cursor counts as next).
      const sel = c.hex.selection();
      const onHit = this.index >= 0 && sel && sel.start === this.hits[this.index];
      const cur = onHit ? this.hits[this.index] : sel ? sel.start : c.hex.cursor;
      const after = (h) => h > cur || (!sel && h === cur);
      let i;
      if (dir > 0) {
        i = this.hits.findIndex(after);
        while (i < 0 && (await this.loadPage(c))) i = this.hits.findIndex(after);
        if (i < 0 && this.hits.length) i = 0; // wrap around
      } else {
        // Load until the hits reach the cursor: the nearest before it is known.
        while (this.more !== null && (!this.hits.length || this.hits[this.hits.length - 1] < cur) && (await this.loadPage(c)));
        i = -1;
        for (let k = this.hits.length - 1; k >= 0; k--) if (this.hits[k] < cur) { i = k; break; }
        if (i < 0 && this.hits.length) {
          while (this.more !== null && (await this.loadPage(c)));
          i = this.hits.length - 1; // wrap around to the last
        }
      }
      if (i < 0) { this.status.textContent = 'Not found.'; return; }
      this.index = i;
      const at = this.hits[i];
      c.hex.goto(at, { select: [at, at + this.bytes.length] });
      const total = this.more === null ? `${grouped(this.hits.length)}` : `${grouped(this.hits.length)}+`;
      this.status.textContent = `Hit ${grouped(i + 1)} of ${total} at 0x${hexPlain(at)}`;
    } catch (e) {
      this.status.textContent = e && e.name === 'AbortError' ? 'Search cancelled.' : `Search failed: ${errorText(e)}`;
      if (!(e && e.name === 'AbortError')) this.key = null;
    }
  }
}
