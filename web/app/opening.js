// opening.js: opening images: files picked or dropped, the sample, a
// recent one, and a file that does not open (shown in the file hex view).

import { $, el, errorText, grouped, hexPlain, human, replace } from './dom.js';
import { fileFromHandle, handles } from './recents.js';
import { advice } from './advice.js';
import { showParentNeeded } from './chain-panel.js';
import { setHexSource, setupHex } from './hex-card.js';
import { clearMessages, notify } from './notices.js';
import { busy, closeImage, landFocus, setTitle, showScreen } from './screens.js';
import { S } from './state.js';
import { openOptions } from './keeping.js';
import { selectTab } from './tabs.js';
import { setChecksCount, showImage, showInFileOf } from './viewer.js';
import { renderStructure } from './structure.js';
import { renderVerify } from './verify.js';
import * as api from '../vhdxview.js';

export const SAMPLE_URL = 'web/samples/sample.vhdx.gz';
export const SAMPLE_TIME = Date.UTC(2025, 0, 1); // fixed, so the sample's recents key is stable

// openFiles opens one image from files (a child and its parents, in any
// order). fileHandles: FileSystemFileHandles by file name (from a drop).
//
// Several separate disks dropped at once open one after another: the first
// opens, and a notice offers the others (S.dropped keeps the files until
// another open). opts.group (internal) says the open is one of them.
export async function openFiles(files, fileHandles = new Map(), opts = {}) {
  files = Array.from(files);
  if (!files.length) return;
  const { group, ...openOpts } = opts;
  if (!group) S.dropped = null;
  await closeImage();
  clearMessages();
  const names = files.map((f) => f.name).join(', ');
  const done = busy(`Opening ${names}…`);
  let res;
  try {
    res = await api.open(files, { ...openOptions(), ...openOpts });
  } catch (e) {
    done();
    if (e && e.name === 'MultipleImagesError' && !S.pending && Array.isArray(e.files) && e.files.length > 1) {
      if (!group) {
        S.dropped = { files, handles: fileHandles, disks: e.files.map(String) };
        await openDropped(S.dropped.disks[0]);
        return;
      }
      // A disk of the group with plain disks beside it: open it alone.
      const alone = files.filter((f) => f.name === group);
      if (alone.length && alone.length < files.length) {
        await openFiles(alone, fileHandles, { ...openOpts, group });
        return;
      }
    }
    if (e && e.name === 'MissingParentError') {
      showParentNeeded(files, fileHandles, e);
      return;
    }
    if (files.length === 1 && e && ['FormatError', 'UnsupportedError'].includes(e.name)) {
      showUnreadable(files[0], e);
      return;
    }
    let a = advice(e, files.length === 1 ? files[0].name : 'these files');
    if (S.pending && e && e.name === 'MultipleImagesError') {
      const added = files.filter((f) => !S.pending.files.includes(f)).map((f) => f.name).join(', ');
      a = { title: `${added} is not the parent of ${S.pending.error.child || S.pending.files[0].name}`, next: 'The parent is the disk the child names above: its DataWriteGuid must equal the parent_linkage. Add that file.' };
    }
    notify({ title: a.title, next: a.next, error: e });
    showScreen(S.pending ? 'parent' : 'start');
    return;
  }
  done();
  await finishOpen(res, files, fileHandles);
}

// finishOpen shows an opened image and keeps every file given with it
// (S.given), so that a parent added later reopens the chain with all of
// them.
async function finishOpen(res, files, fileHandles) {
  S.pending = null;
  S.given = { files, handles: fileHandles };
  // Remember file handles of what the engine stored, for handle-only reopen.
  for (const lvl of (res.summary && res.summary.chain) || []) {
    const h = fileHandles.get(lvl.name);
    if (h && lvl.key) handles.put(lvl.key, h);
  }
  await showImage(res);
  offerOthers(res, files, fileHandles);
}

// canAddParent says whether the open image is a chain whose missing
// parent a file could still complete (the engine names the parent it
// waits for; a locator without parent_linkage names none).
export function canAddParent() {
  const m = S.res && S.res.summary && S.res.summary.parent_missing;
  return !!(m && !m.unidentified && S.given && document.body.dataset.screen === 'viewer');
}

// addToChain offers files as the missing parent of the open chain: they
// open again with every file given so far. When the engine attaches one
// of them (its index is in used), the longer chain replaces the open one;
// otherwise the open image stays, and the notice says why each is not
// the parent. dropped: the files were dropped, so ones that are no part
// of the chain open on their own instead, as any drop does.
export async function addToChain(more, moreHandles = new Map(), { dropped = false } = {}) {
  const g = S.given;
  const was = S.res && S.res.summary && S.res.summary.parent_missing;
  if (!g || !was) return;
  more = Array.from(more);
  const files = [...g.files, ...more];
  const fileHandles = new Map([...g.handles, ...moreHandles]);
  const names = more.map((f) => f.name).join(', ');
  const done = busy(`Adding ${names} to the chain…`);
  let res;
  try {
    res = await api.open(files, { ...openOptions(), partial: true });
  } catch (e) {
    done();
    notify({ title: `${names} could not be added to the chain`, next: advice(e, names).next, error: e });
    return;
  }
  done();
  if ((res.used || []).some((i) => i >= g.files.length)) {
    S.dropped = null;
    await closeImage();
    clearMessages();
    await finishOpen(res, files, fileHandles);
    return;
  }
  try { await api.close(res.image); } catch { /* gone already */ }
  const missing = res.summary && res.summary.parent_missing;
  const tried = ((missing && missing.tried) || []).map(String);
  const title = `${names} ${more.length === 1 ? 'is' : 'are'} not ${was.parent_name || 'the missing parent'}, the parent of ${was.child}`;
  if (dropped) {
    await openFiles(more, moreHandles);
    if (S.res) notify({ kind: 'info', id: 'not-parent', title: `${title}: opened on ${more.length === 1 ? 'its' : 'their'} own`, detail: tried.join('\n') });
    return;
  }
  notify({ kind: 'warn', id: 'not-parent', title, next: 'The parent is the disk whose DataWriteGuid equals the child\'s parent_linkage. Add that file.', detail: tried.join('\n') });
}

// openDropped opens the disk named name of the dropped group: its file
// with every dropped file but the other disks' own (its parents among
// them).
async function openDropped(name) {
  const g = S.dropped;
  if (!g) return;
  const others = new Set(g.disks.filter((n) => n !== name));
  await openFiles(g.files.filter((f) => !others.has(f.name)), g.handles, { group: name });
}

// skippedLine says in one line why the engine left a file out: what it is
// (the engine names a file by its signature) or the engine's reason.
export function skippedLine(sk) {
  return `${sk.file}: ${sk.kind_name ? `${sk.kind_name}, not a disk` : errorText(sk)}`;
}

// offerOthers lists what an open left out: the other disks dropped with it
// (an Open button each), and in one notice every other file given and why.
function offerOthers(res, files, fileHandles) {
  const separate = [];
  const why = [];
  const left = [];
  for (const sk of res.skipped || []) {
    if (sk.name === 'SeparateDiskError') {
      separate.push(String(sk.file));
      why.push(`${sk.file}: ${errorText(sk)}`);
    } else left.push(sk);
  }
  if (left.length) {
    notify({
      kind: 'warn', id: 'skipped',
      title: `${left.length === 1 ? 'One file was' : `${left.length} files were`} left out of ${res.summary && res.summary.name}`,
      detail: left.map(skippedLine).join('\n'),
    });
  }
  if (separate.length && !S.dropped) {
    const open = res.summary && res.summary.name;
    S.dropped = { files, handles: fileHandles, disks: [open, ...separate] };
  }
  const g = S.dropped;
  if (!g) return;
  const current = res.summary && res.summary.name;
  const rest = g.disks.filter((n) => n !== current);
  if (!rest.length) return;
  notify({
    kind: 'info', id: 'dropped',
    title: `${rest.length === 1 ? 'One more disk was' : `${rest.length} more disks were`} dropped with ${current}`,
    next: `They are separate disks, not one chain. Open ${rest.length === 1 ? 'it' : 'one'} next:`,
    detail: why.join('\n'),
    actions: rest.map((n) => ({ label: `Open ${n}`, fn: () => openDropped(n) })),
  });
}

export async function openSample() {
  const done = busy('Fetching the sample image…');
  let file;
  try {
    const r = await fetch(SAMPLE_URL);
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const blob = await new Response(r.body.pipeThrough(new DecompressionStream('gzip'))).blob();
    file = new File([blob], 'sample.vhdx', { type: 'application/octet-stream', lastModified: SAMPLE_TIME });
  } catch (e) {
    done();
    notify({ title: 'The sample image could not be loaded', next: 'Reload the page (the sample is served with it), or open a VHDX file of your own.', error: e });
    return;
  }
  done();
  await openFiles([file]);
}

export async function reopenRecent(rec, { stored, handle }) {
  clearMessages();
  if (!stored && handle) {
    let file;
    try {
      const h = await handles.get(rec.key);
      if (!h) throw new Error('the file handle is gone');
      file = await fileFromHandle(h); // may prompt: we are in the click
    } catch (e) {
      notify({ title: `Cannot read ${rec.name} again`, next: 'Permission was refused or the file moved. Open the file again with Open… or by dropping it.', error: e });
      return;
    }
    await openFiles([file]);
    return;
  }
  await closeImage();
  const done = busy(`Reopening ${rec.name}…`);
  try {
    const res = await api.reopen(rec.key);
    done();
    S.given = { files: res.files || [], handles: new Map() };
    await showImage(res);
    const pos = rec.user_state && rec.user_state.offset;
    if (S.res === res && Number.isSafeInteger(pos) && pos > 0 && pos < S.info.virtual_size) setHexSource('disk', { offset: pos });
  } catch (e) {
    done();
    if (e && e.name === 'MissingParentError') {
      notify({ kind: 'warn', title: `The parent of ${rec.name} was not kept`, next: 'Open the child again together with its parent files (drop them all at once).', error: e });
      return;
    }
    const a = advice(e, rec.name);
    notify({ title: a.title, next: a.next, error: e });
  }
}

// ---- an unreadable file ---------------------------------------------------------

export function showUnreadable(file, e) {
  S.unreadable = { file, error: e };
  S.files = [file];
  const a = advice(e, file.name);
  setTitle(file.name, 'unreadable');
  showScreen('viewer');
  $('#batmap-card').hidden = true;
  const off = e.offset || 0;
  replace($('#panel-summary'),
    el('div', { class: 'verdict unreadable', id: 'verdict', data: { verdict: 'unreadable' }, role: 'status' },
      el('span', { class: 'verdict-title', text: 'Unreadable' }),
      el('span', { class: 'verdict-text', text: a.title })),
    el('dl', { class: 'facts' },
      el('dt', { text: 'Problem' }), el('dd', { text: errorText(e) }),
      e.structure ? [el('dt', { text: 'Where' }), el('dd', { text: `${e.structure}, file offset 0x${hexPlain(off)}` })] : null,
      el('dt', { text: 'File size' }), el('dd', { text: `${grouped(file.size)} bytes (${human(file.size)})` }),
      el('dt', { text: 'What next' }), el('dd', { text: a.next })),
    Array.isArray(e.structures) && e.structures.length ? el('p', {},
      el('button', { type: 'button', class: 'link', id: 'show-partial-structures', text: 'Show the structures read before the damage', on: { click: () => selectTab('structure', true) } })) : null,
    e.raw_possible ? el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'primary', id: 'open-raw', text: 'Open as a raw disk', title: 'Read the file\'s bytes as the disk\'s: partitions and files inside it, hex, download', on: { click: () => openFiles([file], new Map(), { raw: true }) } })) : null);
  // What the engine read before the damage (a VHDX file: headers, region
  // tables, metadata entries), each with its check; the file's own bytes
  // are the hex view's, so every structure links there.
  if (Array.isArray(e.structures) && e.structures.length) {
    const onShow = (spec) => showInFileOf(e.structures, spec);
    replace($('#panel-structure'),
      el('p', { class: 'muted unreadable-note', id: 'structure-partial', text: 'The file does not open. These are the structures read and checked before the damage; the one marked error is where the open stopped.' }),
      el('div', { id: 'structure-tree-partial' }));
    renderStructure($('#structure-tree-partial'), { info: { structures: e.structures }, report: e.report, onShow });
    renderVerify($('#panel-checks'), { report: e.report, onShow, onRerun: () => openFiles([file]) });
    setChecksCount(e.report);
  } else {
    replace($('#panel-structure'), el('p', { class: 'muted', text: 'The structures cannot be listed because the file does not open.' }));
    replace($('#panel-checks'), el('p', { class: 'muted', text: errorText(e) }));
    setChecksCount(null);
  }
  selectTab('summary');
  landFocus($('#tab-summary'));
  setupHex();
  setHexSource('file:0', { offset: off });
}
