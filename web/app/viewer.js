// viewer.js: the viewer of an open image: its panels (summary, structure,
// checks), the verify run behind them, and links into the file hex view.

import { $, errorText, human } from './dom.js';
import { renderStructure } from './structure.js';
import { renderSummary, verdictOf } from './summary.js';
import { renderVerify } from './verify.js';
import { setupBatmap } from './block-map-card.js';
import { setHexSource, setupHex } from './hex-card.js';
import { askToKeep, refreshKeepButton } from './keeping.js';
import { parentInput } from './chain-panel.js';
import { addToChain } from './opening.js';
import { notify } from './notices.js';
import { busy, landFocus, setTitle, showScreen } from './screens.js';
import { S } from './state.js';
import { selectTab } from './tabs.js';
import * as api from '../vhdxview.js';

export async function showImage(res) {
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
  const missing = res.summary && res.summary.parent_missing;
  if (missing) notifyMissing(missing);
  renderPanels();
  selectTab('summary');
  setupBatmap();
  setupHex();
  setHexSource('disk', { offset: 0 });
  runVerify();
  loadParts(res);
  refreshKeepButton();
  askToKeep();
  landFocus($('#tab-summary'));
}

// notifyMissing says which chain level the engine found missing, and
// offers to add it (unless the child names no parent to match).
function notifyMissing(m) {
  const name = m.parent_name || 'its parent';
  if (m.unidentified) {
    notify({ kind: 'warn', id: 'partial', title: `The parent of ${m.child} cannot be identified`, next: 'Its parent locator names no parent_linkage, so no file can be matched as its parent. Blocks that live in the parent show as ?? in the hex view.', detail: errorText(m) });
    return;
  }
  notify({
    kind: 'warn', id: 'partial', title: `Opened without ${name}, chain level ${m.parent_level}`,
    next: `${m.child} names ${name} as its parent; it was not among the files given. Blocks that live in it cannot be read; they show as ?? in the hex view. Add it (or drop it here) to open the whole chain.`,
    detail: (m.paths || []).map((p) => `${p.key}: ${p.value}`).join('\n'),
    actions: [{ label: 'Add parent file…', primary: true, fn: pickParent }],
  });
}

// pickParent asks for the missing parent's file and adds it to the chain.
export function pickParent() {
  let input = $('#chain-parent-input');
  if (!input) {
    input = parentInput('chain-parent-input', (list) => addToChain(list));
    document.body.append(input);
  }
  input.click();
}

// loadParts asks the engine for the partitions and file systems, for the
// summary (the Files tab lists them in full).
async function loadParts(res) {
  S.parts = null;
  let parts;
  try {
    parts = await api.parts(res.image);
  } catch (e) {
    parts = { error: e };
  }
  if (S.res !== res) return;
  S.parts = parts;
  renderPanels();
}

export function renderPanels() {
  if (!S.info) return;
  renderSummary($('#panel-summary'), { info: S.info, summary: S.res.summary, report: S.report, progress: S.verifyProgress, parts: S.parts, onShowFiles: () => selectTab('files', true), onShowChecks: () => selectTab('checks', true), onAddParent: pickParent });
  renderStructure($('#panel-structure'), { info: S.info, report: S.report, onShow: showInFile });
  renderVerify($('#panel-checks'), { report: S.report, progress: S.verifyProgress, error: S.verifyError, onShow: showInFile, onRerun: runVerify });
  setChecksCount(S.report);
}

export function setChecksCount(report) {
  const c = $('#checks-count');
  c.className = 'tab-count';
  if (!report) { c.textContent = ''; return; }
  const n = report.errors + report.warnings;
  c.textContent = n ? String(n) : '';
  if (!report.errors && report.warnings) c.classList.add('warn');
}

export async function runVerify() {
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

export function renderVerdictOnly() {
  const v = verdictOf(null, S.verifyProgress);
  const box = $('#verdict');
  if (box) box.querySelector('.verdict-text').textContent = v.text;
  if (!$('#panel-checks').hidden) renderVerify($('#panel-checks'), { report: null, progress: S.verifyProgress, onShow: showInFile, onRerun: runVerify });
}

// showInFile opens the file hex view on a structure of the open image.
export function showInFile(spec) {
  showInFileOf(S.info && S.info.structures, spec);
}

// showInFileOf opens the file hex view on a structure, selecting a field
// as the structure list structures (the engine's) places it.
export function showInFileOf(structures, { offset, length, level = 0, field }) {
  const key = `file:${level}`;
  let sel = length ? [offset, offset + length] : null;
  if (field) {
    // The field's bytes, as the engine's structure list places them.
    const f = level === 0 ? fieldAt(structures, field.offset, field.name) || fieldAt(structures, field.offset) : null;
    offset = field.offset;
    sel = [field.offset, field.offset + (f && f.length ? f.length : 1)];
  }
  setHexSource(key, { offset, select: sel });
  S.hex.focus();
  $('#hex-card').scrollIntoView({ block: 'nearest' });
}

// fieldAt finds the field named name at offset in the engine's structure
// list (null when the list has none there).
function fieldAt(list, offset, name) {
  for (const s of list || []) {
    for (const f of s.fields || []) if (f.offset === offset && (!name || f.name === name)) return f;
    const inner = fieldAt(s.children, offset, name);
    if (inner) return inner;
  }
  return null;
}
