// ntfs-record.js: what an NTFS file's MFT record holds, in the Files
// tab's details pane (file-details.js). The engine decodes the record
// (ntfs_info, vhdxview.ntfsInfo: volume.FS.NTFSFile, as `vhdx stat`
// prints it); this module lays it out: the record and where it is on the
// disk, the DOS attribute bits, $STANDARD_INFORMATION's times beside each
// $FILE_NAME's, every attribute, and the alternate data streams.

import { el, grouped, hexPlain, human, errorText } from './dom.js';
import { longTime } from './file-rows.js';

const TIMES = [['created', 'Created'], ['modified', 'Modified'], ['changed', 'Record changed'], ['accessed', 'Accessed']];

// ntfsRecordSection gives the section for info (an ntfs_info reply);
// showInHex(offset) shows the disk hex view at the record.
export function ntfsRecordSection(info, { showInHex }) {
  const hex8 = (n) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
  const rows = [
    ['MFT record', `${grouped(info.record)} (sequence ${info.sequence})`],
    ['Record at', info.offset >= 0 ? `disk offset 0x${hexPlain(info.offset)} (${grouped(info.record_size)} bytes)` : 'not mapped by $MFT\'s runs'],
    info.extension_records && info.extension_records.length ? ['Extension records', info.extension_records.map(grouped).join(', ')] : null,
    ['Hard links', String(info.hard_links)],
    ['DOS attributes', `${info.dos_flags.length ? info.dos_flags.join(', ') : 'none'} (${hex8(info.dos_attributes)})`],
    info.metadata ? ['NTFS metadata', 'one of the file system\'s own files'] : null,
    ...(info.problems || []).map((p) => ['Problem', p, 'error']),
  ].filter(Boolean);
  const names = info.names || [];
  const times = el('table', { class: 'ntfs-table', id: 'fs-ntfs-times', 'aria-label': 'Times (UTC)' },
    el('thead', {}, el('tr', {}, el('th', { scope: 'col', text: '' }), el('th', { scope: 'col', text: '$STANDARD_INFORMATION' }),
      names.map((n) => el('th', { scope: 'col', text: `$FILE_NAME “${n.name}” (${n.namespace})` })))),
    el('tbody', {}, TIMES.map(([k, label]) => el('tr', { data: { time: k } },
      el('th', { scope: 'row', text: label }),
      el('td', { text: longTime(info.times[k]) }),
      names.map((n) => el('td', { text: longTime(n.times[k]) }))))));
  const attrs = el('table', { class: 'ntfs-table', id: 'fs-ntfs-attrs', 'aria-label': 'Attributes' },
    el('thead', {}, el('tr', {}, ['Type', 'Name', 'Stored', 'Size', 'Allocated', 'Flags', 'Runs', 'First cluster', 'Records']
      .map((h) => el('th', { scope: 'col', text: h })))),
    el('tbody', {}, info.attributes.map((a) => {
      const flags = [a.compressed && 'compressed', a.sparse && 'sparse', a.encrypted && 'encrypted'].filter(Boolean);
      return el('tr', { data: { type: a.type_name, name: a.name || '', resident: String(a.resident), size: a.size } },
        el('th', { scope: 'row', text: a.type_name }),
        el('td', { text: a.name || '' }),
        el('td', { text: a.resident ? 'resident' : 'non-resident' }),
        el('td', { text: a.size < 1024 ? grouped(a.size) : `${grouped(a.size)} (${human(a.size)})` }),
        el('td', { text: a.resident ? '—' : grouped(a.allocated) }),
        el('td', { text: flags.join(', ') || '—' }),
        el('td', { text: a.resident ? '—' : grouped(a.runs || 0) }),
        el('td', { text: a.resident ? '—' : a.first_cluster >= 0 ? grouped(a.first_cluster) : 'none (sparse)' }),
        el('td', { text: a.records ? a.records.map(grouped).join(', ') : 'base', title: a.problem || null, class: a.problem ? 'error' : null }));
    })));
  const streams = info.streams && info.streams.length
    ? el('p', { id: 'fs-ntfs-streams', text: `Alternate data streams: ${info.streams.map((s) => `${s.name} (${grouped(s.size)} bytes)`).join(', ')}` })
    : el('p', { id: 'fs-ntfs-streams', class: 'muted', text: 'No alternate data streams.' });
  return el('section', { class: 'ntfs-record', id: 'fs-ntfs', 'aria-label': 'NTFS record', data: { record: info.record, offset: info.offset } },
    el('h4', { text: 'NTFS record' }),
    el('dl', { class: 'kv' }, rows.map(([k, v, cls]) => [el('dt', { text: k }), el('dd', { text: v, class: cls || null })])),
    info.offset >= 0 ? el('div', { class: 'ft-actions' }, el('button', {
      type: 'button', class: 'small', id: 'fs-ntfs-record-hex', text: 'Show record in hex',
      title: 'The disk hex view at this file\'s MFT record', on: { click: () => showInHex(info.offset) },
    })) : null,
    el('p', { class: 'ntfs-caption', text: 'Times (UTC): $STANDARD_INFORMATION\'s are what Windows shows; a $FILE_NAME\'s change only with a rename or move.' }),
    el('div', { class: 'table-wrap' }, times),
    el('p', { class: 'ntfs-caption', text: 'Attributes' }),
    el('div', { class: 'table-wrap' }, attrs),
    streams);
}

// ntfsRecordError is the section when the record cannot be read.
export function ntfsRecordError(e) {
  return el('section', { class: 'ntfs-record', id: 'fs-ntfs', 'aria-label': 'NTFS record', data: { error: 'true' } },
    el('h4', { text: 'NTFS record' }),
    el('p', { class: 'error', text: `The MFT record cannot be read: ${errorText(e)}` }));
}
