// downloads.js: the Download… button and "Download selection": the
// dialog (download.js) and the jobs it starts (the download list, jobs.js).

import { $, baseName, hexPlain } from './dom.js';
import { DownloadDialog, save, saveRange } from './download.js';
import { S } from './state.js';
import * as api from '../vhdxview.js';

export function setupDownload() {
  S.downloadDialog = new DownloadDialog($('#download-dialog'), () => ({
    name: S.res.summary.name,
    size: S.info.virtual_size,
    sectorSize: S.info.logical_sector_size,
    selection: S.hex && S.hex.src && S.hex.src.kind === 'disk' ? S.hex.selection() : null,
    start: (offset, length, name, handle) => {
      const image = S.res.image;
      S.downloads.job(name, length, (signal, progress) => saveRange(api, image, name, offset, length, handle, signal, progress));
    },
  }));
  $('#download-button').addEventListener('click', () => S.downloadDialog.open());
  $('#selection-download').addEventListener('click', () => {
    const src = S.hex.src;
    const sel = S.hex.selection();
    if (!sel) return;
    if (src.kind === 'disk') {
      S.downloadDialog.open({ what: 'selection' });
    } else {
      // Raw file bytes: a slice of the File itself.
      const f = S.files[src.level];
      save(f.slice(sel.start, sel.end), `${baseName(f.name)}-file-0x${hexPlain(sel.start)}-0x${hexPlain(sel.end - sel.start)}.bin`);
    }
  });
}
