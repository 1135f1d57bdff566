// preview.js: the Files tab's preview of a file and its place on the
// disk, shown in the details pane.
//
// Text: the engine reads the file's first MiB and says which encoding it
// is in (UTF-8, UTF-16LE/BE by byte order mark or by the zeros of mostly
// Latin text, else windows-1252) and decodes it (vhdxview.filePreview);
// the page shows it as text (textContent), saying the encoding and when
// only the beginning is shown. Images (PNG, JPEG, GIF, BMP, WebP, told by
// their signatures) up to IMAGE_LIMIT bytes are drawn by the browser from
// the file's Blob (slices of the image files: the bytes stay where they
// are until the <img> reads them), after createImageBitmap has decoded
// them, so a damaged image says so instead of showing a broken icon.
//
// Show in hex: the file's first byte on the disk, from its extents
// (vhdxview.fileExtents), with every piece of the file marked in the hex
// view. A file the file system keeps inside its own records (NTFS
// resident, compressed or encrypted) has no place of its own to show: the
// pane says so.

import { el, replace, human, grouped, hexPlain, errorText } from './dom.js';

// IMAGE_LIMIT: larger images are not previewed (the browser decodes them
// whole, in memory); TEXT_LIMIT: how much text is read.
export const IMAGE_LIMIT = 32 << 20;
export const TEXT_LIMIT = 1 << 20;

// MARK_LIMIT: the most pieces of a file marked in the hex view.
const MARK_LIMIT = 4096;

// Preview fills box with the preview of one file; a newer show() or
// clear() drops what an older one was still loading.
export class Preview {
  // ctx: {api, showInHex(offset, {marks})}.
  constructor(ctx) {
    this.ctx = ctx;
    this.gen = 0;
    this.url = null;
  }

  clear() {
    this.gen++;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }

  // show previews file path of partition (entry: its ls entry) into box,
  // with a Show in hex button.
  async show(box, image, partition, path, entry) {
    this.clear();
    const gen = this.gen;
    const status = el('p', { class: 'muted fp-status', role: 'status', text: 'Reading the file\'s beginning…' });
    const where = el('div', { class: 'fp-where' },
      el('button', { type: 'button', class: 'small', id: 'fs-hex', text: 'Show in hex', title: 'The file\'s first byte on the disk, its pieces marked', on: { click: () => this.showInHex(where, image, partition, path) } }));
    const body = el('div', { class: 'fp-body', id: 'fs-preview' });
    replace(box, el('h4', { class: 'fp-title', text: 'Preview' }), where, status, body);
    let p;
    try {
      p = await this.ctx.api.filePreview(image, partition, path, { limit: TEXT_LIMIT });
    } catch (e) {
      if (gen !== this.gen) return;
      status.textContent = `No preview: ${errorText(e)}`;
      body.dataset.kind = 'error';
      return;
    }
    if (gen !== this.gen) return;
    body.dataset.kind = p.kind;
    if (p.kind === 'text') {
      body.dataset.encoding = p.encoding;
      const how = p.bom ? 'byte order mark' : p.encoding === 'windows-1252' ? 'not UTF-8 or UTF-16: read as Western European' : 'guessed from the bytes';
      status.textContent = `Text, ${p.encoding} (${how})${p.read < p.size ? `; the first ${human(p.read)} of ${human(p.size)}` : ''}`;
      body.append(el('pre', { class: 'fp-text', tabindex: '0', 'aria-label': `Text of ${entry.name}`, text: p.text }));
    } else if (p.kind === 'image') {
      body.dataset.mime = p.mime;
      if (p.size > IMAGE_LIMIT) {
        status.textContent = `An image (${p.mime}), ${human(p.size)}: larger than the ${human(IMAGE_LIMIT)} previewed; download it to see it.`;
        return;
      }
      status.textContent = `Image, ${p.mime}, ${human(p.size)}: decoding…`;
      try {
        const blob = await this.ctx.api.fileBlob(image, partition, path, { type: p.mime });
        if (gen !== this.gen) return;
        if (!blob) throw new Error('the file cannot be read as a Blob');
        const bmp = await createImageBitmap(blob);
        const { width, height } = bmp;
        bmp.close();
        if (gen !== this.gen) return;
        this.url = URL.createObjectURL(blob);
        status.textContent = `Image, ${p.mime}, ${grouped(width)} × ${grouped(height)} pixels, ${human(p.size)}`;
        body.dataset.width = width;
        body.dataset.height = height;
        body.append(el('img', { class: 'fp-image', src: this.url, alt: `Preview of ${entry.name}`, width: String(width), height: String(height) }));
      } catch (e) {
        if (gen !== this.gen) return;
        body.dataset.kind = 'bad-image';
        status.textContent = `It starts like a ${p.mime} image, but the browser cannot decode it: ${errorText(e)}`;
      }
    } else if (p.kind === 'empty') {
      status.textContent = 'Empty file.';
    } else {
      status.textContent = 'Not text or an image the browser draws: Show in hex shows its bytes.';
    }
  }

  // showInHex puts the hex view at the file's first byte on the disk,
  // marking the file's pieces.
  async showInHex(where, image, partition, path) {
    const note = where.querySelector('.fp-hex-note') || where.appendChild(el('span', { class: 'fp-hex-note muted', role: 'status' }));
    note.textContent = ' Finding the file on the disk…';
    try {
      const x = await this.ctx.api.fileExtents(image, partition, path, { limit: MARK_LIMIT });
      const data = x.extents.filter((p) => p.disk_offset >= 0);
      if (x.resident) {
        // An NTFS stream kept inside its MFT record: its value's place there.
        const r = x.resident;
        where.dataset.mapped = 'resident';
        note.textContent = ` Resident: its ${grouped(r.length)} bytes are inside MFT record ${grouped(r.record)}, at disk offset 0x${hexPlain(r.offset)}, marked (on disk the last two bytes of each 512-byte sector of the record hold its update sequence number instead).`;
        this.ctx.showInHex(r.offset, { marks: [{ start: r.offset, end: r.offset + r.length }] });
        return;
      }
      if (!x.mapped || !data.length) {
        note.textContent = x.mapped ? ' The file is all holes: none of its bytes are on the disk.'
          : ' Not mapped: the file system keeps this file inside its own records (or compressed), so it has no place of its own on the disk.';
        where.dataset.mapped = 'false';
        return;
      }
      where.dataset.mapped = 'true';
      const marks = data.map((p) => ({ start: p.disk_offset, end: p.disk_offset + p.length }));
      note.textContent = ` At disk offset 0x${hexPlain(marks[0].start)}; ${grouped(marks.length)}${x.next !== null ? '+' : ''} piece${marks.length === 1 ? '' : 's'} marked.`;
      this.ctx.showInHex(marks[0].start, { marks });
    } catch (e) {
      note.textContent = ` Cannot be located: ${errorText(e)}`;
    }
  }
}
