// block-map-card.js: the block map card: the engine's BAT states drawn by
// BatMap, and what a block's bytes are.

import { BatMap } from './batmap.js';
import { $, el, grouped, hexPlain, human, replace } from './dom.js';
import { setHexSource } from './hex-card.js';
import { S } from './state.js';
import * as api from '../vhdxview.js';

export function setupBatmap() {
  const root = $('#batmap');
  replace(root);
  const info = S.info;
  const diff = info.type === 'differencing';
  const n = info.payload_blocks;
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
