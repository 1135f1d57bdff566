// drop.js: drag and drop of files anywhere on the page: open them, or add
// them as parents on the parent-needed screen or to an open chain whose
// parent is missing.

import { $ } from './dom.js';
import { addParents } from './chain-panel.js';
import { addToChain, canAddParent, openFiles } from './opening.js';
import { S } from './state.js';

export function hasFiles(e) {
  return e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
}

export function setupDrop() {
  let depth = 0;
  const overlay = $('#drop-overlay');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    overlay.firstElementChild.textContent = S.pending && !$('#parent-needed').hidden ? 'Drop to add the parent'
      : canAddParent() ? 'Drop the missing parent to complete the chain (other disks open on their own)' : 'Drop to open';
    overlay.hidden = false;
  });
  window.addEventListener('dragover', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
  });
  window.addEventListener('dragleave', (e) => {
    if (!hasFiles(e)) return;
    depth = Math.max(0, depth - 1);
    if (!depth) overlay.hidden = true;
  });
  window.addEventListener('drop', (e) => {
    if (!e.dataTransfer) return;
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const files = Array.from(e.dataTransfer.files || []);
    if (!files.length) return;
    // Handles must be asked for during the event.
    const hs = [];
    for (const it of Array.from(e.dataTransfer.items || [])) {
      if (it.kind === 'file' && typeof it.getAsFileSystemHandle === 'function') hs.push(it.getAsFileSystemHandle().catch(() => null));
    }
    Promise.all(hs).then((list) => {
      const byName = new Map();
      for (const h of list) if (h && h.kind === 'file') byName.set(h.name, h);
      if (S.pending && !$('#parent-needed').hidden) addParents(files, byName);
      else if (canAddParent()) addToChain(files, byName, { dropped: true });
      else openFiles(files, byName);
    });
  });
}
