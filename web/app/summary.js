// summary.js: the summary panel: what the disk is, in a few lines, and the
// overall verdict (clean / problems / unreadable) once verify has run.
//
// Every value row carries data-key (the JSON key of the format's Info:
// core.Info, vhd.Info or disk.RawInfo) and data-value (the raw value), so
// tests compare the page with `vhdx info --json`.

import { el, errorText, replace, human, grouped, hexPlain } from './dom.js';
import { CATEGORIES, STATE_NAMES, category } from './batmap.js';

// verdictOf gives {cls, title, text} for a verify report (or its absence).
export function verdictOf(report, progress) {
  if (!report) {
    const pct = progress && progress.total ? Math.floor((progress.done / progress.total) * 100) : 0;
    return { cls: 'checking', title: 'Checking…', text: `reading every structure and BAT entry (${pct}%)` };
  }
  if (report.verdict === 'clean') return { cls: 'clean', title: 'Clean', text: 'every structure checks out' };
  const parts = [];
  if (report.errors) parts.push(`${report.errors} ${report.errors === 1 ? 'error' : 'errors'}`);
  if (report.warnings) parts.push(`${report.warnings} ${report.warnings === 1 ? 'warning' : 'warnings'}`);
  return { cls: report.errors ? 'problems' : 'warnings', title: 'Problems', text: `${parts.join(', ')}; see Checks` };
}

function row(key, label, value, raw, extra) {
  return [
    el('dt', { text: label }),
    el('dd', { data: { key, value: raw === undefined ? value : raw } }, value, extra || null),
  ];
}

// renderSummary fills root. s = {info, summary (from open), report,
// progress, onVerdict}.
export function renderSummary(root, { info, summary, report, progress, parts, onShowFiles, onShowChecks, onAddParent }) {
  const v = verdictOf(report, progress);
  const verdict = el('div', { class: `verdict ${v.cls}`, id: 'verdict', data: { verdict: report ? report.verdict : 'checking' }, role: 'status' },
    el('span', { class: 'verdict-title', text: v.title }),
    el('span', { class: 'verdict-text', text: v.text }),
    report && report.verdict !== 'clean' && onShowChecks ? el('button', { class: 'link', type: 'button', text: 'Show problems', on: { click: onShowChecks } }) : null,
  );
  const rows = [];
  const format = info.format || 'vhdx';
  rows.push(row('format', 'Format', FORMAT_TEXT[format] || format, format));
  if (format === 'raw') rawRows(rows, info);
  else if (format === 'vhd') vhdRows(rows, info);
  else vhdxRows(rows, info);
  const chain = chainList(info, summary, onAddParent);
  if (chain) rows.push([el('dt', { text: 'Chain' }), el('dd', { data: { key: 'chain', value: (info.chain || []).length } }, chain)]);
  if (parts) rows.push(partsRow(parts, onShowFiles));
  replace(root,
    verdict,
    el('dl', { class: 'facts' }, rows),
    report && report.bat && report.bat[0] ? batStats(report.bat[0], info) : null,
  );
}

// partsRow says what the disk holds: the partition table and, for each
// partition, its file system as the engine names it (parts).
function partsRow(t, onShowFiles) {
  if (t.error) return row('partitions', 'Partitions', 'cannot be read; see Files', 'error');
  const list = (t.partitions || []).filter((p) => !p.extended);
  const scheme = { gpt: 'GPT', mbr: 'MBR' }[t.scheme];
  const items = list.map((p) => el('li', { data: { index: p.index } },
    `${t.scheme === 'none' ? 'whole disk' : `${p.index}.`} ${p.file_system_name || p.file_system || 'no file system found'}`,
    p.name ? ` “${p.name}”` : '', ` · ${human(p.size)}`));
  const head = scheme ? `${scheme}, ${list.length} ${list.length === 1 ? 'partition' : 'partitions'}` : (list.length ? 'no partition table' : 'nothing found');
  return [el('dt', { text: 'Partitions' }), el('dd', { data: { key: 'partitions', value: list.length } },
    head, items.length ? el('ul', { class: 'parts-brief' }, items) : null,
    onShowFiles && list.some((p) => p.supported) ? el('button', { type: 'button', class: 'link', text: 'Browse files', on: { click: onShowFiles } }) : null)];
}

// FORMAT_TEXT names each format the engine reads.
const FORMAT_TEXT = {
  vhdx: 'VHDX (Hyper-V, version 2)',
  vhd: 'VHD (Virtual PC / Hyper-V, version 1)',
  raw: 'raw disk image (no container)',
};

const TYPE_TEXT = { fixed: 'fixed (every block allocated)', dynamic: 'dynamic (blocks allocated as written)', differencing: 'differencing (changes over a parent)' };

function vhdxRows(rows, info) {
  rows.push(row('type', 'Type', TYPE_TEXT[info.type] || info.type, info.type));
  rows.push(row('virtual_size', 'Virtual size', `${grouped(info.virtual_size)} bytes (${human(info.virtual_size)})`, info.virtual_size));
  rows.push(row('block_size', 'Block size', human(info.block_size), info.block_size));
  rows.push(row('logical_sector_size', 'Logical sector', `${grouped(info.logical_sector_size)} bytes`, info.logical_sector_size));
  rows.push(row('physical_sector_size', 'Physical sector', `${grouped(info.physical_sector_size)} bytes`, info.physical_sector_size));
  rows.push(row('payload_blocks', 'Blocks', `${grouped(info.payload_blocks)} payload, ${grouped(info.sector_bitmap_blocks)} sector bitmap`, info.payload_blocks));
  rows.push(row('virtual_disk_id', 'Virtual disk ID', info.virtual_disk_id, info.virtual_disk_id));
  rows.push(row('creator', 'Creator', info.creator === '' ? '(empty)' : info.creator, info.creator));
  rows.push(row('file_size', 'File size', `${grouped(info.file_size)} bytes (${human(info.file_size)})`, info.file_size));
  rows.push(row('log', 'Log', info.log, info.log_replayed ? 'replayed' : info.log.startsWith('empty') ? 'empty' : 'present'));
  const skipped = logSkipped(info);
  if (skipped) rows.push(row('log_damaged', 'Log damage', `${skipped} damaged or stale ${skipped === 1 ? 'entry' : 'entries'} skipped`, skipped));
}

// vhdRows: the footer's facts (VHD spec, "Hard Disk Footer Format") and,
// for dynamic and differencing disks, the dynamic header's block size.
function vhdRows(rows, info) {
  rows.push(row('type', 'Type', TYPE_TEXT[info.type] || info.type, info.type));
  rows.push(row('virtual_size', 'Virtual size', `${grouped(info.virtual_size)} bytes (${human(info.virtual_size)})`, info.virtual_size));
  if (info.block_size) {
    rows.push(row('block_size', 'Block size', human(info.block_size), info.block_size));
    rows.push(row('payload_blocks', 'Blocks', grouped(info.payload_blocks), info.payload_blocks));
  }
  rows.push(row('logical_sector_size', 'Sector', '512 bytes', 512));
  const g = info.geometry || {};
  rows.push(row('geometry', 'Geometry', `C/H/S ${g.cylinders}/${g.heads}/${g.sectors_per_track} (${human(g.size || 0)})`, `${g.cylinders}/${g.heads}/${g.sectors_per_track}`));
  rows.push(row('unique_id', 'Unique ID', info.unique_id, info.unique_id));
  rows.push(row('creator', 'Creator', info.creator, info.creator));
  rows.push(row('created', 'Created', info.created, info.created));
  rows.push(row('file_size', 'File size', `${grouped(info.file_size)} bytes (${human(info.file_size)})`, info.file_size));
  rows.push(row('footer', 'Footer', info.footer, info.footer));
  if (info.saved_state) rows.push(row('saved_state', 'Saved state', 'set: the disk was saved with a running virtual machine', true));
  if (info.parent_name) rows.push(row('parent_name', 'Parent', `${info.parent_name} (unique ID ${info.parent_id})`, info.parent_id));
}

function rawRows(rows, info) {
  rows.push(row('virtual_size', 'Size', `${grouped(info.virtual_size)} bytes (${human(info.virtual_size)})`, info.virtual_size));
  rows.push(row('logical_sector_size', 'Sector', `${grouped(info.logical_sector_size)} bytes`, info.logical_sector_size));
  rows.push(row('signature', 'Signature', info.signature, info.signature));
  rows.push(row('container', 'Container', 'none: the file is the disk, byte for byte', 'none'));
}

// logSkipped counts the log entries the engine skipped (tagged so in its
// structure list).
function logSkipped(info) {
  const log = (info.structures || []).find((s) => s.id === 'log');
  return log ? (log.children || []).filter((c) => (c.tags || []).includes('skipped')).length : 0;
}

// chainList lists the chain's levels and, for a partial chain, the level
// the engine found missing: its file name, whose parent it is, and why.
function chainList(info, summary, onAddParent) {
  const levels = info.chain || [];
  const missing = summary && summary.parent_missing;
  if (!levels.length && !missing) return null;
  const ol = el('ol', { class: 'chain', start: '0' });
  for (const l of levels) {
    const sl = summary && summary.chain ? summary.chain.find((c) => c.level === l.level) : null;
    ol.append(el('li', { data: { level: l.level } },
      el('span', { class: 'chain-level', text: l.level === 0 ? 'this disk' : `parent ${l.level}` }),
      el('span', { class: 'chain-name', text: l.name }),
      el('span', { class: 'chain-meta', text: `${l.type}${sl ? `, ${human(sl.file_size)}` : ''}${l.log_replayed ? ', log replayed' : ''}` }),
    ));
  }
  if (missing) {
    const why = missing.unidentified ? `; ${errorText(missing)}` : '';
    ol.append(el('li', { class: 'missing', data: { level: missing.parent_level } },
      el('span', { class: 'chain-level', text: `parent ${missing.parent_level}` }),
      el('span', { class: 'chain-name', text: missing.parent_name || 'not attached' }),
      el('span', { class: 'chain-meta', text: `missing: the parent of ${missing.child}${why}` }),
      (missing.paths || []).length ? el('span', { class: 'chain-meta mono', text: missing.paths.map((p) => p.value).join(' · ') }) : null,
      !missing.unidentified && onAddParent ? el('button', { type: 'button', class: 'link', id: 'summary-add-parent', text: 'Add parent file…', on: { click: onAddParent } }) : null,
    ));
  }
  return ol;
}

function batStats(st, info) {
  // One row per legend category (a differencing disk's NOT_PRESENT and
  // UNDEFINED blocks are both "from parent"), the spec's names in the title.
  const byLabel = new Map();
  for (const [k, n] of Object.entries(st.states || {})) {
    const label = stateLabel(k, info);
    const row = byLabel.get(label) || { n: 0, names: [] };
    row.n += n;
    row.names.push(k);
    byLabel.set(label, row);
  }
  const names = [...byLabel].sort((a, b) => b[1].n - a[1].n);
  return el('div', { class: 'batstats' },
    el('h3', { text: 'Allocation' }),
    el('dl', { class: 'facts' },
      el('dt', { text: 'Allocated' }),
      el('dd', { data: { key: 'allocated_bytes', value: st.allocated_bytes } },
        `${human(st.allocated_bytes)} of ${human(info.virtual_size)} (${info.virtual_size ? ((st.allocated_bytes / info.virtual_size) * 100).toFixed(1) : 0}%)`),
      ...names.map(([label, { n, names: raw }]) => [el('dt', { text: label, title: raw.join(', ') }), el('dd', { data: { key: `state_${raw.join('+')}`, value: n } }, `${grouped(n)} ${n === 1 ? 'block' : 'blocks'}`)]),
      st.bad_entries ? [el('dt', { text: 'Bad entries' }), el('dd', { class: 'bad', text: grouped(st.bad_entries) })] : null,
    ),
  );
}

// STATE_NUMBERS maps the report's BAT state names to their numbers.
const STATE_NUMBERS = Object.fromEntries(Object.entries(STATE_NAMES).map(([n, name]) => [name, Number(n)]));

// stateLabel names a BAT state as the block map's legend does ("present",
// "zero", "from parent"…); the spec's name stays in the title.
function stateLabel(name, info) {
  const n = STATE_NUMBERS[name];
  if (n === undefined) return name.toLowerCase().replace(/_/g, ' ');
  return CATEGORIES[category(n, info.type === 'differencing')].label;
}

// offsetText gives "0x10000 (64 KiB)".
export function offsetText(off, len) {
  const o = `0x${hexPlain(off)}`;
  return len ? `${o} +${human(len)}` : o;
}
