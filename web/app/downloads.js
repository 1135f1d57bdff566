// downloads.js: the Download… button and "Download selection": the
// dialog (download.js) and the jobs it starts (the download list, jobs.js).

import { $, baseName, el, errorText, grouped, hexPlain } from './dom.js';
import { DownloadDialog, fileName, pickFile, rangeText, save, saveRange } from './download.js';
import { S } from './state.js';
import * as api from '../vhdxview.js';

export function setupDownload() {
  S.downloadDialog = new DownloadDialog($('#download-dialog'), () => ({
    name: S.res.summary.name,
    size: S.info.virtual_size,
    sectorSize: S.info.logical_sector_size,
    selection: S.hex && S.hex.src && S.hex.src.kind === 'disk' ? S.hex.selection() : null,
    start: (offset, length, name, handle) => rangeJob(S.res.image, name, offset, length, handle),
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
      rangeJob(image, name, sel.start, length, handle);
    } else {
      // Raw file bytes: a slice of the File itself.
      const f = S.files[src.level];
      save(f.slice(sel.start, sel.end), `${baseName(f.name)}-file-0x${hexPlain(sel.start)}-0x${hexPlain(sel.end - sel.start)}.bin`);
    }
  });
}

// rangeJob downloads [offset, offset+length) of the disk as a job of the
// download list. When a block in it cannot be read (its table entry is
// damaged: a BlockError), the failed job says which ranges cannot be read
// and offers the download again with those ranges zero-filled; that
// download lists the ranges it filled when it is done.
function rangeJob(image, name, offset, length, handle, zeroBad = false) {
  return S.downloads.job(name, length, (signal, progress) => saveRange(api, image, name, offset, length, handle, signal, progress, { zeroBad }), {
    onFail: (e) => (e && e.name === 'BlockError' && !zeroBad ? zeroFillOffer(image, name, offset, length) : null),
  });
}

// LISTED is how many unreadable ranges the offer lists.
const LISTED = 8;

// zeroFillOffer asks the engine which ranges of the download cannot be
// read and offers to download with them zero-filled.
async function zeroFillOffer(image, name, offset, length) {
  let res;
  try {
    res = await api.badRanges(image, { offset, length });
  } catch (e) {
    return el('p', { class: 'dl-bad', text: `The unreadable blocks could not be listed: ${errorText(e)}` });
  }
  if (!res.blocks) return null;
  const n = res.blocks;
  const more = res.ranges.length - LISTED;
  const go = el('button', {
    type: 'button', class: 'small primary dl-zero-bad', text: 'Download with zeros there',
    on: {
      click: async () => {
        let handle;
        try {
          handle = await pickFile(name); // first thing in the click
        } catch {
          return; // no file chosen
        }
        go.disabled = true;
        rangeJob(image, name, offset, length, handle, true);
      },
    },
  });
  return el('div', { class: 'dl-bad', data: { blocks: n } },
    el('p', { text: `${n === 1 ? '1 block cannot be read' : `${grouped(n)} blocks cannot be read`}: ${n === 1 ? 'its BAT entry is' : 'their BAT entries are'} damaged.` }),
    el('ul', {}, res.ranges.slice(0, LISTED).map((r) => el('li', { class: 'mono', data: { offset: r.offset, length: r.length }, text: `${rangeText(r)}: ${r.message}` }))),
    more > 0 || !res.listed_all ? el('p', { class: 'muted', text: more > 0 ? `…and ${grouped(more)} more ${more === 1 ? 'range' : 'ranges'}${res.listed_all ? '' : ' (not all listed)'}.` : '…and more ranges, not listed.' }) : null,
    el('p', { text: 'Download with those ranges zero-filled? The rest of the disk is written as it is, and the ranges filled are listed when it is done.' }),
    go);
}
