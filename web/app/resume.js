// resume.js: a reload reopens the image that was open, where it was.
//
// When the page goes away (a reload, a tab put in the background) it notes
// in sessionStorage, which lives as long as the tab, the open image's
// recents key and name and the place in it: the side tab, the hex view's
// source, cursor and selection, and the file selected in the Files tab.
// That is what the recents record already holds about the image, plus the
// place; never its bytes. When the page is reloaded (or comes back by Back
// or Forward; not on a new visit) the image reopens the way a
// click in Recent images does: from its stored copy (kept with the user's
// consent), from its file handle (the browser may ask again for
// permission to read it, which needs a click), the sample by fetching it
// again; a file whose bytes the page may not keep and of which it has no
// handle cannot be read again without the person, so the start screen
// says so and offers to pick it.

import { $, el } from './dom.js';
import { setHexSource } from './hex-card.js';
import { notify } from './notices.js';
import { openFiles, openSample, reopenRecent, SAMPLE_TIME } from './opening.js';
import { handles } from './recents.js';
import { S } from './state.js';
import { selectTab, TABS } from './tabs.js';
import * as api from '../vhdxview.js';

const PLACE_KEY = 'vhdxview.place';

// waiting is the place of a reload whose image has not reopened yet (its
// notice is up): it is kept over a further reload until the person opens
// something or dismisses the notice.
let waiting = null;

// placeNow describes the open image and the place in it, or null.
function placeNow() {
  if (!S.res || !S.res.key) return null;
  const sum = S.res.summary || {};
  const first = S.files[0];
  const place = {
    key: S.res.key,
    name: sum.name || (first && first.name) || '',
    raw: sum.format === 'raw',
    // The page's own sample comes back from the server, kept or not.
    sample: !!first && first.name === 'sample.vhdx' && first.lastModified === SAMPLE_TIME,
    tab: $('#viewer').dataset.tab || 'summary',
  };
  const h = S.hex;
  if (h && h.src && h.src.owner === S.res) place.hex = { src: h.src.key, cursor: h.cursor, anchor: h.anchor };
  const fp = S.filesPanel;
  if (fp && fp.part && fp.active && fp.cur && fp.cur.image === S.res.image) place.files = { partition: fp.part.index, path: fp.active.path };
  return place;
}

function savePlace() {
  try {
    const place = placeNow() || (waiting && waiting.card.isConnected && !S.res ? waiting.place : null);
    if (place) sessionStorage.setItem(PLACE_KEY, JSON.stringify(place));
    else sessionStorage.removeItem(PLACE_KEY);
  } catch { /* storage refused: a reload shows the start screen */ }
}

// reloaded says whether this page is the same one coming back (a reload,
// or Back / Forward to it), not a new visit: typing the address or the
// brand link starts afresh.
function reloaded() {
  const nav = performance.getEntriesByType && performance.getEntriesByType('navigation')[0];
  return !!nav && (nav.type === 'reload' || nav.type === 'back_forward');
}

// readPlace takes the noted place (once: it is written again when the page
// goes away), checked field by field: it is the page's own note, but
// sessionStorage is anyone's to edit.
function readPlace() {
  let p;
  try {
    p = JSON.parse(sessionStorage.getItem(PLACE_KEY) || 'null');
    sessionStorage.removeItem(PLACE_KEY);
  } catch {
    return null;
  }
  if (!reloaded()) return null;
  if (!p || typeof p !== 'object' || typeof p.key !== 'string' || !/^[0-9a-f]{1,64}$/.test(p.key)) return null;
  const n = (v) => Number.isSafeInteger(v) && v >= 0;
  return {
    key: p.key,
    name: typeof p.name === 'string' ? p.name.slice(0, 512) : '',
    raw: p.raw === true,
    sample: p.sample === true,
    tab: TABS.includes(p.tab) ? p.tab : 'summary',
    hex: p.hex && typeof p.hex.src === 'string' && /^(disk|file:\d{1,3})$/.test(p.hex.src) && n(p.hex.cursor)
      ? { src: p.hex.src, cursor: p.hex.cursor, anchor: n(p.hex.anchor) ? p.hex.anchor : null } : null,
    files: p.files && n(p.files.partition) && typeof p.files.path === 'string' && p.files.path.startsWith('/')
      ? { partition: p.files.partition, path: p.files.path } : null,
  };
}

// setupResume notes the place whenever the page may go away: pagehide
// comes with a reload, visibilitychange is the one a mobile browser that
// discards a background tab gives for sure.
export function setupResume() {
  window.addEventListener('pagehide', savePlace);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'hidden') savePlace(); });
}

// resumeAfterReload reopens the image of the noted place, if any, and
// puts the place back.
export async function resumeAfterReload() {
  const place = readPlace();
  if (!place) return;
  let rec;
  try {
    rec = (await api.recent()).records.find((r) => r.key === place.key);
  } catch {
    rec = undefined; // no store: only a handle or the person can bring it back
  }
  const name = (rec && rec.name) || place.name || 'the image';
  if (rec && rec.has_bytes) {
    await reopenRecent(rec, { stored: true });
    await restore(place);
    return;
  }
  if (place.sample) {
    await openSample();
    await restore(place);
    return;
  }
  const handle = await handles.get(place.key);
  const viaHandle = async () => {
    await reopenRecent({ key: place.key, name }, { stored: false, handle: true });
    await restore(place);
  };
  if (handle) {
    if (await readable(handle)) {
      await viaHandle();
      return;
    }
    wait(place, {
      title: `Reopen ${name}`,
      next: 'It was open before the page reloaded. The browser asks again for permission to read the file.',
      label: `Reopen ${name}`, fn: viaHandle,
    });
    return;
  }
  wait(place, {
    title: `Reopen ${name}: pick the file again`,
    next: 'It was open before the page reloaded. Its contents were not kept in this browser, so the page cannot read it again by itself; pick it (with its parents, for a differencing disk) and it opens where you were.',
    label: `Pick ${name}…`, fn: () => pickAgain(place),
  });
}

// readable says whether the browser lets the page read a handle's file
// without asking (asking needs a click).
async function readable(handle) {
  try {
    return !handle.queryPermission || (await handle.queryPermission({ mode: 'read' })) === 'granted';
  } catch {
    return false;
  }
}

// wait shows the start screen's notice with its one action.
function wait(place, { title, next, label, fn }) {
  const card = notify({ kind: 'info', id: 'resume', title, next, actions: [{ label, primary: true, fn: () => { waiting = null; fn(); } }] });
  card.dataset.key = place.key;
  waiting = { place, card };
}

// pickAgain asks for the file in a file chooser of its own (the page's
// Open… would not know to put the place back).
function pickAgain(place) {
  const input = el('input', { type: 'file', multiple: true, hidden: true, id: 'resume-files' });
  input.addEventListener('change', async () => {
    const files = Array.from(input.files || []);
    input.remove();
    if (!files.length) return;
    await openFiles(files, new Map(), place.raw ? { raw: true } : {});
    await restore(place);
  });
  input.addEventListener('cancel', () => input.remove());
  document.body.append(input);
  input.click();
}

// restore puts the place back, if the image that opened is the one it
// was in.
async function restore(place) {
  if (!S.res || S.res.key !== place.key || !S.info) return;
  const h = place.hex;
  if (h && (h.src === 'disk' || S.files[Number(h.src.slice(5))])) {
    setHexSource(h.src, { offset: h.cursor });
    S.hex.place(h.cursor, h.anchor);
  }
  const onTab = document.activeElement && document.activeElement.getAttribute('role') === 'tab';
  selectTab(place.tab, onTab);
  if (place.tab === 'files' && place.files && S.filesPanel) await S.filesPanel.reveal(place.files.partition, place.files.path);
}
