// downloads.js: the Download… button and "Download selection": the
// dialog (download.js) and the jobs it starts (the download list, jobs.js).

import { $, baseName, hexPlain } from './dom.js';
import { DownloadDialog, fileName, pickFile, save, saveRange } from './download.js';
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
  $('#selection-download').addEventListener('click', async () => {
    const src = S.hex.src;
    const sel = S.hex.selection();
    if (!sel) return;
    if (src.kind === 'disk') {
      // The button says what it does: the selected bytes download now
      // (into a picked file where the browser can), with no dialog.
      const image = S.res.image;
      const length = sel.end - sel.start;
      const name = fileName(S.res.summary.name, sel.start, length, S.info.virtual_size);
      let handle;
      try {
        handle = await pickFile(name); // first thing in the click
      } catch {
        return; // no file chosen
      }
      S.downloads.job(name, length, (signal, progress) => saveRange(api, image, name, sel.start, length, handle, signal, progress));
    } else {
      // Raw file bytes: a slice of the File itself.
      const f = S.files[src.level];
      save(f.slice(sel.start, sel.end), `${baseName(f.name)}-file-0x${hexPlain(sel.start)}-0x${hexPlain(sel.end - sel.start)}.bin`);
    }
  });
}
