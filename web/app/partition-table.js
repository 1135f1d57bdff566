// partition-table.js: the Files tab's partition table: the scheme and its
// facts (GPT headers, protective MBR), any damage found, and one row per
// partition with its type, GUIDs, LBA range, size and file system (named
// by the engine), and Browse, Download partition and Show in hex.

import { el, human, grouped, hexPlain } from './dom.js';

// fsName gives a file system's name for people, as the engine names it
// (file_system_name of a partition, fs.name of a listing); the page keeps
// no list of its own. kind is the fallback.
export function fsName(kind, name) {
  return name || kind || '';
}

export function partitionProblems(tab) {
  const problems = tab.problems || [];
  if (!problems.length) return null;
  const damaged = (tab.gpt_headers || []).some((h) => !h.valid);
  return el('div', { class: 'notice error parts-problems', id: 'parts-problems', role: 'alert' }, el('div', { class: 'body' },
    el('p', { class: 'title', text: damaged ? 'The partition table is damaged' : 'The partition table has problems' }),
    el('ul', {}, problems.map((p) => el('li', { text: p }))),
    el('p', { class: 'next', text: 'The partitions below are what could still be read; check them against what you expect.' })));
}

export function partitionFacts(tab) {
  const scheme = { gpt: 'GPT', mbr: 'MBR', none: 'None (one volume on the whole disk)' }[tab.scheme] || tab.scheme;
  const rows = [
    ['Scheme', scheme, 'scheme'],
    ['Sector size', `${grouped(tab.sector_size)} bytes`, 'sector_size'],
    ['Disk size', `${grouped(tab.disk_size)} bytes (${human(tab.disk_size)})`, 'disk_size'],
    tab.disk_guid ? [tab.scheme === 'mbr' ? 'Disk signature' : 'Disk GUID', tab.disk_guid, 'disk_guid'] : null,
    tab.scheme === 'gpt' ? ['Protective MBR', tab.protective_mbr ? 'present' : 'missing or wrong', 'protective_mbr'] : null,
  ].filter(Boolean);
  const headers = (tab.gpt_headers || []).map((h) => el('li', { class: 'gpt-header', data: { which: h.which, valid: h.valid, used: h.used } },
    el('span', { text: `${h.which === 'primary' ? 'Primary' : 'Backup'} at LBA ${grouped(h.lba)} ` }),
    h.valid ? el('span', { class: 'badge ok', text: 'valid' }) : el('span', { class: 'badge bad', text: 'damaged' }),
    h.used ? el('span', { class: 'badge active', text: 'used' }) : null,
    h.error ? el('span', { class: 'gpt-error', text: ` ${h.error}` }) : null));
  return el('dl', { class: 'facts parts-facts' },
    rows.map(([k, v, key]) => [el('dt', { text: k }), el('dd', { text: v, data: { key }, class: key === 'disk_guid' ? 'mono' : null })]),
    headers.length ? [el('dt', { text: 'GPT headers' }), el('dd', { data: { key: 'gpt_headers' } }, el('ul', { class: 'gpt-headers' }, headers))] : null);
}

// partitionTable is the table of tab's partitions; actions as for
// partitionRows.
export function partitionTable(tab, actions) {
  const parts = tab.partitions || [];
  if (!parts.length) return el('p', { class: 'muted', id: 'parts-empty', text: 'The table holds no partitions.' });
  return el('div', { class: 'table-wrap' }, el('table', { class: 'parts-table', id: 'parts-table' },
    el('caption', { class: 'visually-hidden', text: 'Partitions' }),
    el('thead', {}, el('tr', {}, ['#', 'Type', 'Name', 'First–last LBA', 'Size', 'File system'].map((h) => el('th', { scope: 'col', text: h })))),
    parts.map((p) => partitionRows(p, actions))));
}

// partitionRows gives a partition's tbody: a row of facts, then a row
// with its GUIDs and actions. act: {browse(p), download(p), showInHex(offset)}.
export function partitionRows(p, act) {
  const usable = p.size > 0;
  const kind = p.extended ? 'extended' : p.logical ? 'logical' : '';
  const fs = p.extended ? '—' : fsName(p.file_system, p.file_system_name) || (usable ? 'no file system found' : '—');
  const ids = [];
  if (p.type_guid) ids.push(['type', p.type_guid]);
  else if (p.mbr_type !== undefined) ids.push(['MBR type', `0x${hexPlain(p.mbr_type, 2)}`]);
  if (p.guid) ids.push(['unique', p.guid]);
  if (p.attributes) ids.push(['attributes', `0x${hexPlain(p.attributes, 16)}`]);
  const actions = [];
  if (usable && !p.extended) {
    actions.push(el('button', {
      type: 'button', class: p.supported ? 'small primary' : 'small', id: `part-browse-${p.index}`, data: { action: 'browse' },
      text: p.supported ? 'Browse' : 'Details',
      title: p.supported ? 'List the files of this partition' : 'Why the files of this partition cannot be listed',
      'aria-label': `${p.supported ? 'Browse' : 'Details of'} partition ${p.index}`,
      on: { click: () => act.browse(p) },
    }));
  }
  if (usable) {
    actions.push(
      el('button', { type: 'button', class: 'small', id: `part-download-${p.index}`, data: { action: 'download' }, text: 'Download partition', title: `The raw bytes of the partition, ${human(p.size)}`, 'aria-label': `Download partition ${p.index}`, on: { click: () => act.download(p) } }),
      el('button', { type: 'button', class: 'small', id: `part-hex-${p.index}`, data: { action: 'hex' }, text: 'Show in hex', title: `The partition's first byte, disk offset 0x${hexPlain(p.offset)}`, 'aria-label': `Show partition ${p.index} in hex`, on: { click: () => act.showInHex(p.offset) } }));
  }
  return el('tbody', {
    class: `part${p.problem ? ' problem' : ''}`,
    data: {
      index: p.index, typeName: p.type_name, firstLba: p.first_lba, lastLba: p.last_lba, offset: p.offset, size: p.size,
      fs: p.file_system || '', supported: !!p.supported, guid: p.guid || '', name: p.name || '',
    },
  },
  el('tr', { class: 'part-main' },
    el('th', { scope: 'row', class: 'num', text: String(p.index) }),
    el('td', { data: { label: 'Type' } }, el('span', { class: 'part-type', text: p.type_name || '—' }),
      kind ? el('span', { class: 'badge muted', text: kind }) : null,
      p.bootable ? el('span', { class: 'badge active', text: 'boot' }) : null),
    el('td', { class: 'part-name', text: p.name || '—', data: { label: 'Name' } }),
    el('td', { class: 'mono nowrap', data: { label: 'LBA' } }, `${grouped(p.first_lba)}–${grouped(p.last_lba)}`, el('div', { class: 'sub', text: `at 0x${hexPlain(p.offset)}` })),
    el('td', { class: 'nowrap', title: `${grouped(p.size)} bytes`, data: { label: 'Size' } }, human(p.size)),
    el('td', { class: 'part-fs', data: { label: 'File system' } }, el('span', { text: fs }),
      // A file system vhdxview cannot read; a blank or unknown one is not
      // "not readable", there is nothing recognised to read.
      usable && !p.extended && !p.supported && p.file_system ? el('span', { class: 'badge warn', text: 'not readable' }) : null,
      p.problem ? el('div', { class: 'part-problem', text: p.problem }) : null)),
  el('tr', { class: 'part-more' },
    el('td'),
    el('td', { colspan: '5' }, el('div', { class: 'part-more-body' },
      el('div', { class: 'part-ids' }, ids.map(([k, v]) => el('div', {}, el('span', { class: 'muted', text: `${k} ` }), el('span', { class: 'mono', text: v })))),
      el('div', { class: 'part-actions' }, actions)))));
}
