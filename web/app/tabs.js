// tabs.js: the side panel's tabs (Summary, Structure, Files, Checks), by
// click, touch and arrow keys.

import { $ } from './dom.js';
import { renderVerify } from './verify.js';
import { S } from './state.js';
import { runVerify, showInFile } from './viewer.js';

export const TABS = ['summary', 'structure', 'files', 'checks'];
export function selectTab(name, focus) {
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

export function setupTabs() {
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
