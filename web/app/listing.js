// listing.js: the Files tab's "Export listing": the partition's recursive
// file listing as CSV (path, type, size, times in UTC ISO 8601, deleted,
// inode or MFT record, digests asked for, problem) or as The Sleuth Kit's
// body file (for mactime), with MD5 and SHA-256 of every file if asked.
// The engine walks the volume in pages (vhdxview.listing); each page's
// text is written as it comes into the file the person picks, or a
// temporary file then downloaded (download.js, saveStreamed), so a volume
// of millions of files costs one page of memory. Progress counts rows
// (and bytes hashed); Cancel stops the walk.

import { el } from './dom.js';
import { saveStreamed } from './download.js';

// listingTools gives the form: format, digests, Export. ctx: {api,
// downloads, target() -> {image, partition, path, name}}.
export function listingTools(ctx) {
  const format = el('select', { id: 'fs-listing-format', 'aria-label': 'Listing format' },
    el('option', { value: 'csv', text: 'CSV' }),
    el('option', { value: 'bodyfile', text: 'Body file (mactime)' }));
  const md5 = el('input', { type: 'checkbox', id: 'fs-listing-md5' });
  const sha = el('input', { type: 'checkbox', id: 'fs-listing-sha256' });
  const go = el('button', {
    type: 'button', class: 'small', id: 'fs-listing-export', text: 'Export listing',
    title: 'Every file and folder under this partition\'s root, one row each',
    on: { click: () => exportListing(ctx, format.value, [md5.checked && 'md5', sha.checked && 'sha256'].filter(Boolean)) },
  });
  return el('div', { class: 'fs-listing', role: 'group', 'aria-label': 'File listing' },
    format, el('label', {}, md5, 'MD5'), el('label', {}, sha, 'SHA-256'), go);
}

// exportListing saves the listing as a job of the download list.
export function exportListing(ctx, format, hash) {
  const t = ctx.target();
  const name = `${t.name}-p${t.partition}-listing.${format === 'csv' ? 'csv' : 'body'}`;
  return ctx.downloads.job(name, 0, (signal, progress) => saveStreamed(name, async (w) => {
    const writer = w.getWriter();
    const enc = new TextEncoder();
    let bytes = 0;
    try {
      const pages = ctx.api.listing(t.image, t.partition, {
        path: t.path, format, hash, signal,
        onProgress: (p) => progress({ done: bytes, total: 0, what: `${p.rows.toLocaleString('en-US')} rows${p.hashed ? `, ${Math.round(p.hashed / 2 ** 20)} MiB hashed` : ''}…` }),
      });
      for await (const page of pages) {
        const b = enc.encode(page.text);
        await writer.write(b);
        bytes += b.length;
      }
      await writer.close();
    } catch (e) {
      writer.abort(e).catch(() => {});
      throw e;
    }
    return bytes;
  }, { signal }));
}
