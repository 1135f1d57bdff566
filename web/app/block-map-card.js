// block-map-card.js: the block map card: the engine's BAT states drawn by
// BatMap, what a block's bytes are, "Next data", which finds the next
// bytes that are not zeros after the hex cursor (on a large sparse disk a
// block of data is a sliver of a cell), and "Previous / Next allocated",
// which step from block to block whose data is in the file, by the BAT.

import { BatMap } from './batmap.js';
import { $, el, grouped, hexPlain, human, replace } from './dom.js';
import { setHexSource } from './hex-card.js';
import { S } from './state.js';
import { notify } from './notices.js';
import * as api from '../vhdxview.js';

export function setupBatmap() {
  const root = $('#batmap');
  replace(root);
  const info = S.info;
  const diff = info.type === 'differencing';
  const n = info.payload_blocks;
  nextDataButton().hidden = !n || !info.block_size;
  for (const b of allocatedButtons()) b.hidden = !n || !info.block_size;
  if (!n || !info.block_size) {
    // No block table: the engine's map has nothing to draw.
    $('#batmap-sub').textContent = 'no block map';
    root.append(el('p', { class: 'muted', id: 'batmap-none', text: info.format === 'raw'
      ? 'A raw disk image has no container and no block table: every byte of the file is the disk\'s.'
      : `A ${info.type} disk has no block table: the disk is the file's first ${human(info.virtual_size)}.` }));
    return;
  }
  $('#batmap-sub').textContent = `${grouped(n)} blocks of ${human(info.block_size)}`;
  S.batmap = new BatMap(root, {
    blocks: n,
    blockSize: info.block_size,
    virtualSize: info.virtual_size,
    differencing: diff,
    stateNames: info.format === 'vhd' ? VHD_STATE_NAMES : undefined,
    fetch: async (first, count) => api.map(S.res.image, first, count),
    onPick: (block) => {
      setHexSource('disk', { offset: block * info.block_size });
      S.hex.focus();
    },
    describe: (block) => describeBlock(block),
  });
}

// VHD_STATE_NAMES names the engine's map states for a VHD's BAT, which
// has only "a place in the file" or not (the engine maps them onto
// VHDX's numbers: 0, 6, and 7 in a differencing disk).
export const VHD_STATE_NAMES = { 0: 'unallocated', 6: 'allocated', 7: 'allocated (sector bitmap)' };

// describeBlock says where a block's bytes are, from the engine's plan.
export async function describeBlock(block) {
  if (!S.res) return '';
  const bs = S.info.block_size;
  const off = block * bs;
  const len = Math.min(bs, S.info.virtual_size - off);
  const p = await api.plan(S.res.image, off, len, { limit: 4 });
  const runs = (p && p.runs) || [];
  if (!runs.length) return '';
  const r = runs[0];
  const names = (S.res.summary && S.res.summary.chain) || [];
  const where = (lvl) => (lvl ? `parent ${lvl}${names[lvl] ? ` (${names[lvl].name})` : ''}` : 'this file');
  if (r.kind === 'file') return `stored in ${where(r.level)} at 0x${hexPlain(r.file_offset)}${runs.length > 1 || r.length < len ? ' (first run)' : ''}`;
  if (r.kind === 'zero' && runs.length === 1) return 'reads as zeros';
  if (r.kind === 'bytes') return 'replayed from the log (in memory)';
  return `${runs.length} runs`;
}

// nextDataButton is the card's "Next data" button, made once.
function nextDataButton() {
  let b = $('#next-data');
  if (!b) {
    b = el('button', {
      type: 'button', class: 'small', id: 'next-data', text: 'Next data ▸',
      title: 'Show in hex the first bytes after the cursor\'s block that are not zeros (n)',
      on: { click: () => nextData() },
    });
    $('#batmap-card .card-head').append(b);
  }
  return b;
}

// nextData moves the disk hex view to the start of the first run of data
// after the block of the cursor: the engine's plan gives zero runs whole,
// so a sparse terabyte is one run and the walk takes a few requests.
export async function nextData() {
  if (!S.res || !S.info || !S.hex) return;
  const { image } = S.res;
  const bs = S.info.block_size;
  const size = S.info.virtual_size;
  const at = S.hex.src && S.hex.src.kind === 'disk' ? S.hex.cursor : -1;
  let off = at < 0 ? 0 : (Math.floor(at / bs) + 1) * bs;
  const b = $('#next-data');
  b.disabled = true;
  try {
    while (off !== null && off < size && S.res && S.res.image === image) {
      const p = await api.plan(image, off, size - off, { limit: 4096 });
      const r = (p.runs || []).find((x) => x.kind !== 'zero');
      if (r) {
        setHexSource('disk', { offset: r.offset });
        S.hex.focus();
        return;
      }
      off = p.next;
    }
    if (S.res && S.res.image === image) notify({ kind: 'info', id: 'next-data', title: 'No more data', next: `Every byte after block ${grouped(Math.floor(Math.max(at, 0) / bs))} reads as zeros.` });
  } catch (e) {
    notify({ kind: 'warn', id: 'next-data', title: 'Cannot look for the next data', error: e });
  } finally {
    b.disabled = false;
  }
}

// allocatedButtons are the card's "◂ Allocated" and "Allocated ▸"
// buttons, made once.
function allocatedButtons() {
  let prev = $('#prev-allocated');
  let next = $('#next-allocated');
  if (!prev) {
    prev = el('button', {
      type: 'button', class: 'small', id: 'prev-allocated', text: '◂ Allocated', 'aria-label': 'Previous allocated block',
      title: 'Show in hex the previous block whose data is in the file (present or partial in the block table) ([)',
      on: { click: () => jumpAllocated(-1) },
    });
    next = el('button', {
      type: 'button', class: 'small', id: 'next-allocated', text: 'Allocated ▸', 'aria-label': 'Next allocated block',
      title: 'Show in hex the next block whose data is in the file (present or partial in the block table) (])',
      on: { click: () => jumpAllocated(1) },
    });
    $('#batmap-card .card-head').append(prev, next);
  }
  return [prev, next];
}

// jumpAllocated moves the disk hex view to the start of the next (dir 1)
// or previous (dir -1) allocated block from the cursor's block, by the
// block map's states (a jump across a sparse 64 TiB disk reads nothing).
export async function jumpAllocated(dir) {
  const map = S.batmap;
  if (!S.res || !S.info || !S.hex || !map) return;
  const bs = S.info.block_size;
  const n = S.info.payload_blocks;
  const at = S.hex.src && S.hex.src.kind === 'disk' ? Math.floor(S.hex.cursor / bs) : (dir > 0 ? -1 : n);
  const image = S.res.image;
  try {
    const b = await map.findAllocated(at, dir);
    if (!S.res || S.res.image !== image) return;
    if (b >= 0) {
      setHexSource('disk', { offset: b * bs });
      S.hex.focus();
      return;
    }
    const where = `${dir > 0 ? 'after' : 'before'} block ${grouped(Math.max(0, Math.min(at, n - 1)))}`;
    notify({ kind: 'info', id: 'allocated', title: 'No allocated block', next: map.loaded < map.n
      ? `None ${where} among the blocks read so far; the block table is still being read.`
      : `No block ${where} has its data in the file: everything there reads as zeros${S.info.type === 'differencing' ? ' or from the parent' : ''}.` });
  } catch (e) {
    notify({ kind: 'warn', id: 'allocated', title: 'Cannot look for the next allocated block', error: e });
  }
}