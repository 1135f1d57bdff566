// file-details.js: the details pane of the Files tab: what the engine's
// listing says of the selected node, its actions (download, recover,
// open, ZIP), its preview, and on NTFS what its MFT record holds
// (ntfs-record.js, read once per node through the engine's ntfs_info).

import { el, replace, human, grouped, errorText } from './dom.js';
import { canDownload, expandable, longTime } from './file-rows.js';
import { ntfsRecordSection, ntfsRecordError } from './ntfs-record.js';

// ID_NAMES says what an entry's id is on each file system.
const ID_NAMES = { ntfs: 'MFT record', ext2: 'Inode', ext3: 'Inode', ext4: 'Inode', fat12: 'First cluster', fat16: 'First cluster', fat32: 'First cluster' };

// renderDetails fills panel.details for node (a FilesPanel's tree node).
export function renderDetails(panel, node) {
  if (node.kind === 'group') {
    groupDetails(panel, node);
    return;
  }
  const e = node.entry;
  const fsType = panel.fs && panel.fs.type;
  const idName = ID_NAMES[fsType] || 'ID';
  const kindText = { root: 'root directory', dir: 'directory', file: 'file', symlink: 'symbolic link', other: 'special file', stream: `alternate data stream of ${node.parent && node.parent.name}` }[node.kind];
  const rows = [
    ['Path', node.path, 'mono'],
    ['Type', `${kindText}${e.deleted ? ' (deleted)' : ''}`],
    !e.is_dir && node.kind !== 'root' ? ['Size', e.size < 1024 ? `${grouped(e.size)} bytes` : `${grouped(e.size)} bytes (${human(e.size)})`] : null,
    node.children && (node.kind === 'root' || node.kind === 'dir') ? ['Entries', grouped(node.count ?? node.children.length)] : null,
    e.target !== undefined ? ['Target', e.target, 'mono'] : null,
    e.reparse ? ['Stored as', e.reparse] : null,
    e.mod_time ? ['Modified', longTime(e.mod_time)] : null,
    e.create_time ? ['Created', longTime(e.create_time)] : null,
    e.access_time ? ['Accessed', longTime(e.access_time)] : null,
    e.id ? [idName, String(e.id)] : null,
    e.streams && e.streams.length ? ['Streams', e.streams.map((s) => `${s.name} (${human(s.size)})`).join(', ')] : null,
    node.error ? ['Problem', errorText(node.error), 'error'] : null,
    node.incomplete ? ['Listing', `incomplete, some entries could not be read: ${node.incomplete}`, 'error'] : null,
  ].filter(Boolean);
  const actions = [];
  if (canDownload(node)) {
    actions.push(el('button', { type: 'button', class: 'small primary', id: 'fs-download', text: `Download ${node.kind === 'stream' ? 'stream' : 'file'}`, on: { click: () => panel.downloadNode(node) } }));
  }
  if (e.deleted && e.recoverable && node.kind === 'file') {
    actions.push(el('button', { type: 'button', class: 'small', id: 'fs-recover', text: 'Download recovered bytes (may be overwritten)', on: { click: () => panel.downloadRecovered(node) } }));
  }
  if (expandable(node)) {
    actions.push(el('button', { type: 'button', class: 'small', id: 'fs-toggle', text: node.expanded ? 'Close' : 'Open', on: { click: () => { panel.toggle(node); panel.showDetails(node); } } }));
  }
  if ((node.kind === 'dir' || node.kind === 'root') && !e.deleted) {
    actions.push(el('button', { type: 'button', class: 'small', id: 'fs-zip', text: 'Download as ZIP', title: 'This folder and everything in it, as one ZIP', on: { click: () => panel.zipNodes([node]) } }));
  }
  if (panel.marked.size) {
    actions.push(el('button', { type: 'button', class: 'small', id: 'fs-zip-marked', text: `Download ${panel.marked.size} marked as ZIP`, on: { click: () => panel.zipNodes([...panel.marked]) } }));
  }
  // The preview (text, image) and Show in hex of a file, kept while the
  // same file stays selected.
  let pv = null;
  if (canDownload(node)) {
    if (panel.previewNode !== node) {
      panel.previewNode = node;
      panel.previewBox = el('div', { class: 'ft-preview', id: 'fs-preview-box' });
      panel.preview.show(panel.previewBox, panel.cur.image, panel.part.index, node.path, node.entry);
    }
    pv = panel.previewBox;
  } else if (panel.previewNode) {
    panel.previewNode = null;
    panel.preview.clear();
  }
  replace(panel.details,
    el('p', { class: 'ft-details-name' }, el('b', { text: node.kind === 'stream' ? `${node.parent.name}:${node.name}` : node.name })),
    e.deleted ? el('p', { class: 'ft-deleted-note', text: e.recoverable
      ? `Deleted: the file system still says where its bytes were, but they are free and may have been reused. ${e.recover_note || ''}`
      : `Deleted: its bytes cannot be recovered: ${e.recover_note || 'the file system no longer says where they were'}.` }) : null,
    el('dl', { class: 'kv' }, rows.map(([k, v, cls]) => [el('dt', { text: k }), el('dd', { text: v, class: cls || null })])),
    actions.length ? el('div', { class: 'ft-actions' }, actions) : null,
    pv,
    ntfsRecord(panel, node));
}

// ntfsRecord gives the NTFS record section of node: read once through
// the engine and kept on the node, shown when it arrives if node is still
// the one selected. Deleted entries have no record to look up.
function ntfsRecord(panel, node) {
  if (!panel.fs || panel.fs.type !== 'ntfs' || node.entry.deleted) return null;
  const box = el('section', { class: 'ntfs-record', id: 'fs-ntfs', 'aria-label': 'NTFS record', 'aria-busy': 'true' },
    el('p', { class: 'muted', text: 'Reading the MFT record…' }));
  if (!node.ntfs) {
    const { image } = panel.cur;
    node.ntfs = panel.api.ntfsInfo(image, panel.part.index, node.path).then((info) => ({ info }), (error) => ({ error }));
  }
  node.ntfs.then(({ info, error }) => {
    if (!box.isConnected || panel.active !== node) return;
    box.replaceWith(info ? ntfsRecordSection(info, { showInHex: (o) => panel.ctx.showInHex(o) }) : ntfsRecordError(error));
  });
  return box;
}

// groupDetails: the "NTFS metadata" node, what it holds and why.
function groupDetails(panel, node) {
  replace(panel.details,
    el('p', { class: 'ft-details-name' }, el('b', { text: node.name })),
    el('p', { text: `${grouped(node.children.length)} files NTFS keeps for itself: the MFT, its mirror, the log, the cluster bitmap, the boot sector, the upcase table, security descriptors, and $Extend with the change journal, quotas and object IDs. The engine marks them (MFT records 0 to 15, and everything under $Extend); they open, preview and download like any file.` }),
    el('div', { class: 'ft-actions' }, el('button', { type: 'button', class: 'small', id: 'fs-toggle', text: node.expanded ? 'Close' : 'Open', on: { click: () => { panel.toggle(node); panel.showDetails(node); } } })));
  if (panel.previewNode) {
    panel.previewNode = null;
    panel.preview.clear();
  }
}
