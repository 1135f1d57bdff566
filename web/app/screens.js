// screens.js: which screen shows (start, parent needed, viewer), the busy
// overlay, the title bar, and closing the open image.

import { $, el, replace } from './dom.js';
import { renderPrivacy } from './keeping.js';
import { clearMessages } from './notices.js';
import { refreshRecents } from './recents-screen.js';
import { S } from './state.js';
import * as api from '../vhdxview.js';

let busyCount = 0;
export function busy(text) {
  busyCount++;
  $('#busy-text').textContent = text;
  const t = setTimeout(() => { if (busyCount) $('#busy').hidden = false; }, 150);
  return () => {
    clearTimeout(t);
    if (--busyCount <= 0) { busyCount = 0; $('#busy').hidden = true; }
  };
}


export function showScreen(name) {
  $('#start').hidden = name !== 'start';
  $('#viewer').hidden = name !== 'viewer';
  $('#parent-needed').hidden = name !== 'parent';
  const inImage = name === 'viewer';
  $('#close-button').hidden = !inImage && name !== 'parent';
  $('#download-button').hidden = !inImage || !S.res;
  $('#hash-button').hidden = !inImage || !S.res;
  if (!inImage || !S.res) $('#keep-button').hidden = true;
  document.body.dataset.screen = name;
  // An image or the parent panel is a step in the browser's history, so
  // that Back closes it instead of leaving the page.
  if (name !== 'start') {
    const st = history.state && history.state.vhdxview;
    if (!st) history.pushState({ vhdxview: name }, '');
    else if (st !== name) history.replaceState({ vhdxview: name }, '');
  }
  if (name === 'start') {
    replace($('#image-title'));
    $('#store-state').textContent = '';
    renderPrivacy();
    refreshRecents();
  }
}

export async function closeImage() {
  if (S.batmap) S.batmap.destroy();
  S.batmap = null;
  S.verifyRun++;
  if (S.verifyCancel) S.verifyCancel();
  S.verifyCancel = null;
  const img = S.res && S.res.image;
  if (S.filesPanel) S.filesPanel.reset();
  if (S.downloads) S.downloads.cancelAll();
  Object.assign(S, { res: null, info: null, parts: null, report: null, verifyProgress: null, verifyError: null, files: [], unreadable: null });
  if (img !== undefined && img !== null) {
    try { await api.close(img); } catch { /* already closed */ }
  }
}

// leaveImage is Close (and the brand link): back through the history step
// the image added, which lands in goHome (setupHistory).
export function leaveImage() {
  if (history.state && history.state.vhdxview) history.back();
  else goHome();
}

// setupHistory makes Back (and a history step away from an image) go to
// the start screen.
export function setupHistory() {
  window.addEventListener('popstate', () => {
    if (!(history.state && history.state.vhdxview) && document.body.dataset.screen !== 'start') goHome();
  });
}

export async function goHome() {
  await closeImage();
  S.pending = null;
  S.dropped = null;
  clearMessages();
  showScreen('start');
  landFocus($('#pick-button'));
}

// landFocus moves the keyboard focus to where a screen starts, so that it
// is not left on a control that the new screen hid (the browser would
// drop it on the body, and the next Tab would start from the top).
export function landFocus(target) {
  if (target && !target.hidden) target.focus({ preventScroll: true });
}

export function setTitle(name, sub) {
  replace($('#image-title'), el('span', { class: 'name', text: name }), sub ? el('span', { class: 'sub', text: sub }) : null);
  document.title = `${name} · vhdxview`;
}
