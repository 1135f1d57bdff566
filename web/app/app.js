// app.js: the page. It wires the engine (web/vhdxview.js, which runs the Go
// engine in a Web Worker) to the views: start screen with recents, the
// missing-parent panel, and the viewer (summary, structure tree, checks,
// block map, hex view, downloads, partitions and files). It parses nothing itself: every fact
// about an image comes from the engine, and file bytes shown in the file
// hex view come straight from File.slice.

import { el, replace, $, human, grouped, hexPlain, parseNumber, baseName, errorText } from './dom.js';
import { HexView } from './hexview.js';
import { BatMap, STATE_NAMES, CATEGORIES, category } from './batmap.js';
import { renderSummary, verdictOf } from './summary.js';
import { renderStructure } from './structure.js';
import { renderVerify } from './verify.js';
import { renderRecents, handles, fileFromHandle } from './recents.js';
import { DownloadDialog, save, saveRange, cleanTempDownloads } from './download.js';
import { DownloadList } from './jobs.js';
import { FilesPanel } from './files.js';
import { HashDialog } from './hash.js';
import { SearchBar } from './search.js';
import { Inspector } from './inspector.js';
import * as api from '../vhdxview.js';

const SAMPLE_URL = 'web/samples/sample.vhdx.gz';
const SAMPLE_TIME = Date.UTC(2025, 0, 1); // fixed, so the sample's recents key is stable

// The open image: everything the views need.
const S = {
  res: null, // open result {image, key, summary, files}
  info: null,
  report: null,
  verifyProgress: null,
  verifyError: null,
  verifyRun: 0,
  files: [], // files[k]: Blob of chain level k
  hex: null,
  batmap: null,
  pending: null, // missing parent: {files, handles, error}
  unreadable: null,
  filesPanel: null, // the Files tab (FilesPanel)
  downloads: null, // the page's download list (DownloadList)
};

// The engine's API, as the placeholder page offered it (and for the console).
window.vhdxview = api;
// test and debugging hook: the live views.
window.vhdxviewUI = { state: S, get hex() { return S.hex; }, get batmap() { return S.batmap; }, get files() { return S.filesPanel; } };

// ---- messages ------------------------------------------------------------

// notify shows a message card: {kind: error|warn|info, title, detail,
// next (what to do), actions: [{label, fn}], id, error}. detail defaults
// to error's message. Errors never go only to the console. A bug (an
// engine InternalError, or bug: true for the page's own) gets a "Copy
// diagnostic report" button.
function notify({ kind = 'error', title, detail, next, actions = [], id, error, bug = false }) {
  const box = $('#messages');
  if (id) for (const old of box.querySelectorAll(`[data-id="${id}"]`)) old.remove();
  if (detail === undefined && error !== undefined) detail = errorText(error);
  bug = bug || (!!error && error.name === 'InternalError');
  const card = el('div', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status', data: { id: id || '' } });
  const close = el('button', { type: 'button', class: 'icon-button', 'aria-label': 'Dismiss', title: 'Dismiss', text: '✕', on: { click: () => card.remove() } });
  const body = el('div', { class: 'body' },
    el('p', { class: 'title', text: title }),
    next ? el('p', { class: 'next', text: next }) : null,
    detail ? el('p', { class: 'detail', text: detail }) : null,
    actions.length ? el('div', { class: 'actions' }, actions.map((a) => el('button', {
      type: 'button', class: a.primary ? 'primary small' : 'small', text: a.label,
      on: { click: () => { card.remove(); a.fn(); } },
    }))) : null);
  if (bug) body.append(bugReport(error));
  card.append(body, close);
  box.append(card);
  return card;
}

// Set by registerServiceWorker: the build the page shows ("Engine …").
let pageBuild = '';

// diagnosticReport is the text a person can send with a bug report: what
// failed and where in the code, never file contents (nor file names but
// those in the message the notice shows).
function diagnosticReport(error) {
  const about = api.engineInfo();
  const e = error && typeof error === 'object' ? error : { message: String(error) };
  return [
    'vhdxview diagnostic report',
    `engine: ${about && about.version ? about.version : 'not started'}${pageBuild ? ` (build ${pageBuild.slice(0, 12)})` : ''}`,
    `browser: ${navigator.userAgent}`,
    `op: ${e.request || '(the page)'}`,
    `error: ${e.name || 'Error'}: ${e.message || ''}`,
    'stack:',
    String(e.stack || '(none)'),
  ].join('\n');
}

// bugReport is the part of a bug's notice that offers the report: a
// button that copies it, or shows it to copy by hand where the clipboard
// is refused.
function bugReport(error) {
  const status = el('span', { class: 'muted', role: 'status' });
  const button = el('button', {
    type: 'button', class: 'small', text: 'Copy diagnostic report',
    on: {
      click: async () => {
        const text = diagnosticReport(error);
        try {
          await navigator.clipboard.writeText(text);
          status.textContent = 'Copied. Paste it into your report.';
        } catch {
          const area = el('textarea', { class: 'report mono', readonly: true, rows: 8, 'aria-label': 'Diagnostic report' });
          area.value = text;
          area.style.width = '100%';
          status.replaceWith(area);
          area.select();
        }
      },
    },
  });
  return el('div', { class: 'bug' },
    el('p', { class: 'next', text: 'This is a bug in vhdxview. Please report it with the diagnostic report (it holds no file contents).' }),
    el('div', { class: 'actions' }, button, status));
}

function clearMessages() { replace($('#messages')); }

// advice explains an engine error: {title, next}.
function advice(e, name) {
  const n = e && e.name;
  const where = e && e.structure ? `${e.structure}${e.offset !== undefined ? ` at file offset 0x${hexPlain(e.offset)}` : ''}` : '';
  switch (n) {
    case 'FormatError':
      if (e.kind_name || e.structure === 'file type identifier' || /signature/i.test(e.message || '') && e.offset === 0) {
        return {
          title: e.kind_name ? `${e.file || name} is ${e.kind_name}, not a disk image vhdxview reads` : `${name} is not a disk image vhdxview reads`,
          next: `vhdxview reads VHDX, VHD and raw disk images. ${e.raw_possible ? 'If the file is a disk without a container (a dd image, a partition or volume dump), open it as a raw disk: its bytes are read as the disk\'s. ' : ''}A VMDK or qcow2 file can be converted first, e.g. qemu-img convert -O vhdx disk.vmdk disk.vhdx.`,
        };
      }
      return {
        title: `${name} is damaged and cannot be opened${where ? `: ${where}` : ''}`,
        next: 'Its raw bytes are shown in the file hex view so you can look at the damage. If you have another copy or a backup, try that one.',
      };
    case 'UnsupportedError':
      return { title: `${name} uses something vhdxview cannot read${where ? ` (${where})` : ''}`, next: 'The raw bytes are shown in the file hex view.' };
    case 'ChainError':
      // The engine says which rule the chain breaks; name that one.
      if (/logical sector size/.test(e.message || '')) {
        return { title: `The parent of ${e.child || name} has another logical sector size`, next: 'A differencing disk and its parent use the same logical sector size, so the file given is not its parent. Find the parent the locator names and drop it with the child.' };
      }
      if (/cycle/.test(e.message || '')) {
        return { title: 'These files name each other as parents', next: 'A chain ends at a disk without a parent; drop the child with the parents its locator names.' };
      }
      if (/never chain/.test(e.message || '')) {
        return { title: `The parent of ${e.child || name} must be of its own format`, next: 'A VHDX disk\'s parent is a VHDX file and a VHD disk\'s parent a VHD file. Find the parent the locator names and drop it with the child.' };
      }
      return { title: `The parent disk does not match ${e.child || name}`, next: 'A differencing disk records the identity of its parent (VHDX: DataWriteGuid; VHD: Unique Id); the file given has another one (it was changed after the child was made, or it is a different disk). Find the parent the locator names and drop it with the child.' };
    case 'MultipleImagesError':
      return { title: 'These files are separate disks, not one chain', next: 'Open one disk at a time; for a differencing disk, drop the child together with its own parents only.' };
    case 'ReadError':
      return { title: `The browser could not read ${e.file || name}`, next: 'If the file was moved, changed or is on a network drive that went away, open it again (copy it to a local disk if it keeps failing).' };
    case 'NotStoredError':
      return { title: 'The bytes of this image were not kept', next: 'It was too large to store in the browser, or the quota was full. Open the file again from disk.' };
    case 'StorageUnavailableError':
      return { title: 'This browser cannot remember images here', next: 'IndexedDB is not available (a private window?). Images still open; they are just not remembered.' };
    case 'InternalError':
      return { title: `vhdxview failed on ${name}`, next: 'This is not a problem with the file as far as vhdxview can tell. Close it and try again.' };
    case 'EngineError':
    case 'WorkerError':
      return { title: 'The engine stopped', next: 'Reload the page. If it happens again with this file, please report it with the file\'s `vhdx check` output.' };
    default:
      return { title: `Cannot open ${name}`, next: 'Check that the file is a complete VHDX, VHD or raw disk image, then try again.' };
  }
}

// ---- busy overlay -----------------------------------------------------------

let busyCount = 0;
function busy(text) {
  busyCount++;
  $('#busy-text').textContent = text;
  const t = setTimeout(() => { if (busyCount) $('#busy').hidden = false; }, 150);
  return () => {
    clearTimeout(t);
    if (--busyCount <= 0) { busyCount = 0; $('#busy').hidden = true; }
  };
}

// ---- screens ----------------------------------------------------------------

function showScreen(name) {
  $('#start').hidden = name !== 'start';
  $('#viewer').hidden = name !== 'viewer';
  $('#parent-needed').hidden = name !== 'parent';
  const inImage = name === 'viewer';
  $('#close-button').hidden = !inImage && name !== 'parent';
  $('#download-button').hidden = !inImage || !S.res;
  $('#hash-button').hidden = !inImage || !S.res;
  document.body.dataset.screen = name;
  if (name === 'start') {
    replace($('#image-title'));
    $('#store-state').textContent = '';
    refreshRecents();
  }
}

async function closeImage() {
  if (S.batmap) S.batmap.destroy();
  S.batmap = null;
  S.verifyRun++;
  if (S.verifyCancel) S.verifyCancel();
  S.verifyCancel = null;
  const img = S.res && S.res.image;
  if (S.filesPanel) S.filesPanel.reset();
  if (S.downloads) S.downloads.cancelAll();
  Object.assign(S, { res: null, info: null, report: null, verifyProgress: null, verifyError: null, files: [], unreadable: null });
  if (img !== undefined && img !== null) {
    try { await api.close(img); } catch { /* already closed */ }
  }
}

async function goHome() {
  await closeImage();
  S.pending = null;
  clearMessages();
  showScreen('start');
}

// ---- opening ------------------------------------------------------------------

// openFiles opens one image from files (a child and its parents, in any
// order). fileHandles: FileSystemFileHandles by file name (from a drop).
async function openFiles(files, fileHandles = new Map(), opts = {}) {
  files = Array.from(files);
  if (!files.length) return;
  await closeImage();
  clearMessages();
  const names = files.map((f) => f.name).join(', ');
  const done = busy(`Opening ${names}…`);
  let res;
  try {
    res = await api.open(files, opts);
  } catch (e) {
    done();
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
  S.pending = null;
  // Remember file handles of what the engine stored, for handle-only reopen.
  for (const lvl of (res.summary && res.summary.chain) || []) {
    const h = fileHandles.get(lvl.name);
    if (h && lvl.key) handles.put(lvl.key, h);
  }
  await showImage(res);
}

async function openSample() {
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

async function reopenRecent(rec, { stored, handle }) {
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

// ---- missing parent -----------------------------------------------------------

function showParentNeeded(files, fileHandles, e) {
  S.pending = { files, handles: fileHandles, error: e };
  const child = e.child || files[0].name;
  const paths = (e.paths || []).filter((p) => p && p.key);
  if (!paths.some((p) => p.key === 'parent_linkage')) {
    for (const l of e.linkages || []) paths.unshift({ key: 'parent_linkage', value: `{${l}}` });
  }
  const pathKeys = ['relative_path', 'volume_path', 'absolute_win32_path'];
  const named = paths.filter((p) => pathKeys.includes(p.key));
  const fileName = named.length ? named[0].value.split(/[\\/]/).pop() : '';
  const input = el('input', { type: 'file', id: 'parent-input', multiple: true, accept: '.vhdx,.avhdx', hidden: true });
  input.addEventListener('change', () => {
    if (input.files.length) addParents(Array.from(input.files));
  });
  replace($('#parent-needed'),
    el('h1', { id: 'parent-title', text: 'Parent disk needed' }),
    el('p', {}, el('b', { text: child }), ` is a differencing disk: it holds only the changes made over a parent disk, which was not among the ${files.length === 1 ? 'file' : 'files'} you opened.`),
    el('p', { text: fileName ? `Add its parent, ${fileName}. The child names it as:` : 'Add its parent. The child names it as:' }),
    el('dl', { class: 'locator', id: 'parent-locator' },
      paths.length ? paths.map((p) => el('div', { data: { key: p.key } }, el('dt', { text: p.key }), el('dd', { text: p.value })))
        : el('div', {}, el('dt', { text: 'locator' }), el('dd', { text: '(no parent locator entries)' }))),
    el('div', { class: 'parent-drop' },
      el('button', { type: 'button', class: 'primary', id: 'parent-add', text: 'Add parent file…', on: { click: () => input.click() } }),
      el('span', { class: 'muted', text: 'or drop it anywhere on this page' }),
      input),
    el('p', { class: 'parent-files' }, `Files so far: ${files.map((f) => f.name).join(', ')}`),
    (e.tried || []).length ? el('div', { class: 'notice warn tried' }, el('div', { class: 'body' },
      el('p', { class: 'title', text: 'Files given that are not its parent:' }),
      el('ul', {}, e.tried.map((x) => el('li', { class: 'mono small', text: String(x) }))))) : null,
    el('div', { class: 'hero-actions' },
      el('button', { type: 'button', id: 'parent-skip', text: 'Open without the parent', title: 'Show the child alone: its structures and its own blocks; ranges in the parent cannot be read', on: { click: () => openFiles(files, fileHandles, { partial: true }) } }),
      el('button', { type: 'button', text: 'Cancel', on: { click: goHome } })),
  );
  showScreen('parent');
  $('#parent-add').focus();
}

function addParents(more, moreHandles = new Map()) {
  const p = S.pending;
  const h = new Map([...p.handles, ...moreHandles]);
  openFiles([...p.files, ...more], h);
}

// ---- an unreadable file ---------------------------------------------------------

function showUnreadable(file, e) {
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
    e.raw_possible ? el('div', { class: 'actions' },
      el('button', { type: 'button', class: 'primary', id: 'open-raw', text: 'Open as a raw disk', title: 'Read the file\'s bytes as the disk\'s: partitions and files inside it, hex, download', on: { click: () => openFiles([file], new Map(), { raw: true }) } })) : null);
  replace($('#panel-structure'), el('p', { class: 'muted', text: 'The structures cannot be listed because the file does not open.' }));
  replace($('#panel-checks'), el('p', { class: 'muted', text: errorText(e) }));
  setChecksCount(null);
  selectTab('summary');
  setupHex();
  setHexSource('file:0', { offset: off });
}

// ---- the viewer -----------------------------------------------------------------

function setTitle(name, sub) {
  replace($('#image-title'), el('span', { class: 'name', text: name }), sub ? el('span', { class: 'sub', text: sub }) : null);
  document.title = `${name} · vhdxview`;
}

async function showImage(res) {
  S.res = res;
  S.files = res.files || [];
  const done = busy('Reading the structures…');
  try {
    S.info = await api.info(res.image);
  } catch (e) {
    done();
    notify({ title: 'Cannot read the image\'s structures', next: 'Close it and open the file again.', error: e });
    return;
  }
  done();
  const info = S.info;
  const levels = (info.chain || []).length;
  setTitle(res.summary && res.summary.name || info.name || 'image',
    `${info.type} · ${human(info.virtual_size)}${levels > 1 ? ` · chain of ${levels}` : ''}${res.summary && res.summary.parent_missing ? ' · parent missing' : ''}`);
  showScreen('viewer');
  $('#batmap-card').hidden = false;
  if (res.store_error) {
    notify({ kind: 'warn', id: 'store', title: 'This image will not be remembered', next: errorText(res.store_error) });
  }
  if (res.summary && res.summary.parent_missing) {
    notify({ kind: 'warn', id: 'partial', title: 'Opened without its parent', next: 'Blocks that live in the parent cannot be read; they show as ?? in the hex view. Drop the parent file to open the whole chain.', detail: (res.summary.parent_missing.paths || []).map((p) => `${p.key}: ${p.value}`).join('\n') });
  }
  renderPanels();
  selectTab('summary');
  setupBatmap();
  setupHex();
  setHexSource('disk', { offset: 0 });
  runVerify();
}

function renderPanels() {
  if (!S.info) return;
  renderSummary($('#panel-summary'), { info: S.info, summary: S.res.summary, report: S.report, progress: S.verifyProgress, onShowChecks: () => selectTab('checks', true) });
  renderStructure($('#panel-structure'), { info: S.info, report: S.report, onShow: showInFile });
  renderVerify($('#panel-checks'), { report: S.report, progress: S.verifyProgress, error: S.verifyError, onShow: showInFile, onRerun: runVerify });
  setChecksCount(S.report);
}

function setChecksCount(report) {
  const c = $('#checks-count');
  c.className = 'tab-count';
  if (!report) { c.textContent = ''; return; }
  const n = report.errors + report.warnings;
  c.textContent = n ? String(n) : '';
  if (!report.errors && report.warnings) c.classList.add('warn');
}

async function runVerify() {
  const run = ++S.verifyRun;
  if (S.verifyCancel) S.verifyCancel();
  const ac = new AbortController();
  S.verifyCancel = () => ac.abort();
  S.report = null;
  S.verifyError = null;
  S.verifyProgress = { done: 0, total: 0 };
  renderPanels();
  let last = 0;
  try {
    const rep = await api.verify(S.res.image, {
      signal: ac.signal,
      onProgress: (p) => {
        if (run !== S.verifyRun) return;
        S.verifyProgress = p;
        const now = performance.now();
        if (now - last > 150) { last = now; renderVerdictOnly(); }
      },
    });
    if (run !== S.verifyRun) return;
    S.report = rep;
  } catch (e) {
    if (run !== S.verifyRun) return;
    S.verifyError = e;
  }
  renderPanels();
}

function renderVerdictOnly() {
  const v = verdictOf(null, S.verifyProgress);
  const box = $('#verdict');
  if (box) box.querySelector('.verdict-text').textContent = v.text;
  if (!$('#panel-checks').hidden) renderVerify($('#panel-checks'), { report: null, progress: S.verifyProgress, onShow: showInFile, onRerun: runVerify });
}

// showInFile opens the file hex view on a structure.
function showInFile({ offset, length, level = 0 }) {
  const key = `file:${level}`;
  const sel = length ? [offset, offset + length] : null;
  setHexSource(key, { offset, select: sel });
  S.hex.focus();
  $('#hex-card').scrollIntoView({ block: 'nearest' });
}

// ---- tabs -----------------------------------------------------------------------

const TABS = ['summary', 'structure', 'files', 'checks'];
function selectTab(name, focus) {
  $('#viewer').dataset.tab = name;
  for (const t of TABS) {
    const tab = $(`#tab-${t}`);
    const on = t === name;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#panel-${t}`).hidden = !on;
    if (on && focus) tab.focus();
  }
  if (name === 'files') S.filesPanel.show();
  if (name === 'checks' && !S.report && S.res) renderVerify($('#panel-checks'), { report: null, progress: S.verifyProgress, error: S.verifyError, onShow: showInFile, onRerun: runVerify });
}

function setupTabs() {
  for (const t of TABS) {
    const tab = $(`#tab-${t}`);
    tab.addEventListener('click', () => selectTab(t));
    tab.addEventListener('keydown', (e) => {
      const i = TABS.indexOf(t);
      let j = null;
      if (e.key === 'ArrowRight') j = (i + 1) % TABS.length;
      else if (e.key === 'ArrowLeft') j = (i + TABS.length - 1) % TABS.length;
      else if (e.key === 'Home') j = 0;
      else if (e.key === 'End') j = TABS.length - 1;
      if (j === null) return;
      e.preventDefault();
      selectTab(TABS[j], true);
    });
  }
}

// ---- block map --------------------------------------------------------------------

function setupBatmap() {
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
const VHD_STATE_NAMES = { 0: 'unallocated', 6: 'allocated', 7: 'allocated (sector bitmap)' };

// describeBlock says where a block's bytes are, from the engine's plan.
async function describeBlock(block) {
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

// ---- hex view -----------------------------------------------------------------------

function setupHex() {
  if (!S.hex) {
    S.hex = new HexView($('#hex'), {
      onChange: (h) => {
        rememberPosition(h);
        const sel = h.selection();
        $('#selection-download').disabled = !sel;
        if (inspector) inspector.show(h);
        if (S.batmap && h.src && h.src.kind === 'disk' && S.info) S.batmap.setMarker(Math.floor(h.cursor / S.info.block_size));
      },
      describe: describeOffset,
    });
  }
  const sel = $('#hex-source');
  replace(sel);
  if (S.res) sel.append(el('option', { value: 'disk', text: 'Virtual disk' }));
  S.files.forEach((f, k) => sel.append(el('option', { value: `file:${k}`, text: `File: ${f.name || `level ${k}`}${k ? ` (parent ${k})` : ''}` })));
}

// rememberPosition keeps the disk hex view's cursor in the image's record
// (set_state), so that reopening from the recents comes back to it.
let positionTimer = 0;
function rememberPosition(h) {
  if (!S.res || !S.res.key || !h.src || h.src.kind !== 'disk') return;
  const key = S.res.key;
  const offset = h.cursor;
  clearTimeout(positionTimer);
  positionTimer = setTimeout(() => { api.setState(key, { offset }).catch(() => {}); }, 800);
}

// hexSource gives the hex view's source for a key ("disk" or "file:k").
function hexSource(key) {
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

function setHexSource(key, where) {
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
function describeOffset(off, src) {
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
function structureAt(off) {
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
function showDiskAt(offset, { marks = null } = {}) {
  if (!S.res || !S.hex) return;
  setHexSource('disk', { offset });
  S.hex.setMarks(marks);
  S.hex.focus();
  $('#hex-card').scrollIntoView({ block: 'nearest' });
}

function setupFiles() {
  S.downloads = new DownloadList($('#downloads'));
  S.filesPanel = new FilesPanel($('#panel-files'), {
    api,
    current: () => (S.res && S.info ? { image: S.res.image, name: S.res.summary.name } : null),
    unavailable: () => (S.unreadable ? 'The file does not open, so its partitions and files cannot be read.' : ''),
    showInHex: showDiskAt,
    downloads: S.downloads,
  });
}

function setupGoto() {
  const go = () => {
    if (!S.hex || !S.hex.src) return;
    const input = $('#goto-input');
    const n = parseNumber(input.value);
    const unit = $('#goto-unit').value;
    if (Number.isNaN(n)) {
      input.setCustomValidity('not a number');
      notify({ kind: 'warn', id: 'goto', title: `"${input.value}" is not a number`, next: 'Type a decimal number, 0x hex, or a size like 1M or 4K, then press Enter.' });
      return;
    }
    input.setCustomValidity('');
    const src = S.hex.src;
    const off = unit === 'lba' ? n * src.sectorSize : unit === 'block' ? n * src.blockSize : n;
    if (off >= src.size) {
      notify({ kind: 'warn', id: 'goto', title: `${unit === 'offset' ? `Offset 0x${hexPlain(off)}` : `${unit === 'lba' ? 'LBA' : 'Block'} ${grouped(n)}`} is past the end`, next: `The ${src.kind === 'disk' ? 'disk' : 'file'} is ${grouped(src.size)} bytes (0x${hexPlain(src.size)}, ${human(src.size)}).` });
      return;
    }
    for (const old of document.querySelectorAll('[data-id="goto"]')) old.remove();
    S.hex.goto(off);
    S.hex.focus();
  };
  $('#goto-button').addEventListener('click', go);
  $('#goto-input').addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); go(); } });
  $('#hex-source').addEventListener('change', (e) => setHexSource(e.target.value, { offset: 0 }));
}

// ---- hash, search, data inspector ----------------------------------------------------

let hashDialog, searchBar, inspector;
function setupScan() {
  hashDialog = new HashDialog($('#hash-dialog'), () => ({
    name: S.res.summary.name,
    size: S.info.virtual_size,
    selection: S.hex && S.hex.src && S.hex.src.kind === 'disk' ? S.hex.selection() : null,
    hash: (offset, length, algorithms, onProgress, signal) => api.hash(S.res.image, { offset, length, algorithms, onProgress, signal }),
  }));
  $('#hash-button').addEventListener('click', () => hashDialog.open());
  searchBar = new SearchBar($('#hex-search'), () => (S.res && S.hex && S.hex.src && S.hex.src.kind === 'disk' ? { image: S.res.image, hex: S.hex } : null));
  inspector = new Inspector($('#inspector'));
}

// ---- downloads ------------------------------------------------------------------------

let dialog;
function setupDownload() {
  dialog = new DownloadDialog($('#download-dialog'), () => ({
    name: S.res.summary.name,
    size: S.info.virtual_size,
    sectorSize: S.info.logical_sector_size,
    selection: S.hex && S.hex.src && S.hex.src.kind === 'disk' ? S.hex.selection() : null,
    start: (offset, length, name, handle) => {
      const image = S.res.image;
      S.downloads.job(name, length, (signal, progress) => saveRange(api, image, name, offset, length, handle, signal, progress));
    },
  }));
  $('#download-button').addEventListener('click', () => dialog.open());
  $('#selection-download').addEventListener('click', () => {
    const src = S.hex.src;
    const sel = S.hex.selection();
    if (!sel) return;
    if (src.kind === 'disk') {
      dialog.open({ what: 'selection' });
    } else {
      // Raw file bytes: a slice of the File itself.
      const f = S.files[src.level];
      save(f.slice(sel.start, sel.end), `${baseName(f.name)}-file-0x${hexPlain(sel.start)}-0x${hexPlain(sel.end - sel.start)}.bin`);
    }
  });
}

// ---- recents --------------------------------------------------------------------------

async function refreshRecents() {
  const root = $('#recents');
  let data;
  try {
    data = await api.recent();
  } catch (e) {
    data = { error: e };
  }
  const keys = await handles.all();
  renderRecents(root, data, keys, {
    reopen: (rec, how) => reopenRecent(rec, how),
    forget: async (rec) => {
      try {
        await api.forget(rec.key);
        await handles.delete(rec.key);
      } catch (e) {
        notify({ title: `Cannot forget ${rec.name}`, next: 'Try again; if it keeps failing, clear the site\'s data in the browser settings.', error: e });
      }
      refreshRecents();
    },
    clear: async () => {
      if (!window.confirm('Forget every remembered image and delete the stored copies?')) return;
      try {
        await api.forgetAll();
        await handles.clear();
      } catch (e) {
        notify({ title: 'Cannot clear the recent images', next: 'Try again, or clear the site\'s data in the browser settings.', error: e });
      }
      refreshRecents();
    },
  });
}

function onStoreEvent(ev) {
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

// ---- drag and drop ----------------------------------------------------------------------

function hasFiles(e) {
  return e.dataTransfer && Array.from(e.dataTransfer.types || []).includes('Files');
}

function setupDrop() {
  let depth = 0;
  const overlay = $('#drop-overlay');
  window.addEventListener('dragenter', (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth++;
    overlay.firstElementChild.textContent = S.pending && !$('#parent-needed').hidden ? 'Drop to add the parent' : 'Drop to open';
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
      else openFiles(files, byName);
    });
  });
}

// ---- service worker ---------------------------------------------------------------------

async function registerServiceWorker() {
  let version = 'dev';
  try {
    const r = await fetch('web/manifest.json', { cache: 'no-store' });
    if (r.ok) {
      const m = await r.json();
      version = String(m.version || m.hash || m.wasm_sha256 || version);
    }
  } catch { /* offline and not cached yet */ }
  $('#version').textContent = version === 'dev' ? '' : `Engine ${version.slice(0, 12)}.`;
  if (version !== 'dev') pageBuild = version;
  if (!('serviceWorker' in navigator)) return;
  try {
    const hadController = !!navigator.serviceWorker.controller;
    await navigator.serviceWorker.register(`sw.js?v=${encodeURIComponent(version)}`, { scope: './' });
    navigator.serviceWorker.addEventListener('controllerchange', () => {
      if (!hadController) return; // first install: nothing to update
      notify({ kind: 'info', id: 'update', title: 'A new version of vhdxview is ready', next: 'Reload to use it (open images will be closed).', actions: [{ label: 'Reload', primary: true, fn: () => location.reload() }] });
    });
  } catch (e) {
    notify({ kind: 'warn', id: 'sw', title: 'Offline use is not available', next: 'The page works, but will not open without a network connection.', error: e });
  }
}

// ---- start ------------------------------------------------------------------------------

function init() {
  const input = $('#files');
  const pick = () => input.click();
  $('#open-button').addEventListener('click', pick);
  $('#pick-button').addEventListener('click', pick);
  input.addEventListener('change', () => {
    const files = Array.from(input.files || []);
    input.value = '';
    if (!files.length) return;
    if (S.pending && !$('#parent-needed').hidden) addParents(files);
    else openFiles(files);
  });
  $('#sample-button').addEventListener('click', openSample);
  $('#close-button').addEventListener('click', goHome);
  $('#home').addEventListener('click', (e) => { e.preventDefault(); goHome(); });
  setupTabs();
  setupFiles();
  setupGoto();
  setupDownload();
  setupScan();
  setupDrop();
  api.on('store', onStoreEvent);
  api.on('fatal', (m) => notify({
    id: 'fatal', title: 'The engine stopped',
    next: 'Reload the page to start it again. If it stops again with the same file, run `vhdx check` on it and report what it says.',
    error: m && m.error,
  }));
  api.ready().catch(() => { /* reported by the fatal event */ });
  // Temporary files of streamed downloads of earlier visits.
  cleanTempDownloads().catch(() => {});
  document.addEventListener('keydown', (e) => {
    if (e.key === 'g' && !e.ctrlKey && !e.metaKey && !e.altKey && !$('#viewer').hidden && !/^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) {
      e.preventDefault();
      $('#goto-input').focus();
      $('#goto-input').select();
    }
  });
  window.addEventListener('error', (e) => /ResizeObserver loop/.test(e.message || '') || notify({ id: 'page-error', title: 'Something went wrong in the page', next: 'Reload the page. If it happens again, please report what you were doing.', error: e.error || e.message, bug: true }));
  window.addEventListener('unhandledrejection', (e) => notify({ id: 'page-error', title: 'Something went wrong in the page', next: 'Reload the page. If it happens again, please report what you were doing.', error: e.reason, bug: true }));
  showScreen('start');
  registerServiceWorker();
}

init();
