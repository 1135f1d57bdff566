// hash.js: the hash dialog. It hashes the whole virtual disk, the hex
// selection or a range (vhdxview.hash, in the worker, one pass for every
// algorithm chosen), shows progress with Cancel, each digest with a Copy
// button, and compares a pasted value with them.

import { el, replace, human, grouped, hexPlain, parseNumber, errorText } from './dom.js';

const ALGORITHMS = [['sha256', 'SHA-256'], ['sha1', 'SHA-1'], ['md5', 'MD5']];

// compare says which digest a pasted value equals: {name} or null. Case,
// spaces and a trailing file name (sha256sum's output) do not matter.
export function compare(value, sums) {
  const v = String(value).trim().split(/\s+/)[0].toLowerCase();
  if (!v) return undefined;
  for (const [a, label] of ALGORITHMS) if (sums[a] && sums[a] === v) return { name: label };
  return null;
}

export class HashDialog {
  // ctx() gives {name, size, selection, hash(offset, length, algorithms, onProgress, signal)}.
  constructor(dialog, ctx) {
    this.d = dialog;
    this.ctx = ctx;
    this.ac = null;
    this.sums = null;
    this.d.addEventListener('close', () => this.stop());
  }

  stop() {
    if (this.ac) this.ac.abort();
  }

  open() {
    const c = this.ctx();
    this.c = c;
    const sel = c.selection;
    const radio = (value, disabled) => el('input', { type: 'radio', name: 'hash-what', id: `hash-${value}`, value, disabled: disabled || undefined });
    const whole = radio('whole');
    const selR = radio('selection', !sel);
    const range = radio('range');
    (sel ? selR : whole).checked = true;
    this.radios = { whole, selection: selR, range };
    this.from = el('input', { id: 'hash-from', type: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: '0x100000 or 1M' });
    this.len = el('input', { id: 'hash-length', type: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: '4096, 0x1000, 64K' });
    for (const x of [this.from, this.len]) x.addEventListener('focus', () => { range.checked = true; });
    this.algos = ALGORITHMS.map(([a, label]) => el('input', { type: 'checkbox', id: `hash-${a}`, value: a, checked: a === 'sha256' || undefined }));
    this.msg = el('p', { class: 'dl-msg', role: 'alert' });
    this.bar = el('progress', { max: '100', hidden: true, 'aria-label': 'Hashing progress' });
    this.results = el('div', { class: 'hash-results', 'aria-live': 'polite' });
    this.verify = el('input', { id: 'hash-verify', type: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: 'Paste a hash to compare' });
    this.verdict = el('p', { class: 'hash-verdict', id: 'hash-verdict', 'aria-live': 'polite' });
    this.verify.addEventListener('input', () => this.check());
    this.go = el('button', { type: 'button', class: 'primary', id: 'hash-go', text: 'Hash', on: { click: () => this.start() } });
    this.cancel = el('button', { type: 'button', id: 'hash-cancel', text: 'Close', on: { click: () => (this.ac ? this.stop() : this.d.close()) } });
    this.sums = null;
    replace(this.d,
      el('div', { class: 'dialog-body' },
        el('h2', { id: 'hash-title', text: 'Hash' }),
        el('p', { class: 'muted', text: `Of the virtual disk of ${c.name} (${grouped(c.size)} bytes, ${human(c.size)}), as a raw image reads: unallocated blocks are zeros.` }),
        el('fieldset', {},
          el('legend', { text: 'What' }),
          el('label', { class: 'choice' }, whole, el('span', {}, el('b', { text: 'Whole disk' }), `, ${human(c.size)}`)),
          el('label', { class: 'choice' }, selR, el('span', {}, el('b', { text: 'Selection' }),
            sel ? ` 0x${hexPlain(sel.start)}–0x${hexPlain(sel.end - 1)}, ${grouped(sel.end - sel.start)} bytes` : ' (select bytes in the hex view first)')),
          el('label', { class: 'choice' }, range, el('span', {}, el('b', { text: 'Range' }))),
          el('div', { class: 'range-inputs' },
            el('label', { for: 'hash-from', text: 'Offset' }), this.from,
            el('label', { for: 'hash-length', text: 'Length' }), this.len)),
        el('fieldset', {},
          el('legend', { text: 'Algorithms' }),
          ...ALGORITHMS.map(([a, label], i) => el('label', { class: 'choice' }, this.algos[i], el('span', { text: label })))),
        this.msg, this.bar, this.results,
        el('label', { for: 'hash-verify', text: 'Verify against' }), this.verify, this.verdict),
      el('div', { class: 'dialog-actions' }, this.cancel, this.go),
    );
    this.d.setAttribute('aria-labelledby', 'hash-title');
    if (!this.d.open) this.d.showModal();
  }

  // what is the range chosen: {offset, length} or an error message.
  what() {
    const c = this.c;
    if (this.radios.whole.checked) return { offset: 0, length: c.size };
    if (this.radios.selection.checked) return { offset: c.selection.start, length: c.selection.end - c.selection.start };
    const off = parseNumber(this.from.value);
    const len = parseNumber(this.len.value);
    if (Number.isNaN(off) || Number.isNaN(len)) return { error: 'Type an offset and a length: decimal, 0x hex, or with K/M/G/T.' };
    if (off + len > c.size) return { error: `The range ends past the end of the disk (${grouped(c.size)} bytes).` };
    return { offset: off, length: len };
  }

  async start() {
    const w = this.what();
    const algorithms = this.algos.filter((a) => a.checked).map((a) => a.value);
    this.msg.textContent = '';
    if (w.error) { this.msg.textContent = w.error; return; }
    if (!algorithms.length) { this.msg.textContent = 'Choose at least one algorithm.'; return; }
    this.ac = new AbortController();
    this.go.disabled = true;
    this.cancel.textContent = 'Cancel';
    this.bar.hidden = false;
    this.bar.value = 0;
    replace(this.results);
    this.sums = null;
    this.check();
    try {
      const sums = await this.c.hash(w.offset, w.length, algorithms, (p) => {
        this.bar.value = p.total ? (100 * p.done) / p.total : 100;
      }, this.ac.signal);
      this.show(sums, w);
    } catch (e) {
      this.msg.textContent = e && e.name === 'AbortError' ? 'Cancelled.' : `Could not hash: ${errorText(e)}`;
    } finally {
      this.ac = null;
      this.go.disabled = false;
      this.cancel.textContent = 'Close';
      this.bar.hidden = true;
    }
  }

  show(sums, w) {
    this.sums = sums;
    const rows = [el('p', { class: 'muted', text: `${grouped(w.length)} bytes from 0x${hexPlain(w.offset)}:` })];
    for (const [a, label] of ALGORITHMS) {
      if (!sums[a]) continue;
      const copy = el('button', { type: 'button', class: 'small', id: `hash-copy-${a}`, text: 'Copy', 'aria-label': `Copy ${label}` });
      copy.addEventListener('click', async () => {
        try {
          await navigator.clipboard.writeText(sums[a]);
          copy.textContent = 'Copied';
        } catch (_) {
          copy.textContent = 'Select and copy';
          const r = document.createRange();
          r.selectNodeContents(rows.find((x) => x.dataset && x.dataset.algo === a).querySelector('code'));
          getSelection().removeAllRanges();
          getSelection().addRange(r);
        }
      });
      rows.push(el('div', { class: 'hash-row', 'data-algo': a }, el('b', { text: label }), el('code', { class: 'mono', id: `hash-${a}-value`, text: sums[a] }), copy));
    }
    replace(this.results, ...rows);
    this.check();
  }

  check() {
    const v = this.verify.value;
    this.verdict.className = 'hash-verdict';
    if (!v.trim()) { this.verdict.textContent = ''; return; }
    if (!this.sums) { this.verdict.textContent = 'Hash first, then the value is compared.'; return; }
    const m = compare(v, this.sums);
    if (m) {
      this.verdict.textContent = `Match: the ${m.name} is the same.`;
      this.verdict.classList.add('match');
    } else {
      this.verdict.textContent = 'Mismatch: the value equals none of the hashes above.';
      this.verdict.classList.add('mismatch');
    }
  }
}
