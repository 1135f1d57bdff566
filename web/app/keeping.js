// keeping.js: whether copies of opened images are kept in this browser.
// It is the user's choice, asked once on the first open and changed in
// Recents: until they say yes, an open stores only what lists the image
// (its record: name, size, summary, check verdict, the hex view's last
// position; and a file handle
// where the browser offers one), never its bytes. Pinning one image (the
// top bar's "Keep a copy") keeps its bytes whatever the choice. Also the
// top bar's note on the copy of the open image, and the privacy line.

import { $, errorText, human } from './dom.js';
import { notify } from './notices.js';
import { S } from './state.js';
import * as api from '../vhdxview.js';

// CHOICE_KEY holds the answer in localStorage: "yes" or "no"; absent
// until the user answers.
const CHOICE_KEY = 'vhdxview.keep-copies';

// keepChoice is "yes", "no", or null (not asked yet, or not answered).
export function keepChoice() {
  try {
    const v = localStorage.getItem(CHOICE_KEY);
    return v === 'yes' || v === 'no' ? v : null;
  } catch {
    return null; // storage refused: ask again, keep nothing
  }
}

// setKeepChoice remembers the answer; with yes, the open image's bytes are
// stored now.
export function setKeepChoice(v) {
  try { localStorage.setItem(CHOICE_KEY, v); } catch { /* not remembered: asked again next time */ }
  for (const old of document.querySelectorAll('[data-id="keep-copies"]')) old.remove();
  renderPrivacy();
  if (v === 'yes' && S.res && S.res.key) api.keep(S.res.image).catch((e) => notify({ kind: 'warn', id: 'store', title: 'A copy of this image cannot be kept', next: errorText(e) }));
}

// openOptions are the store options of an open: bytes only with consent.
export function openOptions() {
  return { keep_bytes: keepChoice() === 'yes' };
}

// askToKeep asks, after an open, whether to keep copies, unless the user
// has answered already. Dismissing the question is no answer: nothing is
// kept and the question comes again with the next open.
export function askToKeep() {
  if (keepChoice() !== null || !S.res || !S.res.key) return;
  notify({
    kind: 'info', id: 'keep-copies',
    title: 'Keep copies of the images you open in this browser?',
    next: 'With copies, an image reopens from Recent images with one click, also offline; its contents are then stored in this browser (on this device only, up to 2 GiB an image) until you forget it. Without, only its name, size, summary, check verdict and your last position in it are kept, never its contents. You can change this under Recent images.',
    actions: [
      { label: 'Keep copies', primary: true, fn: () => setKeepChoice('yes') },
      { label: 'Don\u2019t keep copies', fn: () => setKeepChoice('no') },
    ],
  });
}

// renderPrivacy says exactly what this browser stores, for the start
// screen's privacy line.
export function renderPrivacy() {
  const p = $('#privacy-store');
  if (!p) return;
  p.textContent = keepChoice() === 'yes'
    ? 'This browser keeps a list of the images you open (name, size, summary, check verdict, your last position in the hex view, a link to the file where the browser offers one) and copies of their contents, so that they reopen offline; turn that off under Recent images.'
    : 'This browser keeps a list of the images you open (name, size, summary, check verdict, your last position in the hex view, a link to the file where the browser offers one), never their contents, unless you choose to keep copies or keep a copy of one image.';
}

// setupKeepButton wires the top bar's "Keep a copy": it pins the open
// image, which stores its bytes whatever the choice.
export function setupKeepButton() {
  const b = $('#keep-button');
  b.addEventListener('click', async () => {
    if (!S.res || !S.res.key || b.getAttribute('aria-pressed') === 'true') return;
    const key = S.res.key;
    b.disabled = true;
    try {
      const r = await api.pin(key, true);
      if (S.res && S.res.key === key) {
        showPinned(true);
        if (r.store_error) notify({ kind: 'warn', id: 'store', title: 'A copy of this image cannot be kept', next: errorText(r.store_error) });
      }
    } catch (e) {
      if (e && e.name !== 'AbortError') notify({ kind: 'warn', id: 'store', title: 'A copy of this image cannot be kept', next: errorText(e) });
    } finally {
      b.disabled = false;
    }
  });
}

// showPinned shows whether the open image is pinned (its copy kept).
export function showPinned(pinned) {
  const b = $('#keep-button');
  b.setAttribute('aria-pressed', String(!!pinned));
  b.textContent = pinned ? 'Copy kept' : 'Keep a copy';
  b.title = pinned ? 'A copy of this image is kept in this browser (pinned): it reopens offline from Recent images; forget it there' : 'Keep a copy of this image in this browser, so that it reopens offline (whatever the setting for other images)';
}

// refreshKeepButton shows the button for a remembered open image, pressed
// when its record is pinned.
export async function refreshKeepButton() {
  const b = $('#keep-button');
  b.hidden = !(S.res && S.res.key);
  if (b.hidden) return;
  const key = S.res.key;
  showPinned(false);
  try {
    const { records } = await api.recent();
    const rec = records.find((r) => r.key === key);
    if (S.res && S.res.key === key) showPinned(rec && rec.pinned);
  } catch { /* store unavailable: the button stays */ }
}

// onStoreEvent shows the engine's news on the copy of the open image.
export function onStoreEvent(ev) {
  if (!S.res || !ev) return;
  const keys = ((S.res.summary && S.res.summary.chain) || []).map((l) => l.key);
  if (ev.key && !keys.includes(ev.key)) return;
  const st = $('#store-state');
  if (ev.state === 'storing') st.textContent = `Keeping a copy for offline use${ev.total ? ` (${human(ev.total)})` : ''}…`;
  else if (ev.state === 'stored') st.textContent = 'Kept for offline use';
  else if (ev.state === 'failed') {
    st.textContent = 'Not kept for offline use';
    st.title = ev.error ? errorText(ev.error) : '';
  }
}
