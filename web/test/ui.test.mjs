// ui.test.mjs: the viewer page's tests, run by ui.mjs in headless
// Chromium. Each test gets t = {page, context, origin, fx, cli, sh, root}:
// fx makes test images (internal/cmd/mkvhdx) and serves them under
// /__fixtures/, cli runs bin/vhdx, sh runs any command. Expected values
// always come from bin/vhdx or qemu-img, never from the page's engine.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync, copyFileSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as FSI from './fsimage.mjs';
import { browserMemory, launch, serveCSP } from './lib.mjs';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// ---- helpers ----------------------------------------------------------------

async function home(page) {
  if (!page.url().startsWith('http')) await page.goto('/');
  await page.evaluate(() => document.querySelector('#close-button:not([hidden])')?.click());
  await page.waitForSelector('#start:not([hidden])');
}

// drop dispatches a real drop of fixture files (fetched by the page) on
// the page body, as a person dragging files from the desktop would.
async function drop(page, names) {
  await page.evaluate(async (list) => {
    const dt = new DataTransfer();
    for (const n of list) {
      const b = await (await fetch(`/__fixtures/${n}`)).blob();
      dt.items.add(new File([b], n, { lastModified: 1700000000000 }));
    }
    for (const type of ['dragenter', 'dragover', 'drop']) {
      document.body.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
    }
  }, names);
}

// opened waits for the viewer and for verify to finish. The timeout only
// ends a hung test: checking the 64 TiB disk's 512 MiB BAT takes a minute
// on a busy two-core machine.
async function opened(page) {
  await page.waitForSelector('#viewer:not([hidden])');
  await page.waitForSelector('#verdict[data-verdict="clean"], #verdict[data-verdict="problems"]', { timeout: 240000 });
}

// until evaluates fn(arg) in the page, awaiting it, until it gives a true
// value (page.waitForFunction does not await a promise: it would take the
// promise itself as true). The timeout only ends a test that would hang.
async function until(page, fn, arg, { timeout = 30000, what = 'the condition' } = {}) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > end) throw new Error(`${what} never held`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// settledLayout waits until the window is width pixels wide and the page
// has drawn two frames since (views that lay out on resize have run).
async function settledLayout(page, width) {
  await page.waitForFunction((w) => window.innerWidth === w, width);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

async function summaryValue(page, key) {
  return page.getAttribute(`#panel-summary dd[data-key="${key}"]`, 'data-value');
}

// gotoHex types an offset into the go-to box, as a person would.
async function gotoHex(page, offset, unit = 'offset') {
  await page.selectOption('#goto-unit', unit);
  await page.fill('#goto-input', typeof offset === 'number' ? `0x${offset.toString(16)}` : offset);
  await page.press('#goto-input', 'Enter');
}

// hexBytes reads length bytes at offset from the hex view's rows on screen.
async function hexBytes(page, offset, length) {
  await page.waitForFunction(({ offset, length }) => {
    const rows = [...document.querySelectorAll('#hex .hex-row:not([hidden])')];
    const first = rows.find((r) => Number(r.dataset.offset) <= offset && offset < Number(r.dataset.offset) + 16);
    const last = rows.find((r) => Number(r.dataset.offset) <= offset + length - 1 && offset + length - 1 < Number(r.dataset.offset) + 16);
    return first && last && !rows.some((r) => r.textContent.includes('··'));
  }, { offset, length }, { timeout: 20000 });
  return page.evaluate(({ offset, length }) => {
    let out = '';
    for (const r of document.querySelectorAll('#hex .hex-row:not([hidden])')) {
      const base = Number(r.dataset.offset);
      r.querySelectorAll('.hexes .b').forEach((b, i) => {
        const o = base + i;
        if (o >= offset && o < offset + length) out += b.textContent;
      });
    }
    return out;
  }, { offset, length });
}

function cliInfo(t, file, ...extra) {
  return JSON.parse(t.cli('info', '--json', ...extra, file).toString());
}

function cliMap(t, file) {
  return JSON.parse(t.cli('map', '--json', file).toString());
}

// sampleFile writes the sample image (the page's "Try a sample") out.
function sampleFile(t) {
  const p = t.fx.path('sample.vhdx');
  writeFileSync(p, gunzipSync(readFileSync(join(t.root, 'web/samples/sample.vhdx.gz'))));
  return p;
}

function qemuRaw(t, file) {
  const out = join(t.work, `${file.split('/').pop()}.raw`);
  t.sh('qemu-img', ['convert', '-f', 'vhdx', '-O', 'raw', file, out]);
  return readFileSync(out);
}

// noPicker removes showSaveFilePicker from the page (headless Chromium
// has one, with no one to answer it), so that downloads are Blobs the
// test receives as download events.
async function noPicker(page) {
  await page.evaluate(() => {
    delete Window.prototype.showSaveFilePicker;
    delete window.showSaveFilePicker;
  });
}

async function download(t, setup) {
  const { page } = t;
  await noPicker(page);
  await page.click('#download-button');
  await page.waitForSelector('#download-dialog[open]');
  await setup();
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('#dl-go')]);
  const p = join(t.work, `dl-${Date.now()}-${dl.suggestedFilename()}`);
  await dl.saveAs(p);
  return { name: dl.suggestedFilename(), data: readFileSync(p) };
}

const STATE_CAT = {
  FULLY_PRESENT: 'present', PARTIALLY_PRESENT: 'partial', ZERO: 'zero', UNMAPPED: 'unmapped',
  UNDEFINED: 'undefined', NOT_PRESENT: 'absent',
};

// batCells reads the colour drawn at the centre of every block's cell and
// the legend's colour of each category.
async function batCells(page) {
  await page.waitForSelector('#batmap[data-loaded="true"]');
  // The mark is this map's, not the one of the image shown before.
  assert.equal(await page.locator('#batmap .legend li[data-cat="loading"]').count(), 0, 'the map says it is loaded while blocks are still loading');
  return page.evaluate(() => {
    const c = document.querySelector('#batmap canvas');
    const d = c.dataset;
    const cols = Number(d.cols);
    const size = Number(d.cell);
    const gap = Number(d.gap);
    const scale = c.width / parseFloat(c.style.width); // the drawing's own scale, even while CSS shrinks the canvas before a relayout
    const ctx = c.getContext('2d');
    const cells = [];
    for (let i = 0; i < Number(d.cells); i++) {
      const x = (i % cols) * (size + gap) + size / 2;
      const y = Math.floor(i / cols) * (size + gap) + size / 2;
      const px = ctx.getImageData(Math.floor(x * scale), Math.floor(y * scale), 1, 1).data;
      cells.push(`rgb(${px[0]}, ${px[1]}, ${px[2]})`);
    }
    const legend = {};
    for (const li of document.querySelectorAll('#batmap .legend li')) {
      legend[li.dataset.cat] = { color: getComputedStyle(li.querySelector('.swatch')).backgroundColor, count: Number(li.dataset.count) };
    }
    return { cells, legend, blocks: Number(d.blocks), perCell: Number(d.perCell) };
  });
}

// ---- tests --------------------------------------------------------------------

export const tests = [];
const test = (name, fn) => tests.push({ name, fn });

test('page loads with its CSP, the same as the server sends', async (t) => {
  const { page } = t;
  const res = await page.goto('/');
  await page.waitForSelector('#start:not([hidden])');
  const meta = await page.getAttribute('meta[http-equiv="Content-Security-Policy"]', 'content');
  // index.html is the policy's one source: the server sends it as a header
  // (internal/cmd/serve reads it the same way; its test checks that).
  assert.equal(res.headers()['content-security-policy'], meta);
  assert.equal(meta, serveCSP());
  assert.match(meta, /script-src 'self' 'wasm-unsafe-eval'/);
  assert.ok(await page.isVisible('#sample-button'));
  assert.ok(await page.isVisible('#pick-button'));
});

// idbUsage is what the origin's IndexedDB takes (Chromium's estimate).
async function idbUsage(page) {
  return page.evaluate(async () => {
    const e = await navigator.storage.estimate();
    return e.usageDetails ? (e.usageDetails.indexedDB || 0) : e.usage;
  });
}

// randomVhdx makes a dynamic VHDX of mib MiB of random data with qemu-img
// (random, so that no store could keep it small).
function randomVhdx(t, name, mib) {
  const raw = join(t.work, `${name}.raw`);
  writeFileSync(raw, Buffer.concat(Array.from({ length: mib }, () => randomBytes(1 << 20))));
  t.sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', '-o', 'subformat=dynamic', raw, t.fx.path(name)]);
  return t.fx.path(name);
}

test('the first open asks before keeping a copy: without a yes no bytes are stored; yes, Recents and pinning keep them', async (t) => {
  const { page } = t;
  await home(page);
  await page.evaluate(() => localStorage.removeItem('vhdxview.keep-copies'));
  await page.reload();
  await page.waitForSelector('#start:not([hidden])');
  assert.match(await page.textContent('.privacy'), /never their contents/);
  const file = randomVhdx(t, 'secret.vhdx', 24);
  const before = await idbUsage(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  const question = page.locator('#messages [data-id="keep-copies"]');
  await question.waitFor();
  assert.match(await question.textContent(), /Keep copies of the images you open in this browser\?/);
  // Give a background copy the time it took before (it grew the store by
  // megabytes within seconds): nothing may be written.
  await page.waitForTimeout(3000);
  const recs = (await page.evaluate(() => window.vhdxview.recent())).records;
  const rec = recs.find((r) => r.name === 'secret.vhdx');
  assert.ok(rec, 'the image is listed');
  assert.equal(rec.has_bytes, false);
  assert.equal(rec.stored_bytes, 0);
  const grown = (await idbUsage(page)) - before;
  assert.ok(grown < 1 << 20, `IndexedDB grew by ${grown} bytes without consent`);
  assert.equal(await page.textContent('#store-state'), '');
  // Dismissing the question is no answer: the next open asks again.
  await question.locator('button[aria-label="Dismiss"]').click();
  await home(page);
  assert.match(await page.textContent('#recents-list li[data-name="secret.vhdx"]'), /not stored/);
  await page.setInputFiles('#files', file);
  await opened(page);
  await question.waitFor();
  // Yes: the open image's bytes are stored now, and the setting is kept.
  await question.getByRole('button', { name: 'Keep copies', exact: true }).click();
  await page.waitForFunction(() => /Kept for offline use/.test(document.querySelector('#store-state').textContent), null, { timeout: 30000 });
  assert.equal(await page.evaluate(() => localStorage.getItem('vhdxview.keep-copies')), 'yes');
  const kept = (await idbUsage(page)) - before;
  assert.ok(kept >= 20 << 20, `IndexedDB grew by only ${kept} bytes with a copy kept`);
  await home(page);
  assert.equal(await page.locator('#messages [data-id="keep-copies"]').count(), 0);
  assert.match(await page.textContent('.privacy'), /copies of their contents/);
  assert.ok(await page.isChecked('#keep-copies'));
  // Recents turn it off: the next open stores no bytes, and asks nothing.
  await page.uncheck('#keep-copies');
  assert.equal(await page.evaluate(() => localStorage.getItem('vhdxview.keep-copies')), 'no');
  assert.match(await page.textContent('.privacy'), /never their contents/);
  const other = randomVhdx(t, 'other-secret.vhdx', 4);
  await page.setInputFiles('#files', other);
  await opened(page);
  assert.equal(await page.locator('#messages [data-id="keep-copies"]').count(), 0);
  await page.waitForTimeout(1000);
  let o = (await page.evaluate(() => window.vhdxview.recent())).records.find((r) => r.name === 'other-secret.vhdx');
  assert.equal(o.has_bytes, false);
  // Pinning one image keeps its copy whatever the setting.
  assert.equal(await page.getAttribute('#keep-button', 'aria-pressed'), 'false');
  await page.click('#keep-button');
  await page.waitForFunction(() => document.querySelector('#keep-button').getAttribute('aria-pressed') === 'true');
  o = (await page.evaluate(() => window.vhdxview.recent())).records.find((r) => r.name === 'other-secret.vhdx');
  assert.ok(o.has_bytes && o.pinned, JSON.stringify(o));
  await home(page);
  const row = await page.textContent('#recents-list li[data-name="other-secret.vhdx"]');
  assert.match(row, /pinned/);
  assert.match(row, /stored/);
});

test('pick a file: summary equals vhdx info --json', async (t) => {
  const { page } = t;
  const file = sampleFile(t);
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  const info = cliInfo(t, file);
  for (const k of ['type', 'virtual_size', 'block_size', 'logical_sector_size', 'physical_sector_size', 'virtual_disk_id', 'creator', 'file_size']) {
    assert.equal(await summaryValue(page, k), String(info[k]), k);
  }
  assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'clean');
  const text = await page.textContent('#panel-summary');
  assert.match(text, /16,777,216 bytes \(16 MiB\)/);
  // The summary says what the disk holds, as vhdx parts does.
  const parts = JSON.parse(t.cli('parts', '--json', file).toString());
  await page.waitForSelector('#panel-summary dd[data-key="partitions"]');
  const row = await page.textContent('#panel-summary dd[data-key="partitions"]');
  assert.match(row, new RegExp(`^${parts.scheme.toUpperCase()}, ${parts.partitions.length} partition`));
  for (const p of parts.partitions) assert.ok(row.includes(`${p.index}. ${p.file_system_name}`) && row.includes(p.name), `${row} lacks ${p.index} ${p.file_system_name}`);
});

test('drop a file: it opens, and the block map shows every block state', async (t) => {
  const { page } = t;
  const file = t.fx.make('states.vhdx', {
    virtualSize: 12 << 20, blockSize: 1 << 20, creator: 'vhdxview ui test',
    blocks: {
      0: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 1 } },
      2: { state: 'ZERO' }, 3: { state: 'UNMAPPED' }, 4: { state: 'UNDEFINED' },
      6: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 171 } },
    },
  });
  await home(page);
  await drop(page, ['states.vhdx']);
  await opened(page);
  assert.equal(await summaryValue(page, 'creator'), 'vhdxview ui test');
  const want = cliMap(t, file);
  const got = await batCells(page);
  assert.equal(got.blocks, want.payload_blocks);
  assert.equal(got.perCell, 1);
  const counts = {};
  want.blocks.forEach((b, i) => {
    const cat = STATE_CAT[b.state];
    counts[cat] = (counts[cat] || 0) + 1;
    assert.ok(got.legend[cat], `legend has ${cat}`);
    assert.equal(got.cells[i], got.legend[cat].color, `block ${i} (${b.state}) drawn as ${cat}`);
  });
  for (const [cat, n] of Object.entries(counts)) assert.equal(got.legend[cat].count, n, `legend count of ${cat}`);
  // Click a block: the hex view shows it.
  const box = await page.locator('#batmap canvas').boundingBox();
  const d = await page.evaluate(() => ({ ...document.querySelector('#batmap canvas').dataset }));
  const s = Number(d.cell) + Number(d.gap);
  await page.mouse.click(box.x + 6 * s + 2, box.y + 2);
  await page.waitForFunction(() => document.querySelector('#hex').dataset.top === String(6 * 1048576 - 16) || document.querySelector('#hex').dataset.top === String(6 * 1048576));
  const bytes = await hexBytes(page, 6 << 20, 16);
  assert.equal(bytes, 'ab'.repeat(16));
  assert.match(await page.textContent('#hex .hex-status'), /Block 6 · FULLY_PRESENT/);
});

test('hex view at an offset shows what vhdx cat gives; keyboard moves and selects', async (t) => {
  const { page } = t;
  const file = sampleFile(t);
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  for (const [off, len] of [[0x1c0, 64], [0x100438, 40], [0x200, 16]]) {
    await gotoHex(page, off);
    const want = t.cli('cat', '--offset', String(off), '--length', String(len), file).toString('hex');
    assert.equal(await hexBytes(page, off, len), want, `bytes at 0x${off.toString(16)}`);
  }
  // LBA go-to: LBA 1 is the GPT header ("EFI PART").
  await gotoHex(page, '1', 'lba');
  assert.equal(await hexBytes(page, 512, 8), Buffer.from('EFI PART').toString('hex'));
  // Keyboard: the cursor is at 512; Home, then Shift+Down twice selects
  // two rows (the caret moves 32 bytes; the byte it stops before is not
  // selected).
  await page.focus('#hex .hex-scroller');
  await page.keyboard.press('Home');
  await page.keyboard.down('Shift');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
  await page.waitForFunction(() => /Selection 0x200–0x21f \(32 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  await page.keyboard.press('PageDown');
  await page.keyboard.press('Control+End');
  await page.waitForFunction(() => /Offset 0xffffff /.test(document.querySelector('#hex .hex-status').textContent));
  await page.keyboard.press('Control+Home');
  await page.waitForFunction(() => /Offset 0x0 /.test(document.querySelector('#hex .hex-status').textContent));
});

test('downloads of a range, a selection and the whole disk equal qemu-img convert', async (t) => {
  const { page } = t;
  const file = sampleFile(t);
  const raw = qemuRaw(t, file);
  // (the sample is still open from the last test, unless this one runs alone)
  if (await page.isHidden('#viewer').catch(() => true)) {
    await home(page);
    await page.click('#sample-button');
    await opened(page);
  }
  const range = await download(t, async () => {
    await page.check('#dl-range');
    await page.selectOption('#dl-unit', 'bytes');
    await page.fill('#dl-from', '0xff000');
    await page.fill('#dl-length', '3M');
  });
  assert.equal(range.name, 'sample-0xff000-0x300000.raw');
  assert.equal(sha256(range.data), sha256(raw.subarray(0xff000, 0xff000 + (3 << 20))));
  const lba = await download(t, async () => {
    await page.check('#dl-range');
    await page.selectOption('#dl-unit', 'lba');
    await page.fill('#dl-from', '2048');
    await page.fill('#dl-length', '4096');
  });
  assert.equal(lba.name, 'sample-0x100000-0x200000.raw');
  assert.equal(sha256(lba.data), sha256(raw.subarray(0x100000, 0x300000)));
  // A selection made in the hex view: four rows, 64 bytes.
  await gotoHex(page, 0x100400);
  await page.focus('#hex .hex-scroller');
  await page.keyboard.down('Shift');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
  // "Download selection" downloads it, with no dialog in between.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#selection-download')]);
  assert.equal(await page.locator('#download-dialog[open]').count(), 0);
  const sp = join(t.work, 'sel.raw');
  await dl.saveAs(sp);
  assert.equal(dl.suggestedFilename(), 'sample-0x100400-0x40.raw');
  assert.equal(sha256(readFileSync(sp)), sha256(raw.subarray(0x100400, 0x100440)));
  const whole = await download(t, async () => { await page.check('#dl-whole'); });
  assert.equal(whole.name, 'sample.raw');
  assert.equal(whole.data.length, raw.length);
  assert.equal(sha256(whole.data), sha256(raw));
});

test('a range past the end is refused with a reason', async (t) => {
  const { page } = t;
  await page.click('#download-button');
  await page.check('#dl-range');
  await page.selectOption('#dl-unit', 'bytes');
  await page.fill('#dl-from', '15M');
  await page.fill('#dl-length', '2M');
  assert.ok(await page.isDisabled('#dl-go'));
  assert.match(await page.textContent('.dl-msg'), /past the end of the disk/);
  await page.keyboard.press('Escape');
});

test('structure tree: a damaged header is bad, the other is active', async (t) => {
  const { page } = t;
  t.fx.make('damaged.vhdx', { virtualSize: 4 << 20, headers: [{ sequence: 5 }, { sequence: 6, corruptChecksum: true }] });
  await home(page);
  await drop(page, ['damaged.vhdx']);
  await opened(page);
  assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'problems');
  await page.click('#tab-structure');
  const h1 = page.locator('[data-node="header-1"]');
  const h2 = page.locator('[data-node="header-2"]');
  assert.deepEqual((await h1.getAttribute('data-tags')).split(','), ['current', 'CRC ok']);
  assert.deepEqual((await h2.getAttribute('data-tags')).split(','), ['CRC bad', 'invalid']);
  assert.match(await h2.locator('> summary').textContent(), /CRC bad/);
  assert.match(await h1.locator('> summary').textContent(), /current/);
  // Show in file hex: header 2 at 0x20000, its signature "head".
  await h2.locator('> summary .jump').click();
  assert.equal(await page.inputValue('#hex-source'), 'file:0');
  assert.equal(await hexBytes(page, 0x20000, 4), Buffer.from('head').toString('hex'));
  assert.match(await page.textContent('#hex .hex-status'), /in header 2/);
  // The checks list the damaged header with its offset and an explanation.
  await page.click('#tab-checks');
  const row = page.locator('#panel-checks [data-structure="header 2"]');
  assert.equal(await row.getAttribute('data-status'), 'warning');
  assert.match(await row.textContent(), /CRC-32C mismatch/);
  assert.match(await row.textContent(), /two headers/);
  assert.doesNotMatch(await row.locator('.check-msg').textContent(), /^vhdx: /);
  // Its link names the field the failure is about, and selects that
  // field's bytes (the 4-byte Checksum at 0x20004, MS-VHDX 2.2.2.1), not
  // the 4 KiB header.
  const link = row.locator('.check-where button');
  assert.match(await link.textContent(), /^0x20004 Checksum$/);
  await link.click();
  await page.waitForFunction(() => /Selection 0x20004–0x20007 \(4 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  assert.equal(await page.inputValue('#hex-source'), 'file:0');
});

test('a child without its parent names the parent; adding it opens the chain', async (t) => {
  const { page } = t;
  const parent = t.fx.make('parent.vhdx', {
    virtualSize: 8 << 20, dataWriteGuid: '11111111-2222-4333-8444-555555555555',
    blocks: { 0: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 80 } }, 1: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 7 } } },
  });
  const child = t.fx.make('child.avhdx', {
    virtualSize: 8 << 20, dataWriteGuid: '66666666-7777-4888-9999-aaaaaaaaaaaa',
    parent: { entries: [
      { key: 'parent_linkage', value: '{11111111-2222-4333-8444-555555555555}' },
      { key: 'relative_path', value: '.\\parent.vhdx' },
      { key: 'absolute_win32_path', value: 'C:\\VMs\\parent.vhdx' }] },
    blocks: {
      0: { state: 'PARTIALLY_PRESENT', fill: { pattern: 'byte', value: 67 }, present: [{ start: 0, count: 8 }] },
      2: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 68 } }, 3: { state: 'ZERO' },
    },
  });
  void parent;
  await home(page);
  await drop(page, ['child.avhdx']);
  await page.waitForSelector('#parent-needed:not([hidden])');
  const loc = await page.textContent('#parent-locator');
  assert.ok(loc.includes('.\\parent.vhdx'), loc);
  assert.ok(loc.includes('C:\\VMs\\parent.vhdx'), loc);
  assert.match(await page.textContent('#parent-needed'), /Add its parent, parent\.vhdx/);
  // A wrong file is refused with a reason; the panel stays.
  await page.setInputFiles('#parent-input', t.fx.make('other.vhdx', { virtualSize: 8 << 20 }));
  // The engine rejects it and says why: its DataWriteGuid is not the linkage.
  await page.waitForFunction(() => /other\.vhdx: its DataWriteGuid .* is not the parent_linkage 11111111-2222-4333-8444-555555555555/
    .test((document.querySelector('#parent-needed .tried') || {}).textContent || ''));
  assert.ok(await page.isVisible('#parent-needed'));
  await page.setInputFiles('#parent-input', t.fx.path('parent.vhdx'));
  await opened(page);
  assert.equal(await page.locator('#panel-summary .chain li').count(), 2);
  assert.equal(await summaryValue(page, 'type'), 'differencing');
  // Block map: partial, from parent, present, zero.
  const got = await batCells(page);
  const want = cliMap(t, child);
  want.blocks.forEach((b, i) => {
    const cat = b.state === 'NOT_PRESENT' ? 'parent' : STATE_CAT[b.state];
    assert.equal(got.cells[i], got.legend[cat].color, `block ${i} (${b.state}) drawn as ${cat}`);
  });
  // Reads through the chain: child sectors, then the parent's.
  await gotoHex(page, 0xff0);
  const wantBytes = t.cli('cat', '--offset', '0xff0', '--length', '32', child).toString('hex');
  assert.equal(await hexBytes(page, 0xff0, 32), wantBytes);
  assert.equal(wantBytes, '43'.repeat(16) + '50'.repeat(16));
});

test('a grandchild: adding its parent names the grandparent as missing and blames no file of the chain; adding that opens all three', async (t) => {
  const { page } = t;
  const link = (guid, name) => ({ entries: [
    { key: 'parent_linkage', value: `{${guid}}` }, { key: 'relative_path', value: `.\\${name}` }] });
  t.fx.make('gp-base.vhdx', { virtualSize: 8 << 20, dataWriteGuid: 'aaaaaaaa-0000-4000-8000-000000000001',
    blocks: { 0: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 65 } } } });
  t.fx.make('gp-mid.avhdx', { virtualSize: 8 << 20, dataWriteGuid: 'aaaaaaaa-0000-4000-8000-000000000002', parent: link('aaaaaaaa-0000-4000-8000-000000000001', 'gp-base.vhdx'),
    blocks: { 1: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 66 } } } });
  t.fx.make('gp-leaf.avhdx', { virtualSize: 8 << 20, dataWriteGuid: 'aaaaaaaa-0000-4000-8000-000000000003', parent: link('aaaaaaaa-0000-4000-8000-000000000002', 'gp-mid.avhdx'),
    blocks: { 2: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 67 } } } });
  await home(page);
  await drop(page, ['gp-leaf.avhdx']);
  await page.waitForSelector('#parent-needed:not([hidden])');
  assert.match(await page.textContent('#parent-needed'), /Add its parent, gp-mid\.avhdx/);
  await page.setInputFiles('#parent-input', t.fx.path('gp-mid.avhdx'));
  await page.waitForFunction(() => /Add its parent, gp-base\.vhdx/.test(document.querySelector('#parent-needed').textContent));
  const text = await page.textContent('#parent-needed');
  assert.match(await page.textContent('#chain-found'), /chain of 2 disks/);
  assert.equal(await page.locator('#parent-needed .tried').count(), 0, `a file of the chain is blamed: ${text}`);
  await page.setInputFiles('#parent-input', t.fx.path('gp-base.vhdx'));
  await opened(page);
  assert.equal(await page.locator('#panel-summary .chain li').count(), 3);
});

test('several separate disks dropped at once: the first opens, the others are offered and open next', async (t) => {
  const { page } = t;
  t.fx.make('disk-a.vhdx', { dataWriteGuid: 'bbbbbbbb-0000-4000-8000-000000000001', virtualSize: 4 << 20 });
  t.fx.make('disk-b.vhdx', { dataWriteGuid: 'bbbbbbbb-0000-4000-8000-000000000002', virtualSize: 6 << 20 });
  t.fx.make('disk-c.vhdx', { dataWriteGuid: 'bbbbbbbb-0000-4000-8000-000000000003', virtualSize: 8 << 20 });
  await home(page);
  await drop(page, ['disk-a.vhdx', 'disk-b.vhdx', 'disk-c.vhdx']);
  await opened(page);
  const first = await page.textContent('#image-title .name');
  assert.ok(['disk-a.vhdx', 'disk-b.vhdx', 'disk-c.vhdx'].includes(first), first);
  const offer = page.locator('#messages [data-id="dropped"]');
  await offer.waitFor();
  assert.match(await offer.textContent(), /2 more disks were dropped/);
  assert.equal(await page.locator('#messages .notice.error').count(), 0);
  const next = ['disk-a.vhdx', 'disk-b.vhdx', 'disk-c.vhdx'].find((n) => n !== first);
  await offer.getByRole('button', { name: `Open ${next}` }).click();
  await page.waitForFunction((n) => document.querySelector('#image-title .name')?.textContent === n, next);
  await opened(page);
  assert.equal(await summaryValue(page, 'virtual_size'), String({ 'disk-a.vhdx': 4, 'disk-b.vhdx': 6, 'disk-c.vhdx': 8 }[next] << 20));
  // The offer now lists the two others, the first among them.
  await offer.waitFor();
  assert.ok(await offer.getByRole('button', { name: `Open ${first}` }).isVisible());
});

test('file strings are shown as text, never as markup', async (t) => {
  const { page } = t;
  const creator = '<img src=x onerror="window.__xss=1">';
  const rel = '<img src=x onerror="window.__xss=2">.vhdx';
  const key = '<b onclick="window.__xss=3">k</b>';
  t.fx.make('xss.avhdx', {
    virtualSize: 4 << 20, creator,
    parent: { entries: [
      { key: 'parent_linkage', value: '{99999999-2222-4333-8444-555555555555}' },
      { key: 'relative_path', value: rel }, { key, value: '<script>window.__xss=4</script>' }] },
  });
  await home(page);
  await drop(page, ['xss.avhdx']);
  await page.waitForSelector('#parent-needed:not([hidden])');
  assert.ok((await page.textContent('#parent-locator')).includes(rel));
  await page.click('#parent-skip');
  await opened(page);
  assert.equal(await summaryValue(page, 'creator'), creator);
  assert.equal(await page.textContent('#panel-summary dd[data-key="creator"]'), creator);
  await page.click('#tab-structure');
  const tree = await page.textContent('#panel-structure');
  for (const str of [creator, rel, key, '<script>window.__xss=4</script>']) assert.ok(tree.includes(str), `tree shows ${str}`);
  const bad = await page.evaluate(() => ({
    img: document.querySelectorAll('img').length,
    scripts: [...document.scripts].filter((s) => !s.src).length,
    bold: [...document.querySelectorAll('b[onclick]')].length,
    xss: window.__xss,
  }));
  assert.deepEqual(bad, { img: 0, scripts: 0, bold: 0, xss: undefined });
});

test('a dirty log: the summary and the tree say what was replayed', async (t) => {
  const { page } = t;
  const desc = { virtualSize: 16 << 20, creator: 'dirty', blocks: { 2: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 2 } }, 3: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 3 } } } };
  const lay = t.fx.layout(desc);
  desc.log = { deferred: [{ fileOffset: lay.blocks['2'] + 4096, length: 8192 }, { fileOffset: lay.blocks['3'], length: 4096 }] };
  const file = t.fx.make('dirty.vhdx', desc);
  const info = cliInfo(t, file);
  assert.ok(info.log_replayed);
  const logNode = info.structures.find((s) => s.id === 'log');
  const active = logNode.children.filter((c) => c.tags.includes('active sequence'));
  await home(page);
  await drop(page, ['dirty.vhdx']);
  await opened(page);
  assert.equal(await summaryValue(page, 'log'), 'replayed');
  // Not closed cleanly is the normal state of a copied disk, not a problem.
  await page.waitForSelector('#verdict[data-verdict="clean"]');
  const log = await page.textContent('#panel-summary dd[data-key="log"]');
  assert.equal(log, info.log);
  assert.match(log, new RegExp(`replayed in memory: .*\\(${active.length} entr`));
  await page.click('#tab-structure');
  const node = page.locator('[data-node="log"]');
  assert.match(await node.locator('> summary').textContent(), /replayed/);
  assert.equal(await node.locator('.node-children > .node').count(), logNode.children.length);
  // The replayed pages read as the engine says (log bytes, not the stale file).
  const off = 2 * (1 << 20) + 4096;
  await gotoHex(page, off);
  assert.equal(await hexBytes(page, off, 32), t.cli('cat', '--offset', String(off), '--length', '32', file).toString('hex'));
});

test('keyboard: tabs, block map and hex view', async (t) => {
  const { page } = t;
  await home(page);
  await page.focus('#sample-button');
  await page.keyboard.press('Enter');
  await opened(page);
  await page.focus('#tab-summary');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-structure', 'aria-selected'), 'true');
  assert.ok(await page.isVisible('#panel-structure'));
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-structure');
  await page.keyboard.press('End');
  assert.equal(await page.getAttribute('#tab-checks', 'aria-selected'), 'true');
  // Block map: focus, move right twice, Enter shows block 2 in hex.
  await page.focus('#batmap canvas');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.match(await page.textContent('.batmap-tip'), /Block 2/);
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /Offset 0x200000 /.test(document.querySelector('#hex .hex-status').textContent));
  assert.equal(await page.evaluate(() => document.activeElement.className), 'hex-scroller');
  // g jumps to the go-to box.
  await page.keyboard.press('g');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'goto-input');
});

test('an unreadable file says why and shows its bytes', async (t) => {
  const { page } = t;
  // A VMDK (by signature) is named as one, not as a damaged disk.
  writeFileSync(t.fx.path('disk.vmdk'), Buffer.concat([Buffer.from('KDMV'), Buffer.alloc(2 << 20)]));
  await home(page);
  await drop(page, ['disk.vmdk']);
  await page.waitForSelector('#verdict[data-verdict="unreadable"]');
  const text = await page.textContent('#panel-summary');
  assert.match(text, /disk\.vmdk is a VMDK image \(VMware\), not a disk image vhdxview reads/);
  assert.match(text, /vhdxview reads VHDX, VHD and raw disk images/);
  assert.match(text, /qemu-img convert/);
  assert.equal(await hexBytes(page, 0, 4), Buffer.from('KDMV').toString('hex'));
  // A damaged VHDX (its signature intact) is damaged, and says where.
  const bad = t.fx.make('badregions.vhdx', { virtualSize: 8 << 20, regionTables: [{ corruptChecksum: true }, { corruptChecksum: true }] });
  await home(page);
  await page.setInputFiles('#files', bad);
  await page.waitForSelector('#verdict[data-verdict="unreadable"]');
  assert.match(await page.textContent('#panel-summary'), /badregions\.vhdx is damaged and cannot be opened: region/);
  // The problem reads without the Go packages' prefixes.
  const problem = await page.textContent('#panel-summary .facts dd');
  assert.doesNotMatch(problem, /(^|: )vhdx: /, problem);
  assert.equal(await page.$('#open-raw'), null, 'no raw offer for a damaged VHDX');
  // A PNG is called a PNG.
  writeFileSync(t.fx.path('photo.png'), Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(4096)]));
  await home(page);
  await drop(page, ['photo.png']);
  await page.waitForFunction(() => /photo\.png is a PNG image, not a disk image vhdxview reads/.test(document.querySelector('#panel-summary').textContent));
});

test('a 64 TiB disk: the block map aggregates, the hex view reaches the end', async (t) => {
  const { page } = t;
  const file = t.fx.make('huge.vhdx', {
    virtualSize: 64 * 2 ** 40, blockSize: 256 << 20,
    blocks: { 0: { state: 'ZERO' }, 262143: { state: 'ZERO' }, 131072: { state: 'UNMAPPED' } },
  });
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  assert.equal(await summaryValue(page, 'virtual_size'), String(64 * 2 ** 40));
  const got = await batCells(page);
  assert.equal(got.blocks, 262144);
  assert.ok(got.perCell > 1, 'aggregated');
  assert.equal(got.legend.zero.count, 2);
  assert.equal(got.legend.unmapped.count, 1);
  const end = 64 * 2 ** 40 - 32;
  await gotoHex(page, end);
  assert.equal(await hexBytes(page, end, 32), '00'.repeat(32));
  await page.focus('#hex .hex-scroller');
  await page.keyboard.press('Control+End');
  await page.waitForFunction(() => /Offset 0x3fffffffffff /.test(document.querySelector('#hex .hex-status').textContent));
  // The scrollbar maps onto the whole disk: half way is about 32 TiB.
  await page.evaluate(() => {
    const s = document.querySelector('#hex .hex-scroller');
    s.scrollTop = (s.scrollHeight - s.clientHeight) / 2;
  });
  await page.waitForFunction(() => {
    const top = Number(document.querySelector('#hex').dataset.top);
    return Math.abs(top - 32 * 2 ** 40) < 2 ** 36;
  });
});

test('recents survive a reload and reopen with the network off', async (t) => {
  const { page, context } = t;
  await home(page);
  // The service worker caches every module of the page (a missing one
  // leaves the page blank offline).
  const sw = readFileSync(join(t.root, 'sw.js'), 'utf8');
  for (const m of readdirSync(join(t.root, 'web/app')).filter((f) => f.endsWith('.js'))) {
    assert.ok(sw.includes(`'web/app/${m}'`), `sw.js does not cache web/app/${m}`);
  }
  await page.check('#keep-copies'); // the user's choice: keep copies
  await page.click('#sample-button');
  await opened(page);
  await page.waitForFunction(() => /Kept for offline use/.test(document.querySelector('#store-state').textContent), null, { timeout: 30000 });
  // The service worker is installed and controls the page.
  await until(page, async () => (await navigator.serviceWorker.ready) && !!navigator.serviceWorker.controller, null, { what: 'a service worker controlling the page' });
  // The hex position is remembered with the image (kept a moment after
  // the view stops moving): wait until the store has it.
  await gotoHex(page, 0x1234);
  await until(page, async () => (await window.vhdxview.recent()).records
    .some((r) => r.name === 'sample.vhdx' && r.user_state && r.user_state.offset === 0x1234), null, { what: 'the position kept in the store' });
  // A reload reopens the image where it was; Close goes to the recents.
  await page.reload();
  await opened(page);
  await page.waitForFunction(() => /Offset 0x1234 /.test(document.querySelector('#hex .hex-status').textContent));
  await home(page);
  const item = page.locator('#recents-list li[data-name="sample.vhdx"]').first();
  await item.waitFor();
  assert.match(await item.textContent(), /stored/);
  assert.match(await item.textContent(), /clean/);
  assert.match(await page.textContent('#recents-usage'), /remembered/);
  await context.setOffline(true);
  t.serverDown(true);
  try {
    assert.equal(await page.evaluate(() => fetch('/__fixtures/sample.vhdx').then(() => 'online', () => 'offline')), 'offline');
    await page.reload();
    await item.waitFor();
    // The cache is named after the engine build in web/manifest.json.
    const m = JSON.parse(readFileSync(join(t.root, 'web/manifest.json'), 'utf8'));
    assert.ok((await page.evaluate(() => caches.keys())).includes(`vhdxview-${m.version}`));
    await item.locator('.recent-open').click();
    await opened(page);
    assert.equal(await summaryValue(page, 'virtual_size'), '16777216');
    await page.waitForFunction(() => /Offset 0x1234 /.test(document.querySelector('#hex .hex-status').textContent));
    await gotoHex(page, 0x200);
    assert.equal(await hexBytes(page, 0x200, 8), Buffer.from('EFI PART').toString('hex'));
  } finally {
    await context.setOffline(false);
    t.serverDown(false);
  }
});

test('forget one recent, then clear all', async (t) => {
  const { page } = t;
  await home(page);
  await page.waitForSelector('#recents-list li');
  const before = await page.locator('#recents-list li').count();
  assert.ok(before >= 2, `${before} recents`);
  await page.locator('#recents-list li[data-name="states.vhdx"] .forget').click();
  await page.waitForFunction((n) => document.querySelectorAll('#recents-list li').length === n - 1, before);
  page.once('dialog', (d) => d.accept());
  await page.click('#recents-clear');
  await page.waitForFunction(() => !document.querySelector('#recents-list'));
});

test('narrow window and dark scheme keep working; screenshot for the README', async (t) => {
  const { page } = t;
  await page.setViewportSize({ width: 1280, height: 800 });
  await home(page);
  // The screenshots show the viewer, not the question of the first open.
  await page.evaluate(() => localStorage.getItem('vhdxview.keep-copies') || localStorage.setItem('vhdxview.keep-copies', 'no'));
  await page.click('#sample-button');
  await opened(page);
  // The main view, on the sample's README.txt, for docs/screenshot.png.
  const raw = qemuRaw(t, sampleFile(t));
  const text = raw.indexOf('Hello from the vhdxview');
  assert.ok(text > 0);
  await gotoHex(page, text - (text % 16) - 0x40);
  await page.waitForSelector('#batmap[data-loaded="true"]');
  await hexBytes(page, text, 16);
  await page.focus('#hex .hex-scroller');
  for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowDown');
  for (let i = 0; i < text % 16; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.down('Shift');
  for (let i = 0; i < 36; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.up('Shift');
  await page.waitForFunction(() => /Selection .*\(36 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  const box = await page.locator('#batmap canvas').boundingBox();
  const d = await page.evaluate(() => ({ ...document.querySelector('#batmap canvas').dataset }));
  const cellOf = Math.floor(text / (1 << 20));
  const s = Number(d.cell) + Number(d.gap);
  await page.mouse.move(box.x + cellOf * s + s / 2, box.y + Number(d.cell) / 2);
  await page.waitForFunction(() => /stored in this file/.test(document.querySelector('.batmap-tip').textContent));
  // docs/screenshot.png is written when missing or with UPDATE_SCREENSHOT=1,
  // so that a test run leaves the tree as it was.
  await page.screenshot({ path: join(t.work, 'main.png') });
  await page.mouse.move(0, 0);
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.click('#tab-structure');
  await page.screenshot({ path: join(t.work, 'dark.png') });
  await page.click('#tab-files');
  await page.waitForSelector('#parts-table');
  await page.screenshot({ path: join(t.work, 'files-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.click('#tab-summary');
  await page.setViewportSize({ width: 390, height: 844 });
  await settledLayout(page, 390);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.hex-scroller'))
    .slice(0, 8).map((e) => `${e.tagName}#${e.id}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a 390px window: ${wide.join(', ')}`);
  assert.ok(await page.isVisible('#hex .hex-row'));
  await page.screenshot({ path: join(t.work, 'narrow.png') });
  await page.locator('#hex-card').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(t.work, 'narrow-hex.png') });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.click('#close-button');
  await page.waitForSelector('#recents-list');
  await page.screenshot({ path: join(t.work, 'narrow-start-dark.png') });
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: join(t.work, 'start.png') });
  // docs/ holds one screenshot per main view (README, "Screenshots"): they
  // are written when missing or with UPDATE_SCREENSHOT=1, so that a test
  // run leaves the tree as it was.
  const docs = {
    'screenshot.png': 'main.png', 'screenshot-start.png': 'start.png', 'screenshot-structure-dark.png': 'dark.png',
    'screenshot-files-dark.png': 'files-dark.png', 'screenshot-phone.png': 'narrow.png', 'screenshot-phone-hex.png': 'narrow-hex.png',
    'screenshot-phone-start-dark.png': 'narrow-start-dark.png',
  };
  for (const [doc, shot] of Object.entries(docs)) {
    const to = join(t.root, 'docs', doc);
    if (process.env.UPDATE_SCREENSHOT || !existsSync(to)) {
      mkdirSync(join(t.root, 'docs'), { recursive: true });
      copyFileSync(join(t.work, shot), to);
    }
  }
});

// touchTap taps the middle of sel with a real touch (Chromium's input
// pipeline turns it into a tap where the finger lands, as on a phone).
async function touchTap(page, cdp, sel) {
  const loc = page.locator(sel);
  await loc.scrollIntoViewIfNeeded();
  const b = await loc.boundingBox();
  const x = b.x + b.width / 2;
  const y = b.y + b.height / 2;
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x, y }] });
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
}

// clipped lists what sticks out of the window or of its own box in the
// viewer (text cut off, as "FULLY_PRESEN" was), but for the hex view's
// rows, which scroll by design.
async function clipped(page) {
  return page.evaluate(() => [...document.querySelectorAll('#viewer *, .topbar *')]
    .filter((e) => {
      if (e.closest('.hex-scroller, thead, .visually-hidden, [hidden]') || !e.getClientRects().length) return false;
      const r = e.getBoundingClientRect();
      if (r.right > window.innerWidth + 1) return true;
      const cs = getComputedStyle(e);
      return /^(DD|DT|TD|TH|BUTTON)$/.test(e.tagName) && cs.overflowX !== 'auto' && e.scrollWidth > e.clientWidth + 1;
    })
    .slice(0, 8).map((e) => `${e.tagName}#${e.id}.${e.className} "${e.textContent.slice(0, 30)}"`));
}

test('opening the Files tab keeps the hex view at 16 bytes a row (1280x800, 1440x900)', async (t) => {
  const { page } = t;
  try {
    for (const [width, height] of [[1280, 800], [1440, 900]]) {
      await page.setViewportSize({ width, height });
      await settledLayout(page, width);
      await home(page);
      await page.click('#sample-button');
      await opened(page);
      const cols = () => page.evaluate(() => document.querySelector('#hex .hex-row:not([hidden]) .hexes').children.length);
      assert.equal(await cols(), 16, `summary tab at ${width}px`);
      await page.click('#tab-files');
      await page.waitForSelector('#parts-table');
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      assert.equal(await cols(), 16, `files tab at ${width}px`);
    }
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

test('a large sparse disk: "Next data" (and n) steps from data run to data run, as vhdx map places them', async (t) => {
  const { page } = t;
  const bs = 32 << 20;
  const file = t.fx.make('sparse-next.vhdx', { virtualSize: 64 * 2 ** 30, blockSize: bs, blocks: {
    1500: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 7 } },
    1800: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 9 } } } });
  const present = cliMap(t, file).blocks.map((b, i) => [b.state, i]).filter(([st]) => st === 'FULLY_PRESENT').map(([, i]) => i);
  assert.deepEqual(present, [1500, 1800]);
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  const cursor = () => page.evaluate(() => window.vhdxviewUI.hex.cursor);
  await page.click('#next-data');
  await page.waitForFunction((o) => window.vhdxviewUI.hex.cursor === o, present[0] * bs);
  assert.equal(await hexBytes(page, present[0] * bs, 4), '07070707');
  await page.keyboard.press('n'); // the hex view has the focus
  await page.waitForFunction((o) => window.vhdxviewUI.hex.cursor === o, present[1] * bs);
  await page.click('#next-data');
  await page.waitForSelector('#messages [data-id="next-data"]');
  assert.match(await page.textContent('#messages [data-id="next-data"]'), /No more data/);
  assert.equal(await cursor(), present[1] * bs);
});

test('Back closes the image and stays on the page', async (t) => {
  const { page, origin } = t;
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  await page.goBack();
  await page.waitForSelector('#start:not([hidden])');
  assert.ok(page.url().startsWith(origin), page.url());
  assert.ok(await page.isHidden('#viewer'));
  // And the image was closed, not hidden: Close is gone, Open works again.
  assert.ok(await page.isHidden('#close-button'));
  await page.click('#sample-button');
  await opened(page);
  await page.click('#close-button');
  await page.waitForSelector('#start:not([hidden])');
  assert.ok(page.url().startsWith(origin));
});

test('a 390x844 phone, light and dark: touch taps select every tab; nothing is cut off', async (t) => {
  const { page, context } = t;
  const cdp = await context.newCDPSession(page);
  await page.setViewportSize({ width: 390, height: 844 });
  await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: true, maxTouchPoints: 1 });
  try {
    await settledLayout(page, 390);
    await home(page);
    await page.click('#sample-button');
    await opened(page);
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const tab of ['structure', 'files', 'checks', 'summary']) {
        await touchTap(page, cdp, `#tab-${tab}`);
        await page.waitForFunction((id) => document.querySelector(`#tab-${id}`).getAttribute('aria-selected') === 'true', tab, { timeout: 5000 })
          .catch(() => { throw new Error(`a tap on the ${tab} tab selected nothing (${scheme})`); });
        assert.ok(await page.isVisible(`#panel-${tab}`), `${tab} panel`);
        if (tab === 'files') await page.waitForSelector('#parts-table');
        if (tab === 'summary') await page.waitForSelector('.batstats');
        assert.deepEqual(await clipped(page), [], `${tab} (${scheme}): cut off`);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${tab} (${scheme}): the page scrolls sideways`);
      }
    }
    // The summary names block states as the legend does.
    const alloc = await page.textContent('.batstats');
    assert.match(alloc, /present/);
    assert.doesNotMatch(alloc, /FULLY_PRESENT|ZERO/);
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
    await cdp.send('Emulation.setTouchEmulationEnabled', { enabled: false }).catch(() => {});
    await cdp.detach().catch(() => {});
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

// lowContrast measures, for every piece of text on screen, the contrast
// ratio (WCAG 2) of its rendered colour against the background it is
// drawn on (the nearest painted ancestor, semi-transparent layers
// composited), and lists what is under 4.5:1, with how many texts of
// each selector in must were measured.
async function lowContrast(page, must) {
  return page.evaluate((must) => {
    const parse = (c) => {
      const m = c.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    };
    const over = (top, under) => top.slice(0, 3).map((v, i) => v * top[3] + under[i] * (1 - top[3])).concat(1);
    const bgOf = (e) => {
      const layers = [];
      for (let n = e; n; n = n.parentElement) {
        const c = parse(getComputedStyle(n).backgroundColor);
        if (c && c[3] > 0) {
          layers.push(c);
          if (c[3] >= 1) break;
        }
      }
      let bg = [255, 255, 255, 1];
      for (const l of layers.reverse()) bg = over(l, bg);
      return bg;
    };
    const lum = (c) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
    };
    const ratio = (a, b) => { const x = lum(a); const y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
    const bad = [];
    const seen = Object.fromEntries(must.map((s) => [s, 0]));
    for (const e of document.querySelectorAll('body *')) {
      if (!['#text'].some(() => [...e.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim()))) continue;
      if (!e.getClientRects().length || e.closest('[hidden], .visually-hidden, :disabled, canvas')) continue;
      const cs = getComputedStyle(e);
      if (cs.visibility !== 'visible') continue;
      let faded = false;
      for (let n = e; n; n = n.parentElement) if (Number(getComputedStyle(n).opacity) < 1) faded = true;
      if (faded) continue;
      const r = e.getBoundingClientRect();
      if (r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) continue;
      const fg = over(parse(cs.color), bgOf(e));
      const k = ratio(fg, bgOf(e));
      for (const s of must) if (e.matches(s)) seen[s]++;
      if (k < 4.5) bad.push(`${e.tagName.toLowerCase()}.${[...e.classList].join('.')} "${e.textContent.trim().slice(0, 24)}" ${k.toFixed(2)}:1`);
    }
    return { bad: [...new Set(bad)].slice(0, 12), seen };
  }, must);
}

test('contrast: every text on the start screen and in the viewer is at least 4.5:1, light and dark', async (t) => {
  const { page } = t;
  await page.setViewportSize({ width: 1440, height: 900 });
  try {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      await home(page);
      let r = await lowContrast(page, ['.privacy', 'h1']);
      assert.deepEqual(r.bad, [], `start screen (${scheme})`);
      await page.click('#sample-button');
      await opened(page);
      // Zero bytes, ASCII dots and a selection over some of them.
      await gotoHex(page, 0x1f0);
      await page.focus('#hex .hex-scroller');
      await page.keyboard.down('Shift');
      for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
      await page.keyboard.up('Shift');
      await hexBytes(page, 0x1f0, 16);
      const seen = {};
      for (const tab of ['summary', 'structure', 'checks', 'files']) {
        await page.click(`#tab-${tab}`);
        if (tab === 'files') await page.waitForSelector('#parts-table');
        r = await lowContrast(page, ['.off', '.b.z', '.a.z', '.b.sel', 'h2', '.inspector-table th', '.verdict-title', '.badge', '.node-range', '.tabs [role="tab"]']);
        assert.deepEqual(r.bad, [], `${tab} tab (${scheme})`);
        for (const [s, n] of Object.entries(r.seen)) seen[s] = (seen[s] || 0) + n;
      }
      // The texts the issue measured were among those measured.
      for (const [s, n] of Object.entries(seen)) assert.ok(n > 0, `no ${s} measured (${scheme})`);
      // Go to's error beside the field, and the open key list over the hex view.
      await page.fill('#goto-input', 'nine');
      await page.press('#goto-input', 'Enter');
      await page.click('#hex-keys summary');
      r = await lowContrast(page, ['.goto-error', '.hex-keys kbd', '.hex-keys dd']);
      assert.deepEqual(r.bad, [], `Go to error and key list (${scheme})`);
      for (const [s, n] of Object.entries(r.seen)) assert.ok(n > 0, `no ${s} measured (${scheme})`);
      await page.click('#hex-keys summary');
      await page.fill('#goto-input', '');
    }
  } finally {
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

test('keyboard: focus lands on the viewer after an open and on the start screen after Close; Ctrl+A in the hex view selects the disk, not the page', async (t) => {
  const { page } = t;
  await home(page);
  await page.focus('#sample-button');
  await page.keyboard.press('Enter');
  await opened(page);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-summary');
  await page.focus('#hex .hex-scroller');
  await page.evaluate(() => window.getSelection().removeAllRanges());
  await page.keyboard.press('Control+a');
  assert.equal(await page.evaluate(() => String(window.getSelection())), '', 'the page\'s text was selected');
  await page.waitForFunction(() => /Selection 0x0–0xffffff \(16,777,216 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  assert.equal(await page.isDisabled('#selection-download'), false);
  assert.equal(await page.getAttribute('#hex .hex-status', 'aria-live'), null, 'the status line is a live region');
  await page.keyboard.press('Escape');
  // Roles match what the keys do: the block map moves by arrows (a slider
  // whose value text names the block), the structure list is disclosures
  // (no tree roles promising arrow keys), and notices are announced once
  // (their own role, inside no live region).
  await page.focus('#batmap canvas');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#batmap canvas', 'role'), 'slider');
  assert.equal(await page.getAttribute('#batmap canvas', 'aria-valuenow'), '2');
  assert.match(await page.getAttribute('#batmap canvas', 'aria-valuetext'), /^Block 2, disk 0x200000/);
  assert.equal(await page.getAttribute('.batmap-tip', 'role'), null);
  await page.click('#tab-structure');
  assert.equal(await page.locator('#panel-structure [role="tree"], #panel-structure [role="treeitem"]').count(), 0);
  assert.ok(await page.locator('#panel-structure details > summary').count() > 3);
  assert.equal(await page.getAttribute('#messages', 'aria-live'), null);
  assert.equal(await page.locator('#messages [aria-live] , [aria-live] #messages').count(), 0);
  await page.focus('#close-button');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#start:not([hidden])');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'pick-button');
});

// ---- partitions and files ------------------------------------------------------------

// The Files tests share one disk, built once at test time (fsimage.mjs, as
// volume/helpers_test.go builds the Go tests' disks): a GPT with
//   1. ext4 "linux data": small files, a 1 MiB file, a directory with a
//      sub-directory and a deleted file, a symlink, a name holding markup,
//      and a directory of 10,000 empty files;
//   2. NTFS "windows data": a 20 MiB file of random bytes (downloaded as
//      slices, and streamed through the engine), a small file with an
//      alternate data stream;
//   3. "junk": 4 MiB of random bytes (no file system);
//   4. "broken": ext4 whose superblock says a block is 2^(10+2^31-1) bytes.
const EXT_FILES = {
  'hello.txt': 'hello, volume\n',
  'empty.dat': '',
  'A Long File Name With Spaces.md': '# long names\n',
  'Ünïcödé.txt': 'utf-8 name\n',
  '<img src=x onerror="window.__xss=5">.txt': 'markup in a name\n',
  'docs/note.txt': 'in a directory\n',
  'docs/gone-with-a-long-name.txt': 'deleted\n',
  'docs/sub/deep.bin': null, // filled below
  'big.bin': null,
};
const XSS_NAME = '<img src=x onerror="window.__xss=5">.txt';
const MANY = 10000;

let filesFx = null;
function filesDisk(t) {
  if (filesFx) return filesFx;
  const work = join(t.work, 'fsimage');
  mkdirSync(work, { recursive: true });
  const files = { ...EXT_FILES, 'docs/sub/deep.bin': FSI.randBytes(3, 70000), 'big.bin': FSI.randBytes(1, (1 << 20) + 12345) };
  for (let i = 0; i < MANY; i++) files[`many/f${String(i).padStart(5, '0')}`] = '';
  const src = FSI.writeTree(join(work, 'ext-src'), files);
  t.sh('ln', ['-s', 'hello.txt', join(src, 'link')]);
  const ext = FSI.mkExt(work, 'ext4', src, 40, { label: 'linuxvol', extra: ['-N', '16384'] });
  t.sh('debugfs', ['-w', '-R', 'rm /docs/gone-with-a-long-name.txt', ext]);
  const ntfsFiles = { 'huge.bin': FSI.randBytes(4, 20 << 20), 'small.txt': 'small ntfs file\n' };
  const ads = { 'small.txt:secret': 'an alternate data stream\n' };
  const ntfs = FSI.mkNTFS(work, ntfsFiles, ads, 48, { label: 'WINVOL' });
  const junk = join(work, 'junk.img');
  writeFileSync(junk, FSI.randBytes(5, 4 << 20));
  const broken = FSI.mkExt(work, 'ext4', FSI.writeTree(join(work, 'broken-src'), { 'a.txt': 'a\n' }), 8, { label: 'broken' });
  const b = readFileSync(broken);
  b.writeUInt32LE(0x7fffffff, 1024 + 24); // s_log_block_size
  writeFileSync(broken, b);
  const { raw, partitions } = FSI.mkGPTDisk(work, 'files', 110, [
    { sizeMiB: 40, type: '8300', name: 'linux data', img: ext },
    { sizeMiB: 48, type: '0700', name: 'windows data', img: ntfs },
    { sizeMiB: 4, type: '8300', name: 'junk', img: junk },
    { sizeMiB: 8, type: '8300', name: 'broken', img: broken },
  ]);
  const vhdx = FSI.toVHDX(raw, t.fx.path('files.vhdx'));
  filesFx = { vhdx, raw, partitions, files, ntfsFiles, ads };
  return filesFx;
}

// openFiles opens the Files disk with the file input and shows the Files tab.
async function openFilesTab(t) {
  const { page } = t;
  const fx = filesDisk(t);
  await home(page);
  await page.setInputFiles('#files', fx.vhdx);
  await opened(page);
  await page.click('#tab-files');
  await page.waitForSelector('#parts-table');
  return fx;
}

async function browse(page, index) {
  await page.click(`#part-browse-${index}`);
  await page.waitForSelector(`#fs-browser[data-partition="${index}"][data-state="ready"], #fs-browser[data-partition="${index}"][data-state="error"]`);
}

// treeRows gives the rows of the file tree: path, name, kind, size, level, deleted, times shown.
function treeRows(page, level) {
  return page.$$eval(`#fs-tree [role="treeitem"]${level ? `[aria-level="${level}"]` : ''}`, (rows) => rows.map((r) => ({
    path: r.dataset.path, kind: r.dataset.kind, size: Number(r.dataset.size), level: Number(r.getAttribute('aria-level')),
    name: r.querySelector('.ft-label').textContent, deleted: r.dataset.deleted === 'true',
    mod: r.querySelector('.ft-time').textContent, download: !!r.querySelector('.ft-dl'),
    target: (r.querySelector('.ft-target') || {}).textContent || '',
  })));
}

// saveDownload waits for the download action() starts and returns its name and bytes.
async function saveDownload(t, action, timeout = 60000) {
  await noPicker(t.page);
  const [dl] = await Promise.all([t.page.waitForEvent('download', { timeout }), action()]);
  const p = join(t.work, `dl-${Date.now()}-${dl.suggestedFilename().replace(/[^\w.-]/g, '_')}`);
  await dl.saveAs(p);
  return { name: dl.suggestedFilename(), data: readFileSync(p) };
}

function partSlice(t, fx, index) {
  const p = fx.partitions[index - 1];
  const raw = readFileSync(fx.raw);
  return raw.subarray(p.start * 512, (p.start + p.size) * 512);
}

test('files: the partition table equals sfdisk and vhdx parts', async (t) => {
  const { page } = t;
  const fx = await openFilesTab(t);
  const cli = JSON.parse(t.cli('parts', '--json', fx.vhdx).toString());
  const rows = await page.$$eval('#parts-table tbody.part', (tbs) => tbs.map((tb) => ({ ...tb.dataset, text: tb.textContent })));
  assert.equal(rows.length, 4);
  const names = ['Linux filesystem', 'Microsoft basic data', 'Linux filesystem', 'Linux filesystem'];
  const fsWant = ['ext4', 'ntfs', '', 'ext4'];
  fx.partitions.forEach((sf, i) => {
    const r = rows[i];
    assert.equal(Number(r.index), i + 1);
    assert.equal(r.typeName, names[i], `type of partition ${i + 1}`);
    assert.equal(Number(r.firstLba), sf.start, `first LBA of ${i + 1}`);
    assert.equal(Number(r.lastLba), sf.start + sf.size - 1, `last LBA of ${i + 1}`);
    assert.equal(Number(r.offset), sf.start * 512);
    assert.equal(Number(r.size), sf.size * 512);
    assert.equal(r.guid, sf.uuid);
    assert.equal(r.name, sf.name);
    assert.equal(r.fs, fsWant[i]);
    assert.equal(r.fs, cli.partitions[i].file_system || '');
    // The name shown is the engine's (the page keeps no list of names).
    assert.ok(r.text.includes(cli.partitions[i].file_system_name || 'no file system found'), `${r.text} names ${cli.partitions[i].file_system_name}`);
    assert.ok(r.text.includes(sf.type), `type GUID ${sf.type} shown`);
    assert.ok(r.text.includes(sf.uuid), 'unique GUID shown');
    assert.ok(r.text.includes(names[i]));
  });
  assert.match(rows[0].text, /ext4/);
  assert.match(rows[1].text, /NTFS/);
  assert.match(rows[2].text, /no file system found/);
  assert.doesNotMatch(rows[2].text, /not readable/);
  assert.equal(rows[0].supported, 'true');
  assert.equal(rows[2].supported, 'false');
  // Scheme, disk GUID, both GPT headers, protective MBR; no problems.
  assert.equal(await page.getAttribute('#parts', 'data-scheme'), 'gpt');
  assert.equal(await page.textContent('#parts dd[data-key="disk_guid"]'), cli.disk_guid);
  assert.equal(await page.textContent('#parts dd[data-key="protective_mbr"]'), 'present');
  const heads = await page.$$eval('.gpt-header', (ls) => ls.map((l) => ({ ...l.dataset })));
  assert.deepEqual(heads, [{ which: 'primary', valid: 'true', used: 'true' }, { which: 'backup', valid: 'true', used: 'false' }]);
  assert.equal(await page.$('#parts-problems'), null);
  // The table fits its panel (cards when the panel is narrow), nothing
  // cut off on the right; the panel does not widen at the hex view's cost
  // (see the test of 16 bytes a row).
  const fit = await page.evaluate(() => {
    const wrap = document.querySelector('#parts-table').parentElement;
    return { scroll: wrap.scrollWidth, width: wrap.clientWidth, right: wrap.getBoundingClientRect().right, panel: document.querySelector('#panel-files').getBoundingClientRect().right };
  });
  assert.ok(fit.scroll <= fit.width + 1 && fit.right <= fit.panel + 1, `partition table ${fit.scroll}px in ${fit.width}px`);
  await page.screenshot({ path: join(t.work, 'files-parts.png') });
  // A phone-width window: the page does not get wider than the window (the
  // table and the tree scroll inside their boxes).
  await browse(page, 1);
  await page.setViewportSize({ width: 390, height: 844 });
  await settledLayout(page, 390);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page is ${overflow}px wider than a 390px window`);
  await page.locator('#fs-browser').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(t.work, 'files-narrow.png') });
  await page.setViewportSize({ width: 1280, height: 800 });
});

test('files: browse ext4 with the keyboard; listings equal vhdx ls; a download equals the file', async (t) => {
  const { page } = t;
  const fx = await openFilesTab(t);
  await browse(page, 1);
  assert.equal(await page.getAttribute('#fs-browser', 'data-fs'), 'ext4');
  assert.equal(await page.getAttribute('#fs-browser', 'data-label'), 'linuxvol');
  assert.match(await page.textContent('#fs-line'), /ext4 · label “linuxvol”/);
  // The root, as vhdx ls lists it.
  const cliRoot = JSON.parse(t.cli('ls', '--json', fx.vhdx, '1', '/').toString());
  const root = await treeRows(page, 2);
  const byName = (list) => Object.fromEntries(list.map((e) => [e.name, e]));
  assert.deepEqual(root.map((r) => r.name).sort(), cliRoot.map((e) => e.name).sort());
  const cliBy = byName(cliRoot);
  for (const r of root) {
    const e = cliBy[r.name];
    assert.equal(r.path, e.path);
    assert.equal(r.size, e.size, `size of ${r.name}`);
    assert.equal(r.kind, e.is_dir ? 'dir' : e.type);
    assert.equal(r.mod, e.mod_time.slice(0, 16).replace('T', ' '), `modified time of ${r.name}`);
    if (e.type === 'file') assert.equal(r.size, Buffer.byteLength(fx.files[r.name]), `${r.name} against its source`);
  }
  assert.equal(byName(root).link.target, '→ hello.txt');
  assert.equal(byName(root).link.download, false);
  // A name holding markup is text.
  assert.ok(byName(root)[XSS_NAME], 'the markup name is listed as text');
  assert.deepEqual(await page.evaluate(() => ({ img: document.querySelectorAll('img').length, xss: window.__xss })), { img: 0, xss: undefined });

  // Keyboard: the root row has focus; type "d" to reach docs, open it with ArrowRight.
  assert.equal(await page.evaluate(() => document.activeElement.dataset.path), '/');
  await page.keyboard.press('d');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.path), '/docs');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#fs-tree [data-path="/docs"][aria-expanded="true"]');
  const docs = await treeRows(page, 3);
  const cliDocs = JSON.parse(t.cli('ls', '--json', fx.vhdx, '1', '/docs').toString());
  assert.deepEqual(docs.map((r) => `${r.name} ${r.size} ${r.deleted}`).sort(), cliDocs.map((e) => `${e.name} ${e.size} ${!!e.deleted}`).sort());
  const gone = docs.find((r) => r.deleted);
  assert.ok(gone && /with-a-long-name\.txt$/.test(gone.name), 'the deleted file is listed');
  assert.equal(gone.download, false, 'a deleted file offers no download');
  const goneRow = page.locator(`#fs-tree [data-path=${JSON.stringify(gone.path)}]`);
  assert.match(await goneRow.textContent(), /deleted/);
  assert.equal(await goneRow.locator('.ft-label').evaluate((e) => getComputedStyle(e).textDecorationLine), 'line-through');
  // Down into docs: note.txt; Tab reaches the details pane's Download button.
  await page.keyboard.press('ArrowDown'); // sub (directories first)
  assert.equal(await page.evaluate(() => document.activeElement.dataset.path), '/docs/sub');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#fs-tree [data-path="/docs/sub/deep.bin"]');
  await page.keyboard.press('ArrowLeft'); // closes sub
  await page.waitForSelector('#fs-tree [data-path="/docs/sub/deep.bin"]', { state: 'detached' });
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => document.activeElement.closest('[role=treeitem]').getAttribute('aria-level')), '2');
  // debugfs rm keeps the inode's extents: the deleted file's bytes come back.
  await goneRow.locator('.ft-label').click();
  assert.match(await page.textContent('#fs-details'), /may have been reused/);
  const recovered = await saveDownload(t, () => page.click('#fs-recover'));
  assert.equal(recovered.name, `recovered-${gone.name}`);
  assert.equal(recovered.data.toString(), fx.files['docs/gone-with-a-long-name.txt']);
  await page.focus('#fs-tree [data-path="/docs/note.txt"]').catch(() => {});
  await page.click('#fs-tree [data-path="/docs/note.txt"] .ft-label');
  assert.match(await page.textContent('#fs-details'), /\/docs\/note\.txt/);
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'fs-download');
  const note = await saveDownload(t, () => page.keyboard.press('Enter'));
  assert.equal(note.name, 'note.txt');
  assert.equal(note.data.toString(), fx.files['docs/note.txt']);
  // Enter on a file row downloads it: big.bin (1 MiB + 12,345 bytes, a Blob of slices).
  await page.click('#fs-tree [data-path="/big.bin"] .ft-label');
  const big = await saveDownload(t, () => page.keyboard.press('Enter'));
  assert.equal(big.name, 'big.bin');
  assert.equal(big.data.length, fx.files['big.bin'].length);
  assert.equal(sha256(big.data), sha256(fx.files['big.bin']));
  await page.waitForSelector('#downloads-list li[data-name="big.bin"][data-state="done"]');
  await page.screenshot({ path: join(t.work, 'files-ext4.png') });
  // The same bytes as vhdx get.
  assert.equal(sha256(t.cli('get', fx.vhdx, '1', '/big.bin')), sha256(big.data));
});

// How long the listing takes is printed, not checked (BENCHMARKS.md is
// where timings belong).
test('files: a directory of 10,000 entries lists them all, in order, and the keyboard reaches every one', async (t) => {
  const { page } = t;
  await openFilesTab(t);
  await browse(page, 1);
  const ms = await page.evaluate(async () => {
    const row = document.querySelector('#fs-tree [data-path="/many"]');
    const t0 = performance.now();
    row.querySelector('.ft-label').click();
    await new Promise((resolve) => {
      const check = () => (row.dataset.count && row.getAttribute('aria-expanded') === 'true' ? resolve() : requestAnimationFrame(check));
      check();
    });
    // One frame drawn with the rows in place.
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return performance.now() - t0;
  });
  const rows = await page.$$eval('#fs-tree [role="treeitem"]', (rs) => rs.filter((r) => r.dataset.path.startsWith('/many/')).length);
  assert.equal(rows, MANY);
  assert.equal(await page.getAttribute('#fs-tree [data-path="/many"]', 'data-count'), String(MANY));
  console.log(`     10,000 entries listed and drawn in ${ms.toFixed(0)} ms`);
  // They are the right ones, in order; End reaches the last, and closing is quick too.
  const many = (await treeRows(page, 3)).map((r) => r.name);
  assert.deepEqual(many, Array.from({ length: MANY }, (_, i) => `f${String(i).padStart(5, '0')}`));
  await page.focus('#fs-tree [data-path="/many"]');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.$$eval('#fs-tree [role="treeitem"]', (rs) => rs.length), (await treeRows(page, 2)).length + 1);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction(() => document.activeElement.dataset.path === '/many/f00000');
  await page.keyboard.press('PageDown');
  const paged = await page.evaluate(() => document.activeElement.dataset.path);
  assert.ok(/^\/many\/f000[0-9]{2}$/.test(paged) && paged > '/many/f00005', `PageDown went to ${paged}`);
  // End: the last row, a file of the root, after the 10,000; ArrowUp from
  // the first file of the root reaches the last of them.
  await page.keyboard.press('End');
  const rootRows = await treeRows(page, 2);
  assert.equal(await page.evaluate(() => document.activeElement.dataset.path), rootRows[rootRows.length - 1].path);
  await page.click(`#fs-tree [data-path=${JSON.stringify(rootRows.find((r) => r.kind !== 'dir').path)}] .ft-label`);
  await page.keyboard.press('ArrowUp');
  await page.waitForFunction(() => document.activeElement.dataset.path === '/many/f09999');
  await page.keyboard.press('Home');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.path), '/');
});

test('files: NTFS: a 20 MiB file streams through a temporary file, a stream downloads, Cancel stops', async (t) => {
  const { page } = t;
  // No save picker, so that large files go through the origin private file
  // system. And a hook at the protocol boundary: the engine maps an
  // uncompressed NTFS file onto the disk (file_plan), so it downloads as
  // slices like an ext4 file; for the paths in window.__unmapped its
  // file_plan replies say mapped: false, as they do for a compressed NTFS
  // file (which the Debian tools cannot make without mounting), so that the
  // page streams the file through file_read.
  await page.addInitScript(() => {
    delete Window.prototype.showSaveFilePicker;
    delete window.showSaveFilePicker;
    const W = window.Worker;
    window.Worker = class extends W {
      constructor(...args) {
        super(...args);
        const ids = new Set();
        const post = this.postMessage.bind(this);
        this.postMessage = (msg, ...rest) => {
          if (msg && msg.op === 'file_plan' && (window.__unmapped || []).includes(msg.args.path)) ids.add(msg.id);
          return post(msg, ...rest);
        };
        let handler = null;
        const wrap = (e) => {
          const d = e.data;
          if (d && ids.has(d.id) && !d.progress) {
            ids.delete(d.id);
            if (d.ok) {
              handler(new MessageEvent('message', { data: { ...d, result: { ...d.result, mapped: false, runs: [], next: null } } }));
              return;
            }
          }
          handler(e);
        };
        const proto = W.prototype;
        const desc = Object.getOwnPropertyDescriptor(EventTarget.prototype, 'onmessage') || Object.getOwnPropertyDescriptor(proto, 'onmessage');
        Object.defineProperty(this, 'onmessage', {
          get: () => handler,
          set: (h) => { handler = h; desc.set.call(this, wrap); },
        });
      }
    };
  });
  // A leftover of an earlier visit is removed when the page starts.
  if (!page.url().startsWith('http')) await page.goto('/');
  await page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('vhdxview-downloads', { create: true });
    const w = await (await dir.getFileHandle('leftover.bin', { create: true })).createWritable();
    await w.write(new Uint8Array(4096));
    await w.close();
  });
  await page.goto('/');
  const tempFiles = () => page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('vhdxview-downloads', { create: true });
    const names = [];
    for await (const n of dir.keys()) names.push(n);
    return names;
  });
  await until(page, async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('vhdxview-downloads', { create: true });
    for await (const n of dir.keys()) if (n === 'leftover.bin') return false;
    return true;
  });
  assert.equal(await page.evaluate(() => typeof window.showSaveFilePicker), 'undefined');
  const fx = await openFilesTab(t);
  await browse(page, 2);
  assert.equal(await page.getAttribute('#fs-browser', 'data-fs'), 'ntfs');
  assert.equal(await page.getAttribute('#fs-browser', 'data-label'), 'WINVOL');
  const cliRoot = JSON.parse(t.cli('ls', '--json', fx.vhdx, '2', '/').toString());
  const root = await treeRows(page, 2);
  // NTFS's own files are in the NTFS metadata group (its own test, below).
  assert.deepEqual(root.map((r) => r.name).sort(), ['NTFS metadata', ...cliRoot.filter((e) => !e.metadata).map((e) => e.name)].sort());
  const huge = root.find((r) => r.name === 'huge.bin');
  assert.equal(huge.size, 20 << 20);
  // The stream is listed under its file.
  const streams = await treeRows(page, 3);
  const secret = streams.find((r) => r.path === '/small.txt:secret');
  assert.ok(secret, `streams listed: ${JSON.stringify(streams.map((s) => s.path))}`);
  assert.equal(secret.kind, 'stream');
  assert.equal(secret.size, Buffer.byteLength(fx.ads['small.txt:secret']));
  assert.ok(secret.download);

  // Watch the progress bars.
  await page.evaluate(() => {
    window.__progress = [];
    new MutationObserver(() => {
      for (const li of document.querySelectorAll('#downloads-list li[data-state="running"]')) {
        window.__progress.push(`${li.dataset.name} ${li.dataset.done}/${li.dataset.total}`);
      }
    }).observe(document.querySelector('#downloads-list'), { subtree: true, attributes: true, childList: true });
  });
  // As the engine gives it: mapped onto the disk, a Blob of slices.
  const sliced = await saveDownload(t, () => page.click('#fs-tree [data-path="/huge.bin"] .ft-dl'));
  assert.equal(sliced.name, 'huge.bin');
  assert.equal(sha256(sliced.data), sha256(fx.ntfsFiles['huge.bin']));
  const job = page.locator('#downloads-list li[data-name="huge.bin"]').first();
  await page.waitForSelector('#downloads-list li[data-name="huge.bin"][data-state="done"]');
  assert.equal((await tempFiles()).length, 0, 'no temporary file for a Blob of slices');
  // Unmapped: streamed through the engine, 16 MiB at a time, into a temporary file.
  await page.evaluate(() => { window.__unmapped = ['/huge.bin']; window.__progress = []; });
  const got = await saveDownload(t, () => page.click('#fs-tree [data-path="/huge.bin"] .ft-dl'));
  assert.equal(got.name, 'huge.bin');
  assert.equal(got.data.length, 20 << 20);
  assert.equal(sha256(got.data), sha256(fx.ntfsFiles['huge.bin']));
  await page.waitForSelector('#downloads-list li[data-name="huge.bin"][data-state="done"]');
  assert.match(await job.textContent(), /temporary file/);
  assert.match(await job.textContent(), /20 MiB of 20 MiB/);
  assert.equal(await job.locator('progress').evaluate((p) => `${p.value}/${p.max}`), `${20 << 20}/${20 << 20}`);
  const seen = await page.evaluate(() => window.__progress);
  assert.ok(seen.includes(`huge.bin ${16 << 20}/${20 << 20}`), `progress shown part way: ${seen.join(', ')}`);
  await page.screenshot({ path: join(t.work, 'files-ntfs.png') });
  // The temporary file stays until the next visit (the download reads it).
  assert.equal((await tempFiles()).filter((n) => n.endsWith('huge.bin')).length, 1);

  // The alternate data stream.
  const ads = await saveDownload(t, () => page.click('#fs-tree [data-path="/small.txt:secret"] .ft-dl'));
  assert.equal(ads.name, 'small.txt_secret');
  assert.equal(ads.data.toString(), fx.ads['small.txt:secret']);
  assert.equal(sha256(t.cli('get', fx.vhdx, '2', '/small.txt:secret')), sha256(ads.data));

  // With a save picker, the bytes go to the picked file.
  await page.evaluate(() => {
    window.showSaveFilePicker = async ({ suggestedName }) => {
      window.__picked = suggestedName;
      return (await navigator.storage.getDirectory()).getFileHandle(`picked-${suggestedName}`, { create: true });
    };
  });
  await page.click('#fs-tree [data-path="/huge.bin"] .ft-dl');
  await page.waitForFunction(() => document.querySelector('#downloads-list li[data-name="huge.bin"]').dataset.state === 'done');
  assert.match(await job.textContent(), /where you chose/);
  const picked = await page.evaluate(async () => {
    const root = await navigator.storage.getDirectory();
    const f = await (await root.getFileHandle('picked-huge.bin')).getFile();
    const h = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
    await root.removeEntry('picked-huge.bin');
    return { name: window.__picked, size: f.size, sha: [...h].map((b) => b.toString(16).padStart(2, '0')).join('') };
  });
  assert.deepEqual(picked, { name: 'huge.bin', size: 20 << 20, sha: sha256(fx.ntfsFiles['huge.bin']) });

  // Cancel: a picked file whose first write does not end until the test
  // ends it; Cancel stops the download all the same (it cannot be waiting
  // for the write), and the file's stream is aborted.
  await page.evaluate(() => {
    window.__aborted = false;
    window.showSaveFilePicker = async () => ({
      createWritable: async () => new WritableStream({
        // Ends only when the test says so, after the cancel.
        write: () => new Promise((r) => { window.__endWrite = r; }),
        abort: () => { window.__aborted = true; },
      }),
    });
  });
  await page.click('#fs-tree [data-path="/huge.bin"] .ft-dl');
  await page.waitForFunction(() => document.querySelector('#downloads-list li[data-name="huge.bin"]').dataset.state === 'running');
  await page.click('#downloads-list li[data-name="huge.bin"] button');
  await page.waitForFunction(() => document.querySelector('#downloads-list li[data-name="huge.bin"]').dataset.state === 'cancelled');
  // A stream is aborted once its write in flight ends.
  await page.evaluate(() => window.__endWrite && window.__endWrite());
  await page.waitForFunction(() => window.__aborted === true);
  assert.match(await job.textContent(), /Cancelled/);
  await page.evaluate(() => { delete window.showSaveFilePicker; });
});

test('files: download partition equals the raw bytes; show in hex lands on it', async (t) => {
  const { page } = t;
  const fx = await openFilesTab(t);
  const want = partSlice(t, fx, 1);
  // Compare with qemu-img's reading of the VHDX too.
  const qraw = qemuRaw(t, fx.vhdx);
  const p1 = fx.partitions[0];
  assert.equal(sha256(qraw.subarray(p1.start * 512, (p1.start + p1.size) * 512)), sha256(want));
  const got = await saveDownload(t, () => page.click('#part-download-1'));
  assert.equal(got.name, 'files-p1.raw');
  assert.equal(got.data.length, want.length);
  assert.equal(sha256(got.data), sha256(want));
  // Show in hex: partition 2 starts with the NTFS boot sector ("NTFS    " at byte 3).
  const off = fx.partitions[1].start * 512;
  await page.click('#part-hex-2');
  await page.waitForFunction((o) => new RegExp(`Offset 0x${o.toString(16)} `).test(document.querySelector('#hex .hex-status').textContent), off);
  assert.equal(await page.inputValue('#hex-source'), 'disk');
  assert.equal(await hexBytes(page, off + 3, 8), Buffer.from('NTFS    ').toString('hex'));
  assert.equal(await page.evaluate(() => document.activeElement.className), 'hex-scroller');
});

test('files: a partition without a readable file system says why and still downloads raw', async (t) => {
  const { page } = t;
  const fx = await openFilesTab(t);
  // Random bytes: nothing recognised, so no Browse; Details says why.
  const junk = page.locator('#parts-table tbody[data-index="3"]');
  assert.match(await junk.textContent(), /no file system found/);
  assert.equal(await page.textContent('#part-browse-3'), 'Details');
  await browse(page, 3);
  const err = page.locator('#fs-error');
  assert.equal(await err.getAttribute('data-reason'), 'unsupported');
  const off3 = fx.partitions[2].start * 512;
  assert.match(await err.textContent(), /No file system that vhdxview knows was found on partition 3/);
  assert.ok((await err.textContent()).includes(`disk offset 0x${off3.toString(16)}`));
  const raw3 = await saveDownload(t, () => page.click('#fs-error-download'));
  assert.equal(raw3.name, 'files-p3.raw');
  assert.equal(sha256(raw3.data), sha256(partSlice(t, fx, 3)));
  // A damaged ext4: detected, but its superblock does not hold.
  await browse(page, 4);
  assert.equal(await err.getAttribute('data-reason'), 'damaged');
  assert.equal(await err.getAttribute('data-fs'), 'ext4');
  const off4 = fx.partitions[3].start * 512;
  const text = await err.textContent();
  assert.match(text, /The ext4 file system of partition 4 is damaged/);
  assert.ok(text.includes(`disk offset 0x${off4.toString(16)}`), text);
  assert.match(text, /block size/);
  assert.ok(await page.isVisible('#fs-error-download'));
  assert.ok(await page.isVisible('#part-download-4'));
  await page.screenshot({ path: join(t.work, 'files-damaged.png') });
  await page.click('#fs-error-hex');
  await page.waitForFunction((o) => new RegExp(`Offset 0x${o.toString(16)} `).test(document.querySelector('#hex .hex-status').textContent), off4);
});

test('files: a damaged primary GPT falls back to the backup, and the page says so', async (t) => {
  const { page } = t;
  const fx = filesDisk(t);
  const raw = join(t.work, 'badgpt.raw');
  const b = readFileSync(fx.raw);
  b[512 + 16] ^= 0xff; // the primary header's CRC-32
  writeFileSync(raw, b);
  const vhdx = FSI.toVHDX(raw, t.fx.path('badgpt.vhdx'));
  const cli = JSON.parse(t.cli('parts', '--json', vhdx).toString());
  assert.ok(cli.problems && cli.problems.length, 'vhdx parts reports a problem');
  await home(page);
  await page.setInputFiles('#files', vhdx);
  await opened(page);
  await page.click('#tab-files');
  await page.waitForSelector('#parts-problems');
  const problems = await page.textContent('#parts-problems');
  assert.match(problems, /damaged/);
  for (const p of cli.problems) assert.ok(problems.includes(p), `problem shown: ${p}`);
  const heads = await page.$$eval('.gpt-header', (ls) => ls.map((l) => ({ ...l.dataset, text: l.textContent })));
  assert.equal(heads[0].which, 'primary');
  assert.equal(heads[0].valid, 'false');
  assert.equal(heads[1].used, 'true');
  assert.equal(await page.locator('#parts-table tbody.part').count(), 4);
  await browse(page, 1);
  assert.equal(await page.getAttribute('#fs-browser', 'data-state'), 'ready');
});

// ---- cancelling, and reporting bugs ------------------------------------------------

test('downloads without a save picker: too large is refused up front; Cancel in the list stops one being prepared; a Blob download "started"', async (t) => {
  const { page } = t;
  // 2 Mi blocks, none allocated: planning a large range takes a while.
  const file = t.fx.make('sparse2t.vhdx', { virtualSize: 2 * 2 ** 40, blockSize: 1 << 20 });
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  let downloads = 0;
  const count = () => { downloads++; };
  page.on('download', count);
  try {
    await noPicker(page);
    await page.click('#download-button');
    await page.waitForSelector('#download-dialog[open]');
    // The whole 2 TiB disk cannot be a Blob download: said before anything starts.
    await page.check('#dl-whole');
    assert.ok(await page.isDisabled('#dl-go'));
    assert.match(await page.textContent('#download-dialog .dl-msg'), /2 TiB is more than this browser can download here.*Download a partition \(Files tab\) or a range/);
    // 1 TiB can: it is prepared in the download list, where Cancel stops it.
    await page.check('#dl-range');
    await page.selectOption('#dl-unit', 'bytes');
    await page.fill('#dl-from', '0');
    await page.fill('#dl-length', '1T');
    assert.equal(await page.isDisabled('#dl-go'), false);
    assert.match(await page.textContent('#dl-note'), /write all 1 TiB, zeros included.*cannot know how much free space/);
    // Earlier tests' finished downloads out of the way.
    await page.evaluate(() => { const c = document.querySelector('#downloads-clear'); if (c) c.click(); });
    await page.click('#dl-go');
    await page.waitForSelector('#download-dialog:not([open])', { state: 'attached' });
    const job = '#downloads-list li[data-name="sparse2t-0x0-0x10000000000.raw"]';
    // Attached, not visible: rows of earlier tests' downloads may push this
    // one past the list's scroll area.
    await page.waitForSelector(`${job}[data-state="running"]`, { state: 'attached' });
    await page.locator(`${job} button`).scrollIntoViewIfNeeded();
    await page.click(`${job} button`);
    await page.waitForSelector(`${job}:not([data-state="running"])`, { state: 'attached' });
    assert.equal(await page.getAttribute(job, 'data-state'), 'cancelled', await page.textContent(job));
    assert.match(await page.textContent(job), /Cancelled; nothing was saved/);
    // The engine answers again, and still nothing was downloaded.
    const bytes = await page.evaluate(async () => Array.from(await window.vhdxview.read(window.vhdxviewUI.state.res.image, 0, 4)));
    assert.deepEqual(bytes, [0, 0, 0, 0]);
    assert.equal(downloads, 0, 'a cancelled download was saved');
    // A Blob download: the page only knows it started.
    await page.click('#download-button');
    await page.check('#dl-range');
    await page.fill('#dl-from', '0');
    await page.fill('#dl-length', '4K');
    await Promise.all([page.waitForEvent('download'), page.click('#dl-go')]);
    const small = '#downloads-list li[data-name="sparse2t-0x0-0x1000.raw"]';
    await page.waitForSelector(`${small}[data-state="done"]`);
    assert.equal(await page.getAttribute(small, 'data-outcome'), 'started');
    assert.match(await page.textContent(small), /Download started, 4 KiB/);
    assert.doesNotMatch(await page.textContent(small), /Saved/);
    // Finished jobs go with Clear finished.
    await page.click('#downloads-clear');
    await page.waitForSelector('#downloads', { state: 'hidden' });
  } finally {
    page.off('download', count);
  }
});

// pickerInto makes window.showSaveFilePicker give origin private file
// system files (a real FileSystemFileHandle, as a picked file is), so
// that the page's own save path runs without a person at a picker.
async function pickerInto(page, { holdClose = false } = {}) {
  await page.evaluate((holdClose) => {
    window.__picked = [];
    window.showSaveFilePicker = async ({ suggestedName }) => {
      const h = await (await navigator.storage.getDirectory()).getFileHandle(`picked-${suggestedName}`, { create: true });
      window.__picked.push(suggestedName);
      if (!holdClose) return h;
      // close() waits until the test calls window.__releaseClose().
      return {
        createWritable: async (o) => {
          const w = await h.createWritable(o);
          return {
            write: (x) => w.write(x), truncate: (n) => w.truncate(n), abort: (e) => w.abort(e),
            close: () => new Promise((r) => { window.__closing = true; window.__releaseClose = () => r(w.close()); }),
          };
        },
      };
    };
  }, holdClose);
}

test('a 64 TiB sparse disk with 1 MiB blocks: its whole-disk save runs in bounded memory, reports progress, and cancels', async (t) => {
  const { page } = t;
  const file = t.fx.make('sparse64t.vhdx', { virtualSize: 64 * 2 ** 40, blockSize: 1 << 20, blocks: { 3: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 3 } } } });
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  // Without a picker it would be a Blob: refused before anything starts.
  await noPicker(page);
  await page.click('#download-button');
  await page.check('#dl-whole');
  assert.ok(await page.isDisabled('#dl-go'));
  assert.match(await page.textContent('#download-dialog .dl-msg'), /64 TiB is more than this browser can download here/);
  await page.click('#dl-cancel');
  // With a picker: written into the file, zero runs skipped.
  await pickerInto(page);
  try {
    await page.evaluate(() => {
      window.__states = [];
      new MutationObserver(() => {
        // This save's row only: rows of earlier downloads may say Saved.
        for (const li of document.querySelectorAll('#downloads-list li[data-name="sparse64t.raw"]')) window.__states.push(li.textContent);
      }).observe(document.querySelector('#downloads'), { subtree: true, attributes: true, childList: true, characterData: true });
    });
    await page.click('#download-button');
    await page.check('#dl-whole');
    assert.equal(await page.isDisabled('#dl-go'), false);
    assert.match(await page.textContent('#dl-note'), /Zero runs are skipped.*Up to 64 TiB is written there: the page cannot know how much free space/);
    const profile = join(t.work, 'profile');
    const before = browserMemory(profile);
    await page.click('#dl-go');
    const job = '#downloads-list li[data-name="sparse64t.raw"]';
    await page.waitForSelector(`${job}[data-state="running"]`);
    const samples = [];
    let done = 0;
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 500));
      if (await page.getAttribute(job, 'data-state') !== 'running') break;
      samples.push(browserMemory(profile));
      done = Number(await page.getAttribute(job, 'data-done'));
    }
    assert.equal(await page.getAttribute(job, 'data-state'), 'running', 'the save ended before it could be cancelled');
    assert.ok(done > 0 && done < 64 * 2 ** 40, `progress part way: ${done}`);
    const peak = samples.reduce((m, s) => (s.pss > m.pss ? s : m), samples[0]);
    console.log(`     64 TiB save: ${(done / 2 ** 40).toFixed(2)} TiB planned in ${samples.length / 2} s; browser memory at most ${(peak.pss / 2 ** 20).toFixed(0)} MB (PSS; RSS summed ${(peak.rss / 2 ** 20).toFixed(0)} MB) over ${peak.processes} processes; before the save ${(before.pss / 2 ** 20).toFixed(0)} MB; samples ${samples.map((x) => (x.pss / 2 ** 20).toFixed(0)).join(' ')}`);
    // The viewer with this disk open already holds ~550 MB (PSS) before
    // any download: the save must add next to nothing to it (a Blob of
    // the same disk took the browser past 12 GB), and the whole stays
    // far from that.
    assert.ok(peak.pss - before.pss < 100 * 2 ** 20, `saving added ${peak.pss - before.pss} bytes to the browser's ${before.pss}`);
    assert.ok(peak.pss < 1024 * 2 ** 20, `the browser holds ${peak.pss} bytes while saving`);
    await page.click(`${job} button`);
    await page.waitForSelector(`${job}[data-state="cancelled"]`);
    assert.match(await page.textContent(job), /Cancelled; nothing was saved/);
    const left = await page.evaluate(async () => {
      await new Promise((r) => setTimeout(r, 200));
      const root = await navigator.storage.getDirectory();
      const size = (await (await root.getFileHandle('picked-sparse64t.raw')).getFile()).size;
      await root.removeEntry('picked-sparse64t.raw');
      return size;
    });
    assert.equal(left, 0, 'a cancelled save left bytes in the file');
    assert.ok(!(await page.evaluate(() => window.__states)).some((s) => /Saved/.test(s)), 'a cancelled save said Saved');
  } finally {
    await page.evaluate(() => { delete window.showSaveFilePicker; });
  }
});

test('a save into a picked file: "Saved" only once the file is closed, with qemu-img convert\'s bytes', async (t) => {
  const { page } = t;
  const file = t.fx.make('sparse64m.vhdx', {
    virtualSize: 64 << 20, blockSize: 1 << 20,
    blocks: { 0: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 1 } }, 7: { state: 'ZERO' }, 40: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 90 } }, 63: { state: 'FULLY_PRESENT', data: 'aGVsbG8=' } },
  });
  const want = qemuRaw(t, file);
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  await pickerInto(page, { holdClose: true });
  try {
    await page.click('#download-button');
    await page.check('#dl-whole');
    await page.click('#dl-go');
    const job = '#downloads-list li[data-name="sparse64m.raw"]';
    await page.waitForFunction(() => window.__closing === true);
    // Every byte is written, but the file is not closed yet.
    assert.equal(await page.getAttribute(job, 'data-state'), 'running');
    assert.doesNotMatch(await page.textContent(job), /Saved/);
    await page.evaluate(() => window.__releaseClose());
    await page.waitForSelector(`${job}[data-state="done"]`);
    assert.equal(await page.getAttribute(job, 'data-outcome'), 'saved');
    assert.match(await page.textContent(job), /Saved where you chose, 64 MiB \(3 MiB of data; zero runs skipped\)/);
    const got = await page.evaluate(async () => {
      const root = await navigator.storage.getDirectory();
      const f = await (await root.getFileHandle('picked-sparse64m.raw')).getFile();
      const h = new Uint8Array(await crypto.subtle.digest('SHA-256', await f.arrayBuffer()));
      await root.removeEntry('picked-sparse64m.raw');
      return { names: window.__picked, size: f.size, sha: [...h].map((b) => b.toString(16).padStart(2, '0')).join('') };
    });
    assert.deepEqual(got, { names: ['sparse64m.raw'], size: 64 << 20, sha: sha256(want) });
  } finally {
    await page.evaluate(() => { delete window.showSaveFilePicker; });
  }
});

test('an engine bug: its notice copies a diagnostic report with the op and a Go stack, and no file name', async (t) => {
  const { page, context, origin } = t;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  // A real bug in the engine, on demand: the page's next request of the op
  // in window.__faultNext goes to the engine as the test-only op "fault"
  // (PROTOCOL.md), which panics.
  await page.addInitScript(() => {
    const W = window.Worker;
    window.Worker = class extends W {
      constructor(...args) {
        super(...args);
        const post = this.postMessage.bind(this);
        this.postMessage = (msg, ...rest) => {
          if (msg && window.__faultNext && msg.op === window.__faultNext) {
            window.__faultNext = null;
            msg = { id: msg.id, op: 'fault', args: { kind: 'panic' } };
          }
          return post(msg, ...rest);
        };
      }
    };
  });
  await page.goto('/');
  await page.waitForSelector('#start:not([hidden])');
  await page.evaluate(() => { window.__faultNext = 'info'; });
  await page.setInputFiles('#files', sampleFile(t));
  const notice = page.locator('#messages .notice', { hasText: 'Copy diagnostic report' });
  await notice.waitFor();
  assert.match(await notice.textContent(), /This is a bug in vhdxview/);
  await notice.locator('button', { hasText: 'Copy diagnostic report' }).click();
  await notice.locator('text=Copied').waitFor();
  const report = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(report, /^vhdxview diagnostic report$/m);
  assert.match(report, /^engine: \S+ go\d/m);
  assert.match(report, /^browser: Mozilla\/5\.0 .*Chrome\//m);
  assert.match(report, /^op: info$/m);
  assert.match(report, /^error: InternalError: internal error: /m);
  assert.match(report, /main\.\(\*request\)\.fault\(/, 'a Go frame of the op that failed');
  assert.match(report, /^\s+\S+\.go:\d+/m, 'Go file:line frames');
  assert.ok(!report.includes('sample.vhdx'), 'the report names the file');
  // The engine serves on.
  await home(page);
  await page.setInputFiles('#files', sampleFile(t));
  await opened(page);
});

test('files: an NTFS folder whose index is damaged is marked as an incomplete listing', async (t) => {
  const { page } = t;
  // testdata/fs.vhdx.gz's NTFS root keeps its index in one INDX block
  // (payload bytes are stored as they are in the VHDX, 4 KiB-aligned):
  // overwrite its signature, as the worker's TestLsIncomplete does.
  const disk = gunzipSync(readFileSync(join(t.root, 'testdata', 'fs.vhdx.gz')));
  let hits = 0;
  for (let off = 0; off + 4096 <= disk.length; off += 4096) {
    if (disk.toString('latin1', off, off + 4) !== 'INDX') continue;
    const first = off + 0x18 + disk.readUInt32LE(off + 0x18);
    if (first + 0x18 <= off + 4096 && Number(disk.readBigUInt64LE(first + 0x10) & ((1n << 48n) - 1n)) === 5) {
      disk.write('JUNK', off, 'latin1');
      hits++;
    }
  }
  assert.equal(hits, 1, 'the NTFS root index block');
  writeFileSync(t.fx.path('damaged-ntfs.vhdx'), disk);
  await home(page);
  await drop(page, ['damaged-ntfs.vhdx']);
  await opened(page);
  await page.click('#tab-files');
  await page.waitForSelector('#parts-table');
  await browse(page, 2);
  const root = page.locator('#fs-tree [role="treeitem"][data-path="/"]');
  await page.waitForSelector('#fs-tree [role="treeitem"][data-path="/"][data-incomplete="true"]');
  const badge = root.locator('.badge', { hasText: 'incomplete listing' });
  assert.equal(await badge.count(), 1);
  assert.match(await badge.getAttribute('title'), /JUNK/);
});

test('files: an ext4 volume copied while mounted: its journal is replayed in memory, and the tab says so', async (t) => {
  const { page } = t;
  if (process.getuid() !== 0) throw new Error('needs root: the volume is written through a loop mount');
  // Issue #14's case: 300 files committed to the journal (fsync of their
  // directory) and not yet written in place when the image is copied.
  const dir = join(t.work, 'journal');
  mkdirSync(join(dir, 'mnt'), { recursive: true });
  const live = join(dir, 'live.img');
  t.sh('truncate', ['-s', '32M', live]);
  t.sh('mkfs.ext4', ['-q', '-F', live]);
  t.sh('mount', ['-o', 'loop', live, join(dir, 'mnt')]);
  try {
    t.sh('mkdir', [join(dir, 'mnt', 'docs')]);
    for (let i = 0; i < 300; i++) writeFileSync(join(dir, 'mnt', 'docs', `doc${i}.txt`), 'x');
    t.sh('sync', ['-d', join(dir, 'mnt', 'docs')]); // fdatasync: a journal commit only
    t.sh('cp', ['--sparse=always', live, join(dir, 'copy.img')]);
  } finally {
    t.sh('umount', [join(dir, 'mnt')]);
  }
  t.sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vhdx', join(dir, 'copy.img'), t.fx.path('journal.vhdx')]);
  const line = t.cli('parts', t.fx.path('journal.vhdx')).toString().split('\n').find((l) => l.startsWith('partition 0: '));
  assert.ok(line, 'vhdx parts reports the journal');
  await home(page);
  await drop(page, ['journal.vhdx']);
  await opened(page);
  await page.click('#tab-files');
  await page.waitForSelector('#parts-table');
  await browse(page, 0);
  const notice = page.locator('#fs-journal');
  assert.equal(await notice.getAttribute('data-replayed'), 'true');
  assert.equal((await notice.textContent()).trim(), line.slice('partition 0: '.length));
  await page.click('#fs-tree [role="treeitem"][data-path="/docs"]');
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#fs-tree [role="treeitem"][data-path="/docs"][data-count]');
  assert.equal(await page.locator('#fs-tree [role="treeitem"][data-path="/docs"]').getAttribute('data-count'), '300');
});

// ---- VHD and raw disk images ------------------------------------------------------------

// vhdDisk makes a raw disk with data in two places and holes elsewhere, and
// its dynamic VHD made by qemu-img (force_size keeps the size exact).
function vhdDisk(t) {
  const raw = join(t.work, 'vhd-src.raw');
  const b = Buffer.alloc(10 << 20);
  FSI.randBytes(21, 1 << 20).copy(b, 2 << 20);
  FSI.randBytes(22, 4096).copy(b, (8 << 20) + 512);
  writeFileSync(raw, b);
  const vhd = t.fx.path('dynamic.vhd');
  t.sh('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', '-o', 'subformat=dynamic,force_size=on', raw, vhd]);
  return vhd;
}

test('a dynamic VHD: summary, structures, clean checks, a block map, and a whole-disk download equal to qemu-img', async (t) => {
  const { page } = t;
  const vhd = vhdDisk(t);
  const out = join(t.work, 'dynamic.vhd.qemu.raw');
  t.sh('qemu-img', ['convert', '-f', 'vpc', '-O', 'raw', vhd, out]);
  const raw = readFileSync(out);
  const info = JSON.parse(t.cli('info', '--json', vhd).toString());
  assert.equal(info.format, 'vhd');
  await home(page);
  await drop(page, ['dynamic.vhd']);
  await opened(page);
  assert.equal(await page.getAttribute('#verdict', 'data-verdict'), 'clean');
  assert.equal(await summaryValue(page, 'format'), 'vhd');
  for (const k of ['type', 'virtual_size', 'block_size', 'unique_id', 'creator', 'file_size', 'footer']) {
    assert.equal(await summaryValue(page, k), String(info[k]), k);
  }
  assert.match(await page.textContent('#panel-summary'), /VHD \(Virtual PC \/ Hyper-V, version 1\)/);
  // The structure list is the engine's: footer copy, dynamic header, BAT, footer.
  await page.click('#tab-structure');
  const tree = await page.textContent('#panel-structure');
  for (const s of info.structures) assert.ok(tree.includes(s.name), `structure ${s.name} listed`);
  // Checks: vhd's report, clean.
  await page.click('#tab-checks');
  assert.match(await page.textContent('#panel-checks'), /dynamic header/);
  // The block map: VHD's allocated blocks as present, the others not.
  const want = cliMap(t, vhd);
  const got = await batCells(page);
  assert.equal(got.blocks, want.payload_blocks);
  want.blocks.forEach((b, i) => {
    const cat = b.state === 'allocated' ? 'present' : 'absent';
    assert.equal(got.cells[i], got.legend[cat].color, `block ${i} (${b.state}) drawn as ${cat}`);
  });
  assert.ok(want.blocks.some((b) => b.state === 'allocated') && want.blocks.some((b) => b.state === 'unallocated'));
  await gotoHex(page, 2 << 20);
  assert.match(await page.textContent('#hex .hex-status'), /Block 1 · allocated/);
  const whole = await download(t, async () => { await page.check('#dl-whole'); });
  assert.equal(whole.data.length, raw.length);
  assert.equal(sha256(whole.data), sha256(raw));
});

test('a VHD differencing chain dropped together opens as a chain', async (t) => {
  const { page } = t;
  const parent = vhdDisk(t);
  const info = JSON.parse(t.cli('info', '--json', parent).toString());
  // The child, made by the test image writer from the VHD spec, overlays
  // 4 KiB at 4 MiB.
  const desc = {
    Type: 4, Size: 10 << 20, UniqueID: '5f0c1d2e-3a4b-4c5d-8e6f-708192a3b4c5',
    Parent: { ID: info.unique_id, Name: 'dynamic.vhd', Locators: [{ Code: 'W2ru', Data: Buffer.from('.\\dynamic.vhd', 'utf16le').toString('base64') }] },
    Blocks: { 2: { Data: Buffer.from('child!'.repeat(700).slice(0, 4096)).toString('base64'), Present: [{ Start: 0, Count: 8 }] } },
  };
  const descPath = join(t.work, 'child-vhd.json');
  writeFileSync(descPath, JSON.stringify(desc));
  const child = t.fx.path('child.vhd');
  t.sh('go', ['run', './internal/cmd/mkvhdx', '-vhd', '-o', child, descPath]);
  const want = t.cli('cat', child);
  assert.ok(want.includes(Buffer.from('child!child!')));
  await home(page);
  await drop(page, ['child.vhd', 'dynamic.vhd']);
  await opened(page);
  assert.equal(await summaryValue(page, 'format'), 'vhd');
  assert.equal(await summaryValue(page, 'type'), 'differencing');
  assert.equal(await page.getAttribute('#panel-summary dd[data-key="chain"]', 'data-value'), '2');
  const whole = await download(t, async () => { await page.check('#dl-whole'); });
  assert.equal(sha256(whole.data), sha256(want));
});

test('a raw GPT disk image opens directly; its Files tab lists the partition\'s files', async (t) => {
  const { page } = t;
  const work = join(t.work, 'rawgpt');
  mkdirSync(work, { recursive: true });
  const src = FSI.writeTree(join(work, 'src'), { 'hello.txt': 'hello from a raw disk\n', 'dir/inner.bin': FSI.randBytes(31, 5000) });
  const ext = FSI.mkExt(work, 'ext4', src, 8, { label: 'rawvol' });
  const { raw } = FSI.mkGPTDisk(work, 'rawgpt', 12, [{ sizeMiB: 8, type: '8300', name: 'data', img: ext }]);
  copyFileSync(raw, t.fx.path('disk.img'));
  await home(page);
  await drop(page, ['disk.img']);
  await opened(page);
  assert.equal(await summaryValue(page, 'format'), 'raw');
  assert.match(await page.textContent('#panel-summary'), /raw disk image \(no container\)/);
  assert.match(await page.textContent('#batmap-card'), /no container and no block table/);
  await page.click('#tab-files');
  await page.waitForSelector('#parts-table');
  await browse(page, 1);
  const cli = JSON.parse(t.cli('ls', '--json', t.fx.path('disk.img'), '1', '/').toString());
  const names = (await treeRows(page, 2)).map((r) => r.name).sort();
  assert.deepEqual(names, cli.map((e) => e.name).sort());
  assert.ok(names.includes('hello.txt') && names.includes('dir'));
});

test('a file of no known kind offers "Open as a raw disk", which opens it', async (t) => {
  const { page } = t;
  const data = FSI.randBytes(41, 1 << 20);
  writeFileSync(t.fx.path('random.bin'), data);
  await home(page);
  await drop(page, ['random.bin']);
  await page.waitForSelector('#verdict[data-verdict="unreadable"]');
  assert.match(await page.textContent('#panel-summary'), /random\.bin is a file of unknown kind, not a disk image vhdxview reads/);
  await page.click('#open-raw');
  await opened(page);
  assert.equal(await summaryValue(page, 'format'), 'raw');
  assert.equal(await summaryValue(page, 'virtual_size'), String(data.length));
  assert.equal(await hexBytes(page, 0, 16), data.subarray(0, 16).toString('hex'));
  const whole = await download(t, async () => { await page.check('#dl-whole'); });
  assert.equal(sha256(whole.data), sha256(data));
});

// ---- hash, search, data inspector ---------------------------------------------

test('hash dialog: the whole disk and a selection equal Node\'s digests of qemu-img\'s raw; copy; verify match and mismatch; cancel', async (t) => {
  const { page, context, origin } = t;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const file = sampleFile(t);
  const raw = qemuRaw(t, file);
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  await page.click('#hash-button');
  await page.waitForSelector('#hash-dialog[open]');
  assert.ok(await page.isChecked('#hash-whole'));
  assert.ok(await page.isChecked('#hash-sha256'));
  await page.check('#hash-md5');
  await page.click('#hash-go');
  await page.waitForSelector('#hash-sha256-value', { timeout: 60000 });
  assert.equal(await page.textContent('#hash-sha256-value'), sha256(raw));
  assert.equal(await page.textContent('#hash-md5-value'), createHash('md5').update(raw).digest('hex'));
  assert.equal(await page.$('#hash-sha1-value'), null, 'only what was asked');
  await page.click('#hash-copy-sha256');
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), sha256(raw));
  await page.fill('#hash-verify', `${sha256(raw).toUpperCase()}  disk.raw`);
  assert.match(await page.textContent('#hash-verdict'), /^Match: the SHA-256/);
  await page.fill('#hash-verify', createHash('md5').update(raw).digest('hex'));
  assert.match(await page.textContent('#hash-verdict'), /^Match: the MD5/);
  await page.fill('#hash-verify', '0'.repeat(64));
  assert.match(await page.textContent('#hash-verdict'), /^Mismatch/);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('#hash-dialog').open);

  // A selection of the hex view: 0x200..0x21f (Shift+Down twice: 32 bytes).
  await gotoHex(page, 0x200);
  await page.focus('#hex .hex-scroller');
  await page.keyboard.press('Home');
  await page.keyboard.down('Shift');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
  await page.waitForFunction(() => /Selection 0x200–0x21f \(32 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  await page.click('#hash-button');
  assert.ok(await page.isChecked('#hash-selection'));
  assert.match(await page.textContent('#hash-dialog fieldset'), /Selection 0x200–0x21f, 32 bytes/);
  await page.check('#hash-sha1');
  await page.uncheck('#hash-sha256');
  await page.click('#hash-go');
  await page.waitForSelector('#hash-sha1-value');
  assert.equal(await page.textContent('#hash-sha1-value'), createHash('sha1').update(raw.subarray(0x200, 0x220)).digest('hex'));
  await page.keyboard.press('Escape');

  // Cancel: a 64 TiB disk of zeros would take days.
  const huge = t.fx.make('hash-huge.vhdx', { virtualSize: 64 * 2 ** 40, blockSize: 256 << 20, blocks: {} });
  await home(page);
  await page.setInputFiles('#files', huge);
  await opened(page);
  await page.click('#hash-button');
  await page.click('#hash-go');
  await page.waitForFunction(() => document.querySelector('#hash-dialog progress:not([hidden])'));
  assert.equal(await page.textContent('#hash-cancel'), 'Cancel');
  await page.click('#hash-cancel');
  await page.waitForFunction(() => document.querySelector('#hash-dialog .dl-msg').textContent === 'Cancelled.');
  assert.equal(await page.textContent('#hash-cancel'), 'Close');
  await page.click('#hash-cancel');
});

test('search box: hits equal a scan of qemu-img\'s raw; Enter, Shift+Enter and the buttons step through them, each selected in the hex view', async (t) => {
  const { page } = t;
  const raw = qemuRaw(t, sampleFile(t));
  const hits = [];
  for (let i = raw.indexOf('EFI PART'); i >= 0; i = raw.indexOf('EFI PART', i + 1)) hits.push(i);
  assert.ok(hits.length >= 2, 'the sample has both GPT headers');
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  const status = () => page.textContent('#search-status');
  const selected = () => page.evaluate(() => document.querySelector('#hex .hex-status').textContent);
  const hitIs = async (k) => {
    const at = hits[k];
    await page.waitForFunction((s) => document.querySelector('#search-status').textContent.startsWith(s), `Hit ${k + 1} of ${hits.length} at 0x${at.toString(16)}`);
    assert.match(await selected(), new RegExp(`Selection 0x${at.toString(16)}–0x${(at + 7).toString(16)} \\(8 bytes\\)`));
  };
  await page.fill('#search-input', 'EFI PART');
  await page.press('#search-input', 'Enter');
  await hitIs(0);
  await page.press('#search-input', 'Enter');
  await hitIs(1);
  await page.press('#search-input', 'Shift+Enter');
  await hitIs(0);
  await page.press('#search-input', 'Shift+Enter');
  await hitIs(hits.length - 1); // wraps to the last
  await page.click('#search-next');
  await hitIs(0); // and back to the first
  // Hex bytes, and something absent.
  await page.selectOption('#search-mode', 'hex');
  await page.fill('#search-input', '45 46 49 20 50 41 52 54');
  await page.click('#search-next');
  await hitIs(1);
  await page.fill('#search-input', 'zz');
  await page.press('#search-input', 'Enter');
  assert.match(await status(), /Type hex bytes/);
  await page.selectOption('#search-mode', 'utf16');
  await page.fill('#search-input', 'no such text here');
  await page.press('#search-input', 'Enter');
  await page.waitForFunction(() => document.querySelector('#search-status').textContent === 'Not found.');
});

test('data inspector: known bytes decode as integers, floats, times, a GUID and text; the cursor\'s bytes match Node\'s reading', async (t) => {
  const { page } = t;
  const file = sampleFile(t);
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  // rows() on known bytes.
  const table = await page.evaluate(async () => {
    const { rows } = await import('/web/app/inspector.js');
    const r = (...b) => Object.fromEntries(rows(Uint8Array.from(b)).map(([k, le, be]) => [k, be === undefined ? le : [le, be]]));
    return {
      ints: r(0xff, 0xfe, 0x00, 0x80, 0x01, 0x02, 0x03, 0x84),
      float: r(0x00, 0x00, 0x80, 0x3f),
      filetime: r(0x00, 0x80, 0x3e, 0xd5, 0xde, 0xb1, 0x9d, 0x01),
      unix: r(0x00, 0xe1, 0xf5, 0x05),
      guid: r(0x33, 0x22, 0x11, 0x00, 0x55, 0x44, 0x77, 0x66, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff),
      text: r(0x48, 0x00, 0x69, 0x00, 0x00, 0x00),
      utf8: r(0xc3, 0xa9, 0x0a, 0x00),
      short: r(0x07),
    };
  });
  assert.deepEqual(table.ints.int8, ['-1', '-1']);
  assert.deepEqual(table.ints.uint8, ['255', '255']);
  assert.deepEqual(table.ints.int16, ['-257', '-2']);
  assert.deepEqual(table.ints.uint16, ['65279', '65534']);
  const ib = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x01, 0x02, 0x03, 0x84]); // Node's Buffer reads them too
  assert.deepEqual(table.ints.int32, [String(ib.readInt32LE(0)), String(ib.readInt32BE(0))]);
  assert.deepEqual(table.ints.uint32, [String(ib.readUInt32LE(0)), String(ib.readUInt32BE(0))]);
  assert.deepEqual(table.ints.uint64, [String(ib.readBigUInt64LE(0)), String(ib.readBigUInt64BE(0))]);
  assert.deepEqual(table.ints.int64, [String(ib.readBigInt64LE(0)), String(ib.readBigInt64BE(0))]);
  assert.deepEqual(table.ints.float64, [String(ib.readDoubleLE(0)), String(ib.readDoubleBE(0))]);
  assert.equal(table.float.float32[0], '1');
  assert.equal(table.filetime.FILETIME, '1970-01-01T00:00:00Z');
  assert.equal(table.unix['Unix time (32-bit)'], '1973-03-03T09:46:40Z');
  assert.equal(table.guid.GUID, '00112233-4455-6677-8899-AABBCCDDEEFF');
  assert.equal(table.text['UTF-16LE'], 'Hi');
  assert.equal(table.utf8['UTF-8'], 'é\u240a');
  assert.deepEqual(table.short.int16, ['—', '—'], 'too few bytes for 16 bits');

  // The panel at the cursor: LBA 1's "EFI PART" and the GPT header fields.
  await gotoHex(page, 0x200);
  await page.waitForFunction(() => /At 0x200$/.test(document.querySelector('#inspector caption').textContent));
  const b = Buffer.from(t.cli('cat', '--offset', '512', '--length', '64', file));
  const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#inspector tbody tr')].map((tr) => [tr.querySelector('th').textContent, [...tr.querySelectorAll('td')].map((td) => td.textContent)])));
  assert.deepEqual(shown.uint64, [b.readBigUInt64LE(0).toString(), b.readBigUInt64BE(0).toString()]);
  assert.deepEqual(shown.uint32, [String(b.readUInt32LE(0)), String(b.readUInt32BE(0))]);
  assert.deepEqual(shown['UTF-8'], ['EFI PART']);
  // Keyboard: the inspector is a focusable region after the hex view.
  await page.focus('#inspector .inspector-scroll');
  assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'region');
});

// ---- partial chains and mixed drops (issue #18 items 1, 2) ---------------------

// threeLevels makes base ← mid ← leaf under prefix, each level with one
// block of its own (base: block 0 'A', mid: block 1 'B', leaf: block 2 'C').
function threeLevels(t, prefix) {
  const link = (guid, name) => ({ entries: [
    { key: 'parent_linkage', value: `{${guid}}` }, { key: 'relative_path', value: `.\\${name}` }] });
  const g = (n) => `cccccccc-0000-4000-8000-00000000000${n}`;
  const names = { base: `${prefix}-base.vhdx`, mid: `${prefix}-mid.avhdx`, leaf: `${prefix}-leaf.avhdx` };
  t.fx.make(names.base, { virtualSize: 8 << 20, dataWriteGuid: g(1),
    blocks: { 0: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 65 } } } });
  t.fx.make(names.mid, { virtualSize: 8 << 20, dataWriteGuid: g(2), parent: link(g(1), names.base),
    blocks: { 1: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 66 } } } });
  t.fx.make(names.leaf, { virtualSize: 8 << 20, dataWriteGuid: g(3), parent: link(g(2), names.mid),
    blocks: { 2: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 67 } } } });
  return names;
}

test('a grandchild dropped with its parent but not the base: the panel blames no file; opening without the base keeps the parent; Summary and Checks name the same missing level; dropping the base completes the chain', async (t) => {
  const { page } = t;
  const n = threeLevels(t, 'pc');
  await home(page);
  await drop(page, [n.leaf, n.mid]);
  await page.waitForSelector('#parent-needed:not([hidden])');
  const panel = await page.textContent('#parent-needed');
  assert.match(panel, new RegExp(`Add its parent, ${n.base.replace('.', '\\.')}`));
  assert.equal(await page.locator('#parent-needed .tried').count(), 0, `a file of the chain is blamed: ${panel}`);
  assert.match(await page.textContent('#chain-found'), /chain of 2 disks/);

  // Open as much of the chain as there is: leaf and mid, the base missing.
  await page.click('#parent-skip');
  await opened(page);
  const levels = await page.$$eval('#panel-summary .chain li', (lis) => lis.map((li) => li.textContent));
  assert.equal(levels.length, 3, levels.join(' | '));
  assert.match(levels[0], new RegExp(n.leaf.replace('.', '\\.')));
  assert.match(levels[1], new RegExp(n.mid.replace('.', '\\.')));
  assert.match(levels[2], /parent 2/);
  assert.match(levels[2], new RegExp(`${n.base.replace('.', '\\.')}`));
  assert.match(levels[2], /missing/);
  assert.match(levels[2], new RegExp(`parent of ${n.mid.replace('.', '\\.')}`));
  // Reads: the leaf's and the mid's blocks are there, the base's are not.
  await gotoHex(page, (1 << 20) - 16);
  assert.equal(await hexBytes(page, (1 << 20) - 16, 32), '??'.repeat(16) + '42'.repeat(16));
  await gotoHex(page, (2 << 20) - 16);
  assert.equal(await hexBytes(page, (2 << 20) - 16, 32), '42'.repeat(16) + '43'.repeat(16));
  // Checks names the same level and file as Summary.
  await page.click('#tab-checks');
  const parentCheck = page.locator('#checks-list li[data-structure="parent"]');
  await parentCheck.waitFor();
  assert.equal(await parentCheck.count(), 1);
  const check = await parentCheck.textContent();
  assert.match(check, /parent 2/);
  assert.match(check, new RegExp(`parent of ${n.mid.replace('.', '\\.')}`));
  assert.match(check, new RegExp(n.base.replace('.', '\\.')));
  await page.click('#tab-summary');

  // Dropping the base now completes the chain, with the files kept.
  await drop(page, [n.base]);
  await page.waitForFunction(() => document.querySelectorAll('#panel-summary .chain li').length === 3 && !document.querySelector('#panel-summary .chain li.missing'));
  await opened(page);
  assert.equal(await page.textContent('#image-title .name'), n.leaf);
  const names = await page.$$eval('#panel-summary .chain li .chain-name', (l) => l.map((x) => x.textContent));
  assert.deepEqual(names, [n.leaf, n.mid, n.base]);
  await gotoHex(page, (1 << 20) - 16);
  assert.equal(await hexBytes(page, (1 << 20) - 16, 32), '41'.repeat(16) + '42'.repeat(16));
});

test('a VHDX dropped with a stray PNG opens, and a notice lists the PNG as skipped and why', async (t) => {
  const { page } = t;
  t.fx.make('mixed-disk.vhdx', { virtualSize: 4 << 20, dataWriteGuid: 'dddddddd-0000-4000-8000-000000000001',
    blocks: { 0: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 77 } } } });
  writeFileSync(t.fx.path('photo.png'), Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(4096)]));
  await home(page);
  await drop(page, ['photo.png', 'mixed-disk.vhdx']);
  await opened(page);
  assert.equal(await page.textContent('#image-title .name'), 'mixed-disk.vhdx');
  const note = page.locator('#messages [data-id="skipped"]');
  await note.waitFor();
  assert.match(await note.textContent(), /photo\.png: a PNG image, not a disk/);
  assert.equal(await page.locator('#messages .notice.error').count(), 0);
  assert.equal(await hexBytes(page, 0, 16), '4d'.repeat(16));
});

test('a differencing disk without a parent locator dropped with a base: the disk opens, the base is listed with why it is not attached, and opens next', async (t) => {
  const { page } = t;
  t.fx.make('nl-base.vhdx', { virtualSize: 4 << 20, dataWriteGuid: 'dddddddd-0000-4000-8000-000000000011',
    blocks: { 0: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 65 } } } });
  t.fx.make('nl-child.avhdx', { virtualSize: 4 << 20, dataWriteGuid: 'dddddddd-0000-4000-8000-000000000012', parent: { entries: [] },
    blocks: { 1: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 67 } } } });
  await home(page);
  await drop(page, ['nl-base.vhdx', 'nl-child.avhdx']);
  await opened(page);
  assert.equal(await page.textContent('#image-title .name'), 'nl-child.avhdx');
  assert.equal(await page.locator('#messages .notice.error').count(), 0);
  // The engine names why the base is not its parent: no parent_linkage.
  const missing = page.locator('#panel-summary .chain li.missing');
  assert.match(await missing.textContent(), /no valid parent_linkage/);
  const offer = page.locator('#messages [data-id="dropped"]');
  await offer.waitFor();
  assert.match(await offer.textContent(), /nl-base\.vhdx/);
  await offer.getByRole('button', { name: 'Open nl-base.vhdx' }).click();
  await page.waitForFunction(() => document.querySelector('#image-title .name')?.textContent === 'nl-base.vhdx');
  await opened(page);
});

test('a partial chain with a stray PNG: the panel lists the PNG; a wrong file added is refused and the image stays; Add parent file… completes the chain, every file given kept; a disk dropped that is no parent opens on its own', async (t) => {
  const { page } = t;
  const n = threeLevels(t, 'pk');
  writeFileSync(t.fx.path('pk-photo.png'), Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(4096)]));
  t.fx.make('pk-other.vhdx', { virtualSize: 4 << 20, dataWriteGuid: 'dddddddd-0000-4000-8000-000000000021' });
  await home(page);
  await drop(page, [n.mid, 'pk-photo.png', n.leaf]);
  await page.waitForSelector('#parent-needed:not([hidden])');
  assert.match(await page.textContent('#parent-skipped'), /pk-photo\.png: a PNG image, not a disk/);
  assert.equal(await page.locator('#parent-needed .tried').count(), 0);
  await page.click('#parent-skip');
  await opened(page);
  assert.match(await page.textContent('#messages [data-id="skipped"]'), /pk-photo\.png: a PNG image, not a disk/);
  assert.match(await page.textContent('#messages [data-id="partial"]'), new RegExp(`Opened without ${n.base.replace('.', '\\.')}, chain level 2`));

  // A wrong file through Add parent file…: refused with the engine's
  // reason; the partial chain stays open.
  const addParent = async (file) => {
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.click('#summary-add-parent')]);
    await chooser.setFiles(file);
  };
  await addParent(t.fx.path('pk-other.vhdx'));
  await page.waitForSelector('#messages [data-id="not-parent"]');
  assert.match(await page.textContent('#messages [data-id="not-parent"]'), /pk-other\.vhdx: its DataWriteGuid .* is not the parent_linkage cccccccc-0000-4000-8000-000000000001/);
  assert.equal(await page.textContent('#image-title .name'), n.leaf);
  assert.equal(await page.locator('#panel-summary .chain li.missing').count(), 1);

  // The right one completes it: three levels, the PNG still listed as
  // left out (the files given first were kept).
  await addParent(t.fx.path(n.base));
  await page.waitForFunction(() => document.querySelectorAll('#panel-summary .chain li').length === 3 && !document.querySelector('#panel-summary .chain li.missing'));
  await opened(page);
  assert.match(await page.textContent('#messages [data-id="skipped"]'), /pk-photo\.png: a PNG image, not a disk/);
  assert.equal(await page.locator('#messages [data-id="partial"]').count(), 0);
  assert.equal(await page.textContent('#image-title .name'), n.leaf);
  const want = t.cli('cat', '--offset', String((1 << 20) - 16), '--length', '32', t.fx.path(n.leaf), t.fx.path(n.mid), t.fx.path(n.base)).toString('hex');
  await gotoHex(page, (1 << 20) - 16);
  assert.equal(await hexBytes(page, (1 << 20) - 16, 32), want);

  // Back to a partial chain, then drop a disk that is not its parent: it
  // opens on its own, and a notice says why it was not attached.
  await home(page);
  await drop(page, [n.leaf, n.mid]);
  await page.waitForSelector('#parent-needed:not([hidden])');
  await page.click('#parent-skip');
  await opened(page);
  await drop(page, ['pk-other.vhdx']);
  await page.waitForFunction(() => document.querySelector('#image-title .name')?.textContent === 'pk-other.vhdx');
  await opened(page);
  assert.match(await page.textContent('#messages [data-id="not-parent"]'), /pk-other\.vhdx is not pk-base\.vhdx, the parent of pk-mid\.avhdx: opened on its own/);
});

// ---- unreadable files: what was read; downloads past bad BAT entries ---------

// cliRun runs bin/vhdx and gives {status, stdout, stderr}, for commands
// whose exit status is not 0 on purpose (t.cli throws on those).
function cliRun(t, ...args) {
  const r = spawnSync(join(t.root, 'bin', 'vhdx'), args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// nodesOf flattens the engine's structure list: id → {status, tags}.
function nodesOf(list, out = {}) {
  for (const s of list || []) {
    out[s.id] = { status: s.status, tags: (s.tags || []).join(',') };
    nodesOf(s.children, out);
  }
  return out;
}

test('an unreadable VHDX shows the structures read before the damage, with their checks, as vhdx info lists them', async (t) => {
  const { page } = t;
  // A block size of 3 MiB (not a power of two) stops the open at the file
  // parameters item, after both headers, both region tables and the
  // metadata table's entries have been read and checked.
  const file = t.fx.make('badmeta.vhdx', {
    virtualSize: 8 << 20,
    blocks: { 0: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 0x11 } } },
    replaceMetadata: [{ id: 'caa16737-fa36-4d43-b3b6-33f0aa44e76b', isRequired: true, data: Buffer.from([0, 0, 0x30, 0, 0, 0, 0, 0]).toString('base64') }],
  });
  // The expected list is the CLI's (it exits 2: the file does not open).
  const r = cliRun(t, 'info', '--json', file);
  assert.equal(r.status, 2, r.stderr);
  const cli = JSON.parse(r.stdout);
  assert.match(cli.error, /BlockSize/);
  const want = nodesOf(cli.structures);
  assert.equal(want['metadata-item-0'].status, 'error');
  assert.match(want['header-2'].tags, /current/);

  await home(page);
  await page.setInputFiles('#files', file);
  await page.waitForSelector('#verdict[data-verdict="unreadable"]');
  assert.match(await page.textContent('#panel-summary'), /file parameters item/);
  await page.click('#show-partial-structures');
  assert.equal(await page.getAttribute('#tab-structure', 'aria-selected'), 'true');
  assert.match(await page.textContent('#panel-structure'), /before the damage/);
  const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('#panel-structure [data-node]')]
    .map((n) => [n.dataset.node, { status: n.dataset.status, tags: n.dataset.tags }])));
  assert.deepEqual(shown, want);
  // The damaged field's hex jump selects its bytes in the file: the
  // stored 3 MiB.
  const fp = cli.structures.find((s) => s.id === 'metadata').children[0];
  const bs = fp.fields.find((f) => f.name === 'BlockSize');
  await page.click(`#panel-structure [data-node="metadata-item-0"] dd[data-offset="${bs.offset}"] .field-jump`);
  assert.equal(await hexBytes(page, bs.offset, 4), readFileSync(file).subarray(bs.offset, bs.offset + 4).toString('hex'));
  assert.equal(await hexBytes(page, bs.offset, 4), '00003000');
  // Checks: one error, the item, naming the field; the tab counts it.
  await page.click('#tab-checks');
  await page.waitForSelector('#checks-list');
  const errs = await page.$$eval('#checks-list .check-item[data-status="error"]', (l) => l.map((li) => li.dataset.structure));
  assert.deepEqual(errs, ['file parameters item']);
  assert.match(await page.textContent('#checks-list'), /BlockSize/);
  assert.equal(await page.textContent('#checks-count'), '1');
  // A file that is no VHDX at all still says only that.
  writeFileSync(t.fx.path('zeros.vhdx'), Buffer.alloc(2 << 20));
  await home(page);
  await page.setInputFiles('#files', t.fx.path('zeros.vhdx'));
  await page.waitForSelector('#verdict[data-verdict="unreadable"]');
  assert.match(await page.textContent('#panel-structure'), /cannot be listed/);
});

test('a whole-disk download with bad BAT entries is refused, lists the unreadable ranges, and downloads with them zero-filled', async (t) => {
  const { page } = t;
  const desc = {
    virtualSize: 8 << 20,
    blocks: {
      0: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 1 } },
      3: { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: 0x33 } },
      7: { state: 'FULLY_PRESENT', fill: { pattern: 'index', value: 2 } },
    },
  };
  const good = t.fx.make('goodbat.vhdx', desc);
  const lay = t.fx.layout(desc);
  // Block 3 in a reserved state (its data still there), block 5 past the
  // end of the file. BAT entry index = block + block / chunk ratio (2048).
  const file = t.fx.make('badbat.vhdx', { ...desc, rawBat: { 3: lay.blocks[3] + 4, 5: 1024 * 2 ** 20 + 6 } });
  // The oracle: qemu-img's raw of the same disk with good entries, those
  // two blocks' ranges zeroed.
  const want = Buffer.from(qemuRaw(t, good));
  want.fill(0, 3 << 20, 4 << 20);
  want.fill(0, 5 << 20, 6 << 20);

  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  await noPicker(page);
  await page.evaluate(() => window.vhdxviewUI.state.downloads.clearFinished());
  await page.click('#download-button');
  await page.waitForSelector('#download-dialog[open]');
  await page.check('#dl-whole');
  await page.click('#dl-go');
  const offer = page.locator('.dl-job[data-state="failed"] .dl-bad');
  await offer.waitFor();
  assert.match(await page.textContent('.dl-job[data-state="failed"] .dl-job-state'), /payload block 3/);
  assert.match(await offer.textContent(), /2 blocks cannot be read/);
  assert.match(await offer.textContent(), /zero-filled\?/);
  const listed = await offer.locator('li').evaluateAll((l) => l.map((li) => [Number(li.dataset.offset), Number(li.dataset.length)]));
  assert.deepEqual(listed, [[3 << 20, 1 << 20], [5 << 20, 1 << 20]]);
  assert.match(await offer.textContent(), /reserved state 4/);
  assert.match(await offer.textContent(), /past the end of the file/);

  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 60000 }), page.click('.dl-zero-bad')]);
  const p = join(t.work, `dl-zero-${dl.suggestedFilename()}`);
  await dl.saveAs(p);
  assert.equal(dl.suggestedFilename(), 'badbat.raw');
  assert.equal(sha256(readFileSync(p)), sha256(want));
  const done = page.locator('.dl-job[data-state="done"][data-filled]');
  await done.waitFor();
  assert.match(await done.locator('.dl-job-state').textContent(), /2 unreadable blocks written as zeros/);
  const filled = await done.locator('.dl-filled li').evaluateAll((l) => l.map((li) => [Number(li.dataset.offset), Number(li.dataset.length), li.textContent]));
  assert.deepEqual(filled.map((f) => f.slice(0, 2)), [[3 << 20, 1 << 20], [5 << 20, 1 << 20]]);
  assert.match(filled[0][2], /block 3/);
  // saveTo (the path a save picker takes) fills the same ranges: into an
  // origin private file, read back here.
  const saved = await page.evaluate(async () => {
    const api = window.vhdxview;
    const image = window.vhdxviewUI.state.res.image;
    const dir = await navigator.storage.getDirectory();
    const h = await dir.getFileHandle('zero-bad-test.raw', { create: true });
    const filled = [];
    let refused = '';
    try {
      await api.saveTo(image, h);
    } catch (e) {
      refused = e.name;
    }
    const r = await api.saveTo(image, h, { zeroBad: true, onFilled: (f) => filled.push([f.offset, f.length, f.block]) });
    const b = new Uint8Array(await (await h.getFile()).arrayBuffer());
    await dir.removeEntry('zero-bad-test.raw');
    return { refused, bytes: r.bytes, filled, sha: Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', b))).map((x) => x.toString(16).padStart(2, '0')).join('') };
  });
  assert.equal(saved.refused, 'BlockError');
  assert.deepEqual(saved.filled, [[3 << 20, 1 << 20, 3], [5 << 20, 1 << 20, 5]]);
  assert.equal(saved.sha, sha256(want));
  // The CLI fills the same ranges, byte for byte.
  const out = join(t.work, 'cli-zero.raw');
  const r = cliRun(t, 'cat', '--zero-bad', '-o', out, file);
  assert.equal(r.status, 1, 'exit 1: ranges were filled');
  assert.match(r.stderr, /filled 0x300000\+0x100000 \(1 block from block 3\)/);
  assert.match(r.stderr, /filled 0x500000\+0x100000 \(1 block from block 5\)/);
  assert.equal(sha256(readFileSync(out)), sha256(want));
});

// hexStatus is the hex view's status line.
const hexStatus = (page) => page.textContent('#hex .hex-status');

// selectedCells counts the bytes drawn as selected in the rows on screen.
const selectedCells = (page) => page.evaluate(() => [document.querySelectorAll('#hex .hexes .b.sel').length, document.querySelectorAll('#hex .asc .a.sel').length]);

test('hex view: 20 presses of Shift+→ select 20 bytes; Shift+End, Ctrl+Shift+End and a drag select what they cover', async (t) => {
  const { page } = t;
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  await gotoHex(page, 0x200);
  await page.waitForFunction(() => /Offset 0x200 /.test(document.querySelector('#hex .hex-status').textContent));
  await page.focus('#hex .hex-scroller');
  await page.keyboard.down('Shift');
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowRight');
  await page.keyboard.up('Shift');
  await page.waitForFunction(() => /Selection 0x200–0x213 \(20 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  assert.deepEqual(await selectedCells(page), [20, 20], '20 bytes drawn selected, in hex and as text');
  assert.match(await hexStatus(page), /Offset 0x214 /, 'the caret stops before the 21st byte');
  // Back over them: nothing selected; then 3 before the anchor.
  await page.keyboard.down('Shift');
  for (let i = 0; i < 20; i++) await page.keyboard.press('ArrowLeft');
  assert.doesNotMatch(await hexStatus(page), /Selection/);
  assert.equal(await page.isDisabled('#selection-download'), true);
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
  await page.keyboard.up('Shift');
  await page.waitForFunction(() => /Selection 0x1fd–0x1ff \(3 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  // Shift+End from a row's start selects the row (16 bytes), Shift+Down
  // a row more.
  await page.keyboard.press('Escape');
  await gotoHex(page, 0x300);
  await page.focus('#hex .hex-scroller');
  await page.keyboard.press('Shift+End');
  await page.waitForFunction(() => /Selection 0x300–0x30f \(16 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  await page.keyboard.press('Shift+ArrowDown');
  await page.waitForFunction(() => /Selection 0x300–0x31f \(32 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  // Ctrl+Shift+End takes the last byte too; the caret is at the end.
  await page.keyboard.press('Control+Shift+End');
  await page.waitForFunction(() => /Selection 0x300–0xffffff \(16,776,448 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  assert.match(await hexStatus(page), /Offset 0x1000000 \(16,777,216\)the end/);
  // An arrow without Shift drops the selection and lands on a byte.
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => /Offset 0xffffff /.test(document.querySelector('#hex .hex-status').textContent));
  assert.doesNotMatch(await hexStatus(page), /Selection/);
  // A drag from byte 0x202 to byte 0x205 selects both ends: 4 bytes.
  await gotoHex(page, 0x200);
  await hexBytes(page, 0x200, 16);
  const cell = (i) => page.locator(`#hex .hex-row[data-offset="512"] .hexes .b[data-i="${i}"]`).boundingBox();
  const [a, b] = [await cell(2), await cell(5)];
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2);
  await page.mouse.down();
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => /Selection 0x202–0x205 \(4 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  // The other way, from 0x205 back to 0x202: the same 4 bytes.
  await page.mouse.move(b.x + b.width / 2, b.y + b.height / 2);
  await page.mouse.down();
  await page.mouse.move(a.x + a.width / 2, a.y + a.height / 2, { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => /Selection 0x202–0x205 \(4 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  assert.match(await hexStatus(page), /Offset 0x202 /);
});

test('a structure\'s "hex" puts the cursor on its first byte, selects it and shows its start; the status names it', async (t) => {
  const { page } = t;
  const file = t.fx.make('hex-struct.vhdx', { virtualSize: 4 << 20, headers: [{ sequence: 5 }, { sequence: 6 }] });
  // Where each structure is, as the CLI lists it (not the page's engine).
  const all = [];
  const walk = (l) => { for (const s of l || []) { all.push(s); walk(s.children); } };
  walk(cliInfo(t, file).structures);
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  await page.click('#tab-structure');
  for (const [id, name] of [['header-1', 'header 1'], ['header-2', 'header 2'], ['region-table-1', 'region table 1']]) {
    const s = all.find((x) => x.id === id);
    assert.ok(s && s.length > 1, `the CLI lists ${id}`);
    await page.locator(`[data-node="${id}"] > .node-head .jump, [data-node="${id}"] > summary .jump`).first().click();
    const start = s.offset.toString(16);
    const last = (s.offset + s.length - 1).toString(16);
    await page.waitForFunction(([o, e]) => new RegExp(`File offset 0x${o} .*Selection 0x${o}–0x${e} `).test(document.querySelector('#hex .hex-status').textContent), [start, last]);
    assert.match(await hexStatus(page), new RegExp(`in ${name}(?![0-9])`), `the status names ${name}`);
    assert.equal(await page.evaluate(() => window.vhdxviewUI.hex.cursor), s.offset);
    // Its first row is on screen, one row of context above it.
    const rows = await page.evaluate(() => [...document.querySelectorAll('#hex .hex-row:not([hidden])')].map((r) => Number(r.dataset.offset)));
    assert.equal(rows[0], Math.max(0, s.offset - 16), `${id}: the first row shown`);
    assert.equal(await hexBytes(page, s.offset, 4), t.sh('dd', [`if=${file}`, 'bs=1', `skip=${s.offset}`, 'count=4', 'status=none']).toString('hex'));
  }
});

test('Go to: a bad number or an offset past the end is said beside the field (not a banner), and clears with the next edit', async (t) => {
  const { page } = t;
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  const banners = await page.locator('#messages .notice').count();
  const where = () => page.evaluate(() => ['#hex-card', '#hex .hex-scroller'].map((s) => Math.round(document.querySelector(s).getBoundingClientRect().top)));
  const before = await where();
  await page.fill('#goto-input', 'twelve');
  await page.press('#goto-input', 'Enter');
  await page.waitForFunction(() => /“twelve” is not a number/.test(document.querySelector('#goto-error').textContent));
  assert.equal(await page.getAttribute('#goto-input', 'aria-invalid'), 'true');
  assert.equal(await page.getAttribute('#goto-error', 'aria-live'), 'polite');
  assert.match(await page.getAttribute('#goto-input', 'aria-describedby'), /goto-error/);
  assert.equal(await page.locator('#messages .notice').count(), banners, 'no banner above the views');
  assert.deepEqual(await where(), before, 'the hex view did not move');
  assert.ok(await page.isVisible('#goto-error'));
  // The message sits by the field: under it and starting at its left.
  const [fieldBox, errBox] = [await page.locator('.goto').boundingBox(), await page.locator('#goto-error').boundingBox()];
  assert.ok(Math.abs(errBox.x - fieldBox.x) < 2 && errBox.y >= fieldBox.y + fieldBox.height - 1 && errBox.y < fieldBox.y + fieldBox.height + 12, 'the error is under the Go to field');
  // The next keystroke clears it.
  await page.press('#goto-input', 'Backspace');
  assert.equal(await page.textContent('#goto-error'), '');
  assert.equal(await page.getAttribute('#goto-input', 'aria-invalid'), null);
  // Past the end: the size is given.
  await page.fill('#goto-input', '0x1000000');
  await page.press('#goto-input', 'Enter');
  await page.waitForFunction(() => /Offset 0x1000000 is past the end: the disk is 16,777,216 bytes \(0x1000000, 16 MiB\)/.test(document.querySelector('#goto-error').textContent));
  assert.deepEqual(await where(), before, 'the hex view did not move');
  await page.selectOption('#goto-unit', 'lba');
  assert.equal(await page.textContent('#goto-error'), '', 'a new unit is a new question');
  await gotoHex(page, '1', 'lba');
  await page.waitForFunction(() => /Offset 0x200 /.test(document.querySelector('#hex .hex-status').textContent));
  assert.equal(await page.textContent('#goto-error'), '');
});

test('copy: spaced and plain hex, text, a C array, base64 and Python bytes of the selection; Ctrl+C copies the chosen one, Ctrl+Shift+C the next', async (t) => {
  const { page, context, origin } = t;
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
  const file = sampleFile(t);
  // LBA 1, the GPT header: text, a backslash (0x5c) and high bytes.
  const want = t.cli('cat', '--offset', '512', '--length', '96', file);
  assert.ok(want.includes(0x5c) && want.some((v) => v >= 0x80) && want.includes(0));
  await home(page);
  await page.click('#sample-button');
  await opened(page);
  await gotoHex(page, 0x200);
  await page.focus('#hex .hex-scroller');
  await page.keyboard.down('Shift');
  for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.up('Shift');
  await page.waitForFunction(() => /Selection 0x200–0x25f \(96 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
  const clip = async () => page.evaluate(() => navigator.clipboard.readText());
  const clear = () => page.evaluate(() => navigator.clipboard.writeText(''));
  const hex = [...want].map((v) => v.toString(16).padStart(2, '0'));
  // Each format read back with something that is not the page: Node's
  // Buffer, a C-literal parse, Python's own parser.
  const decode = {
    hex: (s) => Buffer.from(s.split(' ').join(''), 'hex'),
    'hex-plain': (s) => Buffer.from(s, 'hex'),
    c: (s) => {
      const m = /^unsigned char data_0x200\[96\] = \{\n([\s\S]*)\n\};\n$/.exec(s);
      assert.ok(m, `a C array: ${s.slice(0, 60)}`);
      return Buffer.from(m[1].split(/,\s*/).map((x) => { assert.match(x.trim(), /^0x[0-9a-f]{2}$/); return Number(x.trim()); }));
    },
    base64: (s) => Buffer.from(s, 'base64'),
    python: (s) => t.sh('python3', ['-c', 'import ast,sys; sys.stdout.buffer.write(ast.literal_eval(sys.stdin.read()))'], { input: Buffer.from(s) }),
  };
  assert.equal(await page.inputValue('#copy-format'), 'hex', 'spaced hex is the default');
  await clear();
  await page.keyboard.press('Control+c');
  await until(page, async () => (await navigator.clipboard.readText()) !== '', null, { what: 'a copy' });
  assert.equal(await clip(), hex.join(' '));
  assert.match(await hexStatus(page), /Copied 96 bytes as hex/);
  for (const id of ['hex-plain', 'c', 'base64', 'python']) {
    await page.selectOption('#copy-format', id);
    await page.focus('#hex .hex-scroller');
    await clear();
    await page.keyboard.press('Control+c');
    await until(page, async () => (await navigator.clipboard.readText()) !== '', null, { what: `a copy as ${id}` });
    assert.deepEqual(decode[id](await clip()), want, `${id} decodes to the selected bytes`);
  }
  // Text: printable Latin-1 as is, tab and line breaks kept, other bytes as ".".
  await page.selectOption('#copy-format', 'text');
  await clear();
  await page.click('#copy-button');
  await until(page, async () => (await navigator.clipboard.readText()) !== '', null, { what: 'a copy as text' });
  const text = [...want].map((v) => ((v >= 0x20 && v < 0x7f) || v >= 0xa0 || v === 9 || v === 10 || v === 13 ? String.fromCharCode(v) : '.')).join('');
  assert.equal(await clip(), text);
  assert.ok((await clip()).startsWith('EFI PART....\\'));
  // Ctrl+Shift+C: the next format after text (a C array), chosen and copied.
  await page.focus('#hex .hex-scroller');
  await clear();
  await page.keyboard.press('Control+Shift+C');
  await until(page, async () => (await navigator.clipboard.readText()) !== '', null, { what: 'a copy by Ctrl+Shift+C' });
  assert.equal(await page.inputValue('#copy-format'), 'c');
  assert.deepEqual(decode.c(await clip()), want);
  assert.match(await hexStatus(page), /Copied 96 bytes as a C array/);
  // and Ctrl+C keeps to it.
  await clear();
  await page.keyboard.press('Control+c');
  await until(page, async () => (await navigator.clipboard.readText()) !== '', null, { what: 'a copy' });
  assert.deepEqual(decode.c(await clip()), want);
  // The page's keyboard help names both shortcuts.
  await page.click('#hex-keys summary');
  const help = await page.textContent('#hex-keys');
  assert.match(help, /Ctrl\+C/);
  assert.match(help, /Ctrl\+Shift\+C/);
  await page.click('#hex-keys summary');
});

// hexPlace is where the hex view is: its source, caret and anchor.
const hexPlace = (page) => page.evaluate(() => {
  const h = window.vhdxviewUI.hex;
  return { src: h.src && h.src.key, cursor: h.cursor, anchor: h.anchor };
});

// withKeepChoice runs fn with the answer to "keep copies?" set to v
// ('yes', 'no'), then puts the earlier answer back for the tests after.
async function withKeepChoice(page, v, fn) {
  await home(page);
  const was = await page.evaluate((x) => {
    const old = localStorage.getItem('vhdxview.keep-copies');
    localStorage.setItem('vhdxview.keep-copies', x);
    return old;
  }, v);
  try {
    await fn();
  } finally {
    await home(page);
    await page.evaluate((x) => (x === null ? localStorage.removeItem('vhdxview.keep-copies') : localStorage.setItem('vhdxview.keep-copies', x)), was);
  }
}

// reopened waits for the viewer after a reload and for its check, on
// whichever tab the reload put back.
async function reopened(page) {
  await page.waitForSelector('#viewer:not([hidden])');
  await page.waitForSelector('#verdict[data-verdict="clean"], #verdict[data-verdict="problems"]', { state: 'attached', timeout: 60000 });
}

// recordOf is the store's record of the image named name.
const recordOf = (page, name) => page.evaluate(async (n) => (await window.vhdxview.recent()).records.find((r) => r.name === n) || null, name);

test('reload: a kept image reopens from its copy with the tab, hex source, cursor and selection it had', async (t) => {
  const { page } = t;
  const file = t.fx.make('reload-kept.vhdx', { virtualSize: 4 << 20, headers: [{ sequence: 5 }, { sequence: 6 }] });
  await withKeepChoice(page, 'yes', async () => {
    await page.setInputFiles('#files', file);
    await opened(page);
    await page.waitForFunction(() => /Kept for offline use/.test(document.querySelector('#store-state').textContent), null, { timeout: 30000 });
    // Header 2 in the file hex view, then the caret three bytes in.
    await page.click('#tab-structure');
    await page.locator('[data-node="header-2"] > .node-head .jump').click();
    await page.waitForFunction(() => /Selection 0x20000–0x20fff /.test(document.querySelector('#hex .hex-status').textContent));
    await page.focus('#hex .hex-scroller');
    for (let i = 0; i < 3; i++) await page.keyboard.press('Shift+ArrowRight');
    await page.waitForFunction(() => /Selection 0x20003–0x20fff \(4,093 bytes\)/.test(document.querySelector('#hex .hex-status').textContent));
    const before = await hexPlace(page);
    assert.deepEqual(before, { src: 'file:0', cursor: 0x20003, anchor: 0x21000 });
    await page.reload();
    await reopened(page);
    await until(page, () => window.vhdxviewUI.hex.cursor === 0x20003, null, { what: 'the caret back at 0x20003' });
    assert.deepEqual(await hexPlace(page), before);
    assert.equal(await page.inputValue('#hex-source'), 'file:0');
    assert.equal(await page.getAttribute('#tab-structure', 'aria-selected'), 'true');
    assert.match(await hexStatus(page), /File offset 0x20003 .*in header 2.*Selection 0x20003–0x20fff \(4,093 bytes\)/);
    assert.equal(await hexBytes(page, 0x20000, 4), Buffer.from('head').toString('hex'));
    assert.equal(await page.locator('#messages [data-id="resume"]').count(), 0, 'no question: the copy was kept');
  });
});

test('reload: the sample (no copy kept) comes back with the Files tab on the file that was selected, and the hex place', async (t) => {
  const { page } = t;
  await withKeepChoice(page, 'no', async () => {
    // A copy kept by an earlier test is forgotten: this one has none.
    await page.evaluate(async () => {
      for (const r of (await window.vhdxview.recent()).records) if (r.name === 'sample.vhdx') await window.vhdxview.forget(r.key);
    });
    await page.click('#sample-button');
    await opened(page);
    await page.click('#tab-files');
    await page.click('#part-browse-1');
    await page.waitForSelector('#fs-browser[data-state="ready"]');
    await page.click('#fs-tree [data-path="/notes"] .ft-label');
    await page.keyboard.press('ArrowRight');
    await page.click('#fs-tree [data-path="/notes/blocks.txt"] .ft-label');
    await page.waitForSelector('#fs-tree [data-path="/notes/blocks.txt"][aria-selected="true"]');
    await gotoHex(page, 0x1234);
    await page.focus('#hex .hex-scroller');
    for (let i = 0; i < 5; i++) await page.keyboard.press('Shift+ArrowLeft');
    const before = await hexPlace(page);
    assert.deepEqual(before, { src: 'disk', cursor: 0x122f, anchor: 0x1234 });
    const rec = await recordOf(page, 'sample.vhdx');
    assert.equal(rec.has_bytes, false, 'no copy without a yes');
    await page.reload();
    await reopened(page);
    await page.waitForSelector('#fs-tree [data-path="/notes/blocks.txt"][aria-selected="true"]');
    assert.equal(await page.getAttribute('#tab-files', 'aria-selected'), 'true');
    assert.equal(await page.getAttribute('#fs-browser', 'data-partition'), '1');
    assert.match(await page.textContent('#fs-details'), /\/notes\/blocks\.txt/);
    await until(page, () => window.vhdxviewUI.hex.cursor === 0x122f, null, { what: 'the caret back at 0x122f' });
    assert.deepEqual(await hexPlace(page), before);
    assert.match(await hexStatus(page), /Selection 0x122f–0x1233 \(5 bytes\)/);
    assert.equal((await recordOf(page, 'sample.vhdx')).has_bytes, false, 'still no copy');
  });
});

test('reload: a picked file with no copy and no handle asks to be picked again (the notice outlives another reload), then opens where it was', async (t) => {
  const { page } = t;
  const file = t.fx.make('reload-picked.vhdx', { virtualSize: 4 << 20 });
  await withKeepChoice(page, 'no', async () => {
    await page.setInputFiles('#files', file);
    await opened(page);
    await gotoHex(page, 0x1234);
    await page.waitForFunction(() => /Offset 0x1234 /.test(document.querySelector('#hex .hex-status').textContent));
    const rec = await recordOf(page, 'reload-picked.vhdx');
    assert.equal(rec.has_bytes, false);
    assert.equal(await page.evaluate(async (k) => (await import('/web/app/recents.js')).handles.get(k), rec.key), undefined, 'no file handle');
    for (let i = 0; i < 2; i++) {
      await page.reload();
      await page.waitForSelector('#start:not([hidden])');
      const notice = page.locator('#messages [data-id="resume"]');
      await notice.waitFor();
      assert.match(await notice.textContent(), /Reopen reload-picked\.vhdx: pick the file again/);
      assert.match(await notice.textContent(), /contents were not kept/);
      assert.equal(await page.isHidden('#viewer'), true);
    }
    assert.equal((await recordOf(page, 'reload-picked.vhdx')).has_bytes, false, 'nothing stored by the reload');
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.click('#messages [data-id="resume"] button.primary'),
    ]);
    await chooser.setFiles(file);
    await opened(page);
    await until(page, () => window.vhdxviewUI.hex.cursor === 0x1234, null, { what: 'the caret back at 0x1234' });
    assert.equal(await page.locator('#messages [data-id="resume"]').count(), 0);
    // Closed, a reload is the start screen with nothing to reopen.
    await home(page);
    await page.reload();
    await page.waitForSelector('#start:not([hidden])');
    await page.waitForSelector('#recents-list');
    assert.equal(await page.locator('#messages [data-id="resume"]').count(), 0);
    assert.equal(await page.isHidden('#viewer'), true);
  });
});

test('reload: an image with a file handle reopens from it, asking for permission (in a click) when the browser wants that', async (t) => {
  const { page } = t;
  const file = t.fx.make('reload-handle.vhdx', { virtualSize: 4 << 20 });
  const bytes = readFileSync(file);
  // A handle as a drop gives one: here a file of the origin's private file
  // system, whose handle the page can keep and read again.
  await page.addInitScript(() => {
    if (sessionStorage.getItem('test.handle-prompt') !== '1') return;
    // The browser wants a click before reading the file again.
    const P = FileSystemHandle.prototype;
    P.queryPermission = async function queryPermission() { return window.__granted ? 'granted' : 'prompt'; };
    P.requestPermission = async function requestPermission() {
      window.__asked = (window.__asked || 0) + 1;
      if (!navigator.userActivation.isActive) return 'denied';
      window.__granted = true;
      return 'granted';
    };
  });
  await withKeepChoice(page, 'no', async () => {
    await page.evaluate(async (b64) => {
      const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const fh = await (await navigator.storage.getDirectory()).getFileHandle('reload-handle.vhdx', { create: true });
      const w = await fh.createWritable();
      await w.write(data);
      await w.close();
      const { openFiles } = await import('/web/app/opening.js');
      await openFiles([await fh.getFile()], new Map([[fh.name, fh]]));
    }, bytes.toString('base64'));
    await opened(page);
    await gotoHex(page, 0x2345);
    await page.waitForFunction(() => /Offset 0x2345 /.test(document.querySelector('#hex .hex-status').textContent));
    const rec = await recordOf(page, 'reload-handle.vhdx');
    assert.equal(rec.has_bytes, false);
    // Permission still granted: the reload reopens it with no question.
    await page.reload();
    await opened(page);
    await until(page, () => window.vhdxviewUI.hex.cursor === 0x2345, null, { what: 'the caret back at 0x2345' });
    assert.equal(await page.locator('#messages [data-id="resume"]').count(), 0);
    // Permission to be asked again: a notice with a button, and only its
    // click asks.
    await page.evaluate(() => sessionStorage.setItem('test.handle-prompt', '1'));
    try {
      await page.reload();
      const notice = page.locator('#messages [data-id="resume"]');
      await notice.waitFor();
      assert.match(await notice.textContent(), /Reopen reload-handle\.vhdx/);
      assert.equal(await page.evaluate(() => window.__asked || 0), 0, 'asked before a click');
      await notice.locator('button.primary').click();
      await opened(page);
      assert.equal(await page.evaluate(() => window.__asked), 1);
      await until(page, () => window.vhdxviewUI.hex.cursor === 0x2345, null, { what: 'the caret back at 0x2345' });
    } finally {
      await page.evaluate(() => sessionStorage.removeItem('test.handle-prompt'));
    }
    assert.equal((await recordOf(page, 'reload-handle.vhdx')).has_bytes, false, 'nothing stored');
  });
});

test('files: NTFS metadata files sit under one closed "NTFS metadata" node, as the engine marks them; they still open, show in hex and download', async (t) => {
  const { page } = t;
  const fx = await openFilesTab(t);
  await browse(page, 2);
  const cliRoot = JSON.parse(t.cli('ls', '--json', fx.vhdx, '2', '/').toString());
  const meta = cliRoot.filter((e) => e.metadata).map((e) => e.name);
  assert.deepEqual([...meta].sort(), ['$AttrDef', '$BadClus', '$Bitmap', '$Boot', '$Extend', '$LogFile', '$MFT', '$MFTMirr', '$Secure', '$UpCase', '$Volume']);
  // The root: the group first, closed, then the user's files; no metadata row is shown.
  const root = await treeRows(page, 2);
  assert.equal(root[0].kind, 'group');
  assert.equal(root[0].name, 'NTFS metadata');
  assert.deepEqual(root.slice(1).map((r) => r.name).sort(), cliRoot.filter((e) => !e.metadata).map((e) => e.name).sort());
  const group = page.locator('#fs-tree [data-kind="group"]');
  assert.equal(await group.getAttribute('aria-expanded'), 'false');
  assert.equal(await page.locator('#fs-tree [data-path="/$MFT"]').count(), 0);
  // Keyboard: Down from the root reaches the group; Right opens it.
  await page.focus('#fs-tree [data-path="/"]');
  await page.keyboard.press('ArrowDown');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.kind), 'group');
  assert.match(await page.textContent('#fs-details'), /MFT records 0 to 15/);
  await page.keyboard.press('ArrowRight');
  await page.waitForSelector('#fs-tree [data-kind="group"][aria-expanded="true"]');
  const inside = await treeRows(page, 3);
  const metaRows = inside.filter((r) => r.kind !== 'stream');
  assert.deepEqual(metaRows.map((r) => r.name).sort(), [...meta].sort());
  assert.ok(metaRows.every((r) => r.path === `/${r.name}`), 'the rows keep their paths');
  assert.ok(inside.some((r) => r.path === '/$BadClus:$Bad' && r.kind === 'stream') || (await treeRows(page, 4)).some((r) => r.path === '/$BadClus:$Bad'), '$BadClus:$Bad is listed');
  // $Extend opens (an ordinary directory listing, inside the group).
  await page.click('#fs-tree [data-path="/$Extend"] .ft-label');
  await page.waitForSelector('#fs-tree [data-path="/$Extend"][aria-expanded="true"]');
  const ext = (await treeRows(page, 4)).filter((r) => r.path.startsWith('/$Extend/')).map((r) => r.name).sort();
  const cliExt = JSON.parse(t.cli('ls', '--json', fx.vhdx, '2', '/$Extend').toString());
  assert.deepEqual(ext, cliExt.map((e) => e.name).sort());
  assert.ok(cliExt.every((e) => e.metadata), 'everything under $Extend is marked');
  // $MFT: its details show its MFT record (0), and the record is in hex there.
  await page.click('#fs-tree [data-path="/$MFT"] .ft-label');
  await page.waitForSelector('#fs-ntfs[data-record="0"]');
  const off = Number(await page.getAttribute('#fs-ntfs', 'data-offset'));
  const part = fx.partitions[1];
  const slice = partSlice(t, fx, 2);
  const at = off - part.start * 512;
  assert.equal(slice.subarray(at, at + 4).toString(), 'FILE');
  assert.equal(slice.readUInt32LE(at + 0x2c), 0);
  await page.click('#fs-ntfs-record-hex');
  await page.waitForFunction((o) => new RegExp(`Offset 0x${o.toString(16)} `).test(document.querySelector('#hex .hex-status').textContent), off);
  assert.equal(await page.inputValue('#hex-source'), 'disk');
  assert.equal(await hexBytes(page, off, 4), Buffer.from('FILE').toString('hex'));
  // $Boot downloads: the volume's first 8 KiB.
  await page.click('#tab-files');
  await page.click('#fs-tree [data-path="/$Boot"] .ft-label');
  const boot = await saveDownload(t, () => page.click('#fs-download'));
  assert.match(boot.name, /Boot$/);
  assert.equal(sha256(boot.data), sha256(slice.subarray(0, 8192)));
  // Left on a metadata row goes to the group; Left again closes it.
  await page.focus('#fs-tree [data-path="/$Boot"]');
  await page.click('#fs-tree [data-path="/$Boot"] .ft-label');
  await page.keyboard.press('ArrowLeft');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.kind), 'group');
  await page.keyboard.press('ArrowLeft');
  await page.waitForSelector('#fs-tree [data-path="/$MFT"]', { state: 'detached' });
});

test('files: an NTFS file\'s details show its MFT record, DOS attributes, both sets of times and its attributes, as vhdx stat gives them', async (t) => {
  const { page } = t;
  const fx = await openFilesTab(t);
  await browse(page, 2);
  const stat = JSON.parse(t.cli('stat', '--json', fx.vhdx, '2', '/small.txt').toString()).ntfs;
  await page.click('#fs-tree [data-path="/small.txt"] .ft-label');
  await page.waitForSelector(`#fs-ntfs[data-record="${stat.record}"]`);
  const shown = await page.evaluate(() => {
    const kv = {};
    const dts = document.querySelectorAll('#fs-ntfs dl dt');
    for (const dt of dts) kv[dt.textContent] = dt.nextElementSibling.textContent;
    const attrs = [...document.querySelectorAll('#fs-ntfs-attrs tbody tr')].map((r) => ({ type: r.dataset.type, name: r.dataset.name, resident: r.dataset.resident === 'true', size: Number(r.dataset.size) }));
    const times = [...document.querySelectorAll('#fs-ntfs-times tbody tr')].map((r) => [...r.children].map((c) => c.textContent));
    const heads = [...document.querySelectorAll('#fs-ntfs-times thead th')].map((c) => c.textContent);
    return { kv, attrs, times, heads, offset: Number(document.querySelector('#fs-ntfs').dataset.offset), streams: document.querySelector('#fs-ntfs-streams').textContent };
  });
  assert.equal(shown.offset, stat.offset);
  assert.match(shown.kv['MFT record'], new RegExp(`^${stat.record} \\(sequence ${stat.sequence}\\)`));
  assert.match(shown.kv['Record at'], new RegExp(`0x${stat.offset.toString(16)}`));
  assert.equal(shown.kv['DOS attributes'], `${stat.dos_flags.join(', ') || 'none'} (0x${stat.dos_attributes.toString(16).padStart(8, '0')})`);
  assert.deepEqual(shown.attrs, stat.attributes.map((a) => ({ type: a.type_name, name: a.name || '', resident: a.resident, size: a.size })));
  assert.ok(shown.attrs.some((a) => a.type === '$DATA' && a.name === 'secret' && a.size === Buffer.byteLength(fx.ads['small.txt:secret'])), 'the stream is an attribute');
  assert.match(shown.streams, /secret \(25 bytes\)/);
  // Times: one row per time, a column for $STANDARD_INFORMATION and one per $FILE_NAME.
  assert.deepEqual(shown.heads.slice(1), ['$STANDARD_INFORMATION', ...stat.names.map((n) => `$FILE_NAME “${n.name}” (${n.namespace})`)]);
  assert.deepEqual(shown.times.map((r) => r[0]), ['Created', 'Modified', 'Record changed', 'Accessed']);
  const utc = (s) => s.replace('T', ' ').replace('Z', ' UTC');
  assert.equal(shown.times[0][1], utc(stat.times.created));
  assert.equal(shown.times[2][2], utc(stat.names[0].times.changed));
  // huge.bin: non-resident, one run, its first cluster as stat gives it.
  const hs = JSON.parse(t.cli('stat', '--json', fx.vhdx, '2', '/huge.bin').toString()).ntfs;
  await page.click('#fs-tree [data-path="/huge.bin"] .ft-label');
  await page.waitForSelector(`#fs-ntfs[data-record="${hs.record}"]`);
  const data = hs.attributes.find((a) => a.type_name === '$DATA' && !a.name);
  const row = await page.$$eval('#fs-ntfs-attrs tbody tr[data-type="$DATA"] td', (tds) => tds.map((td) => td.textContent));
  assert.equal(row[1], 'non-resident');
  assert.equal(row[3], data.allocated.toLocaleString('en-US'));
  assert.equal(row[5], data.runs.toLocaleString('en-US'));
  assert.equal(row[6], data.first_cluster.toLocaleString('en-US'));
  await page.locator('#fs-ntfs').screenshot({ path: join(t.work, 'files-ntfs-record.png') });
  // The ext4 partition's details have no NTFS record.
  await browse(page, 1);
  await page.click('#fs-tree [data-path="/hello.txt"] .ft-label');
  assert.match(await page.textContent('#fs-details'), /hello\.txt/);
  assert.equal(await page.locator('#fs-ntfs').count(), 0);
});

test('a 64 TiB sparse disk: the block map has an offset axis, and Previous/Next allocated (and [ ]) step between the blocks vhdx map gives as present, each drawn at least a pixel', async (t) => {
  const { page } = t;
  const bs = 16 << 20;
  const size = 64 * 2 ** 40;
  const present = [1000, 2100000, 4190000];
  const blocks = Object.fromEntries(present.map((b, i) => [b, { state: 'FULLY_PRESENT', fill: { pattern: 'byte', value: i + 1 } }]));
  blocks[3000000] = { state: 'ZERO' }; // not in the file: skipped
  const file = t.fx.make('sparse-alloc.vhdx', { virtualSize: size, blockSize: bs, blocks });
  // vhdx map's runs of blocks (qemu-img map cannot say: its VHDX driver
  // reports every range as data).
  const data = String(t.cli('map', file)).split('\n').filter((l) => / FULLY_PRESENT /.test(l)).map((l) => Number(/^blocks (\d+)-/.exec(l)[1]));
  assert.deepEqual(data, present);
  await home(page);
  await page.setInputFiles('#files', file);
  await opened(page);
  const cells = await batCells(page);
  assert.ok(cells.perCell > 1, 'aggregated');
  // Every present block shows: its cell has present-coloured pixels.
  const seen = await page.evaluate(async ({ present, color }) => {
    // A relayout the last resize asked for is drawn by the next frame.
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const c = document.querySelector('#batmap canvas');
    const d = c.dataset;
    const [cols, size, gap, per] = [Number(d.cols), Number(d.cell), Number(d.gap), Number(d.perCell)];
    const scale = c.width / parseFloat(c.style.width); // the drawing's own scale, even while CSS shrinks the canvas
    const ctx = c.getContext('2d');
    const [r, g, b] = /(\d+), (\d+), (\d+)/.exec(color).slice(1).map(Number);
    return present.map((blk) => {
      // Every pixel of the block's cell.
      const i = Math.floor(blk / per);
      const x0 = Math.floor((i % cols) * (size + gap) * scale);
      const y0 = Math.floor(Math.floor(i / cols) * (size + gap) * scale);
      const w = Math.max(1, Math.floor(size * scale));
      const px = ctx.getImageData(x0, y0, w, w).data;
      let n = 0;
      for (let k = 0; k < px.length; k += 4) if (px[k] === r && px[k + 1] === g && px[k + 2] === b) n++;
      return n;
    });
  }, { present, color: cells.legend.present.color });
  assert.ok(seen.every((n) => n >= 1), `present pixels per block's cell: ${seen}`);
  // The axis: row starts in human units, from 0 to the end, apart enough to read.
  const ticks = await page.$$eval('#batmap .batmap-tick', (ts) => ts.map((x) => ({ offset: Number(x.dataset.offset), row: x.dataset.row, text: x.textContent, top: x.getBoundingClientRect().top })));
  const geo = await page.evaluate(() => ({ ...document.querySelector('#batmap canvas').dataset }));
  assert.ok(ticks.length >= 3, `${ticks.length} ticks`);
  assert.deepEqual(ticks[0], { ...ticks[0], offset: 0, text: '0' });
  assert.deepEqual(ticks.at(-1), { ...ticks.at(-1), offset: size, row: 'end', text: '64 TiB' });
  for (const tk of ticks.slice(0, -1)) assert.equal(tk.offset, Number(tk.row) * Number(geo.cols) * Number(geo.perCell) * bs, `tick of row ${tk.row}`);
  for (let i = 1; i < ticks.length; i++) {
    assert.ok(ticks[i].offset > ticks[i - 1].offset && ticks[i].top - ticks[i - 1].top >= 20, `ticks ${i - 1} and ${i} in order and apart`);
  }
  assert.match(ticks[1].text, /^\d+(\.\d+)? TiB$/);
  // Next / previous allocated, by button and by key.
  const at = (b) => page.waitForFunction((o) => window.vhdxviewUI.hex.cursor === o, b * bs);
  await page.click('#next-allocated');
  await at(present[0]);
  assert.equal(await hexBytes(page, present[0] * bs, 4), '01010101');
  await page.keyboard.press(']');
  await at(present[1]);
  await page.keyboard.press(']');
  await at(present[2]);
  assert.equal(await hexBytes(page, present[2] * bs, 4), '03030303');
  await page.keyboard.press(']');
  await page.waitForSelector('#messages [data-id="allocated"]');
  assert.match(await page.textContent('#messages [data-id="allocated"]'), /No block after block 4,190,000 has its data in the file/);
  assert.equal(await page.evaluate(() => window.vhdxviewUI.hex.cursor), present[2] * bs);
  await page.focus('#hex .hex-scroller');
  await page.keyboard.press('[');
  await at(present[1]);
  await page.click('#prev-allocated');
  await at(present[0]);
  await page.locator('#batmap-card').screenshot({ path: join(t.work, 'batmap-axis.png') });
  assert.match(await page.getAttribute('#prev-allocated', 'title'), /\(\[\)/);
});

test('files: Show in hex on a resident NTFS file (and stream) goes to its bytes inside its MFT record, as vhdx stat places them', async (t) => {
  const { page } = t;
  const fx = await openFilesTab(t);
  await browse(page, 2);
  const raw = readFileSync(fx.raw);
  for (const [path, want] of [['/small.txt', fx.ntfsFiles['small.txt']], ['/small.txt:secret', fx.ads['small.txt:secret']]]) {
    const stat = JSON.parse(t.cli('stat', '--json', fx.vhdx, '2', path).toString()).ntfs;
    const stream = path.includes(':') ? path.split(':')[1] : undefined;
    const data = stat.attributes.find((a) => a.type_name === '$DATA' && a.name === stream);
    assert.ok(data && data.resident && data.value_offset > stat.offset, `${path}: a resident $DATA inside record ${stat.record}`);
    // The raw disk (not the engine) holds the file's bytes there.
    assert.equal(raw.subarray(data.value_offset, data.value_offset + data.size).toString(), want);
    if (stream) {
      await page.click('#fs-tree [data-path="/small.txt"] .ft-label'); // its stream row follows it
      await page.click(`#fs-tree [data-path="${path}"] .ft-label`);
    } else {
      await page.click(`#fs-tree [data-path="${path}"] .ft-label`);
    }
    await page.waitForFunction((p) => document.querySelector('#fs-details .kv dd')?.textContent === p, path);
    await page.click('#fs-hex');
    await page.waitForSelector('.fp-where[data-mapped="resident"]', { state: 'attached' });
    assert.match(await page.textContent('.fp-hex-note'), new RegExp(`inside MFT record ${stat.record}, at disk offset 0x${data.value_offset.toString(16)}`));
    await until(page, (o) => window.vhdxviewUI.hex.cursor === o, data.value_offset, { what: `the caret at ${path}'s value` });
    await page.click('#tab-files');
  }
});

test('a first visit starts the engine before the page\'s modules are in; an engine that cannot load is said on the page', async (t) => {
  // A fresh profile: no service worker, nothing cached.
  const ctx = await launch(join(t.work, 'profile-no-engine'));
  try {
    const seen = [];
    ctx.on('request', (r) => seen.push(new URL(r.url()).pathname));
    await ctx.route(/vhdxview(-core)?\.wasm/, (route) => route.fulfill({ status: 404, contentType: 'text/plain', body: 'gone' }));
    const page = ctx.pages()[0] || (await ctx.newPage());
    await page.goto(`${t.origin}/index.html`);
    await page.waitForSelector('#messages [data-id="fatal"]', { timeout: 60000 });
    assert.match(await page.textContent('#messages [data-id="fatal"]'), /The engine stopped.*HTTP 404/s);
    // The worker was created before the viewer's modules ran (they run once
    // all of them are in). Both marks are script order, not network timing:
    // when Chromium then fetches worker.js is its own choice (it waits for a
    // free main thread), so that fetch's start is not compared.
    const at = await page.evaluate(() => ({
      asked: performance.getEntriesByName('vhdxview:engine-asked').length,
      order: performance.getEntriesByType('mark').filter((m) => m.name.startsWith('vhdxview:')).map((m) => m.name),
    }));
    assert.equal(at.asked, 1, 'the engine is asked for once');
    assert.deepEqual(at.order.slice(0, 2), ['vhdxview:engine-asked', 'vhdxview:app-modules-ran']);
    assert.ok(seen.includes('/web/worker.js'));
  } finally {
    await ctx.close();
  }
});
