// app.js: the page's entry. It wires the engine (web/vhdxview.js, which runs the Go
// engine in a Web Worker) to the views: start screen with recents, the
// missing-parent panel, and the viewer (summary, structure tree, checks,
// block map, hex view, downloads, partitions and files). It parses nothing itself: every fact
// about an image comes from the engine, and file bytes shown in the file
// hex view come straight from File.slice.
//
// The page is split by what each part shows or does: state.js (the one
// state object), screens.js, opening.js, chain-panel.js, viewer.js,
// tabs.js, block-map-card.js, hex-card.js, downloads.js, tools.js,
// notices.js, advice.js, recents-screen.js, keeping.js, drop.js,
// resume.js (a reload reopens the image), service-worker.js; the views
// they fill are summary.js, structure.js,
// verify.js, batmap.js, hexview.js, files.js (the file tree),
// partition-table.js, recents.js, download.js,
// jobs.js, hash.js, search.js, inspector.js.

import { $ } from './dom.js';
import { cleanTempDownloads } from './download.js';
import { FilesPanel } from './files.js';
import { DownloadList } from './jobs.js';
import { addParents } from './chain-panel.js';
import { nextData, jumpAllocated } from './block-map-card.js';
import { setupDownload } from './downloads.js';
import { setupDrop } from './drop.js';
import { setupGoto, showDiskAt } from './hex-card.js';
import { onStoreEvent, setupKeepButton } from './keeping.js';
import { notify } from './notices.js';
import { openFiles, openSample } from './opening.js';
import { leaveImage, setupHistory, showScreen } from './screens.js';
import { resumeAfterReload, setupResume } from './resume.js';
import { registerServiceWorker } from './service-worker.js';
import { S } from './state.js';
import { setupTabs } from './tabs.js';
import { setupScan } from './tools.js';
import * as api from '../vhdxview.js';

// When the page's own modules were all in and began to run: the engine
// (web/engine-start.js) should have been asked for before this (the
// first-visit ui test compares this mark with vhdxview.js's engine-asked).
performance.mark('vhdxview:app-modules-ran');

// The engine's API, as the placeholder page offered it (and for the console).
window.vhdxview = api;
// test and debugging hook: the live views.
window.vhdxviewUI = { state: S, get hex() { return S.hex; }, get batmap() { return S.batmap; }, get files() { return S.filesPanel; } };

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
  $('#close-button').addEventListener('click', leaveImage);
  $('#home').addEventListener('click', (e) => { e.preventDefault(); leaveImage(); });
  setupHistory();
  setupTabs();
  setupFiles();
  setupGoto();
  setupDownload();
  setupScan();
  setupDrop();
  setupKeepButton();
  api.on('store', onStoreEvent);
  const engineStopped = (error) => notify({
    id: 'fatal', title: 'The engine stopped',
    next: 'Reload the page to start it again. If it stops again with the same file, run `vhdx check` on it and report what it says.',
    error,
  });
  api.on('fatal', (m) => engineStopped(m && m.error));
  // web/engine-start.js started the engine before this module ran: a
  // failure then (e.g. the engine file missing) came before the listener.
  api.ready().catch(engineStopped);
  // Temporary files of streamed downloads of earlier visits.
  cleanTempDownloads().catch(() => {});
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || $('#viewer').hidden || /^(INPUT|SELECT|TEXTAREA)$/.test(document.activeElement.tagName)) return;
    if (e.key === 'g') {
      e.preventDefault();
      $('#goto-input').focus();
      $('#goto-input').select();
    } else if (e.key === 'n' && !$('#next-data').hidden) {
      e.preventDefault();
      nextData();
    } else if ((e.key === '[' || e.key === ']') && $('#next-allocated') && !$('#next-allocated').hidden && !document.activeElement.closest('[role="tree"]')) {
      e.preventDefault();
      jumpAllocated(e.key === ']' ? 1 : -1);
    }
  });
  window.addEventListener('error', (e) => /ResizeObserver loop/.test(e.message || '') || notify({ id: 'page-error', title: 'Something went wrong in the page', next: 'Reload the page. If it happens again, please report what you were doing.', error: e.error || e.message, bug: true }));
  window.addEventListener('unhandledrejection', (e) => notify({ id: 'page-error', title: 'Something went wrong in the page', next: 'Reload the page. If it happens again, please report what you were doing.', error: e.reason, bug: true }));
  showScreen('start');
  setupResume();
  resumeAfterReload().catch((e) => notify({ title: 'The image that was open could not be reopened', next: 'Open it again from Recent images or with Open….', error: e }));
  registerServiceWorker();
}

init();
