// zipexport.js: the Files tab's "Download as ZIP" of a folder or of the
// files and folders marked in the tree (Ctrl+click, Ctrl+Space).
//
// The folders are walked by the engine (vhdxview.listing, format
// "entries", page by page); the archive is made by client-zip
// (vhdxview.zip): stored, not compressed, ZIP64 where a size needs it,
// paths and modification times kept, empty folders as entries of their
// own. Each file is read only when the archive reaches it, from a Blob of
// slices of the image files, and the archive's bytes go straight into the
// file the person picks or a temporary file of the origin private file
// system that is then downloaded (download.js, saveStreamed), so the page
// holds a chunk or two whatever the archive's size. Deleted entries,
// symbolic links, special files and NTFS alternate data streams are left
// out (a ZIP has no place for them); the job says how many.

import { saveStreamed } from './download.js';

// collect gives the archive's items for the nodes chosen: a file as its
// name, a folder as its name and everything under it.
export async function collect(api, image, partition, nodes, { signal, onProgress } = {}) {
  const items = [];
  let skipped = 0;
  let bytes = 0;
  const take = (e, name) => {
    if (e.deleted || (e.type !== 'file' && e.type !== 'dir')) {
      skipped++;
      return;
    }
    items.push({ path: e.path, name, size: e.type === 'dir' ? 0 : e.size, mod_time: e.mod_time, type: e.type });
    bytes += e.type === 'dir' ? 0 : e.size;
  };
  for (const n of nodes) {
    const top = n.kind === 'root' ? `partition-${partition}` : n.name;
    if (n.kind === 'file') {
      take({ ...n.entry, path: n.path, type: 'file' }, top);
      continue;
    }
    if (n.kind !== 'dir' && n.kind !== 'root') {
      skipped++;
      continue;
    }
    take({ path: n.path, type: 'dir', mod_time: n.entry.mod_time }, top);
    const base = n.path === '/' ? '/' : `${n.path}/`;
    for await (const page of api.listing(image, partition, { path: n.path, format: 'entries', signal })) {
      for (const e of page.entries) take(e, `${top}/${e.path.slice(base.length)}`);
      if (onProgress) onProgress({ items: items.length, bytes });
    }
  }
  return { items, skipped, bytes };
}

// exportZip runs the export of nodes as a job of the download list
// (jobs.js). Call it first thing in a click handler: the save picker
// needs the click.
export function exportZip(ctx, image, partition, nodes, zipName) {
  const { api, downloads } = ctx;
  return downloads.job(zipName, 0, async (signal, progress) => saveStreamed(zipName, async (w) => {
    progress({ done: 0, total: 0, what: 'Listing the files…' });
    const { items, skipped, bytes } = await collect(api, image, partition, nodes, { signal });
    const what = `Zipping ${items.length} entries${skipped ? ` (${skipped} deleted, links or streams left out)` : ''}…`;
    progress({ done: 0, total: bytes, what });
    const res = await api.zip(image, partition, items, { signal, onProgress: (p) => progress({ ...p, what }) });
    await res.body.pipeTo(w, { signal });
    return Number(res.headers.get('Content-Length')) || bytes;
  }, { signal }));
}
