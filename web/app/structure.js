// structure.js: the structure tree: every on-disk structure of the opened
// file (MS-VHDX 2.2-2.6; a VHD's footers, dynamic header, locators and BAT;
// a raw disk's one range of data) with its file offset and length, its state (valid,
// CRC ok or bad, active and why), and a jump to it in the file hex view.

import { el, replace, human, grouped, hexPlain } from './dom.js';

// renderStructure fills root from info.structures (core.Structure: the
// engine's list of every structure, its fields and their offsets) and
// report (core.Report, or null while verify runs). onShow({offset, length,
// label}) opens the file hex view there. Nothing here knows where a VHDX
// structure lies: the engine says.
export function renderStructure(root, { info, report, onShow }) {
  const checks = new Map();
  for (const c of (report && report.checks) || []) if (c.level === 0 && !checks.has(c.structure)) checks.set(c.structure, c);
  const ctx = { onShow, checks };
  const stats = report && report.bat && report.bat[0];
  const top = (info.structures || []).map((s) => structureNode(ctx, s, stats, 0));
  // Each node is a <details> disclosure (Tab, Enter and Space, as the
  // browser gives them), so no tree roles: a role="tree" promises arrow
  // keys that a list of disclosures does not have.
  replace(root, el('div', { class: 'tree', role: 'group', 'aria-label': 'Structures of the file' }, top));
}

// TAG_KIND styles the engine's tags (core.Structure.Tags).
const TAG_KIND = {
  current: 'active', 'in use': 'active', 'active sequence': 'active',
  'CRC ok': 'ok', 'CRC bad': 'bad', 'checksum ok': 'ok', 'checksum bad': 'bad', invalid: 'bad', skipped: 'bad', missing: 'warn',
  replayed: 'warn', required: 'muted', user: 'muted', 'earlier session': 'muted',
};

function structureNode(ctx, s, stats, depth) {
  const kv = (s.fields || []).map((f) => [f.name, f.value, null, f]);
  if (s.note) kv.unshift([s.status === 'ok' ? 'Note' : 'Problem', s.note, s.status === 'ok' ? null : 'error']);
  const badges = (s.tags || []).map((t) => badge(TAG_KIND[t] || 'muted', t));
  if (s.id === 'bat' && stats) {
    if (stats.bad_entries) badges.push(badge('bad', `${grouped(stats.bad_entries)} bad entries`));
    for (const [k, n] of Object.entries(stats.states || {}).sort((x, y) => y[1] - x[1])) kv.push([k, grouped(n)]);
    kv.push(['Allocated', human(stats.allocated_bytes)], ['Sector bitmaps present', grouped(stats.sector_bitmaps_present)]);
  }
  // The structure's own state, unless a tag says it; the note says why, so
  // the check of the same name adds nothing (a file that does not open).
  const own = s.status !== 'ok' && !(s.tags || []).includes('invalid');
  if (own) badges.push(badge(s.status === 'error' ? 'bad' : 'warn', s.status, s.note));
  return node(ctx, {
    ownStatus: own,
    name: s.name, id: s.id, offset: s.offset, length: s.length, check: s.name,
    // A node in error (only in the list of a file that does not open) is
    // open, so the damaged part below it is in view.
    open: (depth < 2 && (s.children || []).length > 0 && s.children.length <= 4) || s.status === 'error',
    data: { tags: (s.tags || []).join(','), status: s.status },
    badges, kv,
    children: (s.children || []).map((c) => structureNode(ctx, c, stats, depth + 1)),
  });
}

function badge(kind, text, title) {
  return el('span', { class: `badge ${kind}`, text, title });
}

// fieldJump selects exactly one field's bytes in the file hex view.
function fieldJump(ctx, owner, f) {
  return el('button', {
    type: 'button', class: 'jump field-jump', title: `Show ${f.name} in the file hex view`,
    'aria-label': `Show ${owner} ${f.name} in file hex`, text: 'hex',
    on: { click: (e) => { e.preventDefault(); e.stopPropagation(); ctx.onShow({ offset: f.offset, length: f.length, label: `${owner}: ${f.name}` }); } },
  });
}

// node builds one tree item. spec: {name, id, offset, length, check (the
// verify structure name), badges, kv: [[key, value, cls]], children, open}.
function node(ctx, spec) {
  const c = spec.check && !spec.ownStatus ? ctx.checks.get(spec.check) : null;
  const badges = (spec.badges || []).filter(Boolean);
  if (c && c.status !== 'ok') badges.push(badge(c.status === 'error' ? 'bad' : 'warn', c.status, c.message));
  const hasRange = spec.offset !== undefined;
  const head = [
    el('span', { class: 'node-label' }, el('span', { class: 'node-name', text: spec.name }), ...badges),
    hasRange ? el('span', { class: 'node-range', text: spec.length ? `0x${hexPlain(spec.offset)} · ${human(spec.length)}` : `0x${hexPlain(spec.offset)}` }) : null,
    hasRange ? el('button', {
      type: 'button', class: 'jump', title: `Show ${spec.name} in the file hex view`,
      'aria-label': `Show ${spec.name} in file hex`, text: 'hex',
      on: {
        click: (e) => {
          e.preventDefault();
          e.stopPropagation();
          ctx.onShow({ offset: spec.offset, length: spec.length, label: spec.name });
        },
      },
    }) : null,
  ];
  const kv = (spec.kv || []).filter(Boolean);
  const body = [];
  if (kv.length) {
    body.push(el('dl', { class: 'kv' }, kv.map(([k, v, cls, f]) => [
      el('dt', { text: k }),
      el('dd', { class: cls, data: f && f.length ? { offset: f.offset, length: f.length } : undefined },
        v, f && f.length ? fieldJump(ctx, spec.name, f) : null),
    ])));
  }
  if (c && c.status !== 'ok') body.push(el('p', { class: `node-check ${c.status}`, text: c.message }));
  const children = (spec.children || []).filter(Boolean);
  const data = { ...(spec.data || {}), offset: hasRange ? spec.offset : '' };
  if (spec.id) data.node = spec.id;
  if (!body.length && !children.length) {
    return el('div', { class: 'node leaf', data }, el('div', { class: 'node-head' }, head));
  }
  const d = el('details', { class: 'node', data, open: spec.open || (c && c.status !== 'ok') || undefined },
    el('summary', { class: 'node-head' }, head), ...body,
    children.length ? el('div', { class: 'node-children' }, children) : null);
  return d;
}
