// structure.js: the structure tree: every on-disk structure of the opened
// file (MS-VHDX 2.2-2.6) with its file offset and length, its state (valid,
// CRC ok or bad, active and why), and a jump to it in the file hex view.

import { el, replace, human, grouped, hexPlain } from './dom.js';

// renderStructure fills root from info (core.Info) and report (core.Report,
// or null while verify runs). onShow({offset, length, label}) opens the
// file hex view there.
export function renderStructure(root, { info, report, onShow }) {
  const checks = new Map();
  for (const c of (report && report.checks) || []) if (c.level === 0) checks.set(c.structure, c);
  const ctx = { onShow, checks };

  const top = [];
  top.push(node(ctx, {
    name: 'File type identifier', id: 'ident', offset: 0, length: 64 * 1024, check: 'file type identifier',
    kv: [['Signature', 'vhdxfile'], ['Creator', info.creator === '' ? '(empty)' : info.creator, 'creator']],
  }));

  top.push(node(ctx, {
    name: 'Headers', id: 'headers', offset: 0x10000, length: 0x20000, open: true,
    kv: [['Active', `header ${info.active_header}`], ['Why', info.active_reason]],
    children: info.headers.map((h) => node(ctx, {
      name: `Header ${h.index}`, id: `header-${h.index}`, offset: h.offset, length: 4096, check: `header ${h.index}`,
      badges: [
        h.active ? badge('active', 'active', `used: ${info.active_reason}`) : null,
        h.valid ? null : badge('bad', 'invalid', h.error),
        h.checksum_ok ? badge('ok', 'CRC ok', `${h.checksum}`) : badge('bad', 'CRC bad', `stored ${h.checksum}, computed ${h.computed_checksum}`),
        h.signature_ok ? null : badge('bad', 'signature bad'),
      ],
      data: { active: h.active, valid: h.valid, crc: h.checksum_ok ? 'ok' : 'bad' },
      kv: [
        ['Sequence number', String(h.sequence_number)],
        ['Checksum', h.checksum_ok ? `${h.checksum} (matches)` : `${h.checksum} stored, ${h.computed_checksum} computed`],
        ['FileWriteGuid', h.file_write_guid],
        ['DataWriteGuid', h.data_write_guid],
        ['LogGuid', h.log_guid],
        ['Log', `offset 0x${hexPlain(h.log_offset)}, ${human(h.log_length)}, version ${h.log_version}`],
        ['Version', String(h.version)],
        h.active ? ['Active because', info.active_reason] : null,
        h.error ? ['Problem', h.error, 'error'] : null,
      ],
    })),
  }));

  top.push(node(ctx, {
    name: 'Region tables', id: 'regions', offset: 0x30000, length: 0x20000, open: true,
    kv: info.region_note ? [['Note', info.region_note, 'error']] : [],
    children: info.region_tables.map((t) => node(ctx, {
      name: `Region table ${t.index}`, id: `region-table-${t.index}`, offset: t.offset, length: 64 * 1024, check: `region table ${t.index}`,
      badges: [
        t.in_use ? badge('active', 'in use') : null,
        t.valid ? null : badge('bad', 'invalid', t.error),
        t.checksum_ok ? badge('ok', 'CRC ok', `${t.checksum}`) : badge('bad', 'CRC bad', `stored ${t.checksum}, computed ${t.computed_checksum}`),
      ],
      data: { inUse: t.in_use, valid: t.valid, crc: t.checksum_ok ? 'ok' : 'bad' },
      kv: [
        ['Entries', String(t.entry_count)],
        ['Checksum', t.checksum_ok ? `${t.checksum} (matches)` : `${t.checksum} stored, ${t.computed_checksum} computed`],
        t.error ? ['Problem', t.error, 'error'] : null,
      ],
      children: (t.entries || []).map((e) => node(ctx, {
        name: `${e.name} region`, offset: e.file_offset, length: e.length, check: t.in_use ? `${e.name} region` : null,
        badges: [e.required ? badge('muted', 'required') : null],
        kv: [['GUID', e.guid]],
      })),
    })),
  }));

  const m = info.metadata;
  top.push(node(ctx, {
    name: 'Metadata', id: 'metadata', offset: m.offset, length: m.length, check: 'metadata table',
    kv: [
      ['Entries', String(m.entry_count)],
      ['LeaveBlocksAllocated', String(m.leave_blocks_allocated)],
      ['HasParent', String(m.has_parent)],
    ],
    children: (m.entries || []).map((e) => node(ctx, {
      name: e.name, offset: e.file_offset, length: e.length, check: `${e.name} item`,
      badges: [e.is_required ? badge('muted', 'required') : null, e.is_user ? badge('muted', 'user') : null],
      kv: [['Item ID', e.item_id], ['Value', metadataValue(e, info)]],
    })),
  }));

  const log = info.log;
  if (log) {
    const active = log.active || [];
    top.push(node(ctx, {
      name: 'Log', id: 'log', offset: log.offset, length: log.length, check: 'log',
      badges: [log.replayed ? badge('warn', 'replayed') : log.present ? badge('muted', 'nothing to replay') : badge('ok', 'empty')],
      kv: [
        ['LogGuid', log.guid],
        ['Valid entries', String(log.valid_entries)],
        ['Replay', log.replayed ? `${grouped(log.data_sectors)} data sectors, ${grouped(log.zero_ranges)} zero ranges (${human(log.zero_bytes)})` : 'none'],
        log.replayed ? ['File size', `${grouped(log.file_size)} bytes on disk, ${grouped(log.replayed_size)} after replay`] : null,
        active.length ? ['Active sequence', `${active[0].sequence} to ${active[active.length - 1].sequence} (${active.length} ${active.length === 1 ? 'entry' : 'entries'})`] : null,
      ],
      children: [
        ...active.map((a) => node(ctx, {
          name: `Entry ${a.sequence}`, offset: a.file_offset, length: a.length,
          badges: [badge('active', 'active sequence')],
          kv: [
            ['Log offset', `0x${hexPlain(a.log_offset)}`],
            ['Tail', `0x${hexPlain(a.tail)}`],
            ['Descriptors', `${a.data_descriptors} data, ${a.zero_descriptors} zero`],
            ['FlushedFileOffset', `0x${hexPlain(a.flushed_file_offset)}`],
            ['LastFileOffset', `0x${hexPlain(a.last_file_offset)}`],
          ],
        })),
        ...(log.damaged || []).map((d) => node(ctx, {
          name: 'Damaged entry', offset: d.file_offset, length: 4096,
          badges: [badge('bad', 'skipped')],
          kv: [['Log offset', `0x${hexPlain(d.log_offset)}`], ['Problem', d.message, 'error']],
        })),
      ],
    }));
  }

  const b = info.bat;
  const stats = report && report.bat && report.bat[0];
  top.push(node(ctx, {
    name: 'BAT', id: 'bat', offset: b.offset, length: b.length, check: 'BAT region',
    badges: [stats && stats.bad_entries ? badge('bad', `${grouped(stats.bad_entries)} bad entries`) : null],
    kv: [
      ['Entries', grouped(b.entries)],
      ['Payload blocks', grouped(b.payload_blocks)],
      ['Sector bitmap blocks', grouped(b.sector_bitmap_blocks)],
      ['Chunk ratio', grouped(b.chunk_ratio)],
      ...(stats ? Object.entries(stats.states || {}).sort((x, y) => y[1] - x[1]).map(([k, n]) => [k, grouped(n)]) : [['States', 'counting…']]),
      stats ? ['Allocated', human(stats.allocated_bytes)] : null,
      stats ? ['Sector bitmaps present', grouped(stats.sector_bitmaps_present)] : null,
    ],
  }));

  if (info.parent_locator) {
    const pl = info.parent_locator;
    top.push(node(ctx, {
      name: 'Parent locator', id: 'parent-locator', offset: pl.offset, length: 0, check: 'parent locator item',
      open: true,
      kv: [['Locator type', pl.type], ...(pl.entries || []).map((e) => [e.key, e.value, 'loc-value'])],
    }));
  }

  if (info.chain && info.chain.length) {
    top.push(node(ctx, {
      name: 'Chain', id: 'chain', open: true,
      children: info.chain.map((l) => node(ctx, {
        name: l.level === 0 ? `Level 0: ${l.name}` : `Level ${l.level} (parent): ${l.name}`,
        badges: [l.linkage_ok ? badge('ok', 'linkage ok') : badge('bad', 'linkage mismatch')],
        kv: [['Type', l.type], ['VirtualDiskId', l.virtual_disk_id], ['DataWriteGuid', l.data_write_guid], ['Log', l.log_replayed ? 'replayed' : 'clean']],
      })),
    }));
  }

  replace(root, el('div', { class: 'tree', role: 'tree' }, top));
}

function metadataValue(e, info) {
  switch (e.name) {
    case 'virtual disk size': return `${grouped(info.virtual_size)} bytes`;
    case 'block size': return human(info.block_size);
    case 'logical sector size': return `${info.logical_sector_size} bytes`;
    case 'physical sector size': return `${info.physical_sector_size} bytes`;
    case 'virtual disk ID': return info.virtual_disk_id;
    case 'file parameters': return `block size ${human(info.block_size)}, LeaveBlocksAllocated ${info.metadata.leave_blocks_allocated}, HasParent ${info.metadata.has_parent}`;
    case 'parent locator': return `${(info.parent_locator && info.parent_locator.entries.length) || 0} entries`;
    default: return `${e.length} bytes`;
  }
}

function badge(kind, text, title) {
  return el('span', { class: `badge ${kind}`, text, title });
}

// node builds one tree item. spec: {name, id, offset, length, check (the
// verify structure name), badges, kv: [[key, value, cls]], children, open}.
function node(ctx, spec) {
  const c = spec.check ? ctx.checks.get(spec.check) : null;
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
    body.push(el('dl', { class: 'kv' }, kv.map(([k, v, cls]) => [el('dt', { text: k }), el('dd', { class: cls, text: v })])));
  }
  if (c && c.status !== 'ok') body.push(el('p', { class: `node-check ${c.status}`, text: c.message }));
  const children = (spec.children || []).filter(Boolean);
  const data = { ...(spec.data || {}), offset: hasRange ? spec.offset : '' };
  if (spec.id) data.node = spec.id;
  if (!body.length && !children.length) {
    return el('div', { class: 'node leaf', role: 'treeitem', data }, el('div', { class: 'node-head' }, head));
  }
  const d = el('details', { class: 'node', role: 'treeitem', data, open: spec.open || (c && c.status !== 'ok') || undefined },
    el('summary', { class: 'node-head' }, head), ...body,
    children.length ? el('div', { class: 'node-children', role: 'group' }, children) : null);
  return d;
}
