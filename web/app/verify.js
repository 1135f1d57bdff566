// verify.js: the verify report: every check the engine made, pass or fail,
// where it is in the file, and what it means in plain words.

import { el, replace, grouped, hexPlain, human, errorText } from './dom.js';

// explain gives a plain-language note on what a problem with a structure
// means for the disk, by the structure's kind.
function explain(c) {
  const s = c.structure.toLowerCase();
  if (c.status === 'ok') return '';
  if (s.startsWith('header')) {
    return c.status === 'warning'
      ? 'A VHDX file keeps two headers and uses the valid one with the greater sequence number. This copy is damaged but the other carries the file, so the disk reads correctly; Hyper-V rewrites both on its next update.'
      : 'Neither header is usable, so the file cannot be opened. The header section is the first 1 MiB of the file.';
  }
  if (s.startsWith('region table')) {
    return 'The region table lists where the BAT and metadata live; there are two copies. One damaged copy is harmless while the other is valid.';
  }
  if (s === 'log') {
    return 'The log held updates that had not been written into the file (the disk was not closed cleanly). They were applied in memory, as Hyper-V would on its next open; the file was not changed.';
  }
  if (s === 'log entry') {
    return 'A log entry that is damaged or left over from an older session was skipped; only the newest complete sequence is replayed.';
  }
  if (s.startsWith('bat entry')) {
    return 'This BAT entry points at an impossible place (past the end of the file, or over another structure, or over another block). Reading the block it describes fails instead of returning wrong data.';
  }
  if (s === 'parent') {
    return 'This is a differencing disk and its parent is not attached: ranges stored in the parent cannot be read. Add the parent file (see the chain in Summary).';
  }
  if (s.endsWith('item') || s.startsWith('metadata')) {
    return 'A metadata item describes the disk (size, block size, sectors, parent). An unknown optional item is ignored; a wrong required one makes the file unreadable.';
  }
  if (s === 'verify') return 'The check was stopped before it finished; run it again to see everything.';
  return '';
}

// renderVerify fills root with the report; onShow({offset, length, level,
// label}) opens the file hex view there; onRerun starts verify again.
export function renderVerify(root, { report, progress, error, onShow, onRerun }) {
  if (error) {
    replace(root, el('div', { class: 'notice error', role: 'alert' },
      el('p', { text: `Verify failed: ${error.message || error}` }),
      el('button', { type: 'button', text: 'Run again', on: { click: onRerun } })));
    return;
  }
  if (!report) {
    const pct = progress && progress.total ? (progress.done / progress.total) * 100 : 0;
    replace(root, el('div', { class: 'verify-progress', role: 'status' },
      el('p', { text: `Checking every structure and BAT entry… ${progress && progress.total ? `${grouped(progress.done)} of ${grouped(progress.total)} entries` : ''}` }),
      el('progress', { max: '100', value: String(pct) })));
    return;
  }
  const onlyProblems = el('input', { type: 'checkbox', id: 'only-problems', checked: report.verdict !== 'clean' });
  const list = el('ol', { class: 'checks', id: 'checks-list' });
  const fill = () => {
    const rows = report.checks.filter((c) => !onlyProblems.checked || c.status !== 'ok');
    replace(list, rows.length ? rows.map((c) => checkRow(c, onShow)) : el('li', { class: 'empty', text: 'No problems.' }));
  };
  onlyProblems.addEventListener('change', fill);
  fill();
  const ok = report.checks.filter((c) => c.status === 'ok').length;
  replace(root,
    el('div', { class: 'verify-head' },
      el('p', { class: 'verify-counts' },
        el('span', { class: 'count ok', text: `${grouped(ok)} passed` }),
        el('span', { class: 'count warn', text: `${grouped(report.warnings)} ${report.warnings === 1 ? 'warning' : 'warnings'}` }),
        el('span', { class: 'count bad', text: `${grouped(report.errors)} ${report.errors === 1 ? 'error' : 'errors'}` })),
      el('label', { class: 'check' }, onlyProblems, ' problems only'),
      el('button', { type: 'button', class: 'small', text: 'Run again', on: { click: onRerun } })),
    list,
    (report.bat || []).some((b) => b.bad_entries > 100)
      ? el('p', { class: 'note', text: 'Only the first 100 bad BAT entries of each level are listed.' }) : null,
  );
}

function checkRow(c, onShow) {
  const icon = { ok: '✓', warning: '!', error: '✕' }[c.status] || '?';
  const note = explain(c);
  // A failure about one field (the engine names it) links to that field.
  const field = c.field && c.field_offset !== undefined;
  const where = c.length || c.offset ? el('button', {
    type: 'button', class: 'link mono', title: field ? `Show ${c.field} in the file hex view` : 'Show in the file hex view',
    text: field ? `0x${hexPlain(c.field_offset)} ${c.field}` : `0x${hexPlain(c.offset)}`,
    on: { click: () => onShow({ offset: c.offset, length: c.length, level: c.level, label: c.structure, field: field ? { name: c.field, offset: c.field_offset } : null }) },
  }) : null;
  return el('li', { class: `check-item ${c.status}`, data: { status: c.status, structure: c.structure, offset: c.offset } },
    el('span', { class: `icon ${c.status}`, role: 'img', 'aria-label': c.status, title: c.status, text: icon }),
    el('div', { class: 'check-body' },
      el('div', { class: 'check-head' },
        el('span', { class: 'check-name', text: c.structure }),
        c.level ? el('span', { class: 'badge muted', text: `parent ${c.level}` }) : null,
        el('span', { class: 'check-where' }, where, c.length ? ` · ${human(c.length)}` : '')),
      el('div', { class: 'check-msg', text: errorText(c.message) }),
      c.expected && c.actual && c.expected !== c.actual ? el('div', { class: 'mono small check-crc', text: `expected ${c.expected}, found ${c.actual}` }) : null,
      note ? el('div', { class: 'explain', text: note }) : null),
  );
}
