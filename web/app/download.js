// download.js: the download dialog: the whole virtual disk as a raw image,
// or a byte range (offset and length, or an LBA range, or the hex view's
// selection), and how any range of the disk is saved (saveRange).
//
// Where the browser can save into a file the person picks
// (showSaveFilePicker: Chromium, Edge), the bytes are written there by
// vhdxview.saveTo(): data runs at their offsets, zero runs skipped, so a
// 64 TiB sparse disk costs no more memory than a small one and the file
// holds only its data where the file system allows sparse files. "Saved"
// is said once the file is closed. Elsewhere the range is a Blob made by
// vhdxview.blob() from slices of the image files and zeros, handed to the
// browser as a download ("Download started": the page cannot know when
// the browser has written it); a Blob of more than BLOB_SIZE_LIMIT bytes
// is refused before anything starts, with what to do instead.
//
// It also streams what cannot be a Blob of slices (a large NTFS file, read
// through the engine 16 MiB at a time): saveStreamed() writes it into a
// file the person picks or, where the browser has no picker, into a
// temporary file in the origin private file system, which is then
// downloaded like any Blob. cleanTempDownloads() removes the temporary
// files that earlier visits left.

import { el, replace, human, grouped, hexPlain, parseNumber, baseName } from './dom.js';
import { BLOB_SIZE_LIMIT } from '../vhdxview.js';

// LARGE is the size from which the dialog reminds that the page cannot
// know the free space where the bytes go.
const LARGE = 4 * 2 ** 30;

// fileName says what a download holds: "<image>-<offset>-<length>.raw" in
// hex, or "<image>.raw" for the whole disk.
export function fileName(image, offset, length, size) {
  const b = baseName(image);
  if (offset === 0 && length === size) return `${b}.raw`;
  return `${b}-0x${hexPlain(offset)}-0x${hexPlain(length)}.raw`;
}

// save hands a Blob to the browser as a download. The browser writes it
// when and where it will: the page is not told when it is done.
export function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  // The browser reads the Blob while the download runs; keep the URL a while.
  setTimeout(() => URL.revokeObjectURL(url), 10 * 60 * 1000);
}

// canPick says whether the browser can save into a file the person picks.
export function canPick() {
  return typeof window.showSaveFilePicker === 'function';
}

// pickFile asks where to save name: a FileSystemFileHandle, or null when
// the browser has no picker or refuses it here (e.g. SecurityError, the
// click being too long ago), so that the caller falls back to a Blob
// download. Rejects with an AbortError when the person dismisses it. Call
// it first thing in a click handler: the picker needs the click.
export async function pickFile(name) {
  if (!canPick()) return null;
  try {
    return await window.showSaveFilePicker({ suggestedName: name });
  } catch (e) {
    if (e && e.name === 'AbortError') throw cancelled();
    return null;
  }
}

// blobRefusal says why a range of length bytes cannot be a Blob download
// (too large for one), or null when it can be tried.
export function blobRefusal(length) {
  if (length <= BLOB_SIZE_LIMIT) return null;
  return `${human(length)} is more than this browser can download here: without a way to save into a file you pick, the page hands the browser a Blob, which writes every zero byte and cannot hold more than ${human(BLOB_SIZE_LIMIT)}. Download a partition (Files tab) or a range instead, or use a browser that can save into a file you pick (Chrome, Edge), where zero runs are skipped.`;
}

// saveRange saves [offset, offset+length) of the disk as name: into
// handle with vhdxview.saveTo() when there is one, else as a Blob
// download. With zeroBad, blocks whose table entries are damaged are
// written as zeros and listed. Resolves to {bytes, how, written?, filled?}
// for DownloadList.job, filled being the ranges zero-filled (filledRanges).
export async function saveRange(api, image, name, offset, length, handle, signal, onProgress, { zeroBad = false } = {}) {
  const filled = filledRanges();
  const fill = zeroBad ? { zeroBad, onFilled: filled.add } : {};
  if (handle) {
    const r = await api.saveTo(image, handle, { offset, length, signal, onProgress: (p) => onProgress({ ...p, what: 'Saving…' }), ...fill });
    return { ...r, how: 'picker', ...(zeroBad ? { filled: filled.list } : {}) };
  }
  const refusal = blobRefusal(length);
  if (refusal) throw new Error(refusal);
  const blob = await api.blob(image, offset, length, { signal, onProgress: (p) => onProgress({ ...p, what: 'Preparing…' }), ...fill });
  if (signal.aborted) throw cancelled();
  save(blob, name);
  return { bytes: blob.size, how: 'blob', ...(zeroBad ? { filled: filled.list } : {}) };
}

// filledRanges collects the runs a zeroBad download filled ({offset,
// length, level, block, message}, in disk order) into ranges: runs that
// follow each other on one chain level are one range, counted in blocks,
// with the first block's message. {add, list}.
export function filledRanges() {
  const list = [];
  return {
    list,
    add(r) {
      const p = list[list.length - 1];
      if (p && p.offset + p.length === r.offset && p.level === r.level && (r.block === p.last || r.block === p.last + 1)) {
        p.length += r.length;
        if (r.block !== p.last) p.blocks++;
        p.last = r.block;
        return;
      }
      list.push({ offset: r.offset, length: r.length, level: r.level, block: r.block, blocks: 1, last: r.block, message: r.message });
    },
  };
}

// rangeText says a filled or unreadable range: "0x200000+0x100000 (block 2)".
export function rangeText(r) {
  const blocks = r.blocks > 1 ? `blocks ${r.block}–${r.block + r.blocks - 1}` : `block ${r.block}`;
  return `0x${hexPlain(r.offset)}+0x${hexPlain(r.length)} (${blocks}${r.level ? `, parent level ${r.level}` : ''})`;
}

// DownloadDialog is the <dialog> and its form. ctx(): {name, size,
// sectorSize, selection: {start, end} | null, start(offset, length, name,
// handle)}: start runs the download as a job of the page's download list
// (jobs.js), handle being the picked file or null.
//
// The dialog says the size plainly before anything starts, refuses a
// Blob download too large to make (blobRefusal), and with a picker asks
// where to save when Download is pressed; the dialog then closes and the
// download's progress and Cancel are in the list.
export class DownloadDialog {
  constructor(dialog, ctx) {
    this.d = dialog;
    this.ctx = ctx;
  }

  open(preset) {
    const c = this.ctx();
    this.c = c;
    const sel = c.selection;
    const whole = el('input', { type: 'radio', name: 'dl-what', id: 'dl-whole', value: 'whole' });
    const selR = el('input', { type: 'radio', name: 'dl-what', id: 'dl-selection', value: 'selection', disabled: !sel || undefined });
    const range = el('input', { type: 'radio', name: 'dl-what', id: 'dl-range', value: 'range' });
    this.unit = el('select', { id: 'dl-unit', 'aria-label': 'Range unit' },
      el('option', { value: 'bytes', text: 'bytes (offset + length)' }),
      el('option', { value: 'lba', text: `LBA (${c.sectorSize}-byte sectors: first + count)` }));
    this.from = el('input', { id: 'dl-from', type: 'text', inputmode: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: '0x100000 or 1M' });
    this.len = el('input', { id: 'dl-length', type: 'text', inputmode: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: '4096, 0x1000, 64K' });
    this.name = el('output', { id: 'dl-name', class: 'mono' });
    this.msg = el('p', { class: 'dl-msg', role: 'alert' });
    this.note = el('p', { class: 'dl-note', id: 'dl-note' });
    this.go = el('button', { type: 'button', class: 'primary', id: 'dl-go', text: canPick() ? 'Save as…' : 'Download' });
    const cancel = el('button', { type: 'button', id: 'dl-cancel', text: 'Cancel', on: { click: () => this.d.close() } });

    const pick = preset && preset.what ? preset.what : sel ? 'selection' : 'whole';
    ({ whole, selection: selR, range }[pick] || whole).checked = true;
    if (preset && preset.offset !== undefined) {
      this.from.value = `0x${hexPlain(preset.offset)}`;
      this.len.value = `0x${hexPlain(preset.length)}`;
    } else if (sel) {
      this.from.value = `0x${hexPlain(sel.start)}`;
      this.len.value = `0x${hexPlain(sel.end - sel.start)}`;
    }
    const upd = () => this.update();
    for (const x of [whole, selR, range, this.unit, this.from, this.len]) {
      x.addEventListener('input', upd);
      x.addEventListener('change', upd);
    }
    this.from.addEventListener('focus', () => { range.checked = true; upd(); });
    this.len.addEventListener('focus', () => { range.checked = true; upd(); });
    this.go.addEventListener('click', () => this.start());
    this.radios = { whole, selR, range };

    replace(this.d,
      el('div', { class: 'dialog-body' },
        el('h2', { id: 'dl-title', text: 'Download raw bytes' }),
        el('p', { class: 'muted', text: `From the virtual disk of ${c.name} (${grouped(c.size)} bytes, ${human(c.size)}). Zeros and unallocated blocks are zeros in the file.` }),
        el('fieldset', {},
          el('legend', { text: 'What' }),
          el('label', { class: 'choice' }, whole, el('span', {}, el('b', { text: 'Whole disk' }), ` as a raw image, ${human(c.size)}`)),
          el('label', { class: 'choice' }, selR, el('span', {}, el('b', { text: 'Selection' }),
            sel ? ` 0x${hexPlain(sel.start)}–0x${hexPlain(sel.end - 1)}, ${grouped(sel.end - sel.start)} bytes` : ' (select bytes in the hex view first)')),
          el('label', { class: 'choice' }, range, el('span', {}, el('b', { text: 'Range' }))),
          el('div', { class: 'range-inputs' },
            el('label', { for: 'dl-unit', text: 'Unit' }), this.unit,
            el('label', { for: 'dl-from', id: 'dl-from-label', text: 'Offset' }), this.from,
            el('label', { for: 'dl-length', id: 'dl-length-label', text: 'Length' }), this.len)),
        el('p', { class: 'dl-file' }, 'File name: ', this.name),
        this.msg, this.note),
      el('div', { class: 'dialog-actions' }, cancel, this.go),
    );
    this.d.setAttribute('aria-labelledby', 'dl-title');
    this.update();
    if (!this.d.open) this.d.showModal();
  }

  // range gives {offset, length} for the current choice, or {error}
  // (with offset and length when the range is valid but too large for a
  // Blob download and there is no picker).
  range() {
    const r = this.chosen();
    if (r.error || canPick()) return r;
    const refusal = blobRefusal(r.length);
    return refusal ? { ...r, error: refusal } : r;
  }

  // chosen gives {offset, length} of the current choice, or {error}.
  chosen() {
    const c = this.c;
    if (this.radios.whole.checked) return { offset: 0, length: c.size };
    if (this.radios.selR.checked && c.selection) return { offset: c.selection.start, length: c.selection.end - c.selection.start };
    const lba = this.unit.value === 'lba';
    document.getElementById('dl-from-label').textContent = lba ? 'First LBA' : 'Offset';
    document.getElementById('dl-length-label').textContent = lba ? 'Sectors' : 'Length';
    const a = parseNumber(this.from.value);
    const n = parseNumber(this.len.value);
    if (this.from.value.trim() === '' || this.len.value.trim() === '') return { error: lba ? 'Type the first LBA and a sector count.' : 'Type an offset and a length (e.g. 0x100000 and 1M).' };
    if (Number.isNaN(a)) return { error: `"${this.from.value}" is not a number (use 4096, 0x1000 or 4K).` };
    if (Number.isNaN(n)) return { error: `"${this.len.value}" is not a number (use 4096, 0x1000 or 4K).` };
    const offset = lba ? a * c.sectorSize : a;
    const length = lba ? n * c.sectorSize : n;
    if (length <= 0) return { error: 'The length must be more than 0.' };
    if (offset >= c.size) return { error: `The disk ends at 0x${hexPlain(c.size)} (${human(c.size)}); ${lba ? 'that LBA' : 'that offset'} is past its end.` };
    if (offset + length > c.size) return { error: `That range runs ${grouped(offset + length - c.size)} bytes past the end of the disk (0x${hexPlain(c.size)}).` };
    return { offset, length };
  }

  update() {
    const r = this.range();
    this.name.textContent = r.offset === undefined ? '—' : fileName(this.c.name, r.offset, r.length, this.c.size);
    this.note.textContent = '';
    if (r.error) {
      this.msg.textContent = r.error;
      this.msg.className = 'dl-msg error';
      this.go.disabled = true;
      return r;
    }
    this.msg.textContent = `${grouped(r.length)} bytes (${human(r.length)}) from 0x${hexPlain(r.offset)}.`;
    this.msg.className = 'dl-msg';
    if (canPick()) {
      this.note.textContent = 'You choose where to save it. Zero runs are skipped rather than written, so where the file system has sparse files the file takes only the space of its data.'
        + (r.length >= LARGE ? ` Up to ${human(r.length)} is written there: the page cannot know how much free space that place has.` : '');
    } else if (r.length >= LARGE) {
      this.note.textContent = `Your browser will write all ${human(r.length)}, zeros included, into its downloads folder; the page cannot know how much free space is there.`;
    }
    this.go.disabled = false;
    return r;
  }

  async start() {
    const r = this.update();
    if (r.error) return;
    const name = fileName(this.c.name, r.offset, r.length, this.c.size);
    let handle = null;
    try {
      handle = await pickFile(name);
    } catch {
      this.msg.className = 'dl-msg';
      this.msg.textContent = 'No file was chosen; nothing was saved.';
      return;
    }
    this.d.close();
    this.c.start(r.offset, r.length, name, handle);
  }
}

// ---- streamed downloads ----------------------------------------------------------

// TEMP_DIR is the origin private file system directory of temporary files
// of streamed downloads. A file there is written, handed to the browser's
// download, and removed on the next visit (the download reads it after the
// page has let go of it, so it cannot be removed right away).
export const TEMP_DIR = 'vhdxview-downloads';

// While a page writes or hands over a temporary file it holds the Web Lock
// LOCK_PREFIX + file name, so that another tab starting up leaves it alone.
const LOCK_PREFIX = 'vhdxview-download:';

function cancelled() {
  return new DOMException('the download was cancelled', 'AbortError');
}

// tempName gives a unique OPFS file name for a download called name.
function tempName(name) {
  const safe = String(name).replace(/[^A-Za-z0-9._-]+/g, '_').slice(-80) || 'file';
  const rnd = Math.random().toString(36).slice(2, 8);
  return `${Date.now().toString(36)}-${rnd}-${safe}`;
}

// holdLock holds the Web Lock name until the page goes away (or, without
// Web Locks, does nothing); it resolves once the lock is held.
function holdLock(name) {
  if (!navigator.locks || typeof navigator.locks.request !== 'function') return Promise.resolve();
  return new Promise((held) => {
    navigator.locks.request(name, () => {
      held();
      return new Promise(() => {}); // released when the page is gone
    }).catch(() => held());
  });
}

// abortable wraps writable so that writing stops as soon as signal aborts,
// even while a write is pending (a slow disk, a network drive): the
// pending write is left to the stream, which is aborted, and the writer
// sees the cancellation at once.
function abortable(writable, signal) {
  if (!signal) return writable;
  const w = writable.getWriter();
  let stop;
  const stopped = new Promise((_, reject) => { stop = reject; });
  stopped.catch(() => {});
  const onAbort = () => {
    stop(cancelled());
    w.abort(cancelled()).catch(() => {});
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const race = (p) => Promise.race([p, stopped]);
  const done = () => signal.removeEventListener('abort', onAbort);
  return new WritableStream({
    write: (chunk) => race(w.write(chunk)),
    close: () => race(w.close()).finally(done),
    abort: (reason) => {
      done();
      return w.abort(reason).catch(() => {});
    },
  });
}

// saveStreamed saves a download that is written rather than sliced.
// write(writable) writes the bytes into a WritableStream, closes it and
// resolves to the byte count (vhdxview.saveFile does). With
// showSaveFilePicker the person picks the file and the bytes go straight
// there; otherwise they go into a temporary file in the origin private
// file system, which is then saved with save(). Either way nothing is held
// whole in memory. Resolves to {bytes, how: 'picker' | 'temporary file'};
// rejects with an AbortError when the picker is dismissed or signal aborts.
export async function saveStreamed(name, write, { signal } = {}) {
  if (signal && signal.aborted) throw cancelled();
  if (typeof window.showSaveFilePicker === 'function') {
    let handle = null;
    try {
      handle = await window.showSaveFilePicker({ suggestedName: name });
    } catch (e) {
      if (e && e.name === 'AbortError') throw cancelled();
      // SecurityError (the click is too long ago) and the like: fall back
      // to a temporary file.
    }
    if (handle) {
      const bytes = await write(abortable(await handle.createWritable(), signal));
      return { bytes, how: 'picker' };
    }
  }
  const sm = navigator.storage;
  if (!sm || typeof sm.getDirectory !== 'function') {
    throw new Error('this browser can neither save a file where you pick nor keep a temporary file, so a file this large cannot be streamed to disk');
  }
  const dir = await (await sm.getDirectory()).getDirectoryHandle(TEMP_DIR, { create: true });
  const tmp = tempName(name);
  await holdLock(LOCK_PREFIX + tmp);
  const fh = await dir.getFileHandle(tmp, { create: true });
  try {
    if (typeof fh.createWritable !== 'function') throw new Error('this browser cannot write a temporary file from the page');
    const bytes = await write(abortable(await fh.createWritable(), signal));
    if (signal && signal.aborted) throw cancelled();
    save(await fh.getFile(), name);
    return { bytes, how: 'temporary file' };
  } catch (e) {
    dir.removeEntry(tmp).catch(() => {});
    throw e;
  }
}

// cleanTempDownloads removes the temporary files of streamed downloads
// that earlier visits left, except those a live page still holds (another
// tab's download in progress). Resolves to the number removed.
export async function cleanTempDownloads() {
  const sm = navigator.storage;
  if (!sm || typeof sm.getDirectory !== 'function') return 0;
  let dir;
  try {
    dir = await (await sm.getDirectory()).getDirectoryHandle(TEMP_DIR);
  } catch {
    return 0; // none yet
  }
  const held = new Set();
  if (navigator.locks && typeof navigator.locks.query === 'function') {
    const q = await navigator.locks.query();
    for (const l of [...(q.held || []), ...(q.pending || [])]) held.add(l.name);
  }
  const names = [];
  for await (const name of dir.keys()) names.push(name);
  let n = 0;
  for (const name of names) {
    // A file being written has a swap file next to it (Chromium: ".crswap").
    if (held.has(LOCK_PREFIX + name.replace(/\.crswap$/, ''))) continue;
    try {
      await dir.removeEntry(name, { recursive: true });
      n++;
    } catch { /* in use: next time */ }
  }
  return n;
}
