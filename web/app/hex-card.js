// hex-card.js: the hex card: its source (the virtual disk or an image
// file), go to, copy formats, what is at an offset, and the remembered
// position. The bytes come from the engine (disk) or File.slice (files).

import { CATEGORIES, category, STATE_NAMES } from './batmap.js';
import { $, el, grouped, hexPlain, human, parseNumber, replace } from './dom.js';
import { HexView } from './hexview.js';
import { VHD_STATE_NAMES } from './block-map-card.js';
import { COPY_FORMATS } from './copyformats.js';
import { S } from './state.js';
import * as api from '../vhdxview.js';

export function setupHex() {
  if (!S.hex) {
    S.hex = new HexView($('#hex'), {
      onChange: (h) => {
        rememberPosition(h);
        const sel = h.selection();
        $('#selection-download').disabled = !sel;
        if (S.inspector) S.inspector.show(h);
        const at = Math.min(h.cursor, h.size - 1);
        if (S.batmap && h.src && h.src.kind === 'disk' && S.info) S.batmap.setMarker(Math.floor(at / S.info.block_size));
      },
      describe: describeOffset,
      onCopyFormat: (id) => { $('#copy-format').value = id; },
    });
    S.hex.setCopyFormat($('#copy-format').value);
  }
  const sel = $('#hex-source');
  replace(sel);
  if (S.res) sel.append(el('option', { value: 'disk', text: 'Virtual disk' }));
  S.files.forEach((f, k) => sel.append(el('option', { value: `file:${k}`, text: `File: ${f.name || `level ${k}`}${k ? ` (parent ${k})` : ''}` })));
}

// rememberPosition keeps the disk hex view's cursor in the image's record
// (set_state), so that reopening from the recents comes back to it.
export let positionTimer = 0;
export function rememberPosition(h) {
  if (!S.res || !S.res.key || !h.src || h.src.kind !== 'disk') return;
  const key = S.res.key;
  const offset = Math.min(h.cursor, h.size - 1);
  clearTimeout(positionTimer);
  positionTimer = setTimeout(() => { api.setState(key, { offset }).catch(() => {}); }, 800);
}

// hexSource gives the hex view's source for a key ("disk" or "file:k").
export function hexSource(key) {
  const owner = S.res || S.unreadable;
  if (key === 'disk') {
    const image = S.res.image;
    return {
      key, owner, kind: 'disk', name: S.res.summary.name, size: S.info.virtual_size,
      sectorSize: S.info.logical_sector_size, blockSize: S.info.block_size,
      // Through the plan and the Files in this page: a hex page reads its
      // own 4 KiB, not a chunk of the engine's cache.
      read: (off, len) => api.readDirect(image, off, len),
    };
  }
  const k = Number(key.split(':')[1]);
  const f = S.files[k];
  return {
    key, owner, kind: 'file', level: k, name: f.name, size: f.size,
    read: async (off, len) => new Uint8Array(await f.slice(off, off + len).arrayBuffer()),
  };
}

export function setHexSource(key, where) {
  const sel = $('#hex-source');
  const owner = S.res || S.unreadable;
  if (S.hex.src && S.hex.src.key === key && S.hex.src.owner === owner) {
    S.hex.goto(where.offset, { select: where.select });
  } else {
    S.hex.setSource(hexSource(key), where);
  }
  sel.value = key;
  const disk = key === 'disk';
  const blocks = !!(S.info && S.info.block_size > 0);
  for (const o of $('#goto-unit').options) o.disabled = (!disk && o.value !== 'offset') || (o.value === 'block' && !blocks);
  if (!disk || ($('#goto-unit').value === 'block' && !blocks)) $('#goto-unit').value = 'offset';
  if (S.batmap && !disk) S.batmap.setMarker(-1);
}

// describeOffset names what is at an offset, for the hex status bar.
export function describeOffset(off, src) {
  if (src.kind === 'disk' && S.info && S.info.block_size > 0) {
    const b = Math.floor(off / S.info.block_size);
    const st = S.batmap ? S.batmap.state(b) : undefined;
    if (st === undefined) return `Block ${grouped(b)}`;
    const cat = CATEGORIES[category(st, S.info.type === 'differencing')];
    const names = S.info.format === 'vhd' ? VHD_STATE_NAMES : STATE_NAMES;
    return `Block ${grouped(b)} · ${names[st] || `state ${st}`}${cat.key === 'parent' ? ' (from parent)' : ''}`;
  }
  if (src.kind === 'file' && src.level === 0 && S.info) {
    const s = structureAt(off);
    return s ? `in ${s}` : '';
  }
  return '';
}

// structureAt names the innermost structure of the engine's list that holds
// off (in the opened file itself).
export function structureAt(off) {
  let best = null;
  const walk = (list) => {
    for (const s of list || []) {
      if (s.length && off >= s.offset && off < s.offset + s.length) {
        best = s;
        walk(s.children);
      }
    }
  };
  walk(S.info.structures);
  if (!best) return 'payload blocks or free space';
  if (best.id === 'header-section') return 'header section (reserved)';
  const tags = (best.tags || []).filter((t) => t === 'current' || t === 'in use');
  if (best.id === 'bat') return `BAT (entry ${grouped(Math.floor((off - best.offset) / 8))})`;
  return `${best.name}${tags.length ? ` (${tags.join(', ')})` : ''}`;
}

// showDiskAt shows the virtual disk in the hex view at offset, with
// marks (byte ranges, e.g. a file's pieces) marked, or none.
export function showDiskAt(offset, { marks = null } = {}) {
  if (!S.res || !S.hex) return;
  setHexSource('disk', { offset });
  S.hex.setMarks(marks);
  S.hex.focus();
  $('#hex-card').scrollIntoView({ block: 'nearest' });
}

// gotoError says beside the Go to field why it did not go (an empty text
// clears it); the field is marked invalid until the next edit.
function gotoError(text) {
  const input = $('#goto-input');
  $('#goto-error').textContent = text;
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

export function setupGoto() {
  const go = () => {
    if (!S.hex || !S.hex.src) return;
    const input = $('#goto-input');
    const n = parseNumber(input.value);
    const unit = $('#goto-unit').value;
    if (Number.isNaN(n)) {
      gotoError(`“${input.value}” is not a number: type a decimal number, 0x hex, or a size like 1M or 4K.`);
      return;
    }
    const src = S.hex.src;
    const off = unit === 'lba' ? n * src.sectorSize : unit === 'block' ? n * src.blockSize : n;
    if (off >= src.size) {
      const what = unit === 'offset' ? `Offset 0x${hexPlain(off)}` : `${unit === 'lba' ? 'LBA' : 'Block'} ${grouped(n)}`;
      gotoError(`${what} is past the end: the ${src.kind === 'disk' ? 'disk' : 'file'} is ${grouped(src.size)} bytes (0x${hexPlain(src.size)}, ${human(src.size)}).`);
      return;
    }
    gotoError('');
    S.hex.goto(off);
    S.hex.focus();
  };
  $('#goto-button').addEventListener('click', go);
  $('#goto-input').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); go(); } });
  $('#goto-input').addEventListener('input', () => gotoError(''));
  $('#goto-unit').addEventListener('change', () => gotoError(''));
  $('#hex-source').addEventListener('change', (e) => { gotoError(''); setHexSource(e.target.value, { offset: 0 }); });
  setupCopy();
}

// setupCopy fills the copy format menu: what Ctrl+C in the hex view and
// the Copy button copy the selection as; Ctrl+Shift+C steps to the next
// one (and copies).
function setupCopy() {
  const menu = $('#copy-format');
  replace(menu, ...COPY_FORMATS.map((f) => el('option', { value: f.id, text: f.label })));
  menu.addEventListener('change', () => { if (S.hex) S.hex.setCopyFormat(menu.value); });
  $('#copy-button').addEventListener('click', () => {
    if (!S.hex || !S.hex.src) return;
    S.hex.setCopyFormat(menu.value);
    S.hex.copy();
  });
}
